/* SPDX-License-Identifier: MIT */
/*
 * rules.h - the official-vehicle usage rules (公务用车使用规定), evaluated
 * on the gateway: after hours, holidays, region, forbidden places,
 * overnight parking, commuting (接送上下班), dispatch orders (派车单), and
 * the vehicle-health and tamper rules (DESIGN.md §6).
 *
 * Pure: fed fixes, OBD samples, trip boundaries and a "now" (all GNSS UTC
 * ms), with a borrowed calendar, fence set and the dispatch orders, it
 * reports events through a callback.  No I/O, no clock, no log.  Local
 * time (the configured zone) comes from the caller's localtime function,
 * so a replayed log gives the same events as the live drive.
 *
 * Episodes.  Most rules watch a condition (driving after hours, inside a
 * forbidden fence, above the limit ...).  The condition must hold for
 * on_ms before an episode opens, with its start at the first moment it
 * held; once open, it must be false for off_ms before the episode
 * closes, with its end at the first moment it was false (or at the last
 * moment it was seen true when the inputs then fell silent for longer
 * than RULES_SILENCE_MS).  So GNSS jitter at a fence edge gives one event,
 * not fifty.  Open episodes are reported twice: RULES_EV_OPEN at once
 * (end unknown) and RULES_EV_CLOSE with the same id and the final end and
 * details.  Rules that see a single moment (dtc, position_jump,
 * power_loss, a commute out-and-back, a fuel drop) report RULES_EV_INSTANT
 * with start and end set.
 *
 * Ids.  Every event gets an id from the engine's own counter (starting at
 * 1, never reused), kept in the saved state: the caller stores events
 * keyed by it, and the same id never names two episodes, across restarts
 * and crashes as long as the state is committed with the events it
 * reported (rules_save() after each call that reported something, in the
 * same transaction).
 *
 * Dispatch orders cover time: an instant t is covered when an order's
 * [valid_from - grace, valid_to + grace] contains it.  after_hours_use
 * and holiday_use report only uncovered driving, so an order that covers
 * half a trip leaves the other half reportable.  region_exit is not
 * reported while an order covers the time (an approved trip out of the
 * county).  dispatch_mismatch checks the trips that ran under an order
 * (a destination fence that is not in the fence set gets no verdict).
 *
 * Vehicle classes: bit c of a rule's exempt_classes exempts class c (the
 * values of config.h's enum config_class: 0 general, 1 emergency,
 * 2 law_enforcement, 3 confidential).
 */
#ifndef RULES_H
#define RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "calendar.h"
#include "fence.h"
#include "record.h"

/* Inputs quieter than this end a "still true" stretch at its last sight. */
#define RULES_SILENCE_MS	(60 * 1000)
#define RULES_ORDER_ID_MAX	64	/* bytes of a dispatch order id */
#define RULES_MAX_CATEGORIES	16	/* forbidden_place per-category dwell */
#define RULES_CATEGORY_MAX	32	/* bytes of a category name */

enum rules_type {
	RULES_AFTER_HOURS_USE,
	RULES_HOLIDAY_USE,
	RULES_REGION_EXIT,
	RULES_FORBIDDEN_PLACE,
	RULES_OVERNIGHT_PARKING,
	RULES_COMMUTE_PATTERN,
	RULES_DISPATCH_MISMATCH,
	RULES_SPEEDING,
	RULES_FATIGUE_DRIVING,
	RULES_EXCESSIVE_IDLE,
	RULES_FUEL_DROP,
	RULES_GNSS_LOST_WHILE_MOVING,
	RULES_POSITION_JUMP,
	RULES_POWER_LOSS,
	RULES_OBD_LOST,
	RULES_DTC,
	RULES_CLOCK_JUMP,
	/* Not rules: raised by the daemon through rules_raise(). */
	RULES_STORAGE_PRESSURE,
	RULES_INSPECTION_EXPORT,	/* someone exported records */
	RULES_INSPECTION,		/* the daily check (每日一小检) ran */
	RULES_TYPE_COUNT
};
/* The types below this one are rules, each with its config group. */
#define RULES_RULE_COUNT	RULES_STORAGE_PRESSURE

enum rules_severity {
	RULES_INFO,
	RULES_WARNING,
	RULES_VIOLATION,	/* breaks a usage rule: committed at once */
	RULES_CRITICAL		/* tampering, theft: committed at once */
};

/* "after_hours_use", ... (DESIGN.md §6); NULL out of range. */
const char	*rules_type_name(enum rules_type);
/* 0 and *out, or -1 for an unknown name. */
int		 rules_type_parse(const char *name, enum rules_type *out);
/* "info", "warning", "violation", "critical"; NULL out of range. */
const char	*rules_severity_name(enum rules_severity);
int		 rules_severity_parse(const char *name,
		    enum rules_severity *out);

/*
 * Configuration, one member per rule (config group rules.<name>).  Every
 * rule has enabled and exempt_classes; durations are seconds, distances
 * metres, speeds km/h.  rules_config_default() gives the values in the
 * comments.
 */
struct rules_common {
	bool		 enabled;		/* true */
	uint8_t		 exempt_classes;	/* bit per class; 0 */
};

struct rules_config {
	int		 vehicle_class;		/* config_class value */
	int		 dispatch_grace_s;	/* 900: order window slack */

	struct {
		struct rules_common c;	/* exempt: emergency, law_enf. */
		int	 min_s;		/* 120: uncovered driving to open */
		int	 merge_s;	/* 300: covered gap that does not close */
	} after_hours_use, holiday_use;

	struct {
		struct rules_common c;
		int	 min_s;		/* 60: outside every region fence */
		int	 reenter_s;	/* 60: back inside this long closes */
	} region_exit;

	struct {
		struct rules_common c;
		int	 dwell_s;	/* 300: default stay before it opens
					   (a fence's dwell_s overrides) */
		int	 exit_s;	/* 60: outside this long closes */
		size_t	 ncategories;	/* per-category dwell: */
		struct {
			char	 name[RULES_CATEGORY_MAX + 1];
			int	 dwell_s;
		} categories[RULES_MAX_CATEGORIES];
	} forbidden_place;

	struct {
		struct rules_common c;
		int	 check_min;	/* 22:00 = 1320: local minute of the
					   night check */
		int	 morning_min;	/* 06:00 = 360: the night ends */
	} overnight_parking;

	struct {
		struct rules_common c;	/* exempt: emergency, law_enf. */
		int	 morning_from_min, morning_to_min;  /* 06:30-09:30 */
		int	 evening_from_min, evening_to_min;  /* 17:00-20:30 */
		int	 max_round_s;	/* 5400: office out and back within */
		int	 min_stop_s;	/* 30: a stop of at least ... */
		int	 max_stop_s;	/* 900: ... and at most this */
		int	 max_distance_m; /* 30000: farthest point from office */
	} commute_pattern;

	struct {
		struct rules_common c;
		int	 corridor_s;	/* 120: outside the corridor to count */
	} dispatch_mismatch;

	struct {
		struct rules_common c;
		double	 limit_kmh;	/* 120: global limit */
		double	 class_limit_kmh[4]; /* 0: use limit_kmh */
		double	 tolerance_kmh;	/* 5: above limit + this counts */
		int	 min_s;		/* 30: for this long to open */
		int	 reset_s;	/* 10: below the limit this long closes */
	} speeding;

	struct {
		struct rules_common c;
		int	 max_drive_s;	/* 14400 (4 h) continuous driving */
		int	 min_rest_s;	/* 1200 (20 min) rest resets it */
	} fatigue_driving;

	struct {
		struct rules_common c;
		int	 max_idle_s;	/* 600: engine on, stationary */
	} excessive_idle;

	struct {
		struct rules_common c;
		double	 min_drop_pct;	/* 5: fall of the level while parked */
		double	 min_drop_l;	/* 0 = off; with tank_l: litres */
		double	 tank_l;	/* NaN unknown (device.tank_l) */
	} fuel_drop;

	struct {
		struct rules_common c;
		double	 min_speed_kmh;	/* 10: OBD speed that means moving */
		int	 min_s;		/* 30: without a fix this long */
	} gnss_lost_while_moving;

	struct {
		struct rules_common c;
		double	 max_kmh;	/* 200: implied speed across a gap */
		int	 min_jump_m;	/* 1000: and at least this far */
	} position_jump;

	struct {
		struct rules_common c;
	} power_loss;

	struct {
		struct rules_common c;
		int	 min_s;		/* 60: adapter silent while engine on */
	} obd_lost;

	struct {
		struct rules_common c;
	} dtc;

	struct {
		struct rules_common c;
		int	 tolerance_s;	/* 300: system clock vs GNSS time */
	} clock_jump;
};

void		 rules_config_default(struct rules_config *);
/* Severity each rule reports (fixed per rule). */
enum rules_severity rules_type_severity(enum rules_type);

/* A dispatch order (派车单) as the rules need it. */
struct rules_order {
	char		 id[RULES_ORDER_ID_MAX + 1];
	int64_t		 valid_from_ms;		/* GNSS UTC */
	int64_t		 valid_to_ms;		/* > valid_from_ms */
	bool		 has_dest_point;
	double		 dest_lon, dest_lat;	/* WGS-84 */
	double		 dest_radius_m;		/* > 0 with a point */
	char		 dest_fence[FENCE_ID_MAX + 1];	/* "" none */
	char		 corridor_fence[FENCE_ID_MAX + 1]; /* "" none */
};

enum rules_phase {
	RULES_EV_OPEN,		/* episode began; end unknown (0) */
	RULES_EV_CLOSE,		/* episode over; same id as its OPEN */
	RULES_EV_INSTANT	/* a one-off: start and end set */
};

struct rules_event {
	uint64_t	 id;		/* engine's episode id, >= 1 */
	enum rules_phase phase;
	enum rules_type	 type;
	enum rules_severity severity;
	int64_t		 start_utc_ms;
	int64_t		 end_utc_ms;	/* 0 while open */
	uint64_t	 trip_id;	/* 0: none */
	double		 lat_deg;	/* where it began; NaN unknown */
	double		 lon_deg;
	char		 fence_id[FENCE_ID_MAX + 1]; /* "" none */
	json_t		*details;	/* object; borrowed during the call */
};

typedef void	rules_cb(const struct rules_event *, void *arg);

/*
 * Local civil time of t_utc_ms in the configured zone: the date and the
 * second of the day (0..86399).  0, or -1 if it cannot say (the engine
 * then treats the instant as working time and not a holiday).
 */
typedef int	rules_localtime_fn(int64_t t_utc_ms, struct calendar_date *,
		    int *sec_of_day, void *arg);

struct rules;

/*
 * New engine.  cfg is copied.  cal, fences may be NULL (the rules that
 * need them stay quiet) and are borrowed until replaced or rules_free().
 */
struct rules	*rules_new(const struct rules_config *cfg,
		    rules_localtime_fn *localtime, void *ltarg,
		    rules_cb *cb, void *cbarg);
void		 rules_free(struct rules *);		/* NULL ok */

/* Replace the configuration, calendar or fence set (SIGHUP). */
void		 rules_set_config(struct rules *, const struct rules_config *);
void		 rules_set_calendar(struct rules *, const struct calendar *);
void		 rules_set_fences(struct rules *, const struct fence_set *);
/* Replace the dispatch orders (copied); at most 4096 are kept. */
void		 rules_set_orders(struct rules *, const struct rules_order *,
		    size_t n);

/*
 * Inputs, all on GNSS UTC ms, in time order: an input older than the
 * last one seen is taken at that last time (a tick may run ahead of a
 * late fix); trip boundaries keep their own time for the episodes they
 * begin or end.  obd NULL or all-NaN, a fix with a non-finite position:
 * ignored.
 */
void		 rules_on_fix(struct rules *, const struct fix *);
void		 rules_on_obd(struct rules *, const struct obd_sample *,
		    int64_t t_utc_ms);
/* The OBD adapter's link: up (answering) or down. */
void		 rules_on_obd_link(struct rules *, bool up, int64_t t_utc_ms);
/* A completed DTC scan: the codes it read now. */
void		 rules_on_dtcs(struct rules *, const struct obd_dtc *, size_t n,
		    int64_t t_utc_ms);
/* Trip boundaries, with the store's trip id. */
void		 rules_trip_start(struct rules *, uint64_t trip_id,
		    int64_t t_utc_ms);
void		 rules_trip_end(struct rules *, uint64_t trip_id,
		    int64_t t_utc_ms);
/*
 * A trip closed as power_loss at start (the previous run died while it
 * was open): no longer in a trip, but the episodes stay as they are (the
 * car may have gone on through the restart), so an episode that still
 * holds continues with its id and one that does not ends by its off time.
 */
void		 rules_trip_lost(struct rules *, uint64_t trip_id,
		    int64_t t_utc_ms);
/*
 * The system clock read at the same moment as GNSS time gnss_utc_ms
 * (main reads it; the engine does not).
 */
void		 rules_on_clock(struct rules *, int64_t gnss_utc_ms,
		    int64_t system_utc_ms);
/*
 * The previous run ended without a clean stop; last_utc_ms is the last
 * record it left (0 unknown), now_utc_ms the first GNSS time of this run.
 */
void		 rules_power_loss(struct rules *, int64_t last_utc_ms,
		    int64_t now_utc_ms, bool in_trip);
/*
 * An event that is not a rule's: RULES_STORAGE_PRESSURE (retention had to
 * delete records the platform had not acknowledged; details says which),
 * RULES_INSPECTION_EXPORT (someone exported records: details says who and
 * what), RULES_INSPECTION (the daily check ran: details holds the
 * checklist).  Reported at once to the callback as an INSTANT at t_utc_ms
 * with the next id; no place, no trip; always (no config enables them).
 * details (an object, or NULL for {}) is taken over.  Any other type is
 * ignored.  rules_raise_severity() sets the severity instead of the
 * type's (rules_type_severity()); a severity out of range is the type's.
 */
void		 rules_raise(struct rules *, enum rules_type, int64_t t_utc_ms,
		    json_t *details);
void		 rules_raise_severity(struct rules *, enum rules_type,
		    enum rules_severity, int64_t t_utc_ms, json_t *details);
/*
 * Time passes without input (GNSS time: the last fix plus the monotonic
 * time since); call it at least once a second.  Timeouts, the night
 * check and the end of a dispatch order's window are due on it.
 */
void		 rules_tick(struct rules *, int64_t now_utc_ms);

/*
 * State for restarts: every open episode and every accumulator (fatigue,
 * dwell, parking fuel level), and the id counter.  rules_save() returns a
 * new object; rules_restore() takes one saved by any earlier run (unknown
 * members ignored) and returns 0, or -1 leaving the engine as it was.  A
 * restored open episode continues if its condition still holds at the
 * next input, else it closes (after its usual off time) at the last
 * moment it was seen true.
 * Set the orders first: the progress of an order (used, destination
 * reached) is restored onto the order with the same id.
 *
 * The state comes from the database, a trust boundary (copied, edited,
 * damaged): a state holding a value the engine could not have saved is
 * refused (-1): "now" outside 0..4102444800000 (2100-01-01 UTC), any
 * other time negative or after "now", next_id outside 1..2^53, an open
 * episode whose id is not below next_id, that shares its id with another
 * or that is also a candidate, a negative trip id, commute stops outside
 * 0..10^9, night_checked outside 0..99991231, mil_on outside -1..1, a
 * string longer than its field (fence and order ids 64 bytes, DTC codes
 * 5).  The numbers an episode keeps for its details are saved and
 * restored clamped to +-10^15.
 */
json_t		*rules_save(const struct rules *);
int		 rules_restore(struct rules *, const json_t *state);

/* Is an instant covered by a dispatch order?  The order's id or NULL. */
const char	*rules_covering_order(const struct rules *, int64_t t_utc_ms);

/* Open episodes now (for status). */
size_t		 rules_open_count(const struct rules *);

#endif /* RULES_H */
