/* SPDX-License-Identifier: MIT */
/*
 * vcheck.c - the daily vehicle check (每日一小检): snapshot in, checklist
 * out.  See vcheck.h for the items and their limits.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "clocktrust.h"
#include "record.h"
#include "util.h"
#include "vcheck.h"

#define MIB			1048576.0
#define MS_PER_S		1000.0
/* Widths of the text table's first three columns. */
#define COL_ITEM		9
#define COL_STATUS		7
#define COL_READING		14

static const char *const status_names[] = { "pass", "warn", "fail" };

const char *
vcheck_status_name(enum vcheck_status s)
{
	if ((unsigned)s >= NELEM(status_names))
		return NULL;
	return status_names[s];
}

int
vcheck_status_parse(const char *name, enum vcheck_status *out)
{
	size_t	i;

	for (i = 0; name != NULL && i < NELEM(status_names); i++)
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum vcheck_status)i;
			return 0;
		}
	return -1;
}

void
vcheck_limits_default(struct vcheck_limits *l)
{
	l->obd_window_ms = 60 * 1000;
	l->engine_running_rpm = 400;
	l->batt_off_fail_v = 11.8;
	l->batt_off_warn_v = 12.2;
	l->batt_run_fail_v = 12.6;
	l->batt_run_warn_v = 13.2;
	l->batt_high_warn_v = 14.8;
	l->batt_high_fail_v = 15.5;
	l->coolant_warn_c = 105;
	l->coolant_fail_c = 115;
	l->coolant_cold_c = 60;
	l->coolant_warmup_s = 900;
	l->fuel_warn_pct = 15;
	l->fuel_fail_pct = 5;
	l->gnss_min_sats = 6;
	l->free_warn_mb = 128;
	l->free_fail_mb = 32;
	l->db_warn_pct = 90;
	l->db_fail_pct = 110;
	l->sync_warn_ms = INT64_C(3600) * 1000;
	l->sync_fail_ms = INT64_C(24) * 3600 * 1000;
	l->clock_warn_s = 2;
	l->clock_fail_s = 60;
}

void
vcheck_snapshot_clear(struct vcheck_snapshot *s)
{
	size_t	i;

	memset(s, 0, sizeof(*s));
	s->obd = VCHECK_OBD_NONE;
	s->obd_age_ms = -1;
	s->rpm = s->battery_v = s->coolant_c = NAN;
	s->fuel_level_pct = s->run_time_s = NAN;
	s->mil_on = -1;
	s->fix = VCHECK_FIX_DOWN;
	s->sats_used = s->sats_visible = -1;
	s->hdop = NAN;
	s->fix_age_ms = -1;
	s->now_utc_ms = INT64_MIN;
	s->clock_offset_s = NAN;
	for (i = 0; i < VCHECK_STREAMS; i++)
		s->stream[i].name = i == 0 ? "events" : "positions";
}

/* ---- building an item ------------------------------------------------ */

static struct vcheck_item *
item_new(struct vcheck_result *r, const char *name, const char *unit)
{
	struct vcheck_item	*it = &r->item[r->n++];

	memset(it, 0, sizeof(*it));
	it->name = name;
	it->unit = unit;
	it->status = VCHECK_PASS;
	it->value = NAN;
	it->age_s = NAN;
	it->mil_on = -1;
	return it;
}

/* Raise the item's status to s (never lower it). */
static void
worse(struct vcheck_item *it, enum vcheck_status s)
{
	if (s > it->status)
		it->status = s;
}

static void
limit(struct vcheck_item *it, const char *key, double v)
{
	if (it->nlimit < VCHECK_MAX_LIMITS) {
		it->limit[it->nlimit].key = key;
		it->limit[it->nlimit].v = v;
		it->nlimit++;
	}
}

/* Append to the note, "; "-separated; cut at the buffer's end. */
static void
note(struct vcheck_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct vcheck_item *it, const char *fmt, ...)
{
	va_list	ap;
	size_t	n = strlen(it->note);

	if (n > 0 && n + 2 < sizeof(it->note)) {
		memcpy(it->note + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= sizeof(it->note))
		return;
	va_start(ap, fmt);
	vsnprintf(it->note + n, sizeof(it->note) - n, fmt, ap);
	va_end(ap);
}

static double
age_s(int64_t age_ms)
{
	return age_ms < 0 ? NAN : (double)age_ms / MS_PER_S;
}

/* A duration for a note: "40 s", "12 min", "3.5 h", "2.1 d". */
static void
dur(char *buf, size_t len, int64_t ms)
{
	double	s = (double)ms / MS_PER_S;

	if (s < 120)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%.0f min", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "%.1f h", s / 3600);
	else
		snprintf(buf, len, "%.1f d", s / 86400);
}

/* ---- the OBD items --------------------------------------------------- */

enum engine {
	ENGINE_UNKNOWN,
	ENGINE_OFF,
	ENGINE_RUNNING
};

static enum engine
engine_state(const struct vcheck_snapshot *s, const struct vcheck_limits *l)
{
	if (s->obd == VCHECK_OBD_NO_ECU)
		return ENGINE_OFF;	/* the reader says rpm 0 there */
	if (!isfinite(s->rpm))
		return ENGINE_UNKNOWN;
	return s->rpm >= l->engine_running_rpm ? ENGINE_RUNNING : ENGINE_OFF;
}

static const char *
engine_words(const struct vcheck_snapshot *s, enum engine e)
{
	if (s->obd == VCHECK_OBD_NO_ECU)
		return "ignition off (the ECU does not answer)";
	switch (e) {
	case ENGINE_RUNNING:
		return "engine running";
	case ENGINE_OFF:
		return "engine off";
	case ENGINE_UNKNOWN:
		break;
	}
	return "engine state unknown";
}

/*
 * The OBD link decides alone: 1 when it did (item finished), 0 when the
 * readings must be looked at.
 */
static int
obd_link(const struct vcheck_snapshot *s, struct vcheck_item *it)
{
	switch (s->obd) {
	case VCHECK_OBD_NONE:
		note(it, "not checked: no OBD adapter configured");
		return 1;
	case VCHECK_OBD_DOWN:
		worse(it, VCHECK_FAIL);
		note(it, "OBD adapter not answering (%s%s%s)",
		    s->obd_state[0] != '\0' ? s->obd_state : "down",
		    s->obd_error[0] != '\0' ? ": " : "", s->obd_error);
		return 1;
	case VCHECK_OBD_NO_ECU:
	case VCHECK_OBD_UP:
		break;
	}
	return 0;
}

static void
no_reading(const struct vcheck_limits *l, struct vcheck_item *it,
    const char *what)
{
	note(it, "no %s reading in the last %.0f s", what,
	    (double)l->obd_window_ms / MS_PER_S);
}

static void
check_battery(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "battery", "V");
	enum engine		 e = engine_state(s, l);
	double			 fail_v, warn_v, v = s->battery_v;

	if (e == ENGINE_RUNNING) {
		fail_v = l->batt_run_fail_v;
		warn_v = l->batt_run_warn_v;
	} else {
		fail_v = l->batt_off_fail_v;
		warn_v = l->batt_off_warn_v;
	}
	limit(it, "fail_below", fail_v);
	limit(it, "warn_below", warn_v);
	limit(it, "warn_above", l->batt_high_warn_v);
	limit(it, "fail_above", l->batt_high_fail_v);
	if (obd_link(s, it))
		return;
	if (!isfinite(v)) {
		worse(it, VCHECK_WARN);
		no_reading(l, it, "battery voltage");
		return;
	}
	it->value = v;
	it->age_s = age_s(s->obd_age_ms);
	note(it, "%s", engine_words(s, e));
	if (v < fail_v) {
		worse(it, VCHECK_FAIL);
		note(it, "below %.1f V%s", fail_v, e == ENGINE_RUNNING ?
		    ": the alternator does not charge" : ": battery flat");
	} else if (v < warn_v) {
		worse(it, VCHECK_WARN);
		note(it, "below %.1f V%s", warn_v, e == ENGINE_RUNNING ?
		    ": charging too low" : ": battery low");
	} else if (v > l->batt_high_fail_v) {
		worse(it, VCHECK_FAIL);
		note(it, "above %.1f V: over-charging", l->batt_high_fail_v);
	} else if (v > l->batt_high_warn_v) {
		worse(it, VCHECK_WARN);
		note(it, "above %.1f V: charging too high",
		    l->batt_high_warn_v);
	}
}

static void
check_coolant(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "coolant", "\u00b0C");
	enum engine		 e = engine_state(s, l);
	double			 v = s->coolant_c;

	limit(it, "warn_above", l->coolant_warn_c);
	limit(it, "fail_above", l->coolant_fail_c);
	limit(it, "cold_below", l->coolant_cold_c);
	limit(it, "warmup_s", l->coolant_warmup_s);
	if (obd_link(s, it))
		return;
	if (!isfinite(v)) {
		if (e == ENGINE_RUNNING) {
			worse(it, VCHECK_WARN);
			no_reading(l, it, "coolant temperature");
		} else
			note(it, "%s: not read", engine_words(s, e));
		return;
	}
	it->value = v;
	it->age_s = age_s(s->obd_age_ms);
	note(it, "%s", engine_words(s, e));
	if (v > l->coolant_fail_c) {
		worse(it, VCHECK_FAIL);
		note(it, "above %.0f \u00b0C: overheating", l->coolant_fail_c);
	} else if (v > l->coolant_warn_c) {
		worse(it, VCHECK_WARN);
		note(it, "above %.0f \u00b0C: running hot", l->coolant_warn_c);
	} else if (e == ENGINE_RUNNING && isfinite(s->run_time_s) &&
	    s->run_time_s >= l->coolant_warmup_s && v < l->coolant_cold_c) {
		worse(it, VCHECK_WARN);
		note(it, "below %.0f \u00b0C after %.0f min running: "
		    "thermostat?", l->coolant_cold_c, s->run_time_s / 60);
	}
}

static const char *
dtc_kind(uint8_t mode)
{
	switch (mode) {
	case 0x03:
		return "stored";
	case 0x07:
		return "pending";
	case 0x0a:
		return "permanent";
	}
	return "unknown";
}

static void
check_mil(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "mil_dtc", "DTCs");
	char			 codes[VCHECK_NOTE_MAX];
	size_t			 i, n, len;

	if (obd_link(s, it))
		return;
	it->mil_on = s->mil_on;
	codes[0] = '\0';
	if (s->dtcs_read) {
		n = s->ndtc < VCHECK_MAX_DTCS ? s->ndtc : VCHECK_MAX_DTCS;
		it->ndtc = n;
		memcpy(it->dtc, s->dtc, n * sizeof(it->dtc[0]));
		it->value = (double)n;
		for (i = 0; i < n; i++) {
			len = strlen(codes);
			snprintf(codes + len, sizeof(codes) - len, "%s%s (%s)",
			    i > 0 ? ", " : "", s->dtc[i].code,
			    dtc_kind(s->dtc[i].mode));
		}
	}
	if (s->mil_on >= 0 || s->dtcs_read)
		it->age_s = age_s(s->obd_age_ms);
	if (s->mil_on == 1) {
		worse(it, VCHECK_FAIL);
		note(it, "MIL on");
	} else if (s->mil_on == 0)
		note(it, "MIL off");
	else {
		worse(it, VCHECK_WARN);
		if (s->obd == VCHECK_OBD_NO_ECU)
			note(it, "MIL not read: the ECU does not answer "
			    "(ignition off?)");
		else
			note(it, "no MIL reading in the last %.0f s",
			    (double)l->obd_window_ms / MS_PER_S);
	}
	if (!s->dtcs_read) {
		worse(it, VCHECK_WARN);
		note(it, "no DTC scan yet%s", s->obd == VCHECK_OBD_NO_ECU ?
		    ": switch the ignition on" : "");
	} else if (it->ndtc > 0) {
		worse(it, VCHECK_WARN);
		note(it, "%s", codes);
	} else
		note(it, "no trouble codes");
}

static void
check_fuel(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "fuel", "%");
	double			 v = s->fuel_level_pct;

	limit(it, "fail_below", l->fuel_fail_pct);
	limit(it, "warn_below", l->fuel_warn_pct);
	if (obd_link(s, it))
		return;
	if (!isfinite(v)) {
		worse(it, VCHECK_WARN);
		if (s->obd == VCHECK_OBD_NO_ECU)
			note(it, "not read: the ECU does not answer (ignition "
			    "off?)");
		else
			no_reading(l, it, "fuel level");
		return;
	}
	it->value = v;
	it->age_s = age_s(s->obd_age_ms);
	if (v < l->fuel_fail_pct) {
		worse(it, VCHECK_FAIL);
		note(it, "below %.0f %%: refuel now", l->fuel_fail_pct);
	} else if (v < l->fuel_warn_pct) {
		worse(it, VCHECK_WARN);
		note(it, "below %.0f %%: refuel soon", l->fuel_warn_pct);
	}
}

/* ---- device health --------------------------------------------------- */

static void
check_gnss(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "gnss", "satellites");
	char			 d[32];

	limit(it, "warn_below", l->gnss_min_sats);
	if (s->sats_used >= 0)
		it->value = s->sats_used;
	it->age_s = age_s(s->fix_age_ms);
	switch (s->fix) {
	case VCHECK_FIX_DOWN:
	case VCHECK_FIX_NODATA:
	case VCHECK_FIX_NONE:
		worse(it, VCHECK_FAIL);
		note(it, "no fix: %s", s->fix == VCHECK_FIX_DOWN ?
		    "gpsd not reachable" : s->fix == VCHECK_FIX_NODATA ?
		    "no reports from gpsd" : "the receiver has none");
		if (s->fix_age_ms < 0)
			note(it, "no fix since start");
		else {
			dur(d, sizeof(d), s->fix_age_ms);
			note(it, "last fix %s ago", d);
		}
		return;
	case VCHECK_FIX_2D:
		worse(it, VCHECK_WARN);
		note(it, "2D fix only");
		break;
	case VCHECK_FIX_3D:
		note(it, "3D fix");
		break;
	}
	if (s->sats_used < 0) {
		worse(it, VCHECK_WARN);
		note(it, "satellite count unknown");
	} else if (s->sats_used < l->gnss_min_sats) {
		worse(it, VCHECK_WARN);
		note(it, "fewer than %d satellites used", l->gnss_min_sats);
	}
	if (s->sats_visible >= 0)
		note(it, "%d visible", s->sats_visible);
	if (isfinite(s->hdop))
		note(it, "hdop %.2f", s->hdop);
	if (s->fix_age_ms >= 0) {
		dur(d, sizeof(d), s->fix_age_ms);
		note(it, "fix %s old", d);
	}
}

static void
check_storage(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "storage", "MB");
	double			 free_mb, db_mb, cap_mb, pct;

	limit(it, "fail_below", l->free_fail_mb);
	limit(it, "warn_below", l->free_warn_mb);
	limit(it, "size_warn_pct", l->db_warn_pct);
	limit(it, "size_fail_pct", l->db_fail_pct);
	limit(it, "max_size_mb", s->max_size_mb);
	it->age_s = 0;
	db_mb = (double)s->db_bytes / MIB;
	cap_mb = s->max_size_mb;
	if (cap_mb > 0) {
		pct = db_mb * 100.0 / cap_mb;
		note(it, "database %.1f MB of %.0f MB (%.0f %%)", db_mb,
		    cap_mb, pct);
		if (pct > l->db_fail_pct) {
			worse(it, VCHECK_FAIL);
			note(it, "above %.0f %% of storage.max_size_mb: "
			    "retention does not keep up", l->db_fail_pct);
		} else if (pct >= l->db_warn_pct) {
			worse(it, VCHECK_WARN);
			note(it, "at %.0f %% of storage.max_size_mb or more: "
			    "the oldest records are deleted", l->db_warn_pct);
		}
	} else
		note(it, "database %.1f MB", db_mb);
	if (!s->fs_known) {
		worse(it, VCHECK_WARN);
		note(it, "free space unknown");
		return;
	}
	free_mb = (double)s->fs_free_bytes / MIB;
	it->value = floor(free_mb * 10) / 10;
	if (free_mb < l->free_fail_mb) {
		worse(it, VCHECK_FAIL);
		note(it, "less than %.0f MB free: writes will fail",
		    l->free_fail_mb);
	} else if (free_mb < l->free_warn_mb) {
		worse(it, VCHECK_WARN);
		note(it, "less than %.0f MB free", l->free_warn_mb);
	} else if (cap_mb > 0 && free_mb < cap_mb - db_mb) {
		worse(it, VCHECK_WARN);
		note(it, "the file system cannot hold storage.max_size_mb");
	}
}

static void
check_sync(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item		*it = item_new(r, "sync", "s");
	const struct vcheck_stream	*st;
	int64_t				 age, oldest = 0;
	char				 d[32];
	size_t				 i;

	limit(it, "warn_above", (double)l->sync_warn_ms / MS_PER_S);
	limit(it, "fail_above", (double)l->sync_fail_ms / MS_PER_S);
	if (!s->platform) {
		note(it, "no platform configured");
		return;
	}
	for (i = 0; i < VCHECK_STREAMS; i++) {
		st = &s->stream[i];
		if (!st->known) {
			worse(it, VCHECK_WARN);
			note(it, "%s: state unknown", st->name);
			continue;
		}
		if (st->pending == 0)
			note(it, "%s: nothing pending", st->name);
		else if (s->now_utc_ms == INT64_MIN ||
		    st->oldest_pending_utc_ms == 0)
			note(it, "%s: %" PRIu64 " pending, age unknown",
			    st->name, st->pending);
		else {
			age = s->now_utc_ms - st->oldest_pending_utc_ms;
			if (age < 0)
				age = 0;
			if (age > oldest)
				oldest = age;
			dur(d, sizeof(d), age);
			note(it, "%s: %" PRIu64 " pending, oldest %s",
			    st->name, st->pending, d);
			if (age > l->sync_fail_ms)
				worse(it, VCHECK_FAIL);
			else if (age > l->sync_warn_ms)
				worse(it, VCHECK_WARN);
		}
		if (st->quarantined > 0) {
			worse(it, VCHECK_WARN);
			note(it, "%s: %" PRIu64 " refused by the platform "
			    "(quarantined)", st->name, st->quarantined);
		}
	}
	it->value = floor((double)oldest / MS_PER_S);
}

static void
check_clock(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	struct vcheck_item	*it = item_new(r, "clock", "s");
	double			 off = s->clock_offset_s;

	limit(it, "warn_above", l->clock_warn_s);
	limit(it, "fail_above", l->clock_fail_s);
	if (!s->gnss_time || !isfinite(off)) {
		worse(it, VCHECK_FAIL);
		note(it, "no GNSS time since start: the system clock cannot "
		    "be checked");
		return;
	}
	it->value = round(off * 10) / 10;
	it->age_s = age_s(s->fix_age_ms);
	note(it, "system clock %.1f s %s GNSS time", fabs(off),
	    off >= 0 ? "ahead of" : "behind");
	if (fabs(off) > l->clock_fail_s)
		worse(it, VCHECK_FAIL);
	else if (fabs(off) > l->clock_warn_s)
		worse(it, VCHECK_WARN);
	if (s->clock_trusted)
		note(it, "GNSS time trusted");
	else
		note(it, "GNSS time not trusted yet (%d of %d consistent "
		    "fixes)", s->clock_fixes < 0 ? 0 : s->clock_fixes,
		    CLOCKTRUST_FIXES);
	note(it, "system clock %s", s->clock_synced ? "synchronised" :
	    "not synchronised");
}

void
vcheck_run(const struct vcheck_snapshot *s, const struct vcheck_limits *l,
    struct vcheck_result *r)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	check_battery(s, l, r);
	check_coolant(s, l, r);
	check_mil(s, l, r);
	check_fuel(s, l, r);
	check_gnss(s, l, r);
	check_storage(s, l, r);
	check_sync(s, l, r);
	check_clock(s, l, r);
	r->overall = VCHECK_PASS;
	for (i = 0; i < r->n; i++)
		if (r->item[i].status > r->overall)
			r->overall = r->item[i].status;
}

/* ---- output ---------------------------------------------------------- */

/* A number rounded to 2 decimals, or null. */
static json_t *
num(double v)
{
	if (!isfinite(v))
		return json_null();
	return json_real(round(v * 100) / 100);
}

json_t *
vcheck_result_json(const struct vcheck_result *r)
{
	const struct vcheck_item	*it;
	json_t				*items, *o, *lim, *codes;
	size_t				 i, j;

	items = json_array();
	for (i = 0; i < r->n; i++) {
		it = &r->item[i];
		lim = json_object();
		for (j = 0; j < it->nlimit; j++)
			json_object_set_new(lim, it->limit[j].key,
			    num(it->limit[j].v));
		o = json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:o}",
		    "name", it->name,
		    "status", vcheck_status_name(it->status),
		    "value", num(it->value), "unit", it->unit,
		    "age_s", isfinite(it->age_s) ? json_real(round(it->age_s *
		    10) / 10) : json_null(),
		    "note", it->note, "limits", lim);
		if (strcmp(it->name, "mil_dtc") == 0) {
			codes = json_array();
			for (j = 0; j < it->ndtc; j++)
				json_array_append_new(codes, json_pack(
				    "{s:s, s:s}", "code", it->dtc[j].code,
				    "kind", dtc_kind(it->dtc[j].mode)));
			json_object_set_new(o, "mil", it->mil_on < 0 ?
			    json_null() : json_boolean(it->mil_on));
			json_object_set_new(o, "codes", codes);
		}
		json_array_append_new(items, o);
	}
	return json_pack("{s:s, s:o}", "result",
	    vcheck_status_name(r->overall), "items", items);
}

/* Columns a UTF-8 string takes (one per character, no wide forms). */
static int
cols(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* s, then blanks to width columns (at least one). */
static int
cell(FILE *fp, const char *s, int width)
{
	int	pad = width - cols(s);

	if (fputs(s, fp) == EOF)
		return -1;
	do {
		if (fputc(' ', fp) == EOF)
			return -1;
	} while (--pad > 0);
	return 0;
}

/* "12.6 V", "20 °C", "-": a number with at most two decimals. */
static void
reading(char *buf, size_t len, const json_t *item)
{
	const json_t	*v = json_object_get(item, "value");
	const char	*unit = json_string_value(json_object_get(item, "unit"));
	double		 x;
	int		 dec;

	if (!json_is_number(v)) {
		util_strlcpy(buf, "-", len);
		return;
	}
	x = json_number_value(v);
	dec = x == rint(x) ? 0 : x * 10 == rint(x * 10) ? 1 : 2;
	snprintf(buf, len, "%.*f%s%s", dec, x, unit != NULL && unit[0] !=
	    '\0' ? " " : "", unit != NULL ? unit : "");
}

int
vcheck_print_text(FILE *fp, const json_t *obj)
{
	const json_t	*items = json_object_get(obj, "items"), *it;
	const char	*name, *st, *nt, *res;
	char		 rd[64];
	size_t		 i;
	int		 count[3] = { 0, 0, 0 };
	enum vcheck_status s;

	if (!json_is_array(items))
		return -1;
	if (cell(fp, "ITEM", COL_ITEM) == -1 ||
	    cell(fp, "STATUS", COL_STATUS) == -1 ||
	    cell(fp, "READING", COL_READING) == -1 ||
	    fputs("NOTE\n", fp) == EOF)
		return -1;
	json_array_foreach(items, i, it) {
		name = json_string_value(json_object_get(it, "name"));
		if (name == NULL)
			continue;
		st = json_string_value(json_object_get(it, "status"));
		if (vcheck_status_parse(st, &s) == 0)
			count[s]++;
		nt = json_string_value(json_object_get(it, "note"));
		reading(rd, sizeof(rd), it);
		if (cell(fp, name, COL_ITEM) == -1 ||
		    cell(fp, st != NULL ? st : "?", COL_STATUS) == -1 ||
		    cell(fp, rd, COL_READING) == -1 ||
		    fprintf(fp, "%s\n", nt != NULL && nt[0] != '\0' ? nt :
		    "-") < 0)
			return -1;
	}
	res = json_string_value(json_object_get(obj, "result"));
	if (fprintf(fp, "result: %s (%d pass, %d warn, %d fail)",
	    res != NULL ? res : "?", count[0], count[1], count[2]) < 0)
		return -1;
	if (json_is_integer(json_object_get(obj, "event_id")) &&
	    fprintf(fp, "; stored as event %" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(obj, "event_id"))) < 0)
		return -1;
	if (fputc('\n', fp) == EOF)
		return -1;
	return 0;
}
