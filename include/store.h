/* SPDX-License-Identifier: MIT */
/*
 * store.h - the SQLite store: schema, migrations, batched commits, seq,
 * retention and queries.
 *
 * WAL with synchronous=FULL.  Positions are buffered in RAM (bounded) and
 * written in one transaction per batch: when commit_rows are pending or
 * commit_interval_ms has passed since the first pending row, or on
 * store_commit().  Each committed record gets a seq from its stream (see
 * "Streams" below: positions in one, closed trips, events and command
 * results in the other), dense, increasing and never reused, across
 * tables, restarts and crashes (kill -9 included); an event takes a
 * second one (end_seq) when it closes.  Each stream's counter lives in
 * memory and is derived at open from the stored records (highest seq + 1
 * over the stream's seq columns, events' end_seq included) and the
 * stream's floor (meta.seq_floor_events, meta.seq_floor_positions),
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
 * once, in the same transaction as the positions pending before them.
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
 * dispatch_orders tables and meta.rules_state and meta.running; version 5
 * splits the one seq stream into two (renumbering what is stored), adds
 * the events' open_* columns, the command_results and sync_quarantine
 * tables and the acknowledgement cursors meta.acked_events and
 * meta.acked_positions.  A writable open migrates older files in place,
 * in one transaction.  Read-only connections read every version as it is
 * (no trips, DTCs or OBD values before version 3, no events, orders or
 * rules state before version 4, no streams before version 5: both
 * next_seq values are then the one stream's).
 *
 * The read-only mode is for fleetgwctl; it works while the daemon writes.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "fence.h"
#include "record.h"
#include "rules.h"
#include "trip.h"

struct store;

/* The record streams; see "Streams" below. */
enum store_stream {
	STORE_STREAM_EVENTS,
	STORE_STREAM_POSITIONS,
	STORE_STREAMS
};

/* "events", "positions"; NULL out of range. */
const char	*store_stream_name(enum store_stream);
/* 0 and *out, or -1 for an unknown name. */
int		 store_stream_parse(const char *name, enum store_stream *out);

struct store_opts {
	const char	*path;
	int		 max_size_mb;	/* retention: live data size cap */
	int		 keep_days;	/* retention: age cap (GNSS time) */
	uint32_t	 commit_interval_ms;
	uint32_t	 commit_rows;
	const char	*device_id;	/* recorded in the meta table */
	const char	*timezone;	/* recorded in the meta table */
	/*
	 * A platform acknowledges records (store_stream_ack()): retention
	 * deletes acknowledged records before any unacknowledged one, the
	 * age rule deletes acknowledged records only, and the size rule
	 * deletes unacknowledged ones only when nothing acknowledged is
	 * left to delete, reporting them (store_take_pressure()).  false:
	 * no platform; every record counts as acknowledged.  Applied by
	 * store_set_limits() too.
	 */
	bool		 acks;
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
 * (not TRIP_END_NONE) and the next events-stream seq, in one transaction
 * with the pending positions, committed at once.  The trip need not have
 * been begun in this run (power-loss recovery of a trip from
 * store_trip_open_get()); an id that is not in the database (0: begin
 * failed) is inserted as a closed trip with that id (0: a new one).  0;
 * or -1 (logged) if the trip is already closed or its end already queued,
 * or ended_by is TRIP_END_NONE (nothing kept), or if the commit failed:
 * then the end stays queued in RAM (up to 16 trips; a full queue
 * refuses) and is written by the next successful commit, like positions
 * (with that commit's positions, before its event changes).  A pending
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
 * at the first completed scan without it.  DTC rows are not records of a
 * stream: their seq is only the row's key (the highest + 1 when it
 * opens), their changes reach the platform as dtc events.
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
 * Retention: delete the rows older than keep_days before now_utc_ms (the
 * age rule), then more, the oldest first, until the live data fit in
 * max_size_mb (the size rule).  now_utc_ms <= 0 (e.g. INT64_MIN, when
 * GNSS time is not trusted yet) skips the age rule.  Positions, closed
 * trips, closed DTC rows, closed events and command results take part:
 * by age, a position by its time, a trip and an event by its end, a DTC
 * row by its cleared time, a command result by its done time; by size,
 * positions by seq, the lowest first, and with each chunk of them the
 * other rows whose time (as for age) is not after the chunk's last
 * position (violation and critical events never go by size, only by
 * age: a full disk drops positions, not evidence).  Open trips, active
 * DTC rows, open events and quarantined records are never deleted.
 *
 * With opts.acks, a record counts as acknowledged when its seq is at or
 * below its stream's acked cursor (an event row when its end_seq is: a
 * closed event's end is its newer record; DTC rows always count as
 * acknowledged: they are no records).  The age rule then deletes
 * acknowledged rows only; the size rule deletes acknowledged rows first
 * and unacknowledged ones only when none of those is left, counting them
 * for store_take_pressure() and logging them at warning.  Without acks
 * every row counts as acknowledged.
 *
 * Dispatch orders whose valid_to is older than keep_days go by the age
 * rule only (they hold no seq and little space).  Logs what it dropped,
 * one line per table.  Returns rows deleted, or -1.
 */
int64_t		 store_retention(struct store *, int64_t now_utc_ms);

/*
 * Unacknowledged records that the size rule had to delete (opts.acks):
 * per stream the number and the seq range, since the previous call.
 * 1 and *out (then reset), 0 when there were none.
 */
struct store_pressure {
	uint64_t	count[STORE_STREAMS];
	uint64_t	from_seq[STORE_STREAMS];	/* 0: none */
	uint64_t	to_seq[STORE_STREAMS];
};
int		 store_take_pressure(struct store *, struct store_pressure *);

struct store_stats {
	uint64_t	positions;	/* committed rows */
	uint64_t	pending;	/* positions buffered, not committed */
	uint64_t	trips;		/* trip rows, closed and open */
	uint64_t	dtcs_active;	/* DTC rows not cleared */
	uint64_t	events;		/* event rows, closed and open */
	uint64_t	events_open;	/* event rows without an end */
	uint64_t	next_seq[STORE_STREAMS]; /* seq the next committed
					   record of each stream gets
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
 *  - RULES_EV_OPEN inserts the row open (seq: the events stream's next
 *    one, no end; the open_* columns keep its values for good),
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

/*
 * Streams (docs/platform-api.md).  From schema version 5 every record
 * belongs to one of two streams, each with its own seq, dense from 1,
 * increasing and never reused (the rules above, per stream):
 *  - STORE_STREAM_EVENTS: closed trips (trips.seq), events (events.seq
 *    at the first write, events.end_seq at the close; one seq for an
 *    instant) and command results (command_results.seq);
 *  - STORE_STREAM_POSITIONS: positions (positions.seq).
 * DTC history rows are not records of a stream (their changes reach the
 * platform as dtc events): dtcs.seq is only the row's key.  The floor of
 * each stream is meta.seq_floor_events / meta.seq_floor_positions.
 * Schema 4 files are renumbered by the migration (nothing was ever sent
 * from them): positions 1..n in their old order, the events stream's
 * records 1..m in their old global order.
 *
 * A record is immutable once committed: an event's start record is
 * built from the values it was opened with (events.open_* columns, kept
 * when the close fills or changes the row), its end record from the
 * final row.
 */
enum store_rec_kind {
	STORE_REC_POSITION,
	STORE_REC_TRIP,
	STORE_REC_EVENT_START,	/* ev: the values it was opened with,
				   end_utc_ms 0, end_seq 0 */
	STORE_REC_EVENT_END,	/* ev: the final row */
	STORE_REC_EVENT_COMPLETE, /* an instant: seq == end_seq */
	STORE_REC_COMMAND_RESULT
};

/* A command the platform sent and what running it gave (one row per id). */
#define STORE_CMD_ID_MAX	64	/* bytes of a command id */
#define STORE_CMD_TYPE_MAX	32
struct store_command {
	uint64_t	 seq;		/* events-stream seq of the result */
	char		 id[STORE_CMD_ID_MAX + 1];
	char		 type[STORE_CMD_TYPE_MAX + 1];
	int64_t		 received_utc_ms;
	int64_t		 done_utc_ms;
	char		 status[16];	/* "ok", "error", "unsupported" */
	const char	*result;	/* JSON text (object), NULL: none */
	const char	*error;		/* message, NULL: none */
	bool		 delivered;	/* the result POST was acknowledged */
};

/* One record of a stream as read back; valid during the callback only. */
struct store_record {
	enum store_stream	 stream;
	uint64_t		 seq;
	enum store_rec_kind	 kind;
	union {
		struct store_position	 pos;	/* POSITION */
		struct store_trip	 trip;	/* TRIP */
		struct store_event	 ev;	/* EVENT_* */
		struct store_command	 cmd;	/* COMMAND_RESULT */
	} u;
};

typedef int store_record_cb(const struct store_record *, void *arg);

/*
 * Call cb for the committed records of stream with from_seq <= seq <=
 * to_seq, in seq order, at most max_records (0 = no limit).  Seqs that
 * retention deleted are simply absent (the caller sees the hole), and so
 * are the records of an event row whose type or severity this program
 * does not know (a newer version wrote it; logged once per store).  cb
 * returns 0 to go on, non-zero to stop.  The records come from one
 * snapshot (a writer committing meanwhile adds nothing in the middle).
 * The events stream merges one index range per kind of record; cost is
 * per record read, not per record stored.  0, or -1 (logged: a stream
 * out of range, a file older than schema version 5, SQLite error).
 * Works read-only.  cb must not call back into the same store.
 */
int		 store_stream_read(struct store *, enum store_stream,
		    uint64_t from_seq, uint64_t to_seq, uint64_t max_records,
		    store_record_cb *, void *arg);

struct store_stream_state {
	uint64_t	next_seq;	/* seq the next record gets */
	uint64_t	acked_through;	/* platform holds every seq <= this */
	uint64_t	first_seq;	/* lowest stored seq, 0: none stored */
	uint64_t	pending;	/* stored records with seq > acked */
	int64_t		oldest_pending_utc_ms; /* their oldest time, 0 none */
	uint64_t	quarantined;	/* rows in sync_quarantine */
};

/*
 * State of a stream, from one snapshot (next_seq as the database says,
 * so also a read-only store's is current).  oldest_pending_utc_ms is the
 * time of the lowest pending seq (a position's time, a trip's end, an
 * event start's start, an event end's end, a command's done time).
 * pending and oldest_pending_utc_ms cost queries (indexed, pending
 * counts index entries); call it for status, not per fix.  0 or -1
 * (logged).  Works read-only.
 */
int		 store_stream_state(struct store *, enum store_stream,
		    struct store_stream_state *);

/*
 * Durable cursor: the platform acknowledged every record of stream with
 * seq <= acked_through.  Written at once (meta.acked_events /
 * meta.acked_positions, one transaction).  Never moves back: a lower
 * value is ignored (0).  A value at or above next_seq is refused (-1,
 * logged): nobody can acknowledge what was never committed.  0 or -1.
 */
int		 store_stream_ack(struct store *, enum store_stream,
		    uint64_t acked_through);

/*
 * Quarantine: record seq of stream that the platform refused on its own
 * (HTTP status and reason, NULL read as "", both kept, with the system
 * time), committed at once.  The record stays where it is; retention
 * keeps it while it is quarantined (an event row while either of its
 * records is).  Quarantining twice keeps the first entry (0).  -1
 * (logged) for seq 0 or a seq not handed out yet (>= next_seq), a
 * read-only store, a failed write.
 */
int		 store_stream_quarantine(struct store *, enum store_stream,
		    uint64_t seq, int http_status, const char *reason);

/*
 * Platform commands.  store_command_get: 1 and *out (result and error
 * point into store memory valid until the next store call) when a
 * command with that id ran before, 0 when not, -1 error.
 * store_command_put: record a finished command: the row and its result
 * record (the next events-stream seq, set in c->seq on success), in one
 * transaction with the pending records, committed at once.  -1 (logged)
 * for an id already stored, an empty or too long id, a bad status.
 * The result must be a JSON object (or NULL); the status "ok", "error"
 * or "unsupported".  A duplicate takes no seq (the pending records are
 * committed all the same).
 * store_command_delivered: mark the result POST acknowledged, at once;
 * -1 (logged) for an id that is not stored.
 * store_query_commands: cb for each command, only the undelivered ones
 * if undelivered_only, in seq order; the strings are valid during the
 * call only.  0 or -1.  get and query work read-only.
 */
int		 store_command_get(struct store *, const char *id,
		    struct store_command *out);
int		 store_command_put(struct store *, struct store_command *c);
int		 store_command_delivered(struct store *, const char *id);
typedef int store_command_cb(const struct store_command *, void *arg);
int		 store_query_commands(struct store *, bool undelivered_only,
		    store_command_cb *, void *arg);

/* The underlying handle, for tests and the benchmark only. */
struct sqlite3	*store_db(struct store *);

/*
 * Tamper evidence (schema version 6; chain.h, docs/bundle.md).  Every
 * record of each stream is linked onto its stream's hash chain in the
 * transaction that commits it; the link h of seq is stored (table
 * chain).  The canonical bytes are the record's wire form
 * (wirerec_canonical()) with times in the zone the chain started with
 * (store_chain_timezone(), meta.chain_timezone: fixed, so that a later
 * change of device.timezone does not change old records' bytes).  A
 * writable open of an older file chains the records already stored.
 * Retention keeps the link just below each stream's oldest record (the
 * anchor of the rest) and the checkpoints that vouch for kept links.
 *
 * store_chain_head: the newest link of stream as committed (seq 0 and
 * h_0 when none).  store_chain_link: 1 and h for seq, 0 when no link is
 * stored for it (pruned, never chained, or removed), -1 error.  It may
 * be called from a store_stream_read() callback.  Both work read-only;
 * -1 (logged) for a file older than version 6.
 *
 * Checkpoints: the heads of both streams, signed by the daemon
 * (checkpoint.h).  store_checkpoint_put() stores one, with the pending
 * records, committed at once (id set); the body is the exact text that
 * was signed.  store_checkpoint_query() calls cb for each checkpoint with
 * id >= from_id, by id; body and sig are valid during the call only.
 *
 * store_snapshot_begin/end: one read snapshot over several calls (an
 * export reads records, links and checkpoints that agree).  Not inside
 * a write; no write in between.
 */
struct store_checkpoint {
	int64_t			 id;
	int64_t			 t_utc_ms;	/* GNSS time it was made */
	uint64_t		 seq[STORE_STREAMS]; /* heads' seqs */
	const char		*body;		/* signed text, NUL-terminated */
	const unsigned char	*sig;
	size_t			 siglen;
};

typedef int store_checkpoint_cb(const struct store_checkpoint *, void *arg);

const char	*store_chain_timezone(const struct store *);
int		 store_chain_head(struct store *, enum store_stream,
		    struct chain *out);
int		 store_chain_link(struct store *, enum store_stream,
		    uint64_t seq, unsigned char h[CHAIN_HASH_LEN]);
int		 store_checkpoint_put(struct store *, struct store_checkpoint *);
int		 store_checkpoint_query(struct store *, int64_t from_id,
		    store_checkpoint_cb *, void *arg);
int		 store_snapshot_begin(struct store *);
int		 store_snapshot_end(struct store *);

#endif /* STORE_H */
