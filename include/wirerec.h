/* SPDX-License-Identifier: MIT */
/*
 * wirerec.h - a stored record as the platform receives it
 * (docs/platform-api.md §3): the JSON object uploaded in a records batch,
 * printed by "fleetgwctl records" and, later, hashed for export.
 *
 * Members, in this order: seq (the record's seq in its stream), kind
 * ("position", "event", "trip", "command_result"), time (RFC 3339 with
 * the device zone's offset), then the members of the matching listing
 * (posjson, tripjson, eventjson) without its seq; events add phase
 * ("start", "end", "complete"), start_seq and end_seq before the
 * listing's members.  A command result has id, type, status, received,
 * result (object or null) and error (string or null).
 *
 * The same stored record always gives the same object (records are
 * immutable, and the listings' rounding is deterministic), so the bytes
 * of wirerec_dump() are stable: a record sent twice is sent identically.
 */
#ifndef WIREREC_H
#define WIREREC_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"

/* Dump flags: compact, numbers as the listings print them. */
#define WIREREC_REAL_PRECISION	15
#define WIREREC_DUMP_FLAGS	(JSON_COMPACT | \
	    JSON_REAL_PRECISION(WIREREC_REAL_PRECISION))

/* "position", "trip", "event", "command_result"; NULL out of range. */
const char	*wirerec_kind_name(enum store_rec_kind);

/*
 * A new JSON object for r, times in zone tz; NULL when a time cannot be
 * formatted or the record is malformed (a kind out of range).
 */
json_t		*wirerec_record(const struct store_record *r, const char *tz);
/*
 * The record's canonical bytes (chain.h): wirerec_record() dumped with
 * WIREREC_DUMP_FLAGS, NUL-terminated, malloc'ed; *len (if not NULL) its
 * length.  NULL as wirerec_record(), or out of memory.
 */
char		*wirerec_canonical(const struct store_record *r, const char *tz,
		    size_t *len);

#endif /* WIREREC_H */
