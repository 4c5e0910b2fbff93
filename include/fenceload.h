/* SPDX-License-Identifier: MIT */
/*
 * fenceload.h - build the fence set (fence.h) from the configuration's
 * "fences" list: inline shapes and GeoJSON files (read with jansson).
 *
 * A GeoJSON file holds a FeatureCollection, a Feature, or a bare Polygon
 * or MultiPolygon.  A feature's geometry is a Polygon or MultiPolygon, a
 * Point with a "radius_m" property (a circle) or a LineString with a
 * "width_m" property (a corridor).  Coordinates are in the entry's crs
 * (RFC 7946 says WGS-84, but boundaries downloaded from Amap or DataV are
 * GCJ-02: say crs = "gcj02"); rings must be closed.  Feature properties
 * "name", "kind", "category", "speed_limit_kmh" and "dwell_s" override
 * the entry's; other properties are ignored.  When the file yields one
 * fence it takes the entry's id (unless the entry says feature_ids:
 * then as with several); with several, each takes its
 * properties.id, else its GeoJSON "id", else "ENTRYID/N" (N from 1).
 *
 * Bounds: a file is at most FENCELOAD_FILE_MAX bytes and nests at most
 * jansson's parser depth; every fence at most FENCE_MAX_VERTICES.
 */
#ifndef FENCELOAD_H
#define FENCELOAD_H

#include "config.h"
#include "fence.h"

#define FENCELOAD_FILE_MAX	(16 * 1024 * 1024)	/* ~600k vertices */

/*
 * Build every fence of c.  On success returns the set (possibly empty; the
 * caller frees it with fence_set_free()).  On failure returns NULL and
 * fills errs with every problem found: "FILE:LINE: fence "ID": reason" for
 * an inline shape, "PATH:LINE: reason" for a GeoJSON syntax error and
 * "PATH: fence "ID": reason" (or "PATH: features[N]: reason") for a bad
 * GeoJSON value.  Either way warns gets the doubts that do not stop the
 * load, e.g. "PATH: fence "ID": lies outside China (lon 30.65, lat
 * 104.07): are longitude and latitude swapped?".  errs and warns are
 * emptied first; free them with config_errors_free().
 */
struct fence_set *fenceload(const struct config *c,
		    struct config_errors *errs, struct config_errors *warns);

#endif /* FENCELOAD_H */
