/* SPDX-License-Identifier: MIT */
/*
 * fuzz_geojson.c - libFuzzer target: a fence set built from a fuzzed
 * GeoJSON file (fenceload(): jansson, the GeoJSON walk, then the fence
 * builder's validation, densifying, conversion and index).
 *
 * The first byte picks the entry's crs (wgs84, cgcs2000, gcj02, bd09) and
 * whether it gives a kind; the rest is written to FILE in a private
 * temporary directory and named by one config entry.
 *
 * Checked besides the sanitizers (a violation aborts), from fenceload.h
 * and fence.h:
 *  - a set comes back exactly when no error line was reported;
 *  - every error line names the file;
 *  - for every fence built, at the centre and the corners of its bbox,
 *    fence_set_query() lists it exactly when fence_set_locate() says it
 *    is not OUT, the list is ascending, and a signed distance that is
 *    negative means the point is inside.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fence.h"
#include "fenceload.h"
#include "log.h"
#include "util.h"

#define MAX_HITS	64

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*dir;
static char	*path;

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	tmpl[] = "/tmp/fuzz_geojson.XXXXXX";

	(void)argc;
	(void)argv;
	log_init("fuzz_geojson", LOG_TARGET_QUIET);
	if (mkdtemp(tmpl) == NULL)
		fatal("fuzz_geojson: mkdtemp");
	dir = xstrdup(tmpl);
	path = xasprintf("%s/fences.geojson", dir);
	atexit(cleanup);
	return 0;
}

static void
check_point(const struct fence_set *set, size_t idx, double lon, double lat)
{
	uint32_t	 hits[MAX_HITS];
	size_t		 n, i, k;
	bool		 listed = false;
	enum fence_loc	 loc;
	double		 d;

	n = fence_set_query(set, lon, lat, hits, MAX_HITS);
	k = n < MAX_HITS ? n : MAX_HITS;
	for (i = 0; i < k; i++) {
		if (i > 0 && hits[i] <= hits[i - 1])
			abort();		/* not ascending */
		if (hits[i] == idx)
			listed = true;
	}
	loc = fence_set_locate(set, idx, lon, lat);
	if (n <= MAX_HITS && listed != (loc != FENCE_OUT))
		abort();
	d = fence_set_distance_m(set, idx, lon, lat);
	/* A point a few cm or more inside by distance is not OUT. */
	if (d < -0.05 && loc == FENCE_OUT)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_fence	 entry;
	struct config		 c;
	struct config_errors	 errs, warns;
	struct fence_set	*set;
	const struct fence_info	*fi;
	FILE			*fp;
	size_t			 i;

	if (size < 1)
		return 0;
	if ((fp = fopen(path, "wb")) == NULL)
		fatal("fuzz_geojson: %s", path);
	if (size > 1 && fwrite(data + 1, 1, size - 1, fp) != size - 1)
		fatal("fuzz_geojson: %s: write", path);
	if (fclose(fp) != 0)
		fatal("fuzz_geojson: %s: close", path);

	memset(&entry, 0, sizeof(entry));
	entry.id = "fz";
	entry.name = "";
	entry.category = "";
	entry.crs = (enum geo_crs)(data[0] & 3);
	entry.has_kind = (data[0] & 4) != 0;
	entry.kind = FENCE_FORBIDDEN;
	entry.dwell_s = -1;
	entry.geom = CONFIG_FENCE_GEOJSON;
	entry.geojson = "fences.geojson";
	entry.geojson_path = path;
	entry.file = "fuzz.conf";
	entry.line = 1;
	memset(&c, 0, sizeof(c));
	c.fences = &entry;
	c.nfences = 1;

	set = fenceload(&c, &errs, &warns);
	if ((set == NULL) != (errs.n > 0))
		abort();
	for (i = 0; i < errs.n; i++)
		if (strstr(errs.lines[i], path) == NULL)
			abort();
	for (i = 0; set != NULL && i < fence_set_count(set); i++) {
		fi = fence_set_info(set, i);
		check_point(set, i, (fi->min_lon + fi->max_lon) / 2,
		    (fi->min_lat + fi->max_lat) / 2);
		check_point(set, i, fi->min_lon, fi->min_lat);
		check_point(set, i, fi->max_lon, fi->max_lat);
		if (fi->shape == FENCE_SHAPE_CIRCLE)
			check_point(set, i, fi->center_lon, fi->center_lat);
	}
	fence_set_free(set);
	config_errors_free(&errs);
	config_errors_free(&warns);
	return 0;
}
