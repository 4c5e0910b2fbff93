/* SPDX-License-Identifier: MIT */
/*
 * geo.c - geodesy helpers and Chinese coordinate systems; see geo.h.
 */
#include <math.h>
#include <string.h>

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

/*
 * Chinese coordinate systems.  The GCJ-02 offset is the public formula
 * (eviltransform, coordtransform, gcoord all carry it): a polynomial plus
 * sine terms in (lon - 105, lat - 35), scaled to degrees on the
 * Krasovsky 1940 ellipsoid.  BD-09 rotates and scales GCJ-02 slightly
 * about the origin and shifts it.
 */
#define GCJ_A		6378245.0		/* Krasovsky semi-major axis */
#define GCJ_EE		0.00669342162296594323	/* its first eccentricity^2 */
#define BD_X_PI		(M_PI * 3000.0 / 180.0)
#define BD_DLON		0.0065
#define BD_DLAT		0.006
#define CHINA_LON_MIN	72.004
#define CHINA_LON_MAX	137.8347
#define CHINA_LAT_MIN	0.8293
#define CHINA_LAT_MAX	55.8271
/*
 * Inverse by fixed-point iteration: the offset varies by at most a few
 * metres per kilometre, so each round shrinks the error about a
 * thousandfold.  Measured (rounds = forward evaluations, the last one
 * confirming |step| < 1e-10 degrees, 0.01 mm): GCJ-02 on a 401 x 401 grid
 * of Sichuan 2-4 (92 % take 3), anywhere in the China box at least 0.05
 * degrees from its edges at most 4; BD-09 2-3 in Sichuan and at most 4
 * anywhere on Earth.  The cap is only met in the strip where no exact
 * inverse exists (see invert()).
 */
#define INVERSE_EPS_DEG	1e-10
#define INVERSE_ROUNDS	20

static const char *const crs_names[] = {
	[GEO_CRS_WGS84] = "wgs84",
	[GEO_CRS_CGCS2000] = "cgcs2000",
	[GEO_CRS_GCJ02] = "gcj02",
	[GEO_CRS_BD09] = "bd09"
};

const char *
geo_crs_name(enum geo_crs crs)
{
	if ((unsigned int)crs >= sizeof(crs_names) / sizeof(crs_names[0]))
		return "unknown";
	return crs_names[crs];
}

int
geo_crs_parse(const char *name, enum geo_crs *out)
{
	size_t	i;

	for (i = 0; i < sizeof(crs_names) / sizeof(crs_names[0]); i++)
		if (strcmp(name, crs_names[i]) == 0) {
			*out = (enum geo_crs)i;
			return 0;
		}
	return -1;
}

bool
geo_in_china(double lon, double lat)
{
	return lon >= CHINA_LON_MIN && lon <= CHINA_LON_MAX &&
	    lat >= CHINA_LAT_MIN && lat <= CHINA_LAT_MAX;
}

static double
gcj_dlat(double x, double y)
{
	double	r;

	r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y +
	    0.2 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) *
	    2.0 / 3.0;
	r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) *
	    2.0 / 3.0;
	return r;
}

static double
gcj_dlon(double x, double y)
{
	double	r;

	r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y +
	    0.1 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) *
	    2.0 / 3.0;
	r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) *
	    2.0 / 3.0;
	return r;
}

/* The GCJ-02 offset at a WGS-84 point (0 outside China). */
static void
gcj_offset(double lon, double lat, double *dlon, double *dlat)
{
	double	rad, m, sm;

	if (!geo_in_china(lon, lat)) {
		*dlon = *dlat = 0.0;
		return;
	}
	*dlat = gcj_dlat(lon - 105.0, lat - 35.0);
	*dlon = gcj_dlon(lon - 105.0, lat - 35.0);
	rad = lat / 180.0 * M_PI;
	m = 1.0 - GCJ_EE * sin(rad) * sin(rad);
	sm = sqrt(m);
	*dlat = (*dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (m * sm) * M_PI);
	*dlon = (*dlon * 180.0) / (GCJ_A / sm * cos(rad) * M_PI);
}

static bool
finite2(double lon, double lat, double *olon, double *olat)
{
	if (isfinite(lon) && isfinite(lat))
		return true;
	*olon = *olat = NAN;
	return false;
}

void
geo_wgs84_to_gcj02(double lon, double lat, double *olon, double *olat)
{
	double	dlon, dlat;

	if (!finite2(lon, lat, olon, olat))
		return;
	gcj_offset(lon, lat, &dlon, &dlat);
	*olon = lon + dlon;
	*olat = lat + dlat;
}

void
geo_gcj02_to_bd09(double lon, double lat, double *olon, double *olat)
{
	double	z, theta;

	if (!finite2(lon, lat, olon, olat))
		return;
	z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * BD_X_PI);
	theta = atan2(lat, lon) + 0.000003 * cos(lon * BD_X_PI);
	*olon = z * cos(theta) + BD_DLON;
	*olat = z * sin(theta) + BD_DLAT;
}

void
geo_wgs84_to_bd09(double lon, double lat, double *olon, double *olat)
{
	double	glon, glat;

	geo_wgs84_to_gcj02(lon, lat, &glon, &glat);
	geo_gcj02_to_bd09(glon, glat, olon, olat);
}

void
geo_gcj02_to_wgs84_approx(double lon, double lat, double *olon, double *olat)
{
	double	dlon, dlat;

	if (!finite2(lon, lat, olon, olat))
		return;
	/* The offset taken at the GCJ-02 point, not the unknown WGS one. */
	gcj_offset(lon, lat, &dlon, &dlat);
	*olon = lon - dlon;
	*olat = lat - dlat;
}

void
geo_bd09_to_gcj02_approx(double lon, double lat, double *olon, double *olat)
{
	double	x, y, z, theta;

	if (!finite2(lon, lat, olon, olat))
		return;
	x = lon - BD_DLON;
	y = lat - BD_DLAT;
	z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_X_PI);
	theta = atan2(y, x) - 0.000003 * cos(x * BD_X_PI);
	*olon = z * cos(theta);
	*olat = z * sin(theta);
}

typedef void forward_fn(double, double, double *, double *);

/*
 * Solve forward(w) = (lon, lat) for w, starting from the guess in w.
 *
 * The GCJ-02 offset drops to zero at the edge of the China box, so along
 * its west and south edges (where the offset points inwards) a strip of
 * GCJ-02 points about one offset wide (~500 m at 72.004 E, ~120 m at
 * 0.8293 N, all outside Chinese territory) is the image of no WGS-84
 * point: the iteration hops across the edge and back without converging.
 * There we keep the one-step guess, the answer of the published formula,
 * rather than whichever side of the edge the cap happened to stop on.
 */
static void
invert(forward_fn *forward, double lon, double lat, double *wlon,
    double *wlat)
{
	double	glon, glat, flon, flat, elon, elat;
	int	i;

	glon = *wlon;
	glat = *wlat;
	for (i = 0; i < INVERSE_ROUNDS; i++) {
		forward(*wlon, *wlat, &flon, &flat);
		elon = lon - flon;
		elat = lat - flat;
		*wlon += elon;
		*wlat += elat;
		if (fabs(elon) < INVERSE_EPS_DEG && fabs(elat) < INVERSE_EPS_DEG)
			return;
	}
	*wlon = glon;
	*wlat = glat;
}

void
geo_gcj02_to_wgs84(double lon, double lat, double *olon, double *olat)
{
	geo_gcj02_to_wgs84_approx(lon, lat, olon, olat);
	if (isfinite(*olon))
		invert(geo_wgs84_to_gcj02, lon, lat, olon, olat);
}

void
geo_bd09_to_gcj02(double lon, double lat, double *olon, double *olat)
{
	geo_bd09_to_gcj02_approx(lon, lat, olon, olat);
	if (isfinite(*olon))
		invert(geo_gcj02_to_bd09, lon, lat, olon, olat);
}

void
geo_bd09_to_wgs84(double lon, double lat, double *olon, double *olat)
{
	double	glon, glat;

	geo_bd09_to_gcj02(lon, lat, &glon, &glat);
	geo_gcj02_to_wgs84(glon, glat, olon, olat);
}

void
geo_to_wgs84(enum geo_crs crs, double lon, double lat, double *olon,
    double *olat)
{
	switch (crs) {
	case GEO_CRS_GCJ02:
		geo_gcj02_to_wgs84(lon, lat, olon, olat);
		return;
	case GEO_CRS_BD09:
		geo_bd09_to_wgs84(lon, lat, olon, olat);
		return;
	case GEO_CRS_WGS84:
	case GEO_CRS_CGCS2000:
		if (finite2(lon, lat, olon, olat)) {
			*olon = lon;
			*olat = lat;
		}
		return;
	}
	/* Not a crs: a wrong fence must not pass as a WGS-84 one. */
	*olon = *olat = NAN;
}

void
geo_from_wgs84(enum geo_crs crs, double lon, double lat, double *olon,
    double *olat)
{
	switch (crs) {
	case GEO_CRS_GCJ02:
		geo_wgs84_to_gcj02(lon, lat, olon, olat);
		return;
	case GEO_CRS_BD09:
		geo_wgs84_to_bd09(lon, lat, olon, olat);
		return;
	case GEO_CRS_WGS84:
	case GEO_CRS_CGCS2000:
		if (finite2(lon, lat, olon, olat)) {
			*olon = lon;
			*olat = lat;
		}
		return;
	}
	/* Not a crs: a wrong fence must not pass as a WGS-84 one. */
	*olon = *olat = NAN;
}
