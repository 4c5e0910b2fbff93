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
 *   daemon_10s      the daemon's defaults at 1 Hz (commit_interval 10 s,
 *                   commit_rows 256): a commit every 10 fixes
 *   per_fix_commit  commit_rows 1: one transaction (and fsync) per fix
 *
 * Each run opens the store, empties the -wal (so the frame count starts at
 * 0), then puts and commits the fixes, then runs a TRUNCATE checkpoint, so
 * that every page a run committed has also been copied into the database
 * file inside the window: each run pays for all its checkpoints, and none
 * is left for after the measurement.  rows/s is fixes over the time spent
 * in put + commit + that final checkpoint.
 *
 * bytes/fix is the delta of write_bytes in /proc/self/io from before open
 * to after close, divided by the fixes: the bytes this process sent
 * towards the block device (-wal appends, checkpoint copies into the
 * database file, -shm), the filesystem's own journal not included.  It is
 * counted per 4 KiB page made dirty, so a -wal frame (4096 + 24 bytes) that
 * straddles a page already written and synced costs that page again.  The
 * checkpoint part of it is shown on its own (ckpt_bytes_per_fix).
 *
 * -wal frames are counted with a wal hook.  A wal hook replaces SQLite's
 * autocheckpoint hook, so ours does what that one does (a PASSIVE
 * checkpoint once the -wal holds wal_autocheckpoint frames, at the value
 * the store set) and measures it.
 *
 * Not modelled: the time between fixes.  In the daemon the kernel writes
 * the dirty -shm page back about every 30 s and the next commit dirties it
 * again (about 4 KiB per 30 s, whatever the batching); here the day runs
 * in seconds.
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

#include <sqlite3.h>

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
	double		 ckpt_bytes_per_fix;
	uint64_t	 commits;
	uint64_t	 frames;	/* -wal frames appended by commits */
	uint64_t	 ckpts;		/* checkpoints, the final one included */
};

/* State of the wal hook. */
struct walcount {
	int		 autockpt;	/* frames; 0: no autocheckpoint */
	int		 last;		/* -wal frames after the last commit */
	uint64_t	 frames;
	uint64_t	 ckpts;
	int64_t		 ckpt_bytes;
	int		 ckpt_errors;
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

/*
 * After each commit: count the frames it appended (the -wal restarts from
 * frame 1 after a complete checkpoint), then checkpoint as SQLite's own
 * hook would, measuring what the checkpoint writes.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int nframe)
{
	struct walcount	*w = arg;
	int64_t		 b0;

	w->frames += (uint64_t)(nframe >= w->last ? nframe - w->last : nframe);
	w->last = nframe;
	if (w->autockpt > 0 && nframe >= w->autockpt) {
		b0 = write_bytes();
		if (sqlite3_wal_checkpoint_v2(db, name,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) != SQLITE_OK)
			w->ckpt_errors++;
		w->ckpt_bytes += write_bytes() - b0;
		w->ckpts++;
	}
	return SQLITE_OK;
}

/* A checkpoint of everything, measured into w; then the -wal is empty. */
static int
checkpoint_all(sqlite3 *db, struct walcount *w)
{
	int64_t		 b0;
	int		 nlog = -1, nckpt = -1, rc;

	b0 = write_bytes();
	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    &nlog, &nckpt);
	w->ckpt_bytes += write_bytes() - b0;
	w->ckpts++;
	w->last = 0;
	if (rc != SQLITE_OK || nlog != 0 || nckpt != 0) {
		fprintf(stderr, "bench_store: checkpoint: %s (log %d, "
		    "checkpointed %d)\n", sqlite3_errmsg(db), nlog, nckpt);
		return -1;
	}
	return 0;
}

/* PRAGMA wal_autocheckpoint of the connection, or -1. */
static int
autocheckpoint_frames(sqlite3 *db)
{
	sqlite3_stmt	*s;
	int		 v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA wal_autocheckpoint", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
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
	struct walcount	 w;
	struct fix	 f;
	sqlite3		*db;
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
	db = store_db(st);
	memset(&w, 0, sizeof(w));
	/* The store's setting, before our hook replaces SQLite's. */
	if ((w.autockpt = autocheckpoint_frames(db)) < 0)
		return -1;
	if (checkpoint_all(db, &w) == -1)
		return -1;
	w.ckpts = 0;
	w.ckpt_bytes = 0;
	sqlite3_wal_hook(db, wal_hook, &w);
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
	/* Inside the window: every committed page reaches the file. */
	if (checkpoint_all(db, &w) == -1)
		return -1;
	t1 = now_s();
	store_get_stats(st, &s);
	store_close(st);
	w1 = write_bytes();
	if (w.ckpt_errors > 0) {
		fprintf(stderr, "bench_store: %s: %d checkpoints failed\n",
		    r->name, w.ckpt_errors);
		return -1;
	}

	r->commits = s.commits;
	r->frames = w.frames;
	r->ckpts = w.ckpts;
	r->rows_per_s = r->nfix / (t1 - t0);
	r->bytes_per_fix = w0 < 0 || w1 < 0 ? NAN :
	    (double)(w1 - w0) / r->nfix;
	r->ckpt_bytes_per_fix = w0 < 0 ? NAN :
	    (double)w.ckpt_bytes / r->nfix;
	return 0;
}

int
main(void)
{
	struct run	 runs[] = {
		{ .name = "batched_256", .commit_rows = 256,
		  .commit_interval_ms = UINT32_MAX, .nfix = DAY_FIXES },
		{ .name = "daemon_10s", .commit_rows = 256,
		  .commit_interval_ms = 10000, .nfix = DAY_FIXES },
		{ .name = "per_fix_commit", .commit_rows = 1,
		  .commit_interval_ms = 10000, .nfix = DAY_FIXES },
	};
	/* Short names of the byte figures, in runs[] order. */
	static const char *const bytes_name[] = {
		"batched", "daemon_10s", "per_commit",
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
		printf("BENCH store_wal_frames_per_commit_%s %.2f "
		    "frames/commit\n", runs[i].name,
		    (double)runs[i].frames / (double)runs[i].commits);
		printf("BENCH store_checkpoints_%s %" PRIu64 " checkpoints\n",
		    runs[i].name, runs[i].ckpts);
		fflush(stdout);
	}
	if (ret == 0) {
		for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
			printf("BENCH store_write_bytes_per_fix_%s %.0f "
			    "bytes/fix\n", bytes_name[i],
			    runs[i].bytes_per_fix);
		/* The database file's share: checkpoint copies. */
		for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
			printf("BENCH store_ckpt_bytes_per_fix_%s %.0f "
			    "bytes/fix\n", bytes_name[i],
			    runs[i].ckpt_bytes_per_fix);
		/* What 10 s batching saves against a commit per fix. */
		printf("BENCH store_write_ratio %.1f ratio\n",
		    runs[2].bytes_per_fix / runs[1].bytes_per_fix);
		printf("BENCH store_write_ratio_batched_256 %.1f ratio\n",
		    runs[2].bytes_per_fix / runs[0].bytes_per_fix);
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
