/* SPDX-License-Identifier: MIT */
/*
 * vcheck.h - the daily vehicle check (每日一小检): a snapshot of the
 * daemon's readings in, a checklist out.  Pure: no I/O, no clock; the
 * daemon (main.c) gathers the snapshot, fleetgwctl prints the reply.
 *
 * Items, in this order, each pass, warn or fail (default limits in
 * brackets, all in struct vcheck_limits; "<" and ">" are strict, so a
 * reading exactly on a limit is on the better side):
 *
 *   battery   volts (PID 42, else the adapter's ATRV).  Engine off or
 *             unknown: fail < 11.8, warn < 12.2; engine running (rpm >=
 *             400): fail < 12.6, warn < 13.2 (the alternator is not
 *             charging); either: warn > 14.8, fail > 15.5 (over-charging)
 *   coolant   deg C.  warn > 105, fail > 115; warn when the engine has
 *             run 900 s and is still below 60 (thermostat stuck open).
 *             No reading with the engine off or the ignition off passes
 *             ("not read"); with the engine running it warns
 *   mil_dtc   the malfunction indicator lamp (PID 01) and the codes of
 *             the last DTC scan (modes 03, 07, 0A).  MIL on: fail; codes
 *             with the MIL off: warn; MIL off and a scan without codes:
 *             pass; MIL or scan unknown: warn
 *   fuel      tank level %.  fail < 5, warn < 15
 *   gnss      satellites used.  3D fix with >= 6 satellites: pass; 2D
 *             fix, fewer satellites or an unknown count: warn; no fix
 *             (gpsd down, silent, or the receiver has none): fail.  The
 *             note gives the fix, hdop and its age
 *   storage   MB free on the database's file system.  fail < 32 MB free;
 *             warn < 128 MB free, or less free than the database may
 *             still grow (storage.max_size_mb minus its size); the
 *             database files at >= 90 % of max_size_mb: warn (retention
 *             deletes the oldest records there), > 110 %: fail
 *             (retention does not keep up)
 *   sync      age of the oldest record not acknowledged by the platform,
 *             per stream (events, positions).  warn > 1 h, fail > 24 h;
 *             records quarantined (refused by the platform): warn; no
 *             platform configured: pass with that note
 *   clock     seconds the system clock is off GNSS time.  warn > 2 s,
 *             fail > 60 s; no GNSS time since start: fail
 *
 * The OBD items (battery, coolant, mil_dtc, fuel) use values read in the
 * last obd_window_ms (60 s): an older value is no reading.  Without an
 * OBD adapter configured (obd.driver "none") they pass with the note
 * "not checked"; when the adapter does not answer (OBD down or still
 * initialising) each of them fails with the reason; when the adapter
 * answers but the ECU does not (ignition off), battery is judged on the
 * adapter's voltage, coolant passes unread, and mil_dtc and fuel warn
 * ("ignition off?").
 *
 * The overall result is the worst item's status.
 */
#ifndef VCHECK_H
#define VCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "record.h"

#define VCHECK_ITEMS		8
#define VCHECK_MAX_DTCS		32
#define VCHECK_STREAMS		2	/* events, positions (store.h) */
#define VCHECK_MAX_LIMITS	6
#define VCHECK_NOTE_MAX		256

enum vcheck_status {
	VCHECK_PASS,
	VCHECK_WARN,
	VCHECK_FAIL
};

/* "pass", "warn", "fail"; NULL out of range. */
const char	*vcheck_status_name(enum vcheck_status);
/* 0 and *out, or -1 for an unknown name. */
int		 vcheck_status_parse(const char *, enum vcheck_status *out);

/* The limits; vcheck_limits_default() gives the values documented above. */
struct vcheck_limits {
	int64_t		obd_window_ms;		/* older OBD values: none */
	double		engine_running_rpm;	/* at or above: running */
	double		batt_off_fail_v;	/* engine off: below fails */
	double		batt_off_warn_v;
	double		batt_run_fail_v;	/* running: below fails */
	double		batt_run_warn_v;
	double		batt_high_warn_v;	/* either: above warns */
	double		batt_high_fail_v;
	double		coolant_warn_c;		/* above warns */
	double		coolant_fail_c;
	double		coolant_cold_c;		/* below, once warmed: warn */
	double		coolant_warmup_s;	/* engine run time to warm */
	double		fuel_warn_pct;		/* below warns */
	double		fuel_fail_pct;
	int		gnss_min_sats;		/* 3D with fewer: warn */
	double		free_warn_mb;		/* below warns */
	double		free_fail_mb;
	double		db_warn_pct;		/* of max_size_mb, at or above */
	double		db_fail_pct;		/* above */
	int64_t		sync_warn_ms;		/* oldest pending older: warn */
	int64_t		sync_fail_ms;
	double		clock_warn_s;		/* |offset| above warns */
	double		clock_fail_s;
};

void		 vcheck_limits_default(struct vcheck_limits *);

enum vcheck_obd {
	VCHECK_OBD_NONE,	/* no adapter configured */
	VCHECK_OBD_DOWN,	/* the adapter does not answer (or is
				   being set up) */
	VCHECK_OBD_NO_ECU,	/* the adapter answers, no ECU (ignition
				   off) */
	VCHECK_OBD_UP
};

enum vcheck_fix {
	VCHECK_FIX_DOWN,	/* gpsd not reachable */
	VCHECK_FIX_NODATA,	/* gpsd sends no reports */
	VCHECK_FIX_NONE,	/* the receiver has no fix */
	VCHECK_FIX_2D,
	VCHECK_FIX_3D
};

struct vcheck_stream {
	const char	*name;		/* "events", "positions"; borrowed */
	bool		 known;		/* false: the state could not be read */
	uint64_t	 pending;	/* records not acknowledged */
	int64_t		 oldest_pending_utc_ms;	/* 0: none */
	uint64_t	 quarantined;
};

/*
 * What the daemon knows at one moment.  NaN: unknown (no reading); ages
 * in ms, -1: never.
 */
struct vcheck_snapshot {
	/* OBD: values read in the last obd_window_ms, else NaN / -1. */
	enum vcheck_obd	 obd;
	char		 obd_state[16];		/* "down", "init", ... */
	char		 obd_error[160];	/* the adapter's last problem */
	int64_t		 obd_age_ms;		/* newest OBD value, -1 none */
	double		 rpm;
	double		 battery_v;
	double		 coolant_c;
	double		 fuel_level_pct;
	double		 run_time_s;		/* since engine start */
	int		 mil_on;		/* -1 unknown, 0, 1 */
	bool		 dtcs_read;		/* a DTC scan completed */
	size_t		 ndtc;
	struct obd_dtc	 dtc[VCHECK_MAX_DTCS];

	/* GNSS */
	enum vcheck_fix	 fix;
	int		 sats_used;		/* -1 unknown */
	int		 sats_visible;
	double		 hdop;			/* of the last fix */
	int64_t		 fix_age_ms;		/* last accepted fix, -1 none */

	/* storage */
	bool		 fs_known;		/* statvfs worked */
	uint64_t	 fs_free_bytes;		/* for the daemon's user */
	uint64_t	 db_bytes;		/* database file + WAL */
	int		 max_size_mb;		/* storage.max_size_mb, 0 none */

	/* sync */
	bool		 platform;		/* a platform is configured */
	int64_t		 now_utc_ms;		/* GNSS time now; INT64_MIN
						   unknown */
	struct vcheck_stream stream[VCHECK_STREAMS];

	/* clock */
	bool		 gnss_time;		/* there was a fix */
	double		 clock_offset_s;	/* system clock - GNSS time */
	bool		 clock_trusted;		/* clocktrust says OK */
	int		 clock_fixes;		/* consistent fixes in a row */
	bool		 clock_synced;		/* timesyncd says synchronised */
};

/* Every number unknown (NaN, -1, INT64_MIN), every flag false. */
void		 vcheck_snapshot_clear(struct vcheck_snapshot *);

struct vcheck_limit {
	const char	*key;		/* "fail_below", "warn_above", ... */
	double		 v;
};

struct vcheck_item {
	const char	*name;		/* "battery", ... (static) */
	enum vcheck_status status;
	double		 value;		/* the reading; NaN none */
	const char	*unit;		/* "V", "°C", "%", "DTCs", "satellites",
					   "MB", "s" (static) */
	double		 age_s;		/* of the reading; NaN unknown */
	char		 note[VCHECK_NOTE_MAX];	/* why, or what else */
	size_t		 nlimit;
	struct vcheck_limit limit[VCHECK_MAX_LIMITS];	/* those applied */
	int		 mil_on;	/* mil_dtc: -1 unknown, 0, 1 */
	size_t		 ndtc;		/* mil_dtc: the codes */
	struct obd_dtc	 dtc[VCHECK_MAX_DTCS];
};

struct vcheck_result {
	enum vcheck_status overall;	/* the worst item */
	size_t		 n;		/* VCHECK_ITEMS */
	struct vcheck_item item[VCHECK_ITEMS];
};

/* Judge a snapshot.  Never fails. */
void		 vcheck_run(const struct vcheck_snapshot *,
		    const struct vcheck_limits *, struct vcheck_result *);

/*
 * The result as JSON (docs/platform-api.md, "inspection"): a new object
 * {"result": "pass|warn|fail", "items": [{"name", "status", "value"
 * (number or null), "unit", "age_s" (number or null), "note", "limits"
 * (object: key -> number)}, ...]}; the mil_dtc item also has "mil"
 * (true, false or null) and "codes" ([{"code", "kind"}], kind "stored",
 * "pending" or "permanent").
 */
json_t		*vcheck_result_json(const struct vcheck_result *);

/*
 * The text table of fleetgwctl check from a reply or event details of
 * the form above: ITEM, STATUS, READING, NOTE, aligned, then a line
 * "result: pass (8 pass, 0 warn, 0 fail)".  Items that are not objects
 * or lack a name are skipped.  0, or -1 on a write error or when obj
 * has no "items" array.
 */
int		 vcheck_print_text(FILE *, const json_t *obj);

#endif /* VCHECK_H */
