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
