/* SPDX-License-Identifier: MIT */
/*
 * test_fenceload.c - building the fence set from the configuration:
 * inline shapes, GeoJSON files, and every kind of bad input the issue
 * names (each must give a FILE:LINE or "file: fence id: reason" line,
 * refuse the set, and never crash).
 *
 * Each test writes a config and its GeoJSON files into a fresh directory
 * under /tmp, so relative paths resolve against the config's folder.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "fence.h"
#include "fenceload.h"
#include "geo.h"

#define HEAD	"device = { id = \"SC-0001\"; };\n"

static char	 dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/fleetgw-fenceload.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(fenceload, .init = setup, .fini = teardown);

static char *
path_of(const char *name)
{
	static char	buf[4][256];
	static int	n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

static void
write_file(const char *name, const char *text)
{
	FILE	*fp = fopen(path_of(name), "w");

	cr_assert_not_null(fp, "%s: %s", name, strerror(errno));
	cr_assert(fputs(text, fp) >= 0);
	cr_assert_eq(fclose(fp), 0);
}

/* Everything printed, one line each, for substring checks. */
static char	 joined[65536];

static const char *
join(const struct config_errors *e)
{
	size_t	i, len = 0;

	joined[0] = '\0';
	for (i = 0; i < e->n && len < sizeof(joined) - 1; i++)
		len += (size_t)snprintf(joined + len, sizeof(joined) - len,
		    "%s\n", e->lines[i]);
	return joined;
}

/* Load conf (fences list body) and build the set. */
static struct fence_set *
load(const char *fences, struct config_errors *errs,
    struct config_errors *warns)
{
	struct config_errors	 cerrs;
	struct config		*c;
	struct fence_set	*set;
	char			*text;

	cr_assert(asprintf(&text, "%sfences = (\n%s\n);\n", HEAD, fences) >
	    0);
	write_file("fleetgw.conf", text);
	free(text);
	/* A config error counts as a load error (both say FILE:LINE). */
	if ((c = config_load(path_of("fleetgw.conf"), &cerrs)) == NULL) {
		*errs = cerrs;
		memset(warns, 0, sizeof(*warns));
		return NULL;
	}
	set = fenceload(c, errs, warns);
	config_free(c);
	return set;
}

/* Expect failure with a line containing want; returns the joined text. */
static const char *
expect_error(const char *fences, const char *want)
{
	struct config_errors	 errs, warns;
	struct fence_set	*set;

	set = load(fences, &errs, &warns);
	cr_assert_null(set, "loaded although \"%s\" was expected", want);
	cr_assert_gt(errs.n, 0);
	join(&errs);
	cr_assert_not_null(strstr(joined, want), "want \"%s\" in:\n%s", want,
	    joined);
	config_errors_free(&errs);
	config_errors_free(&warns);
	return joined;
}

static struct fence_set *
expect_ok(const char *fences)
{
	struct config_errors	 errs, warns;
	struct fence_set	*set;

	set = load(fences, &errs, &warns);
	cr_assert_not_null(set, "errors:\n%s", join(&errs));
	config_errors_free(&errs);
	config_errors_free(&warns);
	return set;
}

static const struct fence_info *
info_of(const struct fence_set *set, const char *id)
{
	long	i = fence_set_find(set, id);

	cr_assert_geq(i, 0, "no fence \"%s\"", id);
	return fence_set_info(set, (size_t)i);
}

/* A square polygon ring of side 2h degrees around (lon, lat), closed. */
static void
square(char *buf, size_t len, double lon, double lat, double h)
{
	snprintf(buf, len, "[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],"
	    "[%.7f,%.7f]]", lon - h, lat - h, lon + h, lat - h, lon + h,
	    lat + h, lon - h, lat + h, lon - h, lat - h);
}

Test(fenceload, inline_shapes)
{
	struct fence_set	*set;
	const struct fence_info	*fi;
	double			 wlon, wlat;

	set = expect_ok(
	    "{ id = \"office\"; kind = \"office\"; crs = \"gcj02\";\n"
	    "  circle = { center = [ 104.0665, 30.5723 ]; radius_m = 150.0; };"
	    " },\n"
	    "{ id = \"lot-a\"; kind = \"parking\"; crs = \"gcj02\";\n"
	    "  polygon = ( [ 104.0661, 30.5719 ], [ 104.0668, 30.5719 ],"
	    " [ 104.0668, 30.5725 ] ); },\n"
	    "{ id = \"yard\"; kind = \"region\"; name = \"yard\";\n"
	    "  polygon = ( [ 104.0, 30.0 ], [ 104.1, 30.0 ], [ 104.1, 30.1 ],"
	    " [ 104.0, 30.1 ] );\n"
	    "  holes = ( ( [ 104.04, 30.04 ], [ 104.06, 30.04 ],"
	    " [ 104.06, 30.06 ] ) ); },\n"
	    "{ id = \"box\"; kind = \"forbidden\"; category = \"golf\";"
	    " speed_limit_kmh = 30.0; dwell_s = 120;\n"
	    "  rectangle = [ 104.2, 30.2, 104.21, 30.21 ]; },\n"
	    "{ id = \"route\"; kind = \"destination\";\n"
	    "  corridor = { path = ( [ 104.0, 30.5 ], [ 104.1, 30.6 ] );"
	    " width_m = 200.0; }; }");
	cr_assert_eq(fence_set_count(set), 5);

	fi = info_of(set, "office");
	cr_assert_eq(fi->shape, FENCE_SHAPE_CIRCLE);
	cr_assert_eq(fi->kind, FENCE_OFFICE);
	cr_assert_eq(fi->crs, GEO_CRS_GCJ02);
	geo_gcj02_to_wgs84(104.0665, 30.5723, &wlon, &wlat);
	cr_assert_lt(fabs(fi->center_lon - wlon), 2e-7);
	cr_assert_lt(fabs(fi->center_lat - wlat), 2e-7);
	cr_assert_float_eq(fi->radius_m, 150.0, 1e-9);
	/* Converted, the centre moved a few hundred metres. */
	cr_assert_gt(geo_distance_m(30.5723, 104.0665, wlat, wlon), 150.0);

	fi = info_of(set, "yard");
	cr_assert_eq(fi->rings, 2);
	cr_assert_eq(fence_set_locate(set, (size_t)fence_set_find(set,
	    "yard"), 104.05, 30.045), FENCE_OUT);	/* in the hole */
	cr_assert_eq(fence_set_locate(set, (size_t)fence_set_find(set,
	    "yard"), 104.02, 30.02), FENCE_IN);

	fi = info_of(set, "box");
	cr_assert_eq(fi->shape, FENCE_SHAPE_POLYGON);
	cr_assert_str_eq(fi->category, "golf");
	cr_assert_float_eq(fi->speed_limit_kmh, 30.0, 1e-9);
	cr_assert_eq(fi->dwell_s, 120);

	fi = info_of(set, "route");
	cr_assert_eq(fi->shape, FENCE_SHAPE_CORRIDOR);
	cr_assert_float_eq(fi->radius_m, 100.0, 1e-9);
	cr_assert_str_eq(info_of(set, "lot-a")->name, "");
	fence_set_free(set);
}

Test(fenceload, geojson_collection_ids_and_properties)
{
	struct fence_set	*set;
	const struct fence_info	*fi;
	char			 a[256], b[256], text[4096];

	square(a, sizeof(a), 104.0, 30.6, 0.001);
	square(b, sizeof(b), 104.01, 30.6, 0.001);
	{
		char c[256];

		square(c, sizeof(c), 104.03, 30.6, 0.001);
		snprintf(text, sizeof(text),
		    "{\"type\": \"FeatureCollection\", \"features\": [\n"
		    " {\"type\": \"Feature\", \"properties\": {\"id\": "
		    "\"ktv-1\", \"name\": \"KTV\", \"category\": "
		    "\"entertainment\", \"dwell_s\": 300, \"other\": [1, 2]},"
		    "  \"geometry\": {\"type\": \"Polygon\", \"coordinates\":"
		    " [%s]}},\n"
		    " {\"type\": \"Feature\", \"id\": 42, \"properties\": null,"
		    "  \"geometry\": {\"type\": \"MultiPolygon\","
		    " \"coordinates\": [[%s], [%s]]}},\n"
		    " {\"type\": \"Feature\", \"properties\": {\"radius_m\": 80,"
		    " \"kind\": \"parking\"},"
		    "  \"geometry\": {\"type\": \"Point\", \"coordinates\":"
		    " [104.02, 30.6, 500.0]}},\n"
		    " {\"type\": \"Feature\", \"id\": \"road\", \"properties\":"
		    " {\"width_m\": 50, \"kind\": \"destination\"},"
		    "  \"geometry\": {\"type\": \"LineString\", \"coordinates\":"
		    " [[104.0, 30.7], [104.05, 30.71], [104.1, 30.7]]}}\n"
		    "]}\n", a, b, c);
	}
	write_file("places.geojson", text);
	set = expect_ok("{ id = \"places\"; kind = \"forbidden\";"
	    " geojson = \"places.geojson\"; }");
	cr_assert_eq(fence_set_count(set), 4);
	fi = info_of(set, "ktv-1");
	cr_assert_str_eq(fi->name, "KTV");
	cr_assert_str_eq(fi->category, "entertainment");
	cr_assert_eq(fi->kind, FENCE_FORBIDDEN);	/* from the entry */
	cr_assert_eq(fi->dwell_s, 300);
	fi = info_of(set, "42");
	cr_assert_eq(fi->parts, 2);
	fi = info_of(set, "places/3");			/* no id at all */
	cr_assert_eq(fi->shape, FENCE_SHAPE_CIRCLE);
	cr_assert_eq(fi->kind, FENCE_PARKING);		/* property wins */
	cr_assert_float_eq(fi->radius_m, 80.0, 1e-9);
	fi = info_of(set, "road");
	cr_assert_eq(fi->shape, FENCE_SHAPE_CORRIDOR);
	cr_assert_eq(fi->kind, FENCE_DESTINATION);
	fence_set_free(set);
}

Test(fenceload, single_feature_takes_entry_id_and_relative_path)
{
	struct fence_set	*set;
	char			 a[256], text[1024];

	cr_assert_eq(mkdir(path_of("fences"), 0755), 0);
	square(a, sizeof(a), 104.0, 30.6, 0.01);
	snprintf(text, sizeof(text), "{\"type\": \"Feature\", \"id\": \"x\","
	    " \"properties\": {\"id\": \"y\", \"name\": \"县\"},"
	    " \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [%s]}}",
	    a);
	write_file("fences/county.geojson", text);
	snprintf(text, sizeof(text), "{\"type\": \"Polygon\", "
	    "\"coordinates\": [%s]}", a);
	write_file("fences/bare.geojson", text);
	set = expect_ok(
	    "{ id = \"county\"; kind = \"region\"; geojson ="
	    " \"fences/county.geojson\"; },\n"
	    "{ id = \"bare\"; kind = \"region\"; geojson = \"" "fences/"
	    "bare.geojson\"; }");
	cr_assert_eq(fence_set_count(set), 2);
	cr_assert_str_eq(info_of(set, "county")->name, "县");
	cr_assert_geq(fence_set_find(set, "bare"), 0);
	cr_assert_eq(fence_set_find(set, "y"), -1);
	fence_set_free(set);
}

/* Bad GeoJSON: each case a file body and the words the error must hold. */
static void
bad_geojson(const char *body, const char *want)
{
	const char	*out;

	write_file("bad.geojson", body);
	out = expect_error("{ id = \"bad\"; kind = \"forbidden\";"
	    " geojson = \"bad.geojson\"; }", want);
	/* Every line names the file. */
	cr_assert_not_null(strstr(out, path_of("bad.geojson")), "%s", out);
}

Test(fenceload, geojson_syntax_errors_have_line)
{
	bad_geojson("{\"type\": \"Feature\",\n\"properties\": {},\n"
	    "\"geometry\": {\"type\": \"Polygon\" \"coordinates\": []}}\n",
	    "bad.geojson:3: ");
	bad_geojson("{\"type\": \"Point\",\n \"coordinates\": [NaN, 30]}",
	    "bad.geojson:2: ");
	bad_geojson("{\"type\": \"Point\",\n\n \"coordinates\": [Infinity, 30]}",
	    "bad.geojson:3: ");
	bad_geojson("{\"type\": \"Point\", \"coordinates\": [1e999, 30]}",
	    "bad.geojson:1: ");
	bad_geojson("", "bad.geojson:");
	bad_geojson("{\"type\": \"Feature\", \"type\": \"Feature\"}",
	    "duplicate");
}

Test(fenceload, geojson_nesting_bomb)
{
	char	*bomb;
	size_t	 n = 200000;

	bomb = malloc(n + 1);
	cr_assert_not_null(bomb);
	memset(bomb, '[', n);
	bomb[n] = '\0';
	bad_geojson(bomb, "bad.geojson:1: ");
	free(bomb);
}

Test(fenceload, geojson_too_big)
{
	int	fd;

	fd = open(path_of("bad.geojson"), O_WRONLY | O_CREAT | O_TRUNC,
	    0644);
	cr_assert_geq(fd, 0);
	/* 50 MB, sparse: refused on its size before anything is read. */
	cr_assert_eq(ftruncate(fd, 50 * 1000 * 1000), 0);
	close(fd);
	expect_error("{ id = \"bad\"; kind = \"forbidden\";"
	    " geojson = \"bad.geojson\"; }", "is 50000000 bytes, at most");
}

Test(fenceload, geojson_missing_file_and_directory)
{
	expect_error("{ id = \"gone\"; kind = \"region\";"
	    " geojson = \"nope.geojson\"; }", "nope.geojson: cannot open: "
	    "No such file");
	cr_assert_eq(mkdir(path_of("d.geojson"), 0755), 0);
	expect_error("{ id = \"dir\"; kind = \"region\";"
	    " geojson = \"d.geojson\"; }", "d.geojson: cannot read");
}

Test(fenceload, geojson_structure_errors)
{
	bad_geojson("[1, 2]", "not GeoJSON");
	bad_geojson("{\"type\": \"FeatureCollection\", \"features\": []}",
	    "FeatureCollection has no features");
	bad_geojson("{\"type\": \"FeatureCollection\", \"features\": {}}",
	    "\"features\" is not an array");
	bad_geojson("{\"type\": \"FeatureCollection\", \"features\": [1]}",
	    "features[0]: expected a Feature");
	bad_geojson("{\"type\": \"Feature\", \"geometry\": null}",
	    "fence \"bad\": has no geometry");
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": \"x\"}",
	    "geometry.coordinates: expected an array of rings, got a string");
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": []}",
	    "expected an array of rings, got an empty array");
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": "
	    "[[[104, 30], [104.1, \"30\"], [104.1, 30.1], [104, 30]]]}",
	    "geometry.coordinates[0][1]: expected a position [lon, lat]");
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": "
	    "[[[104, 30], [104.1, 30], [104.1, 30.1], [104, 30.1]]]}",
	    "geometry.coordinates[0]: ring is not closed");
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": "
	    "[[[104, 30], [104.1, 30], [104, 30]]]}",
	    "a ring needs at least 4 positions");
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": "
	    "[[[104, 30], [104.1, 30], [104, 30], [104.1, 30], [104, 30]]]}",
	    "fence \"bad\": ");
	bad_geojson("{\"type\": \"MultiPolygon\", \"coordinates\": []}",
	    "expected an array of polygons");
	bad_geojson("{\"type\": \"Circle\", \"coordinates\": [104, 30]}",
	    "type \"Circle\" is not supported");
	bad_geojson("{\"type\": \"GeometryCollection\", \"geometries\": []}",
	    "GeometryCollection is not supported");
	bad_geojson("{\"type\": \"Point\", \"coordinates\": [104, 30]}",
	    "a Point needs properties.radius_m");
	bad_geojson("{\"type\": \"Feature\", \"properties\": {\"kind\": 5},"
	    " \"geometry\": {\"type\": \"Point\", \"coordinates\": [104, 30]}}",
	    "properties.kind: expected a string, got an integer");
	bad_geojson("{\"type\": \"Feature\", \"properties\": {\"kind\": "
	    "\"casino\"}, \"geometry\": null}",
	    "properties.kind: \"casino\" is not one of");
	bad_geojson("{\"type\": \"Feature\", \"properties\": {\"radius_m\": "
	    "\"big\"}, \"geometry\": {\"type\": \"Point\", \"coordinates\": "
	    "[104, 30]}}", "properties.radius_m: expected a number");
	bad_geojson("{\"type\": \"Feature\", \"properties\": {\"dwell_s\": "
	    "-5}, \"geometry\": null}", "properties.dwell_s: -5 is out of "
	    "range");
	bad_geojson("{\"type\": \"Feature\", \"properties\": [], "
	    "\"geometry\": null}", "properties: expected an object");
}

Test(fenceload, geometry_errors_name_the_fence)
{
	/* A bow-tie: the builder's reason, prefixed with file and id. */
	bad_geojson("{\"type\": \"Polygon\", \"coordinates\": "
	    "[[[104, 30], [104.1, 30.1], [104.1, 30], [104, 30.1], "
	    "[104, 30]]]}", "bad.geojson: fence \"bad\": ");
	expect_error("{ id = \"tie\"; kind = \"parking\";\n"
	    "  polygon = ( [ 104.0, 30.0 ], [ 104.1, 30.1 ], [ 104.1, 30.0 ],"
	    " [ 104.0, 30.1 ] ); }", "fleetgw.conf:3: fence \"tie\": ");
	/* A hole outside its shell. */
	expect_error("{ id = \"h\"; kind = \"region\";\n"
	    "  polygon = ( [ 104.0, 30.0 ], [ 104.1, 30.0 ], [ 104.1, 30.1 ],"
	    " [ 104.0, 30.1 ] );\n"
	    "  holes = ( ( [ 105.0, 30.0 ], [ 105.1, 30.0 ],"
	    " [ 105.1, 30.1 ] ) ); }", "fleetgw.conf:3: fence \"h\": ");
}

Test(fenceload, duplicate_ids)
{
	char	a[256], text[1024];

	square(a, sizeof(a), 104.0, 30.6, 0.001);
	snprintf(text, sizeof(text), "{\"type\": \"FeatureCollection\", "
	    "\"features\": [{\"type\": \"Feature\", \"properties\": {\"id\": "
	    "\"lot\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\":"
	    " [%s]}}, {\"type\": \"Feature\", \"properties\": {\"id\": "
	    "\"lot\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\":"
	    " [%s]}}]}", a, a);
	write_file("dup.geojson", text);
	expect_error("{ id = \"lots\"; kind = \"parking\"; geojson = "
	    "\"dup.geojson\"; }", "dup.geojson: fence \"lot\": features[1]: ");
	/* The same id inline and in a file. */
	snprintf(text, sizeof(text), "{\"type\": \"FeatureCollection\", "
	    "\"features\": [{\"type\": \"Feature\", \"properties\": {\"id\": "
	    "\"lot\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\":"
	    " [%s]}}, {\"type\": \"Feature\", \"properties\": {\"id\": "
	    "\"lot2\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\":"
	    " [%s]}}]}", a, a);
	write_file("two.geojson", text);
	expect_error("{ id = \"lot\"; kind = \"parking\"; circle = { center = "
	    "[ 104.0, 30.0 ]; radius_m = 10.0; }; },\n"
	    "{ id = \"q\"; kind = \"parking\"; geojson = \"two.geojson\"; }",
	    "two.geojson: fence \"lot\": features[0]: duplicate");
}

Test(fenceload, kind_required_somewhere)
{
	write_file("k.geojson", "{\"type\": \"Feature\", \"properties\": "
	    "{\"radius_m\": 10}, \"geometry\": {\"type\": \"Point\", "
	    "\"coordinates\": [104, 30]}}");
	expect_error("{ id = \"k\"; geojson = \"k.geojson\"; }", "no kind");
}

Test(fenceload, outside_china_warns_and_loads)
{
	struct config_errors	 errs, warns;
	struct fence_set	*set;

	set = load("{ id = \"paris\"; kind = \"forbidden\";\n"
	    "  circle = { center = [ 2.35, 48.85 ]; radius_m = 100.0; }; },\n"
	    "{ id = \"chengdu\"; kind = \"office\";\n"
	    "  circle = { center = [ 104.06, 30.57 ]; radius_m = 100.0; }; },\n"
	    "{ id = \"swapped\"; kind = \"forbidden\";\n"
	    "  polygon = ( [ 39.47, 75.99 ], [ 39.48, 75.99 ],"
	    " [ 39.48, 76.0 ] ); }", &errs, &warns);
	cr_assert_not_null(set, "%s", join(&errs));
	cr_assert_eq(warns.n, 2, "%s", join(&warns));
	join(&warns);
	cr_assert_not_null(strstr(joined, "fence \"paris\": lies outside "
	    "China"), "%s", joined);
	cr_assert_not_null(strstr(joined, "fleetgw.conf:3: fence \"paris\""),
	    "%s", joined);
	/* Kashgar's [39.47, 75.99] typed as [lat, lon]: valid numbers,
	 * outside China, and in China once swapped back. */
	cr_assert_not_null(strstr(joined, "fence \"swapped\": lies outside "
	    "China"), "%s", joined);
	cr_assert_not_null(strstr(joined, "swapped?"), "%s", joined);
	cr_assert_null(strstr(joined, "chengdu"), "%s", joined);
	config_errors_free(&errs);
	config_errors_free(&warns);
	fence_set_free(set);
}

Test(fenceload, swapped_sichuan_point_is_an_error)
{
	const char	*out;

	/* Sichuan's longitude, above 90, cannot be a latitude. */
	expect_error("{ id = \"s\"; kind = \"office\";\n"
	    "  circle = { center = [ 30.57, 104.06 ]; radius_m = 100.0; }; }",
	    "is it [lon, lat]?");
	write_file("sw.geojson", "{\"type\": \"Polygon\", \"coordinates\": "
	    "[[[30.0, 104.0], [30.1, 104.0], [30.1, 104.1], [30.0, 104.0]]]}");
	out = expect_error("{ id = \"sw\"; kind = \"region\"; geojson = "
	    "\"sw.geojson\"; }", "sw.geojson: fence \"sw\": ");
	cr_assert_not_null(strstr(out, "swapped?"), "%s", out);
}

Test(fenceload, every_error_reported_not_just_the_first)
{
	const char	*out;

	write_file("e1.geojson", "{\"type\": \"Point\"}");
	write_file("e2.geojson", "{\"type\":");
	out = expect_error(
	    "{ id = \"a\"; kind = \"region\"; geojson = \"e1.geojson\"; },\n"
	    "{ id = \"b\"; kind = \"region\"; geojson = \"e2.geojson\"; },\n"
	    "{ id = \"c\"; kind = \"parking\";\n"
	    "  polygon = ( [ 104.0, 30.0 ], [ 104.1, 30.1 ], [ 104.1, 30.0 ],"
	    " [ 104.0, 30.1 ] ); }", "e1.geojson: fence \"a\"");
	cr_assert_not_null(strstr(out, "e2.geojson:1: "), "%s", out);
	cr_assert_not_null(strstr(out, "fleetgw.conf:5: fence \"c\""), "%s",
	    out);
}

Test(fenceload, empty_list_is_an_empty_set)
{
	struct fence_set	*set = expect_ok("");

	cr_assert_eq(fence_set_count(set), 0);
	fence_set_free(set);
}
