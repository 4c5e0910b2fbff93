/* SPDX-License-Identifier: MIT */
/*
 * tripjson.h - stored trips as fleetgwctl prints them: JSON objects
 * (contract, DESIGN.md §4) and an aligned text table with a total line.
 *
 * JSON element members, in this order:
 *
 *   id                 integer, the stable trip id
 *   seq                integer, null while the trip is open
 *   start              RFC 3339 with the offset of the device zone
 *   end                the same, null while the trip is open
 *   distance_m         number
 *   duration_s, driving_s, idle_s
 *                      numbers
 *   max_speed_kmh, avg_speed_kmh
 *                      numbers
 *   fuel_used_l        number, null when unknown
 *   start_lat, start_lon, end_lat, end_lon
 *                      numbers (WGS-84 degrees), null when unknown
 *   odometer_start_km, odometer_end_km
 *                      numbers, null when unknown
 *   ended_by           "ignition_off", "stationary", "power_loss",
 *                      "shutdown"; null while open
 *   gnss_gap, towed    booleans
 *
 * Any number the trip does not know (NaN) is null.  Numbers are rounded
 * (half away from zero) before jansson dumps them: distance 0.1 m;
 * durations 0.001 s, the resolution of the times; speeds 0.1 km/h; fuel
 * 0.001 L; coordinates 7 decimals (about 1 cm); odometer 0.1 km, what PID
 * A6 resolves.  TRIPJSON_DUMP_FLAGS prints such values exactly as rounded.
 *
 * A listing is streamed like posjson's: tripjson_list_begin(),
 * tripjson_list_add() for each trip, tripjson_list_end(); JSON is one
 * array with one element per line.  Text mode prints a header before the
 * first row and, at the end, a total line (or "no trips").
 *
 * Text columns: ID, START and END (RFC 3339 in the device zone, whole
 * seconds; END "ongoing" while open), DURATION and IDLE (h:mm:ss), KM (2
 * decimals), MAX_KMH and AVG_KMH (1 decimal), FUEL_L (2 decimals), ODO_KM
 * (odometer at the end, 1 decimal) and ENDED_BY; "-" for unknown.  The
 * total line sums duration, distance, idle time and fuel over the trips
 * listed (open ones as far as they got), shows the highest speed and the
 * average speed over the summed driving time; a fuel total followed by
 * "+" leaves out trips whose fuel is unknown.
 */
#ifndef TRIPJSON_H
#define TRIPJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

#define TRIPJSON_REAL_PRECISION	15
#define TRIPJSON_DUMP_FLAGS	(JSON_COMPACT | \
	    JSON_REAL_PRECISION(TRIPJSON_REAL_PRECISION))

/*
 * One trip as a new JSON object, times in zone tz (an IANA name).  NULL if
 * a time cannot be formatted (invalid zone, year out of range).
 */
json_t	*tripjson_trip(const struct store_trip *, const char *tz);

struct tripjson_list {
	FILE		*fp;		/* borrowed */
	const char	*tz;		/* borrowed */
	bool		 json;
	uint64_t	 n;		/* trips added */
	int		 error;		/* a trip could not be converted */
	/* Totals for the text mode. */
	double		 duration_s;
	double		 distance_m;
	double		 driving_s;
	double		 idle_s;
	double		 max_speed_kmh;	/* NaN: none known */
	double		 fuel_l;
	uint64_t	 fuel_known;	/* trips with a fuel figure */
};

void	tripjson_list_begin(struct tripjson_list *, FILE *, const char *tz,
	    bool json);
/* 0, or -1 if the trip could not be converted or written. */
int	tripjson_list_add(struct tripjson_list *, const struct store_trip *);
/* Closes the array or prints the total line; 0, or -1 on a write error. */
int	tripjson_list_end(struct tripjson_list *);

#endif /* TRIPJSON_H */
