/* SPDX-License-Identifier: MIT */
/*
 * geo.c - geodesy helpers; see geo.h.
 */
#include <math.h>

#include "geo.h"

#define DEG2RAD(d)	((d) * (M_PI / 180.0))
#define RAD2DEG(r)	((r) * (180.0 / M_PI))

double
geo_distance_m(double lat1_deg, double lon1_deg, double lat2_deg,
    double lon2_deg)
{
	double	phi1, phi2, dphi, dlam, a;

	if (!isfinite(lat1_deg) || !isfinite(lon1_deg) ||
	    !isfinite(lat2_deg) || !isfinite(lon2_deg))
		return NAN;
	phi1 = DEG2RAD(lat1_deg);
	phi2 = DEG2RAD(lat2_deg);
	dphi = phi2 - phi1;
	dlam = DEG2RAD(lon2_deg - lon1_deg);
	/* Haversine: well conditioned for the short distances we mostly see. */
	a = sin(dphi / 2) * sin(dphi / 2) +
	    cos(phi1) * cos(phi2) * sin(dlam / 2) * sin(dlam / 2);
	/*
	 * Rounding can push a a hair past 1 for antipodal points, where any
	 * formula is ill-conditioned (error of a few dm, irrelevant here).
	 */
	if (a > 1.0)
		a = 1.0;
	return 2.0 * GEO_EARTH_RADIUS_M * atan2(sqrt(a), sqrt(1.0 - a));
}

void
geo_destination(double lat_deg, double lon_deg, double bearing_deg,
    double dist_m, double *lat2_deg, double *lon2_deg)
{
	double	phi1, lam1, theta, delta, sphi2, phi2, lam2, lon;

	phi1 = DEG2RAD(lat_deg);
	lam1 = DEG2RAD(lon_deg);
	theta = DEG2RAD(bearing_deg);
	delta = dist_m / GEO_EARTH_RADIUS_M;
	sphi2 = sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta);
	if (sphi2 > 1.0)
		sphi2 = 1.0;
	else if (sphi2 < -1.0)
		sphi2 = -1.0;
	phi2 = asin(sphi2);
	lam2 = lam1 + atan2(sin(theta) * sin(delta) * cos(phi1),
	    cos(delta) - sin(phi1) * sphi2);
	lon = fmod(RAD2DEG(lam2) + 540.0, 360.0) - 180.0;
	*lat2_deg = RAD2DEG(phi2);
	*lon2_deg = lon;
}
