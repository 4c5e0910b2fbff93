/* SPDX-License-Identifier: MIT */
/*
 * posjson.h - stored positions as fleetgwctl prints them: JSON objects
 * (contract, DESIGN.md §4) and an aligned text table for people.
 *
 * JSON element fields, in this order: seq (integer), time (RFC 3339 with
 * the offset of the device zone), lat, lon (numbers), alt_m, speed_kmh,
 * heading_deg, hdop (numbers, null when unknown), sats_used (integer, null
 * when unknown), constellations ({"gps":{"visible":n,"used":n},
 * "beidou":..., "glonass":..., "galileo":...}), then obd (posjson_obd())
 * when the row has at least one OBD value, else no obd member at all.
 *
 * A listing is streamed: posjson_list_begin(), posjson_list_add() for each
 * row, posjson_list_end().  Memory stays bounded whatever the number of
 * rows: each JSON element is built and dumped by jansson on its own, and
 * only the array's "[", "," and "]" are written between them, so the
 * output is one JSON array with one element per line.  Text mode prints a
 * header before the first row and, at the end, "N positions" (or "no
 * positions" when empty) as the last line on the same stream.
 */
#ifndef POSJSON_H
#define POSJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

/*
 * Dump flags for JSON with positions: 12 significant digits keep 0.1 mm
 * of longitude and hide binary noise (30.5723 stays "30.5723", 13.89 m/s
 * gives "50.004" km/h, not "50.004000000000005").
 */
#define POSJSON_REAL_PRECISION	12
#define POSJSON_DUMP_FLAGS	(JSON_COMPACT | \
	    JSON_REAL_PRECISION(POSJSON_REAL_PRECISION))

#define POSJSON_KMH_PER_MPS	3.6

/*
 * One position as a new JSON object, time in zone tz (an IANA name).
 * NULL if the time cannot be formatted (invalid zone, year out of range).
 */
json_t	*posjson_position(const struct store_position *, const char *tz);

/*
 * The known values of an OBD sample as a new object, or NULL when none is
 * known (record_obd_any() false).  Members, in struct obd_sample order and
 * named like its fields, only for known values: rpm, speed_kmh, coolant_c,
 * intake_c, ambient_c, load_pct, throttle_pct, maf_gps, fuel_level_pct,
 * fuel_rate_lph, battery_v, odometer_km, run_time_s (numbers, rounded to
 * what the sensors resolve: rpm, maf_gps 0.01; battery_v, fuel_rate_lph
 * 0.001; the others 0.1), fuel_rate_estimated (boolean, with
 * fuel_rate_lph only) and mil_on (boolean).
 */
json_t	*posjson_obd(const struct obd_sample *);

/* Satellite counts as {"gps":{"visible":n,"used":n},...}; new reference. */
json_t	*posjson_constellations(const struct sat_count sys[GNSS_SYS_COUNT]);

struct posjson_list {
	FILE		*fp;		/* borrowed */
	const char	*tz;		/* borrowed */
	bool		 json;
	uint64_t	 n;		/* rows added */
	int		 error;		/* a row could not be converted */
};

void	posjson_list_begin(struct posjson_list *, FILE *, const char *tz,
	    bool json);
/* 0, or -1 if the row could not be converted or written. */
int	posjson_list_add(struct posjson_list *, const struct store_position *);
/* Closes the array or prints the summary; 0, or -1 on a write error. */
int	posjson_list_end(struct posjson_list *);

/*
 * Text table: the header line, and one row (time in zone tz). 0 or -1.
 * Besides the GNSS columns, RPM (engine speed) and FUEL% (fuel level)
 * from OBD, "-" when unknown.
 */
int	posjson_print_header(FILE *);
int	posjson_print_row(FILE *, const struct store_position *,
	    const char *tz);

#endif /* POSJSON_H */
