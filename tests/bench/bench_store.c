/* SPDX-License-Identifier: MIT */
/*
 * bench_store.c - store throughput and write volume for a 10-hour day at
 * 1 Hz (36,000 fixes), in a temporary directory on the real filesystem
 * ($TMPDIR, else /var/tmp).  Prints "BENCH name value unit" lines; reports,
 * never asserts.
 *
 * Runs, each on a fresh database, with simulated time advancing 1 s a fix:
 *   batched_256     commit every 256 rows (interval out of the way): the
 *                   raw insert throughput of the batch path
 *   daemon_5s       the daemon's defaults at 1 Hz (commit_interval 5 s,
 *                   commit_rows 256): a commit every 5 fixes
 *   per_fix_commit  commit_rows 1: one transaction (and fsync) per fix
 *
 * rows/s is fixes over the time spent in put + commit (open and close not
 * counted).  bytes/fix is the delta of write_bytes in /proc/self/io around
 * open .. close (closing checkpoints the WAL) divided by the fixes: the
 * bytes this process sent towards the block device, the filesystem's own
 * journal not included.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "record.h"
#include "store.h"

#define DAY_FIXES	36000		/* 10 hours at 1 Hz */
#define FIX_PERIOD_MS	1000
#define T0_MS		INT64_C(1772409600000)	/* 2026-03-02T00:00:00Z */

struct run {
	const char	*name;
	uint32_t	 commit_rows;
	uint32_t	 commit_interval_ms;
	int		 nfix;
	double		 rows_per_s;
	double		 bytes_per_fix;
	uint64_t	 commits;
};

static char	 dir[4096];

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* write_bytes of this process, or -1 if the kernel does not count it. */
static int64_t
write_bytes(void)
{
	FILE		*fp;
	char		 line[128];
	long long	 v = -1;

	if ((fp = fopen("/proc/self/io", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(fp);
	return v;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct fix
mkfix(int i)
{
	struct fix	 f;

	memset(&f, 0, sizeof(f));
	f.t_utc_ms = T0_MS + (int64_t)i * FIX_PERIOD_MS;
	f.t_mono_ms = (uint64_t)i * FIX_PERIOD_MS;
	/* Drive around Chengdu a little. */
	f.lat_deg = 30.5723 + 0.01 * sin(i / 600.0);
	f.lon_deg = 104.0665 + 0.01 * cos(i / 600.0);
	f.alt_m = 500.0 + (i % 50) * 0.1;
	f.speed_mps = (i / 300) % 2 ? 12.5 : 0.0;
	f.heading_deg = fmod(i * 0.7, 360.0);
	f.hdop = 0.8 + (i % 10) * 0.05;
	f.eph_m = 2.5 + (i % 10) * 0.1;
	f.mode = 3;
	f.sats_used = 18;
	f.sats_visible = 30;
	f.sys[GNSS_SYS_GPS].visible = 10;
	f.sys[GNSS_SYS_GPS].used = 7;
	f.sys[GNSS_SYS_BEIDOU].visible = 14;
	f.sys[GNSS_SYS_BEIDOU].used = 9;
	f.sys[GNSS_SYS_GALILEO].visible = 6;
	f.sys[GNSS_SYS_GALILEO].used = 2;
	return f;
}

static int
run_one(struct run *r)
{
	struct store_opts o;
	struct store	*st;
	struct store_stats s;
	struct fix	 f;
	char		 path[4200];
	uint64_t	 now;
	int64_t		 w0, w1;
	double		 t0, t1;
	int		 i;

	snprintf(path, sizeof(path), "%s/%s.db", dir, r->name);
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.max_size_mb = 512;
	o.keep_days = 180;
	o.commit_rows = r->commit_rows;
	o.commit_interval_ms = r->commit_interval_ms;
	o.device_id = "BENCH-0001";
	o.timezone = "Asia/Shanghai";

	sync();
	w0 = write_bytes();
	if ((st = store_open(&o)) == NULL)
		return -1;
	t0 = now_s();
	for (i = 0; i < r->nfix; i++) {
		now = (uint64_t)i * FIX_PERIOD_MS;
		/* As in the loop: the commit timer fires, then the fix. */
		if (store_commit_due(st, now) == -1)
			return -1;
		f = mkfix(i);
		if (store_put_position(st, &f, now) == -1)
			return -1;
		if (store_commit_due(st, now) == -1)
			return -1;
	}
	if (store_commit(st) == -1)
		return -1;
	t1 = now_s();
	store_get_stats(st, &s);
	store_close(st);
	w1 = write_bytes();

	r->commits = s.commits;
	r->rows_per_s = r->nfix / (t1 - t0);
	r->bytes_per_fix = w0 < 0 || w1 < 0 ? NAN :
	    (double)(w1 - w0) / r->nfix;
	return 0;
}

int
main(void)
{
	struct run	 runs[] = {
		{ "batched_256", 256, UINT32_MAX, DAY_FIXES, 0, 0, 0 },
		{ "daemon_5s", 256, 5000, DAY_FIXES, 0, 0, 0 },
		{ "per_fix_commit", 1, 5000, DAY_FIXES, 0, 0, 0 },
	};
	const char	*base;
	size_t		 i;
	int		 ret = 0;

	log_init("bench_store", LOG_TARGET_QUIET);
	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/var/tmp";
	snprintf(dir, sizeof(dir), "%s/bench_store.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_store: mkdtemp %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		if (run_one(&runs[i]) == -1) {
			fprintf(stderr, "bench_store: %s failed\n",
			    runs[i].name);
			ret = 1;
			break;
		}
		printf("BENCH store_insert_%s %.0f rows/s\n", runs[i].name,
		    runs[i].rows_per_s);
		printf("BENCH store_commits_%s %" PRIu64 " commits\n",
		    runs[i].name, runs[i].commits);
		fflush(stdout);
	}
	if (ret == 0) {
		printf("BENCH store_write_bytes_per_fix_batched %.0f "
		    "bytes/fix\n", runs[0].bytes_per_fix);
		printf("BENCH store_write_bytes_per_fix_daemon_5s %.0f "
		    "bytes/fix\n", runs[1].bytes_per_fix);
		printf("BENCH store_write_bytes_per_fix_per_commit %.0f "
		    "bytes/fix\n", runs[2].bytes_per_fix);
		/* What 5 s batching saves against a commit per fix. */
		printf("BENCH store_write_ratio %.1f ratio\n",
		    runs[2].bytes_per_fix / runs[1].bytes_per_fix);
		printf("BENCH store_write_ratio_batched_256 %.1f ratio\n",
		    runs[2].bytes_per_fix / runs[0].bytes_per_fix);
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
