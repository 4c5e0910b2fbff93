/* SPDX-License-Identifier: MIT */
/*
 * eventjson.h - stored events (DESIGN.md §6) as fleetgwctl prints them:
 * JSON objects (contract) and a text view grouped by day.
 *
 * JSON element members, in this order:
 *
 *   id          integer, the stable event id (the rules engine's)
 *   seq         integer, the events-stream seq of the event's first write
 *   end_seq     integer, the events-stream seq of its close (equal to seq
 *               for an instant), null while the event is ongoing
 *   type        "after_hours_use", ... (rules_type_name())
 *   severity    "info", "warning", "violation" or "critical"
 *   start       RFC 3339 with the offset of the device zone
 *   end         the same, null while the event is ongoing
 *   trip_id     integer, null when the event belongs to no trip
 *   lat, lon    numbers (WGS-84 degrees, 7 decimals), null when unknown
 *   fence_id    string, null when none
 *   details     object: the stored details, {} if they cannot be parsed
 *
 * A listing is streamed like tripjson's: eventjson_list_begin(),
 * eventjson_list_add() for each event (in start order, as the store
 * gives them), eventjson_list_end(); JSON is one array with one element
 * per line.
 *
 * Text view: a heading "YYYY-MM-DD (Weekday)" before the first event of
 * each local day (the day of the start, device zone), then one line per
 * event, indented by two blanks, with the columns START, END, DURATION,
 * SEVERITY, TYPE, PLACE, FENCE and DETAILS (aligned, no header line):
 *
 *   2026-10-02 (Friday)
 *     09:12:05  09:40:10      0:28:05  violation  holiday_use  ...
 *     22:00:00  ongoing             -  violation  overnight_parking  ...
 *
 * START and END local times HH:MM:SS (END "ongoing" while open; " +Nd"
 * appended when it falls N local days after the start), DURATION
 * h:mm:ss ("-" while open), PLACE "lat,lon" with 5 decimals or "-", FENCE the id
 * with its name from details.fence_name in parentheses ("ktv-1
 * (金色年华KTV)") or "-", DETAILS the details object compact without
 * fence_name, cut to about EVENTJSON_DETAILS_COLS columns with "..."
 * ("-" when empty).  A last line counts the events by severity, most
 * severe first: "3 events: 2 violation, 1 warning"; "no events" when
 * nothing was listed.
 */
#ifndef EVENTJSON_H
#define EVENTJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "rules.h"
#include "store.h"

#define EVENTJSON_REAL_PRECISION	15
#define EVENTJSON_DUMP_FLAGS	(JSON_COMPACT | \
	    JSON_REAL_PRECISION(EVENTJSON_REAL_PRECISION))
#define EVENTJSON_DETAILS_COLS	60
#define EVENTJSON_SEVERITIES	(RULES_CRITICAL + 1)

/*
 * One event as a new JSON object, times in zone tz (an IANA name).  NULL
 * if a time cannot be formatted (invalid zone, year out of range) or the
 * type or severity is out of range.
 */
json_t	*eventjson_event(const struct store_event *, const char *tz);

struct eventjson_list {
	FILE		*fp;		/* borrowed */
	const char	*tz;		/* borrowed */
	bool		 json;
	uint64_t	 n;		/* events added */
	int		 error;		/* an event could not be converted */
	char		 day[16];	/* text: the day of the last heading */
	uint64_t	 count[EVENTJSON_SEVERITIES];	/* text: by severity */
};

void	eventjson_list_begin(struct eventjson_list *, FILE *, const char *tz,
	    bool json);
/* 0, or -1 if the event could not be converted or written. */
int	eventjson_list_add(struct eventjson_list *, const struct store_event *);
/* Closes the array or prints the count line; 0, or -1 on a write error. */
int	eventjson_list_end(struct eventjson_list *);

#endif /* EVENTJSON_H */
