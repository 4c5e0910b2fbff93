/* SPDX-License-Identifier: MIT */
/*
 * test_geo.c - haversine distances against independent formulas.
 */
#include <math.h>

#include <criterion/criterion.h>

#include "geo.h"

#define R	GEO_EARTH_RADIUS_M
#define RAD(d)	((d) * M_PI / 180.0)

/* Tianfu Square and Chengdu East railway station. */
#define TIANFU_LAT	30.6598
#define TIANFU_LON	104.0657
#define EAST_LAT	30.6293
#define EAST_LON	104.1412

/* Spherical law of cosines: a different formula on the same sphere. */
static double
cosines_m(double lat1, double lon1, double lat2, double lon2)
{
	return R * acos(sin(RAD(lat1)) * sin(RAD(lat2)) +
	    cos(RAD(lat1)) * cos(RAD(lat2)) * cos(RAD(lon2 - lon1)));
}

/* Equirectangular projection: good to well under 0.1 % over 10 km. */
static double
flat_m(double lat1, double lon1, double lat2, double lon2)
{
	double	x, y;

	x = RAD(lon2 - lon1) * cos(RAD((lat1 + lat2) / 2));
	y = RAD(lat2 - lat1);
	return R * sqrt(x * x + y * y);
}

Test(geo, tianfu_square_to_chengdu_east, .timeout = 10)
{
	double	d;

	d = geo_distance_m(TIANFU_LAT, TIANFU_LON, EAST_LAT, EAST_LON);
	cr_assert(fabs(d - cosines_m(TIANFU_LAT, TIANFU_LON, EAST_LAT,
	    EAST_LON)) < 0.01, "d %f", d);
	cr_assert(fabs(d - flat_m(TIANFU_LAT, TIANFU_LON, EAST_LAT,
	    EAST_LON)) < 1.0, "d %f", d);
	/* Python haversine, same radius: 7979.397 m. */
	cr_assert(fabs(d - 7979.397) < 0.01, "d %f", d);
	cr_assert_float_eq(d, geo_distance_m(EAST_LAT, EAST_LON, TIANFU_LAT,
	    TIANFU_LON), 1e-6);
}

Test(geo, degree_of_meridian_and_equator, .timeout = 10)
{
	double	one_deg = R * M_PI / 180.0;

	cr_assert_float_eq(geo_distance_m(30.0, 104.0, 31.0, 104.0),
	    one_deg, 1e-6);
	cr_assert_float_eq(geo_distance_m(0.0, 179.5, 0.0, -179.5),
	    one_deg, 1e-6);
	cr_assert_float_eq(geo_distance_m(30.0, 104.0, 30.0, 104.0), 0.0,
	    1e-9);
	/* Antipodes are ill-conditioned for haversine: decimetres. */
	cr_assert_float_eq(geo_distance_m(90.0, 0.0, -90.0, 0.0), M_PI * R,
	    0.5);
	cr_assert_float_eq(geo_distance_m(10.0, 20.0, -10.0, -160.0),
	    M_PI * R, 0.5);
}

Test(geo, nan_in_nan_out, .timeout = 10)
{
	cr_assert(isnan(geo_distance_m(NAN, 104.0, 30.0, 104.0)));
	cr_assert(isnan(geo_distance_m(30.0, 104.0, 30.0, INFINITY)));
}

Test(geo, destination_round_trip, .timeout = 10)
{
	double	lat, lon, b;

	for (b = 0.0; b < 360.0; b += 22.5) {
		geo_destination(TIANFU_LAT, TIANFU_LON, b, 10000.0, &lat, &lon);
		cr_assert_float_eq(geo_distance_m(TIANFU_LAT, TIANFU_LON, lat,
		    lon), 10000.0, 1e-4, "bearing %f", b);
	}
	geo_destination(30.0, 104.0, 0.0, R * M_PI / 180.0, &lat, &lon);
	cr_assert_float_eq(lat, 31.0, 1e-9);
	cr_assert_float_eq(lon, 104.0, 1e-9);
	geo_destination(0.0, 179.5, 90.0, R * M_PI / 180.0, &lat, &lon);
	cr_assert_float_eq(lon, -179.5, 1e-9);
}

/*
 * Chinese coordinate systems against published vectors
 * (../shared/reference/geofence-brief.md §2.5; the values are copied
 * from the repositories named there, not computed by this code).
 */

struct vec {
	const char	*what;
	double		 in_lon, in_lat, out_lon, out_lat;
};

/* Metres between two (lon, lat) points. */
static double
apart_m(double lon1, double lat1, double lon2, double lat2)
{
	return geo_distance_m(lat1, lon1, lat2, lon2);
}

/*
 * googollee/eviltransform c/test.c (written lat, lng there) and
 * wandergis/coordtransform README.md.  They print 14-17 digits, so a
 * correct formula matches to the last printed digit: 1e-9 degrees (with
 * glibc all seven match bit for bit; the tolerance leaves room for a libm
 * whose sin() differs in the last ulp).
 */
Test(geo, gcj02_published_vectors, .timeout = 10)
{
	static const struct vec wgs2gcj[] = {
		{ "eviltransform Shanghai", 121.5272106, 31.1774276,
		    121.531541859215, 31.17530398364597 },
		{ "eviltransform Shenzhen", 113.912316, 22.543847,
		    113.9171764808363, 22.540796131694766 },
		{ "eviltransform Beijing", 116.377817, 39.911954,
		    116.38404722455657, 39.91334545536069 },
		{ "coordtransform wgs84togcj02", 116.404, 39.915,
		    116.41024449916938, 39.91640428150164 },
	};
	double	lon, lat;
	size_t	i;

	for (i = 0; i < sizeof(wgs2gcj) / sizeof(wgs2gcj[0]); i++) {
		geo_wgs84_to_gcj02(wgs2gcj[i].in_lon, wgs2gcj[i].in_lat, &lon,
		    &lat);
		cr_expect(fabs(lon - wgs2gcj[i].out_lon) < 1e-9 &&
		    fabs(lat - wgs2gcj[i].out_lat) < 1e-9, "%s: %.15f %.15f",
		    wgs2gcj[i].what, lon, lat);
	}
	geo_gcj02_to_wgs84_approx(116.404, 39.915, &lon, &lat);
	cr_expect(fabs(lon - 116.39775550083061) < 1e-9 &&
	    fabs(lat - 39.91359571849836) < 1e-9, "gcj02towgs84 %.15f %.15f",
	    lon, lat);
	geo_gcj02_to_bd09(116.404, 39.915, &lon, &lat);
	cr_expect(fabs(lon - 116.41036949371029) < 1e-9 &&
	    fabs(lat - 39.92133699351021) < 1e-9, "gcj02tobd09 %.15f %.15f",
	    lon, lat);
	geo_bd09_to_gcj02_approx(116.404, 39.915, &lon, &lat);
	cr_expect(fabs(lon - 116.39762729119315) < 1e-9 &&
	    fabs(lat - 39.90865673957631) < 1e-9, "bd09togcj02 %.15f %.15f",
	    lon, lat);
}

/*
 * eviltransform's test also checks its inverses: the one-step gcj2wgs
 * within 5 m, the exact one within 0.5 m.  Ours: within 1 mm.
 */
Test(geo, gcj02_inverse_of_published_vectors, .timeout = 10)
{
	static const struct vec v[] = {
		{ "Shanghai", 121.5272106, 31.1774276, 121.531541859215,
		    31.17530398364597 },
		{ "Shenzhen", 113.912316, 22.543847, 113.9171764808363,
		    22.540796131694766 },
		{ "Beijing", 116.377817, 39.911954, 116.38404722455657,
		    39.91334545536069 },
	};
	double	lon, lat;
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		geo_gcj02_to_wgs84(v[i].out_lon, v[i].out_lat, &lon, &lat);
		cr_expect_lt(apart_m(lon, lat, v[i].in_lon, v[i].in_lat), 0.001,
		    "%s", v[i].what);
		geo_gcj02_to_wgs84_approx(v[i].out_lon, v[i].out_lat, &lon,
		    &lat);
		cr_expect_lt(apart_m(lon, lat, v[i].in_lon, v[i].in_lat), 5.0,
		    "%s one-step", v[i].what);
	}
}

/*
 * hujiulong/gcoord: test/unit/crs/WGS84.spec.ts and the Sichuan cities
 * of test/fixtures/china-cities.json.  The fixture's WGS-84 column came
 * from a slightly different conversion (about 0.7 m off, the brief
 * §2.3), so these hold within 1 m.
 */
Test(geo, gcoord_fixture_within_1m, .timeout = 10)
{
	static const struct {
		const char	*what;
		double		 wgs[2], gcj[2], bd[2];
	} c[] = {
		{ "WGS84.spec [123, 45]", { 123, 45 },
		    { 123.00607541, 45.00197815 }, { 123.0124491, 45.0083293 } },
		{ "成都市 武侯区", { 104.0640437, 30.5747262 },
		    { 104.0665489, 30.5722732 }, { 104.0730134, 30.5783237 } },
		{ "泸州市", { 105.4386655, 28.8748404 },
		    { 105.4422659, 28.871815 }, { 105.4487888, 28.8776874 } },
		{ "凉山 西昌市", { 102.2658401, 27.8850446 },
		    { 102.2673386, 27.8816151 }, { 102.2738428, 27.8876621 } },
		{ "阿坝 马尔康", { 102.2230086, 31.9016557 },
		    { 102.2246598, 31.8994162 }, { 102.2310766, 31.9056239 } },
	};
	double	lon, lat;
	size_t	i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		geo_wgs84_to_gcj02(c[i].wgs[0], c[i].wgs[1], &lon, &lat);
		cr_expect_lt(apart_m(lon, lat, c[i].gcj[0], c[i].gcj[1]), 1.0,
		    "%s wgs->gcj", c[i].what);
		geo_gcj02_to_bd09(c[i].gcj[0], c[i].gcj[1], &lon, &lat);
		cr_expect_lt(apart_m(lon, lat, c[i].bd[0], c[i].bd[1]), 1.0,
		    "%s gcj->bd", c[i].what);
		geo_bd09_to_wgs84(c[i].bd[0], c[i].bd[1], &lon, &lat);
		cr_expect_lt(apart_m(lon, lat, c[i].wgs[0], c[i].wgs[1]), 1.0,
		    "%s bd->wgs", c[i].what);
	}
}

/*
 * Round trips over a 101 x 101 grid of the Sichuan bounding box: the
 * exact inverses within 1 mm, while the one-step inverse is off by more
 * than half a metre somewhere (the reason the iteration exists).
 */
Test(geo, round_trip_sichuan_grid, .timeout = 10)
{
	double	lon0, lat0, glon, glat, blon, blat, lon, lat, d, worst = 0,
		worst1 = 0, worstbd = 0, worstgb = 0, worstgb1 = 0;
	int	i, j;

	for (i = 0; i <= 100; i++) {
		for (j = 0; j <= 100; j++) {
			lon0 = 97.3 + (108.6 - 97.3) * i / 100.0;
			lat0 = 26.0 + (34.4 - 26.0) * j / 100.0;
			geo_wgs84_to_gcj02(lon0, lat0, &glon, &glat);
			/* The offset is real: 100 m to 1 km here. */
			d = apart_m(lon0, lat0, glon, glat);
			cr_assert(d > 100.0 && d < 1000.0, "offset %f m", d);
			geo_gcj02_to_wgs84(glon, glat, &lon, &lat);
			worst = fmax(worst, apart_m(lon, lat, lon0, lat0));
			geo_gcj02_to_wgs84_approx(glon, glat, &lon, &lat);
			worst1 = fmax(worst1, apart_m(lon, lat, lon0, lat0));
			geo_gcj02_to_bd09(glon, glat, &blon, &blat);
			geo_bd09_to_gcj02(blon, blat, &lon, &lat);
			worstgb = fmax(worstgb, apart_m(lon, lat, glon, glat));
			geo_bd09_to_gcj02_approx(blon, blat, &lon, &lat);
			worstgb1 = fmax(worstgb1, apart_m(lon, lat, glon, glat));
			geo_from_wgs84(GEO_CRS_BD09, lon0, lat0, &blon, &blat);
			geo_to_wgs84(GEO_CRS_BD09, blon, blat, &lon, &lat);
			worstbd = fmax(worstbd, apart_m(lon, lat, lon0, lat0));
		}
	}
	/* Measured: 5e-8 m, 2e-7 m and 2e-7 m; one-step 2.26 m and 0.13 m. */
	cr_expect_lt(worst, 0.001, "gcj02 round trip %.6f m", worst);
	cr_expect_lt(worstgb, 0.001, "gcj02-bd09 round trip %.6f m", worstgb);
	cr_expect_lt(worstbd, 0.001, "wgs84-bd09 round trip %.6f m", worstbd);
	cr_expect_gt(worst1, 0.5, "one-step inverse only %.3f m off", worst1);
	cr_expect_gt(worstgb1, 0.05, "one-step bd09 only %.3f m off",
	    worstgb1);
}

/*
 * The box is the published one, bounds included: a different box (e.g.
 * coordtransform's 73.66..135.05 / 3.86..53.55) shifts whole border
 * regions by hundreds of metres.
 */
Test(geo, china_box_edges, .timeout = 10)
{
	static const double	edge[][2] = {
		{ 72.004, 30.0 }, { 137.8347, 30.0 },
		{ 100.0, 0.8293 }, { 100.0, 55.8271 },
	};
	double	lon, lat;
	size_t	i;

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		lon = edge[i][0];
		lat = edge[i][1];
		cr_assert(geo_in_china(lon, lat), "%.4f %.4f", lon, lat);
		/* One ulp further out is outside. */
		if (lon != 100.0)
			lon = nextafter(lon, lon < 100.0 ? 0.0 : 180.0);
		else
			lat = nextafter(lat, lat < 30.0 ? -90.0 : 90.0);
		cr_assert(!geo_in_china(lon, lat), "%.17g %.17g", lon, lat);
	}
	cr_assert(!geo_in_china(NAN, 30.0));
	cr_assert(!geo_in_china(104.0, NAN));
}

/*
 * Just inside the west edge, GCJ-02 points closer to the edge than the
 * offset (~500 m) are the image of no WGS-84 point: the offset jumps
 * from 0 to ~500 m eastwards at the edge.  The inverse must still stop
 * and give the one-step answer; a point beyond the strip is exact again.
 */
Test(geo, gcj02_inverse_at_box_edge, .timeout = 10)
{
	double	lon, lat, alon, alat, flon, flat;

	geo_gcj02_to_wgs84(72.006, 30.0, &lon, &lat);
	geo_gcj02_to_wgs84_approx(72.006, 30.0, &alon, &alat);
	cr_assert(lon == alon && lat == alat, "%.12f %.12f vs %.12f %.12f",
	    lon, lat, alon, alat);
	cr_assert(apart_m(lon, lat, 72.006, 30.0) > 400.0);
	geo_gcj02_to_wgs84(72.010, 30.0, &lon, &lat);
	geo_wgs84_to_gcj02(lon, lat, &flon, &flat);
	cr_assert(fabs(flon - 72.010) < 1e-9 && fabs(flat - 30.0) < 1e-9,
	    "%.12f %.12f", flon, flat);
}

/* The dispatchers are the direct functions, bit for bit. */
Test(geo, crs_dispatch, .timeout = 10)
{
	const double	lon0 = 104.0640437, lat0 = 30.5747262;
	double		lon, lat, dlon, dlat;
	enum geo_crs	crs;

	for (crs = GEO_CRS_WGS84; crs <= GEO_CRS_CGCS2000; crs++) {
		geo_from_wgs84(crs, lon0, lat0, &lon, &lat);
		cr_assert(lon == lon0 && lat == lat0, "%s", geo_crs_name(crs));
		geo_to_wgs84(crs, lon0, lat0, &lon, &lat);
		cr_assert(lon == lon0 && lat == lat0, "%s", geo_crs_name(crs));
	}
	geo_from_wgs84(GEO_CRS_GCJ02, lon0, lat0, &lon, &lat);
	geo_wgs84_to_gcj02(lon0, lat0, &dlon, &dlat);
	cr_assert(lon == dlon && lat == dlat);
	geo_to_wgs84(GEO_CRS_GCJ02, lon0, lat0, &lon, &lat);
	geo_gcj02_to_wgs84(lon0, lat0, &dlon, &dlat);
	cr_assert(lon == dlon && lat == dlat);
	geo_from_wgs84(GEO_CRS_BD09, lon0, lat0, &lon, &lat);
	geo_wgs84_to_bd09(lon0, lat0, &dlon, &dlat);
	cr_assert(lon == dlon && lat == dlat);
	geo_to_wgs84(GEO_CRS_BD09, lon0, lat0, &lon, &lat);
	geo_bd09_to_wgs84(lon0, lat0, &dlon, &dlat);
	cr_assert(lon == dlon && lat == dlat);
	/* BD-09 is GCJ-02 plus the Baidu offset. */
	geo_wgs84_to_gcj02(lon0, lat0, &lon, &lat);
	geo_gcj02_to_bd09(lon, lat, &lon, &lat);
	geo_wgs84_to_bd09(lon0, lat0, &dlon, &dlat);
	cr_assert(lon == dlon && lat == dlat);
	/* Not a crs: NaN, not silently WGS-84. */
	geo_to_wgs84((enum geo_crs)99, lon0, lat0, &lon, &lat);
	cr_assert(isnan(lon) && isnan(lat));
	geo_from_wgs84((enum geo_crs)-1, lon0, lat0, &lon, &lat);
	cr_assert(isnan(lon) && isnan(lat));
}

Test(geo, outside_china, .timeout = 10)
{
	double	lon, lat;

	/* Paris: GCJ-02 is WGS-84 outside the China box. */
	geo_wgs84_to_gcj02(2.35, 48.85, &lon, &lat);
	cr_assert(lon == 2.35 && lat == 48.85);
	geo_gcj02_to_wgs84(2.35, 48.85, &lon, &lat);
	cr_assert(lon == 2.35 && lat == 48.85);
	cr_assert(geo_in_china(104.06, 30.57));
	cr_assert(!geo_in_china(30.57, 104.06));
	cr_assert(!geo_in_china(2.35, 48.85));
	geo_to_wgs84(GEO_CRS_GCJ02, 2.35, 48.85, &lon, &lat);
	cr_assert(lon == 2.35 && lat == 48.85);
	/* BD-09 there is the Baidu offset alone, and still inverts. */
	geo_wgs84_to_bd09(2.35, 48.85, &lon, &lat);
	cr_assert(apart_m(lon, lat, 2.35, 48.85) > 100.0);
	geo_bd09_to_wgs84(lon, lat, &lon, &lat);
	cr_assert_lt(apart_m(lon, lat, 2.35, 48.85), 0.001);
}

typedef void conv_fn(double, double, double *, double *);

static void
to_gcj(double lon, double lat, double *olon, double *olat)
{
	geo_to_wgs84(GEO_CRS_GCJ02, lon, lat, olon, olat);
}

static void
to_wgs(double lon, double lat, double *olon, double *olat)
{
	geo_to_wgs84(GEO_CRS_WGS84, lon, lat, olon, olat);
}

static void
from_cgcs(double lon, double lat, double *olon, double *olat)
{
	geo_from_wgs84(GEO_CRS_CGCS2000, lon, lat, olon, olat);
}

static void
from_bd(double lon, double lat, double *olon, double *olat)
{
	geo_from_wgs84(GEO_CRS_BD09, lon, lat, olon, olat);
}

Test(geo, crs_nan_in_nan_out, .timeout = 10)
{
	static conv_fn *const fn[] = {
		geo_wgs84_to_gcj02, geo_gcj02_to_bd09, geo_wgs84_to_bd09,
		geo_gcj02_to_wgs84_approx, geo_bd09_to_gcj02_approx,
		geo_gcj02_to_wgs84, geo_bd09_to_gcj02, geo_bd09_to_wgs84,
		to_gcj, to_wgs, from_cgcs, from_bd,
	};
	static const double	bad[] = { NAN, INFINITY, -INFINITY };
	double			lon, lat;
	size_t			i, j;

	for (i = 0; i < sizeof(fn) / sizeof(fn[0]); i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			fn[i](bad[j], 30.0, &lon, &lat);
			cr_assert(isnan(lon) && isnan(lat), "fn %zu lon %f",
			    i, bad[j]);
			fn[i](104.0, bad[j], &lon, &lat);
			cr_assert(isnan(lon) && isnan(lat), "fn %zu lat %f",
			    i, bad[j]);
		}
	}
}

Test(geo, crs_names, .timeout = 10)
{
	static const char *const bad[] = { "WGS84", "", "utm", "gcj-02",
	    "wgs84 " };
	enum geo_crs	 crs, out;
	size_t		 i;

	for (crs = GEO_CRS_WGS84; crs <= GEO_CRS_BD09; crs++) {
		cr_assert_eq(geo_crs_parse(geo_crs_name(crs), &out), 0);
		cr_assert_eq(out, crs);
	}
	/* The names are config and GeoJSON syntax: pinned, not derived. */
	cr_assert_str_eq(geo_crs_name(GEO_CRS_WGS84), "wgs84");
	cr_assert_str_eq(geo_crs_name(GEO_CRS_CGCS2000), "cgcs2000");
	cr_assert_str_eq(geo_crs_name(GEO_CRS_GCJ02), "gcj02");
	cr_assert_str_eq(geo_crs_name(GEO_CRS_BD09), "bd09");
	cr_assert_str_eq(geo_crs_name((enum geo_crs)99), "unknown");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(geo_crs_parse(bad[i], &out), -1, "%s", bad[i]);
}
