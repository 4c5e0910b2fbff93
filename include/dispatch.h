/* SPDX-License-Identifier: MIT */
/*
 * dispatch.h - dispatch orders (派车单) as JSON, shared by fleetgwctl and
 * the daemon: the order object of the control socket's dispatch_add
 * request, the order object of replies and listings, and the text table
 * of "fleetgwctl dispatch list".
 *
 * Order object in (dispatch_from_json()), members in any order:
 *
 *   id              required string: 1..RULES_ORDER_ID_MAX (64) bytes of
 *                   printable ASCII, no blank, no '/' or '\'
 *   valid_from, valid_to
 *                   required strings: a time as timefmt_parse() reads it
 *                   in the device zone (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS])
 *                   or RFC 3339 with Z or an offset; valid_to after
 *                   valid_from, at most DISPATCH_WINDOW_MAX_S (31 days)
 *                   later; both within the years 0000-9999 in zone tz
 *                   (so that dispatch_to_json() can show them)
 *   dest            optional object or null: {"lon": n, "lat": n,
 *                   "radius_m": n (DISPATCH_RADIUS_MIN_M..MAX_M), "crs":
 *                   "wgs84" | "cgcs2000" | "gcj02" | "bd09" (optional,
 *                   default "wgs84")}; converted to WGS-84 (geo.h),
 *                   where it must still lie in [-180, 180] x [-90, 90]
 *   dest_fence      optional string or null: a fence id (1..FENCE_ID_MAX
 *                   bytes, no control characters); "" is none
 *   corridor_fence  the same, the fence the route must stay in
 *   purpose         required string, 1..255 bytes, no control characters
 *   approver        required string, 1..127 bytes, no control characters
 *
 * Any other member is an error that names it.  Whether the fences exist
 * is not checked here (the fence set may change on reload).
 *
 * Order object out (dispatch_to_json()), members in this order:
 *
 *   id, valid_from, valid_to (RFC 3339 with the offset of the device
 *   zone), dest ({"lon","lat","radius_m"}, WGS-84, 7 decimals and 0.1 m;
 *   null without a point), dest_fence, corridor_fence (null when none),
 *   purpose, approver, source ("ctl" or "platform"), created (RFC 3339,
 *   null when 0).
 *
 * Control socket protocol (daemon side in main.c):
 *
 *   {"cmd":"dispatch_add","order":{...order object in...}}
 *     -> {"ok":true,"order":{...order object out...}}
 *      | {"ok":false,"error":"..."}
 *   {"cmd":"dispatch_remove","id":"ID"}
 *     -> {"ok":true} | {"ok":false,"error":"no such order: ID"}
 *
 * Both are for administrators only (ctl_peer_is_admin()).
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

#define DISPATCH_WINDOW_MAX_S		(31 * 24 * 3600)
#define DISPATCH_RADIUS_MIN_M		10.0
#define DISPATCH_RADIUS_MAX_M		50000.0
/* fleetgwctl dispatch add --dest LON,LAT without a radius. */
#define DISPATCH_DEFAULT_RADIUS_M	500.0
#define DISPATCH_PURPOSE_MAX		255	/* bytes */
#define DISPATCH_APPROVER_MAX		127	/* bytes */

#define DISPATCH_DUMP_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(15))

/*
 * 0 if id is a valid order id (see above), else -1.  For fleetgwctl's
 * own checks and dispatch_remove.
 */
int	 dispatch_id_valid(const char *id);

/*
 * Validate order object o (borrowed) and fill *out: the rules' order
 * (times in GNSS UTC ms, the point in WGS-84), purpose and approver;
 * source "" and created_utc_ms 0 (the daemon sets them).  Times without
 * an offset are read in zone tz (an IANA name).  0, or -1 with a reason
 * for people in why (whylen > 0), naming the member: *out is then
 * unspecified.
 */
int	 dispatch_from_json(const json_t *o, const char *tz,
	    struct store_order *out, char *why, size_t whylen);

/*
 * The order as a new JSON object, times in zone tz.  NULL if a time
 * cannot be formatted (invalid zone, year out of range).
 */
json_t	*dispatch_to_json(const struct store_order *, const char *tz);

/*
 * A listing for fleetgwctl: dispatch_list_begin(), dispatch_list_add()
 * for each order, dispatch_list_end().  JSON: one array, one order
 * object per line, streamed.  Text: an aligned table with the columns
 * ID, FROM, TO (local time of zone tz, "YYYY-MM-DD HH:MM", seconds when
 * not 0), DEST (the point as "LON,LAT r=RADIUS m" with 5 decimals, "fence
 * ID", "corridor ID", joined by ", "; "-" for none), PURPOSE (cut to 40
 * columns with "..."), APPROVER, SOURCE, then "N orders" ("1 order"), or
 * "no orders".  The text mode keeps the rows until the end to size the
 * columns (orders are few: a handful a day); widths count CJK characters
 * as two columns.
 */
struct dispatch_row;

struct dispatch_list {
	FILE			*fp;		/* borrowed */
	const char		*tz;		/* borrowed */
	bool			 json;
	uint64_t		 n;		/* orders added */
	int			 error;		/* an order could not be
						   converted */
	struct dispatch_row	*rows;		/* text mode */
	size_t			 cap;
};

void	 dispatch_list_begin(struct dispatch_list *, FILE *, const char *tz,
	    bool json);
/* 0, or -1 if the order could not be converted or written. */
int	 dispatch_list_add(struct dispatch_list *, const struct store_order *);
/* Prints the table or closes the array, frees the rows; 0 or -1. */
int	 dispatch_list_end(struct dispatch_list *);
/* Frees what a listing holds without printing (after an error).  */
void	 dispatch_list_free(struct dispatch_list *);

#endif /* DISPATCH_H */
