/* SPDX-License-Identifier: MIT */
/*
 * geo.h - small geodesy helpers on WGS-84 coordinates.
 *
 * Pure: no I/O, no state.  Distances use the haversine formula on a sphere
 * of the WGS-84 mean radius (IUGG R1).  Against the ellipsoid the error is
 * below 0.5 % (typically 0.2 % at the latitudes of China), which is well
 * inside what trip distances and fences need; use an ellipsoidal method if
 * survey accuracy is ever required.  Angles are degrees, lengths metres.
 */
#ifndef GEO_H
#define GEO_H

#include <stdbool.h>

/* Mean radius R1 = (2a + b) / 3 of the WGS-84 ellipsoid. */
#define GEO_EARTH_RADIUS_M	6371008.8

/*
 * Great-circle distance in metres between two points (lat/lon in degrees).
 * Returns NaN if any argument is not finite.
 */
double	geo_distance_m(double lat1_deg, double lon1_deg, double lat2_deg,
	    double lon2_deg);

/*
 * Point reached from (lat_deg, lon_deg) after dist_m metres along the great
 * circle with initial bearing bearing_deg (clockwise from true north).
 * Longitude is normalised to [-180, 180).
 */
void	geo_destination(double lat_deg, double lon_deg, double bearing_deg,
	    double dist_m, double *lat2_deg, double *lon2_deg);

/*
 * Coordinate reference systems (坐标系) a fence may be drawn in.  CGCS2000
 * (国家2000) and WGS-84 agree to a few centimetres and are treated as one.
 * GCJ-02 (国测局, "火星坐标": Amap/高德, Tencent, DataV) is WGS-84 with the
 * published obfuscating offset, 170-575 m in Sichuan; BD-09 (Baidu) is a
 * second offset on top of GCJ-02, 700-1200 m.  Outside the China box of
 * geo_in_china() GCJ-02 equals WGS-84 (the public formula's convention),
 * and BD-09 is then GCJ-02 plus the Baidu offset alone.
 *
 * All functions take and return (lon, lat) in degrees, in that order like
 * GeoJSON, and are pure.  Non-finite input gives NaN output.
 */
enum geo_crs {
	GEO_CRS_WGS84,
	GEO_CRS_CGCS2000,
	GEO_CRS_GCJ02,
	GEO_CRS_BD09
};

/* "wgs84", "cgcs2000", "gcj02", "bd09"; "unknown" for other values. */
const char	*geo_crs_name(enum geo_crs);
/* Parse one of the names above (exact, lower case); 0, or -1. */
int		 geo_crs_parse(const char *name, enum geo_crs *out);

/* The box inside which the GCJ-02 offset applies (lon 72.004..137.8347,
 * lat 0.8293..55.8271), the same box the public formula uses. */
bool		 geo_in_china(double lon_deg, double lat_deg);

/* The published forward formulas (eviltransform, coordtransform, gcoord):
 * bit-for-bit the reference vectors. */
void	geo_wgs84_to_gcj02(double lon, double lat, double *olon, double *olat);
void	geo_gcj02_to_bd09(double lon, double lat, double *olon, double *olat);
void	geo_wgs84_to_bd09(double lon, double lat, double *olon, double *olat);

/* The published one-step inverses (wgs = gcj - offset(gcj) and Baidu's
 * bd09togcj02): off by up to about 2-4 m; kept for the reference vectors
 * and to show the error, never used for fences. */
void	geo_gcj02_to_wgs84_approx(double lon, double lat, double *olon,
	    double *olat);
void	geo_bd09_to_gcj02_approx(double lon, double lat, double *olon,
	    double *olat);

/* Exact inverses by iteration from the one-step guess: the result maps
 * forward to the input within 1e-9 degrees (0.1 mm), in a few rounds;
 * except within about one offset inside the China box's west and south
 * edges (outside Chinese territory), where no exact inverse exists and
 * the one-step answer is returned.  Between crs values: an invalid crs
 * gives NaN. */
void	geo_gcj02_to_wgs84(double lon, double lat, double *olon, double *olat);
void	geo_bd09_to_gcj02(double lon, double lat, double *olon, double *olat);
void	geo_bd09_to_wgs84(double lon, double lat, double *olon, double *olat);

/* Between any crs and WGS-84 (identity for wgs84 and cgcs2000). */
void	geo_to_wgs84(enum geo_crs, double lon, double lat, double *olon,
	    double *olat);
void	geo_from_wgs84(enum geo_crs, double lon, double lat, double *olon,
	    double *olat);

#endif /* GEO_H */
