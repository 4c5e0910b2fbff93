/* SPDX-License-Identifier: MIT */
/*
 * store.h - the SQLite store: schema, migrations, batched commits, seq,
 * retention and queries.
 *
 * WAL with synchronous=FULL.  Positions are buffered in RAM (bounded) and
 * written in one transaction per batch: when commit_rows are pending or
 * commit_interval_ms has passed since the first pending row, or on
 * store_commit().  Each committed record (position, closed trip, DTC row,
 * event) gets a seq from one stream, dense, increasing and never reused,
 * across tables, restarts and crashes (kill -9 included); an event takes
 * a second one (end_seq) when it closes.  The counter lives in memory
 * and is derived at open from the stored records (highest seq + 1 over
 * every record table, events' end_seq included) and meta.seq_floor,
 * which retention raises to the next seq whenever it deletes; a batch
 * commit writes no counter.  A failed COMMIT gives its seqs back and
 * keeps the rows in RAM for the next attempt.
 *
 * Trips.  An open trip is a row without a seq; store_trip_progress()
 * keeps a RAM copy that goes to disk with the next batch, so a crash loses
 * at most one commit interval of trip progress, and the next start finds
 * the trip with store_trip_open_get() and closes it (power loss).  A trip
 * gets its seq when it is closed (store_trip_end()), so the platform only
 * ever sees final trips.  Trip begin, trip end and DTC scans commit at
 * once, in the same transaction as the positions pending before them
 * (which therefore get the lower seqs).
 *
 * Events and the rules state.  The rules engine's events are queued in
 * RAM with store_event_put() and its saved state with
 * store_rules_state(); the next commit writes both, after the pending
 * positions, in one transaction, so the events on disk and the state
 * that reported them never disagree (the engine's ids are never reused
 * across a crash).  Neither call commits: the caller puts the events,
 * then the state, then commits when store_event_put() said urgent.
 *
 * Clean stop.  A writable open sets meta.running to 1 and store_close()
 * sets it back to 0 as its last write; finding 1 at open means the
 * previous writer died (crash, power cut): store_unclean_previous().
 *
 * Schema: version 1 had meta.next_seq, advanced by every commit; version 2
 * turns it into meta.seq_floor; version 3 adds OBD columns to positions,
 * the trips and dtcs tables and meta.vin; version 4 adds the events and
 * dispatch_orders tables and meta.rules_state and meta.running.  A
 * writable open migrates older files in place, in one transaction.
 * Read-only connections read every version as it is (no trips, DTCs or
 * OBD values before version 3, no events, orders or rules state before
 * version 4).
 *
 * The read-only mode is for fleetgwctl; it works while the daemon writes.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "fence.h"
#include "record.h"
#include "rules.h"
#include "trip.h"

struct store;

struct store_opts {
	const char	*path;
	int		 max_size_mb;	/* retention: live data size cap */
	int		 keep_days;	/* retention: age cap (GNSS time) */
	uint32_t	 commit_interval_ms;
	uint32_t	 commit_rows;
	const char	*device_id;	/* recorded in the meta table */
	const char	*timezone;	/* recorded in the meta table */
};

/*
 * Open (creating and migrating as needed) for writing.  Returns NULL after
 * logging the reason (unreadable or unwritable directory, not a database,
 * newer schema, failed integrity check).  Strings in opts are copied.
 */
struct store	*store_open(const struct store_opts *);
/* Open an existing database read-only (fleetgwctl --db).  NULL + logged. */
struct store	*store_open_readonly(const char *path);
/* Commits what is pending (writers), then closes.  NULL ok. */
void		 store_close(struct store *);

/* Apply new retention and batching settings (SIGHUP). */
void		 store_set_limits(struct store *, const struct store_opts *);

/*
 * Buffer one fix and the OBD sample current with it (both copied) for the
 * next commit.  obd NULL, or a sample where record_obd_any() is false,
 * stores no OBD values (NULL columns).  Non-finite OBD values and mil_on
 * -1 are stored as NULL; obd_fuel_rate_estimated is NULL when
 * fuel_rate_lph is unknown.  0, or -1 if the RAM buffer (4096 rows) is
 * still full after a forced commit attempt, or if the fix has a
 * non-finite lat/lon (refused: it could never be stored).  Refused fixes
 * are counted in store_stats.refused.
 */
int		 store_put_position_obd(struct store *, const struct fix *,
		    const struct obd_sample *obd, uint64_t now_mono_ms);
/* store_put_position_obd() without OBD values. */
int		 store_put_position(struct store *, const struct fix *,
		    uint64_t now_mono_ms);
/*
 * Commit if a batch is due at now_mono_ms. 0 (nothing due or committed) or
 * -1.  After a failed attempt the next one is due commit_interval_ms later,
 * whatever the number of pending rows.
 */
int		 store_commit_due(struct store *, uint64_t now_mono_ms);
/*
 * Commit everything pending now: positions, trip progress, trip ends that
 * could not be written before.  0 or -1 (all of it stays pending, logged).
 */
int		 store_commit(struct store *);
/*
 * Milliseconds until the next batch is due, or UINT64_MAX if nothing is
 * pending.  Trip progress alone makes a batch due commit_interval_ms after
 * the mono time of the store's last put or commit_due call.
 */
uint64_t	 store_next_due_ms(const struct store *, uint64_t now_mono_ms);

/*
 * Trips.  The trip module's summaries (struct trip_summary) are stored as
 * they are: NaN (unknown) as NULL, and back.  t->id is the store's stable
 * trip id (AUTOINCREMENT key of the trips table: never reused, also after
 * retention deleted the trip).  None of these works on a read-only store
 * (-1).
 *
 * store_trip_begin: insert t as an open trip (no seq, no ended_by; t->id
 * and t->ended_by are ignored), in one transaction with the pending
 * positions, committed at once.  Sets t->id and returns 0, or -1 (logged;
 * t->id untouched, the positions stay pending).  The trip becomes the one
 * store_trip_progress() follows.
 *
 * store_trip_progress: keep a copy of the open trip t (t->id from
 * store_trip_begin() or store_trip_open_get()), written by the next
 * commit, which rewrites the row's summary; a crash loses at most one
 * commit interval of progress.  Only the newest copy is kept.  0, or -1
 * if t->id is 0.  A row that is no longer open when the copy is written
 * is left alone (logged once).
 *
 * store_trip_end: close trip t->id with the final summary, t->ended_by
 * (not TRIP_END_NONE) and the next seq, in one transaction with the
 * pending positions, committed at once.  The trip need not have been
 * begun in this run (power-loss recovery of a trip from
 * store_trip_open_get()); an id that is not in the database (0: begin
 * failed) is inserted as a closed trip with that id (0: a new one).  0;
 * or -1 (logged) if the trip is already closed or its end already queued,
 * or ended_by is TRIP_END_NONE (nothing kept), or if the commit failed:
 * then the end stays queued in RAM (up to 16 trips; a full queue
 * refuses) and is written by the next successful commit, like positions
 * (after that commit's positions, so with a higher seq).  A pending
 * progress copy of the same trip is dropped.  store_close() writes
 * progress but never ends a trip.
 *
 * store_trip_open_get: the newest open trip (highest id), with the RAM
 * progress copy applied when it is that trip's.  1 found (*out filled,
 * ended_by TRIP_END_NONE), 0 none, -1 error (logged).
 */
int		 store_trip_begin(struct store *, struct trip_summary *t);
int		 store_trip_progress(struct store *,
		    const struct trip_summary *t);
int		 store_trip_end(struct store *, const struct trip_summary *t);
int		 store_trip_open_get(struct store *, struct trip_summary *out);

/* Database text of an end reason ("ignition_off" ...), NULL for NONE. */
const char	*store_trip_end_name(enum trip_end);

/*
 * DTC history.  One row per episode of a (code, mode) pair: it opens when a
 * scan first reports the pair (first = last = scan time), its last time
 * moves with each scan that still reports it, and it closes (cleared time)
 * at the first completed scan without it.  The row's seq is allocated
 * when it opens.
 *
 * store_dtc_scan: record one completed scan at GNSS time t_utc_ms: dtcs[0..n)
 * as read (n 0: nothing stored, every active row closes).  Codes are 5
 * characters ("P0301"), modes 0x03, 0x07 or 0x0a; duplicates count once.
 * Commits at once, with the pending positions.  Returns the number of
 * pairs that opened a row (0..n), or -1 (invalid entry, read-only store,
 * failed commit: logged, nothing recorded).
 */
int		 store_dtc_scan(struct store *, const struct obd_dtc *dtcs,
		    size_t n, int64_t t_utc_ms);

/*
 * VIN of the vehicle, in meta.vin: 0 (unchanged, or written at once) or
 * -1 (empty or longer than 32 characters, read-only store, failed write;
 * logged).  A change from another VIN is logged at info: the gateway was
 * moved to another vehicle.
 */
int		 store_set_vin(struct store *, const char *vin);
/* The recorded VIN, "" if unknown; borrowed until the next set or close. */
const char	*store_vin(const struct store *);

/*
 * Retention: delete the oldest rows (synced rows first, unsynced last) older
 * than keep_days before now_utc_ms, then more until the live data fit in
 * max_size_mb.  now_utc_ms <= 0 (e.g. INT64_MIN, when GNSS time is not
 * trusted yet) skips the age rule.  Positions, closed trips, closed DTC
 * rows and closed events take part: by age, a position by its time, a
 * trip and an event by its end, a DTC row by its cleared time; by size,
 * the lowest seqs first across the tables (an event by its end_seq, the
 * newer of its two; violation and critical events never go by size,
 * only by age: a full disk drops positions, not evidence).  Open trips,
 * active DTC rows and open events are never deleted.  Dispatch orders whose valid_to is older than keep_days
 * go by the age rule only (they hold no seq and little space).  Logs what
 * it dropped, one line per table.  Returns rows deleted, or -1.
 */
int64_t		 store_retention(struct store *, int64_t now_utc_ms);

struct store_stats {
	uint64_t	positions;	/* committed rows */
	uint64_t	pending;	/* positions buffered, not committed */
	uint64_t	trips;		/* trip rows, closed and open */
	uint64_t	dtcs_active;	/* DTC rows not cleared */
	uint64_t	events;		/* event rows, closed and open */
	uint64_t	events_open;	/* event rows without an end */
	uint64_t	next_seq;	/* seq the next committed record gets
					   (read-only: as of open) */
	uint64_t	commits;	/* successful commits since open */
	uint64_t	dropped;	/* rows of any table deleted by
					   retention since open */
	uint64_t	refused;	/* fixes refused by put since open */
	bool		commit_failing;	/* the last commit attempt failed */
};
void		 store_get_stats(const struct store *, struct store_stats *);

/*
 * A committed position as read back.  obd is record_obd_clear()ed where
 * the row has no OBD values (also in files older than schema version 3).
 */
struct store_position {
	uint64_t		seq;
	struct fix		fix;
	struct obd_sample	obd;
};

typedef int store_position_cb(const struct store_position *, void *arg);

/*
 * Call cb for each committed position with from_utc_ms <= t < to_utc_ms
 * (use INT64_MIN/INT64_MAX for open ends), in seq order, at most limit rows
 * (0 = no limit).  cb returns 0 to go on, non-zero to stop.  0 or -1.
 * The position passed to cb is valid during the call only; t_mono_ms reads
 * as 0, unknown values as NaN / -1 like in struct fix.  cb must not call
 * back into the same store.
 */
int		 store_query_positions(struct store *, int64_t from_utc_ms,
		    int64_t to_utc_ms, uint64_t limit, store_position_cb *,
		    void *arg);

/* A stored trip as read back. */
struct store_trip {
	uint64_t		seq;	/* 0 while open */
	bool			open;
	struct trip_summary	trip;	/* ended_by TRIP_END_NONE while open */
};

typedef int store_trip_cb(const struct store_trip *, void *arg);

/*
 * Call cb for each committed trip that overlaps [from_utc_ms, to_utc_ms):
 * start < to and end >= from (an open trip's end is its last known time),
 * ordered by start (then id), at most limit trips (0 = no limit).  cb
 * returns 0 to go on, non-zero to stop.  0 or -1 (logged).  The trip is
 * valid during the call only; cb must not call back into the same store.
 * RAM progress not yet committed is not shown.
 */
int		 store_query_trips(struct store *, int64_t from_utc_ms,
		    int64_t to_utc_ms, uint64_t limit, store_trip_cb *,
		    void *arg);

/* A DTC history row as read back. */
struct store_dtc {
	uint64_t	seq;
	char		code[RECORD_DTC_LEN + 1];
	uint8_t		mode;		/* 0x03, 0x07 or 0x0a */
	int64_t		first_utc_ms;
	int64_t		last_utc_ms;
	int64_t		cleared_utc_ms;	/* 0 while active */
};

typedef int store_dtc_cb(const struct store_dtc *, void *arg);

/*
 * Call cb for each DTC row (only the active ones if active_only), in seq
 * order; same rules as store_query_trips().  0 or -1 (logged).
 */
int		 store_query_dtcs(struct store *, bool active_only,
		    store_dtc_cb *, void *arg);

/*
 * Events (DESIGN.md section 6).  One row per episode, keyed by the rules
 * engine's id (ev->id >= 1, never reused by the engine).
 *
 * store_event_put: queue one change for the next commit (the event is
 * copied, its details serialized now), written after that commit's
 * positions:
 *  - RULES_EV_OPEN inserts the row open (seq: the next one, no end),
 *  - RULES_EV_INSTANT inserts it closed (seq = end_seq: the next one),
 *  - RULES_EV_CLOSE closes the open row: end time, details (kept when
 *    ev->details is NULL), trip id, position and fence where the row has
 *    none and the close has them, end_seq: the next seq.  A close whose
 *    open waits in the same batch gets the seq after the open's.  A close
 *    for an id the database does not hold inserts the event closed
 *    (logged at info); a close of a closed row is ignored (logged).
 *  - An open or instant for an id already stored is ignored (logged).
 * Does not commit (the caller adds the rules state first).  Up to 1024
 * changes wait in RAM.  Returns 1 when the event is urgent (severity
 * violation or critical: the caller should commit now; the batch is due
 * at once anyway), 0 when it is not, -1 (logged, nothing queued) for a
 * read-only store, a full queue, an id of 0, a type, severity or phase
 * out of range, or details that are not a JSON object (NULL reads as {}).
 * details are stored as jansson's JSON_COMPACT | JSON_SORT_KEYS text.
 */
int		 store_event_put(struct store *,
		    const struct rules_event *ev);

/*
 * The rules engine's saved state (rules_save() as text): keep a copy of
 * json_text (the newest only) for the next commit, which writes it to
 * meta.rules_state in the same transaction as the events queued before
 * it.  0, or -1 (read-only store, NULL text; logged).
 *
 * store_rules_state_get: a new copy (free()) of the state waiting for a
 * commit, else of the committed one; NULL if there is none (or a read
 * error, logged).  Works read-only.
 */
int		 store_rules_state(struct store *, const char *json_text);
char		*store_rules_state_get(struct store *);

/* An event row as read back. */
struct store_event {
	uint64_t		 id;	/* the engine's episode id */
	uint64_t		 seq;	/* seq of the first write */
	uint64_t		 end_seq; /* seq of the close; 0 open */
	enum rules_type		 type;
	enum rules_severity	 severity;
	int64_t			 start_utc_ms;
	int64_t			 end_utc_ms;	/* 0 while open */
	uint64_t		 trip_id;	/* 0: none */
	double			 lat_deg;	/* NaN: unknown */
	double			 lon_deg;
	char			 fence_id[FENCE_ID_MAX + 1]; /* "" none */
	const char		*details;	/* JSON object text */
};

typedef int store_event_cb(const struct store_event *, void *arg);

/*
 * Call cb for each committed event that overlaps [from_utc_ms, to_utc_ms):
 * start < to and end >= from (an open event is ongoing: it overlaps every
 * window from its start on), of the given type (an enum rules_type value,
 * -1 any) and severity (an enum rules_severity value, -1 any), ordered by
 * start (then id), at most limit events (0 = no limit).  cb returns 0 to
 * go on, non-zero to stop.  0, or -1 (a type or severity out of range,
 * SQLite error; logged).  The event and its details are valid during the
 * call only; cb must not call back into the same store.  A row whose type
 * or severity this program does not know (a newer version wrote it) is
 * skipped, logged once per store.  Queued changes are not shown.
 */
int		 store_query_events(struct store *, int64_t from_utc_ms,
		    int64_t to_utc_ms, int type, int severity, uint64_t limit,
		    store_event_cb *, void *arg);

/*
 * Dispatch orders (派车单), kept for the rules engine (rules_set_orders())
 * and the inspector.  Not records: no seq.
 */
struct store_order {
	struct rules_order	 o;
	char			 purpose[256];
	char			 approver[128];
	char			 source[16]; /* "ctl" or "platform" */
	int64_t			 created_utc_ms;
};

typedef int store_order_cb(const struct store_order *, void *arg);

/*
 * store_order_add: record one order, committed at once with the pending
 * records.  0 added; 1 an order with that id exists (nothing changed);
 * -1 (logged): read-only store, failed commit, or an invalid order (empty
 * or unterminated id or strings, valid_to <= valid_from, a destination
 * point out of range or without a positive radius, unknown source).
 *
 * store_order_remove: delete order id, committed at once.  1 removed, 0
 * no such id, -1 (logged).
 *
 * store_query_orders: call cb for each order whose window overlaps
 * [from_utc_ms, to_utc_ms) (valid_from < to and valid_to >= from), by
 * valid_from then id; cb returns 0 to go on, non-zero to stop.  0 or -1
 * (logged).  Valid during the call only.  Works read-only.
 */
int		 store_order_add(struct store *, const struct store_order *);
int		 store_order_remove(struct store *, const char *id);
int		 store_query_orders(struct store *, int64_t from_utc_ms,
		    int64_t to_utc_ms, store_order_cb *, void *arg);

/*
 * Did the previous writer stop without store_close() (crash, kill -9,
 * power cut)?  Decided by store_open(); false for a new database, a file
 * from before schema version 4, and read-only stores (a running writer
 * looks the same as a dead one).
 */
bool		 store_unclean_previous(const struct store *);
/*
 * GNSS time of the newest record at open (position time, trip end or
 * event start, whichever is latest), 0 if there is none.  With
 * store_unclean_previous(): about when the power went.
 */
int64_t		 store_last_record_utc_ms(const struct store *);

/* Device timezone and id recorded in the database ("" if none); borrowed. */
const char	*store_timezone(const struct store *);
const char	*store_device_id(const struct store *);

/* The underlying handle, for tests and the benchmark only. */
struct sqlite3	*store_db(struct store *);

#endif /* STORE_H */
