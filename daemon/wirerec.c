/* SPDX-License-Identifier: MIT */
/*
 * wirerec.c - stored records as platform records (docs/platform-api.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eventjson.h"
#include "posjson.h"
#include "timefmt.h"
#include "tripjson.h"
#include "util.h"
#include "wirerec.h"

static const char *const wirerec_kinds[] = {
	[STORE_REC_POSITION] = "position",
	[STORE_REC_TRIP] = "trip",
	[STORE_REC_EVENT_START] = "event",
	[STORE_REC_EVENT_END] = "event",
	[STORE_REC_EVENT_COMPLETE] = "event",
	[STORE_REC_COMMAND_RESULT] = "command_result",
};

const char *
wirerec_kind_name(enum store_rec_kind k)
{
	if ((size_t)k >= NELEM(wirerec_kinds))
		return NULL;
	return wirerec_kinds[k];
}

/*
 * Positions are printed with POSJSON_REAL_PRECISION significant digits,
 * which hides binary noise (50.004 km/h, not 50.004000000000005).  The
 * record body is dumped with more digits for the other kinds, so the
 * position's reals are rounded to that many digits here: a double read
 * back from 12 digits prints back as the same 12 digits or fewer.
 */
static void
wirerec_round_reals(json_t *v)
{
	const char	*key;
	json_t		*m;
	size_t		 i;
	char		 buf[40];

	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			if (json_is_real(m)) {
				snprintf(buf, sizeof(buf), "%.*g",
				    POSJSON_REAL_PRECISION, json_real_value(m));
				json_real_set(m, strtod(buf, NULL));
			} else
				wirerec_round_reals(m);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			wirerec_round_reals(m);
	}
}

/* A new object: seq, kind, time, then the members of listing but seq. */
static json_t *
wirerec_wrap(const struct store_record *r, int64_t t_utc_ms, const char *tz,
    json_t *listing)
{
	json_t		*o, *m;
	const char	*key;
	char		 tbuf[64];

	if (listing == NULL)
		return NULL;
	if (timefmt_format(t_utc_ms, tz, tbuf, sizeof(tbuf)) == -1) {
		json_decref(listing);
		return NULL;
	}
	o = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)r->seq,
	    "kind", wirerec_kind_name(r->kind), "time", tbuf);
	if (o == NULL) {
		json_decref(listing);
		return NULL;
	}
	if (r->kind == STORE_REC_EVENT_START ||
	    r->kind == STORE_REC_EVENT_END ||
	    r->kind == STORE_REC_EVENT_COMPLETE) {
		json_object_set_new(o, "phase", json_string(
		    r->kind == STORE_REC_EVENT_START ? "start" :
		    r->kind == STORE_REC_EVENT_END ? "end" : "complete"));
		json_object_set_new(o, "start_seq",
		    json_integer((json_int_t)r->u.ev.seq));
		json_object_set_new(o, "end_seq",
		    r->kind == STORE_REC_EVENT_START ? json_null() :
		    json_integer((json_int_t)r->u.ev.end_seq));
	}
	json_object_foreach(listing, key, m) {
		if (strcmp(key, "seq") == 0 || strcmp(key, "end_seq") == 0)
			continue;
		json_object_set(o, key, m);
	}
	json_decref(listing);
	return o;
}

static json_t *
wirerec_command(const struct store_record *r, const char *tz)
{
	const struct store_command	*c = &r->u.cmd;
	json_t				*o, *result = NULL;
	json_error_t			 jerr;
	char				 rbuf[64], tbuf[64];

	if (timefmt_format(c->received_utc_ms, tz, rbuf, sizeof(rbuf)) == -1 ||
	    timefmt_format(c->done_utc_ms, tz, tbuf, sizeof(tbuf)) == -1)
		return NULL;
	if (c->result != NULL) {
		result = json_loads(c->result, JSON_REJECT_DUPLICATES, &jerr);
		if (result == NULL)
			result = json_object();
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}",
	    "seq", (json_int_t)r->seq, "kind", "command_result", "time", tbuf,
	    "id", c->id, "type", c->type, "status", c->status,
	    "received", rbuf,
	    "result", result != NULL ? result : json_null(),
	    "error", c->error != NULL ? json_string(c->error) : json_null());
	return o;
}

json_t *
wirerec_record(const struct store_record *r, const char *tz)
{
	json_t	*o;

	switch (r->kind) {
	case STORE_REC_POSITION:
		o = wirerec_wrap(r, r->u.pos.fix.t_utc_ms, tz,
		    posjson_position(&r->u.pos, tz));
		if (o != NULL)
			wirerec_round_reals(o);
		return o;
	case STORE_REC_TRIP:
		return wirerec_wrap(r, r->u.trip.trip.end_utc_ms, tz,
		    tripjson_trip(&r->u.trip, tz));
	case STORE_REC_EVENT_START:
		return wirerec_wrap(r, r->u.ev.start_utc_ms, tz,
		    eventjson_event(&r->u.ev, tz));
	case STORE_REC_EVENT_END:
	case STORE_REC_EVENT_COMPLETE:
		return wirerec_wrap(r, r->u.ev.end_utc_ms, tz,
		    eventjson_event(&r->u.ev, tz));
	case STORE_REC_COMMAND_RESULT:
		return wirerec_command(r, tz);
	}
	return NULL;
}

char *
wirerec_canonical(const struct store_record *r, const char *tz, size_t *len)
{
	json_t	*o;
	char	*txt;

	if ((o = wirerec_record(r, tz)) == NULL)
		return NULL;
	txt = json_dumps(o, WIREREC_DUMP_FLAGS);
	json_decref(o);
	if (txt != NULL && len != NULL)
		*len = strlen(txt);
	return txt;
}
