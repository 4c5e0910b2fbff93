/* SPDX-License-Identifier: MIT */
/*
 * fencejson.h - loaded fences as the control socket sends them and
 * fleetgwctl prints them (DESIGN.md §4 "fences").
 *
 * A fence, fencejson_info(), members in this order:
 *
 *   id, name, kind, category  strings ("" when none)
 *   crs                 as drawn: "wgs84", "cgcs2000", "gcj02", "bd09"
 *   shape               "circle", "polygon", "corridor"
 *   parts, rings, vertices
 *                       integers, as stored (after densifying and
 *                       snapping): what the engine checks
 *   bbox                [west, south, east, north], WGS-84 degrees
 *   center, radius_m    circle only: [lon, lat] WGS-84 and metres
 *   width_m             corridor only
 *   speed_limit_kmh     number, null when none
 *   dwell_s             integer, null for the rule's default
 *
 * A point query, fencejson_at(): the object
 *
 *   query      { lon, lat, crs } as asked
 *   wgs84      [lon, lat] the point converted (what fixes are)
 *   gcj02      [lon, lat] the same point on Amap/Tencent maps
 *   bd09       [lon, lat] the same point on Baidu maps
 *   inside     [ fence..., each with "location" ("in" or "on" the
 *              boundary) and "distance_m" to the boundary (negative
 *              inside) ], in set order
 *   nearby     [ up to FENCEJSON_NEARBY fences not containing the point
 *              whose boundary is within FENCEJSON_NEARBY_M, nearest first,
 *              each with "distance_m" ]
 *
 * Coordinates are rounded to 7 decimals (1 cm), distances to 0.1 m.
 * Text forms print one fence a line for a listing, and the query answer
 * as "inside" and "nearby" sections.
 */
#ifndef FENCEJSON_H
#define FENCEJSON_H

#include <stdio.h>

#include <jansson.h>

#include "fence.h"
#include "geo.h"

#define FENCEJSON_NEARBY	10
#define FENCEJSON_NEARBY_M	1000.0

/* New reference; idx < fence_set_count(). */
json_t	*fencejson_info(const struct fence_set *, size_t idx);
/* New reference; lon/lat in crs. */
json_t	*fencejson_at(const struct fence_set *, double lon, double lat,
	    enum geo_crs crs);

/* Text: a header, then one line per element of the array of infos. */
void	 fencejson_print_list(FILE *, const json_t *fences);
/* Text: the object of fencejson_at(). */
void	 fencejson_print_at(FILE *, const json_t *at);

#endif /* FENCEJSON_H */
