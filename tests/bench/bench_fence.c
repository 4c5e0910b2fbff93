/* SPDX-License-Identifier: MIT */
/*
 * bench_fence.c - the geofence engine against a GEOS baseline and a naive
 * loop on the reference set of the research brief (section 5), with the
 * set and fix streams of fencegen.h.  Prints "BENCH name value unit"
 * lines; reports, never asserts: the exit status is non-zero only when
 * the set or the baseline cannot be built.
 *
 * Fix streams (the same fixes for every engine):
 *   drive   DRIVE_FIXES of a 1 Hz drive around Chengdu, with laps along
 *           polygon edges at 5-20 m and GNSS noise
 *   random  RANDOM_POINTS uniform in the Sichuan bbox
 *
 * Engines:
 *   ours    fence_set_query()
 *   geos    GEOS 3.11 C API (reentrant): a prepared geometry for every
 *           polygon and a STRtree of every fence's envelope; per fix,
 *           create a point, query the tree, GEOSPreparedIntersects_r or
 *           geo_distance_m() on each candidate, destroy the point
 *   naive   every fence, no bbox: the even-odd crossing test over every
 *           edge of the stored rings (fence_set_ring()) and
 *           geo_distance_m() for circles; it costs about half a
 *           millisecond a fix, so it runs on every NAIVE_STRIDE-th fix of
 *           each stream (fence_<stream>_naive_fixes says how many)
 *
 * Per stream and engine: p50, p90, p99, p99.9 and max of the time of each
 * query (clock_gettime(CLOCK_MONOTONIC) around it, raw: the timer's own
 * cost, fence_timer_ns, is not subtracted), and the mean of a batch timed
 * as a whole.  Speed-ups GEOS/ours are given on p50, p99 and the mean, and
 * on p50 and p99 with the timer's cost taken off both sides (_net).  Ours and GEOS first run once over the stream untimed (the
 * comparison pass), so GEOS has built its lazy indexes and the caches
 * are warm.
 *
 * Disagreements: the fixes where ours and GEOS return different sets,
 * not counting those where every differing fence is within 1 cm of
 * the fix (FENCEGEN_BOUNDARY_M, by fence_set_distance_m(),
 * cross-checked against fencegen's own distance); those are counted
 * apart as boundary fixes (fencegen_compare()).
 *
 * CPU at 1 Hz: getrusage() user + system time over CPU_REPS batches of
 * the drive, per fix, as a share of the 1 s between fixes.
 */
#include <sys/resource.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fence.h"
#include "geo.h"
#include "util.h"
#include "fencegen.h"

#define DRIVE_FIXES	100000
#define RANDOM_POINTS	1000000
#define FORBIDDEN	10000
#define PARKING		50
#define NAIVE_STRIDE_DRIVE	20
#define NAIVE_STRIDE_RANDOM	200
#define CPU_REPS	10
#define MAX_HITS	FENCEGEN_MAX_HITS
#define TIMER_SAMPLES	100000

enum engine {
	ENGINE_OURS,
	ENGINE_GEOS,
	ENGINE_NAIVE,
	NENGINES
};

static const char *const engine_name[NENGINES] = { "ours", "geos", "naive" };

/* The naive engine: the stored geometry as doubles. */
struct naive_fence {
	bool		 circle;
	double		 lon, lat, radius_m;
	size_t		 nrings;
	size_t		*ring_n;	/* points per ring */
	double		**ring;		/* (lon, lat) pairs */
};

struct naive {
	size_t			 n;
	struct naive_fence	*f;
};

struct stats {
	double		 p50, p90, p99, p999, max, mean;
	size_t		 fixes;
};

struct ctx {
	const struct fence_set	*set;
	struct fencegen_geos	*geos;
	struct naive		*naive;
};

static volatile size_t	 sink;

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	    (uint64_t)ts.tv_nsec;
}

static double
cpu_s(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* "model name" of the first CPU, blanks as '_', or "unknown". */
static void
cpu_model(char *buf, size_t len)
{
	FILE	*fp;
	char	 line[256], *p, *e;

	snprintf(buf, len, "unknown");
	if ((fp = fopen("/proc/cpuinfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "model name", 10) != 0 ||
		    (p = strchr(line, ':')) == NULL)
			continue;
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == '\n' ||
		    e[-1] == ' '); e--)
			;
		*e = '\0';
		for (e = p; *e != '\0'; e++)
			if (*e == ' ' || *e == '\t')
				*e = '_';
		snprintf(buf, len, "%s", p);
		break;
	}
	fclose(fp);
}

static struct naive *
naive_new(const struct fence_set *set)
{
	const struct fence_info	*fi;
	struct naive		*nv;
	struct naive_fence	*f;
	const int32_t		*xy;
	size_t			 i, r, k, np;
	bool			 hole;

	nv = xcalloc(1, sizeof(*nv));
	nv->n = fence_set_count(set);
	nv->f = xcalloc(nv->n, sizeof(*nv->f));
	for (i = 0; i < nv->n; i++) {
		fi = fence_set_info(set, i);
		f = &nv->f[i];
		if (fi->shape == FENCE_SHAPE_CIRCLE) {
			f->circle = true;
			f->lon = fi->center_lon;
			f->lat = fi->center_lat;
			f->radius_m = fi->radius_m;
			continue;
		}
		f->nrings = fi->rings;
		f->ring_n = xcalloc(f->nrings, sizeof(*f->ring_n));
		f->ring = xcalloc(f->nrings, sizeof(*f->ring));
		for (r = 0; r < f->nrings; r++) {
			if (fence_set_ring(set, i, r, &xy, &np, &hole) == -1)
				continue;
			f->ring_n[r] = np;
			f->ring[r] = xcalloc(np, 2 * sizeof(double));
			for (k = 0; k < 2 * np; k++)
				f->ring[r][k] = xy[k] * FENCE_LATTICE_DEG;
		}
	}
	return nv;
}

static void
naive_free(struct naive *nv)
{
	size_t	 i, r;

	if (nv == NULL)
		return;
	for (i = 0; i < nv->n; i++) {
		for (r = 0; r < nv->f[i].nrings; r++)
			free(nv->f[i].ring[r]);
		free(nv->f[i].ring);
		free(nv->f[i].ring_n);
	}
	free(nv->f);
	free(nv);
}

/* PNPOLY (W. R. Franklin) over every ring: even-odd, no boundary rule. */
static size_t
naive_query(const struct naive *nv, double lon, double lat, uint32_t *out,
    size_t max)
{
	const struct naive_fence *f;
	const double	*p;
	size_t		 i, r, k, j, n = 0;
	bool		 in;

	for (i = 0; i < nv->n; i++) {
		f = &nv->f[i];
		if (f->circle)
			in = geo_distance_m(lat, lon, f->lat, f->lon) <=
			    f->radius_m;
		else {
			in = false;
			for (r = 0; r < f->nrings; r++) {
				p = f->ring[r];
				for (k = 0, j = f->ring_n[r] - 1;
				    k < f->ring_n[r]; j = k++)
					if ((p[2 * k + 1] > lat) !=
					    (p[2 * j + 1] > lat) &&
					    lon < (p[2 * j] - p[2 * k]) *
					    (lat - p[2 * k + 1]) /
					    (p[2 * j + 1] - p[2 * k + 1]) +
					    p[2 * k])
						in = !in;
			}
		}
		if (in) {
			if (n < max)
				out[n] = (uint32_t)i;
			n++;
		}
	}
	return n;
}

static size_t
query(const struct ctx *c, enum engine e, double lon, double lat,
    uint32_t *out)
{
	switch (e) {
	case ENGINE_OURS:
		return fence_set_query(c->set, lon, lat, out, MAX_HITS);
	case ENGINE_GEOS:
		return fencegen_geos_query(c->geos, lon, lat, out, MAX_HITS);
	default:
		return naive_query(c->naive, lon, lat, out, MAX_HITS);
	}
}

/* Back-to-back clock reads, measured once at start. */
static double	 timer_ns;

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double q)
{
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

/* Time engine e on every stride-th fix: per query, then as a batch. */
static void
timed(const struct ctx *c, enum engine e, const double *lonlat, size_t n,
    size_t stride, struct stats *st)
{
	uint32_t	*lat_ns, out[MAX_HITS];
	uint64_t	 t0, t1;
	size_t		 i, m = 0, acc = 0;

	lat_ns = xcalloc(n / stride + 1, sizeof(*lat_ns));
	for (i = 0; i < n; i += stride) {
		t0 = now_ns();
		acc += query(c, e, lonlat[2 * i], lonlat[2 * i + 1], out);
		t1 = now_ns();
		lat_ns[m++] = t1 - t0 > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)(t1 - t0);
	}
	qsort(lat_ns, m, sizeof(*lat_ns), cmp_u32);
	st->fixes = m;
	st->p50 = pct(lat_ns, m, 0.50);
	st->p90 = pct(lat_ns, m, 0.90);
	st->p99 = pct(lat_ns, m, 0.99);
	st->p999 = pct(lat_ns, m, 0.999);
	st->max = lat_ns[m - 1];
	free(lat_ns);

	t0 = now_ns();
	for (i = 0; i < n; i += stride)
		acc += query(c, e, lonlat[2 * i], lonlat[2 * i + 1], out);
	t1 = now_ns();
	st->mean = (double)(t1 - t0) / (double)m;
	sink += acc;
}

static void
print_stats(const char *stream, enum engine e, const struct stats *st)
{
	const char	*en = engine_name[e];

	printf("BENCH fence_%s_%s_p50 %.0f ns\n", stream, en, st->p50);
	printf("BENCH fence_%s_%s_p90 %.0f ns\n", stream, en, st->p90);
	printf("BENCH fence_%s_%s_p99 %.0f ns\n", stream, en, st->p99);
	printf("BENCH fence_%s_%s_p999 %.0f ns\n", stream, en, st->p999);
	printf("BENCH fence_%s_%s_max %.0f ns\n", stream, en, st->max);
	printf("BENCH fence_%s_%s_mean %.1f ns\n", stream, en, st->mean);
	if (e == ENGINE_NAIVE)
		printf("BENCH fence_%s_naive_fixes %zu fixes\n", stream,
		    st->fixes);
	fflush(stdout);
}

/* getrusage CPU per fix over CPU_REPS batches, as % of a 1 s period. */
static double
cpu_1hz_pct(const struct ctx *c, enum engine e, const double *lonlat,
    size_t n)
{
	uint32_t	 out[MAX_HITS];
	size_t		 i, rep, acc = 0;
	double		 t0;

	t0 = cpu_s();
	for (rep = 0; rep < CPU_REPS; rep++)
		for (i = 0; i < n; i++)
			acc += query(c, e, lonlat[2 * i], lonlat[2 * i + 1],
			    out);
	sink += acc;
	return (cpu_s() - t0) / (double)(CPU_REPS * n) * 100.0;
}

static void
run_stream(const struct ctx *c, const char *stream, const double *lonlat,
    size_t n, size_t naive_stride)
{
	struct fencegen_diff d;
	struct stats	 st[NENGINES];
	char		 label[64];
	size_t		 i;
	int		 e;

	/* Untimed first pass of ours and GEOS: the comparison. */
	snprintf(label, sizeof(label), "bench_fence: %s", stream);
	memset(&d, 0, sizeof(d));
	for (i = 0; i < n; i++)
		fencegen_compare(c->set, c->geos, label, i, lonlat[2 * i],
		    lonlat[2 * i + 1], &d);
	for (e = 0; e < NENGINES; e++) {
		timed(c, e, lonlat, n, e == ENGINE_NAIVE ? naive_stride : 1,
		    &st[e]);
		print_stats(stream, e, &st[e]);
	}
	printf("BENCH fence_%s_fixes %zu fixes\n", stream, n);
	printf("BENCH fence_%s_covered_fixes %zu fixes\n", stream,
	    d.covered);
	printf("BENCH fence_%s_speedup_p50 %.1f ratio\n", stream,
	    st[ENGINE_GEOS].p50 / st[ENGINE_OURS].p50);
	printf("BENCH fence_%s_speedup_p99 %.1f ratio\n", stream,
	    st[ENGINE_GEOS].p99 / st[ENGINE_OURS].p99);
	printf("BENCH fence_%s_speedup_mean %.1f ratio\n", stream,
	    st[ENGINE_GEOS].mean / st[ENGINE_OURS].mean);
	/* The same with the timer's own cost taken off both sides. */
	printf("BENCH fence_%s_speedup_p50_net %.1f ratio\n", stream,
	    (st[ENGINE_GEOS].p50 - timer_ns) /
	    fmax(st[ENGINE_OURS].p50 - timer_ns, 1.0));
	printf("BENCH fence_%s_speedup_p99_net %.1f ratio\n", stream,
	    (st[ENGINE_GEOS].p99 - timer_ns) /
	    fmax(st[ENGINE_OURS].p99 - timer_ns, 1.0));
	printf("BENCH fence_%s_naive_speedup_p50 %.0f ratio\n", stream,
	    st[ENGINE_NAIVE].p50 / st[ENGINE_OURS].p50);
	printf("BENCH fence_%s_disagreements %zu fixes\n", stream,
	    d.disagree);
	printf("BENCH fence_%s_boundary_fixes %zu fixes\n", stream,
	    d.boundary);
	if (d.overflow > 0)
		printf("BENCH fence_%s_overflow %zu fixes\n", stream,
		    d.overflow);
	if (d.mismatch > 0)
		printf("BENCH fence_%s_distance_mismatch %zu fences\n",
		    stream, d.mismatch);
	fflush(stdout);
}

int
main(void)
{
	struct fencegen_opts	 opts;
	struct fencegen_stats	 gs;
	struct fence_builder	*b;
	struct fence_set	*set;
	struct ctx		 c;
	double			*drive, *rnd;
	char			 why[512], cpu[128];
	uint64_t		 t0, t1, t2, tt;
	size_t			 i, laps, index, total;

	cpu_model(cpu, sizeof(cpu));
	printf("BENCH fence_cpu_model %s name\n", cpu);
	printf("BENCH fence_geos_version %s version\n",
	    fencegen_geos_version());

	/* The timer's own cost: back-to-back reads. */
	t0 = now_ns();
	for (i = 0; i < TIMER_SAMPLES; i++)
		tt = now_ns();
	timer_ns = (double)(tt - t0) / TIMER_SAMPLES;
	printf("BENCH fence_timer_ns %.1f ns\n", timer_ns);

	memset(&opts, 0, sizeof(opts));
	opts.seed = FENCEGEN_SEED;
	opts.province_path = FENCEGEN_SICHUAN_GEOJSON;
	opts.forbidden = FORBIDDEN;
	opts.parking = PARKING;
	t0 = now_ns();
	b = fence_builder_new();
	if (fencegen_build(b, &opts, &gs, why, sizeof(why)) == -1) {
		fprintf(stderr, "bench_fence: %s\n", why);
		fence_builder_free(b);
		return 1;
	}
	t1 = now_ns();
	set = fence_builder_finish(b);
	t2 = now_ns();
	printf("BENCH fence_province_%s %zu vertices\n",
	    gs.province_file ? "ne10m" : "synthetic", gs.province_vertices);
	printf("BENCH fence_fences %zu fences\n", fence_set_count(set));
	printf("BENCH fence_gcj02_fences %zu fences\n", gs.gcj02);
	printf("BENCH fence_generator_retries %zu fences\n", gs.retries);
	if (gs.retries > 0)
		fprintf(stderr, "bench_fence: first retry: %s\n",
		    gs.retry_why);
	printf("BENCH fence_build_ms %.1f ms\n", (t2 - t0) / 1e6);
	printf("BENCH fence_index_build_ms %.1f ms\n", (t2 - t1) / 1e6);
	total = fence_set_memory(set, &index);
	printf("BENCH fence_index_mib %.2f MiB\n", index / 1048576.0);
	printf("BENCH fence_set_mib %.2f MiB\n", total / 1048576.0);
	fflush(stdout);

	t0 = now_ns();
	if ((c.geos = fencegen_geos_new(set, why, sizeof(why))) == NULL) {
		fprintf(stderr, "bench_fence: %s\n", why);
		fence_set_free(set);
		return 1;
	}
	t1 = now_ns();
	/* GEOS builds the tree and each polygon's locator lazily, on the
	 * first query: that cost is in the comparison pass, not here. */
	printf("BENCH fence_geos_build_ms %.1f ms\n", (t1 - t0) / 1e6);
	c.set = set;
	c.naive = naive_new(set);

	drive = xcalloc(DRIVE_FIXES, 2 * sizeof(double));
	rnd = xcalloc(RANDOM_POINTS, 2 * sizeof(double));
	laps = fencegen_drive(set, FENCEGEN_SEED, DRIVE_FIXES, drive);
	fencegen_random_points(FENCEGEN_SEED, RANDOM_POINTS, rnd);
	printf("BENCH fence_drive_laps %zu laps\n", laps);

	run_stream(&c, "drive", drive, DRIVE_FIXES, NAIVE_STRIDE_DRIVE);
	run_stream(&c, "random", rnd, RANDOM_POINTS, NAIVE_STRIDE_RANDOM);
	printf("BENCH fence_drive_ours_cpu_1hz %.6f %%\n",
	    cpu_1hz_pct(&c, ENGINE_OURS, drive, DRIVE_FIXES));
	printf("BENCH fence_drive_geos_cpu_1hz %.6f %%\n",
	    cpu_1hz_pct(&c, ENGINE_GEOS, drive, DRIVE_FIXES));

	free(drive);
	free(rnd);
	naive_free(c.naive);
	fencegen_geos_free(c.geos);
	fence_set_free(set);
	return 0;
}
