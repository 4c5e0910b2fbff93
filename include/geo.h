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

#endif /* GEO_H */
