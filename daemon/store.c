/* SPDX-License-Identifier: MIT */
/*
 * store.c - the SQLite store.
 *
 * Durability rules (docs: reliability brief section 1):
 *  - WAL, synchronous=FULL: a COMMIT that returned SQLITE_OK survives a
 *    process crash and a power cut; nothing is reported committed before.
 *  - Positions wait in a bounded RAM buffer and go to disk in one
 *    transaction per batch, which cuts fsyncs and flash writes.  The open
 *    trip's progress rides along in the same transaction.  Trip begin,
 *    trip end and DTC scans are written at once, in a batch transaction
 *    of their own that carries the pending positions first, so within a
 *    stream a record's seq order is the order in which the caller handed
 *    things over.
 *  - Two record streams (positions; trips, events and command results),
 *    each with its own seq.  A batch commit writes nothing but the record
 *    tables and their indexes: in the steady state one positions leaf and
 *    one t_utc_ms index leaf.  seq is therefore not kept in a counter row
 *    (that was a third page per commit) but derived from the data: a
 *    stream's next seq is one above the highest seq in its seq columns,
 *    or its meta.seq_floor_<stream> if that is higher.  Only deletions
 *    could lower the highest seq, so only the transactions that delete
 *    (retention) write the floors, set to the next seqs before they
 *    delete.  The counters in memory move with each write transaction and
 *    are put back when it rolls back.  A crash loses only uncommitted
 *    seqs, which nobody has seen; the next open derives the counters
 *    again.  So each stream's seq stays dense, increasing and never
 *    reused.
 *  - A committed record never changes: an event row keeps the values it
 *    was opened with (open_* columns) next to the final ones, so its
 *    start record reads the same before and after its close.
 *  - The platform's acknowledgement cursors live in meta; with them,
 *    retention deletes acknowledged rows first and counts every
 *    unacknowledged record it has to delete (storage pressure).
 *  - Events and the rules engine's state ride in the batch after the
 *    positions and trip ends, in the same transaction: the engine's id
 *    counter in the state is never behind the ids on disk, so an id is
 *    never given to two episodes, whatever moment the power goes.
 *  - meta.running is 1 from a writable open to the last write of
 *    store_close(): a 1 found at open is the previous run's unclean end.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "chain.h"
#include "log.h"
#include "record.h"
#include "rules.h"
#include "store.h"
#include "trip.h"
#include "util.h"
#include "wirerec.h"

/* Rows kept in RAM at most; about 1 MB with OBD, 68 minutes at 1 Hz. */
#define STORE_PENDING_MAX	4096
/* Trip ends waiting for a commit that works again. */
#define STORE_TRIP_QUEUE_MAX	16
/* Event changes waiting for a commit. */
#define STORE_EVENT_QUEUE_MAX	1024
/* Longest VIN accepted (a real one has 17 characters). */
#define STORE_VIN_MAX		32
/* DTC modes (J1979 services): stored, pending, permanent. */
#define STORE_DTC_STORED	0x03
#define STORE_DTC_PENDING	0x07
#define STORE_DTC_PERMANENT	0x0a
#define STORE_BUSY_TIMEOUT_MS	5000
/* WAL file left behind after a checkpoint is truncated to this. */
#define STORE_JOURNAL_LIMIT	"4194304"
#define STORE_MIB		(1024 * 1024)
#define STORE_DAY_MS		INT64_C(86400000)
/* Retention deletes in chunks of 5 % of the rows, at least this many. */
#define STORE_CHUNK_MIN		1000
#define STORE_CHUNK_DIVISOR	20
#define STORE_ERR_LEN		512

/*
 * Schema migrations.  Entry i takes user_version i to i + 1; each runs in
 * its own transaction together with the user_version bump.  Append only:
 * never edit a step that has shipped.
 */
static const char *const store_migrations[] = {
	/* 1: meta and positions */
	"CREATE TABLE meta ("
	"  key		TEXT PRIMARY KEY,"
	"  value"
	");"
	"CREATE TABLE positions ("
	"  seq		INTEGER PRIMARY KEY,"
	"  t_utc_ms	INTEGER NOT NULL,"
	"  lat_deg	REAL NOT NULL,"
	"  lon_deg	REAL NOT NULL,"
	"  alt_m	REAL,"
	"  speed_mps	REAL,"
	"  heading_deg	REAL,"
	"  hdop		REAL,"
	"  eph_m	REAL,"
	"  mode		INTEGER,"
	"  sats_used	INTEGER,"
	"  sats_visible	INTEGER,"
	"  gps_vis	INTEGER,"
	"  gps_used	INTEGER,"
	"  bds_vis	INTEGER,"
	"  bds_used	INTEGER,"
	"  glo_vis	INTEGER,"
	"  glo_used	INTEGER,"
	"  gal_vis	INTEGER,"
	"  gal_used	INTEGER,"
	"  synced	INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX positions_t_utc_ms ON positions(t_utc_ms);"
	"INSERT INTO meta(key, value) VALUES"
	"  ('next_seq', 1),"
	"  ('created', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));",
	/*
	 * 2: seq is derived from the record tables; the counter that every
	 * commit advanced becomes the floor that only retention moves.  The
	 * old next_seq is a valid floor: it is above every seq handed out.
	 */
	"UPDATE meta SET key = 'seq_floor' WHERE key = 'next_seq';",
	/*
	 * 3: OBD values with each position (NULL: unknown, and in every row
	 * written before), trips and the DTC history.  An open trip has no
	 * seq and no ended_by; closing it allocates its seq from the shared
	 * stream.  Trip ids are AUTOINCREMENT: events and the platform refer
	 * to them, so an id stays unused after retention deleted its trip.
	 * A DTC row is one episode of a (code, mode) pair; at most one of
	 * them is active (not cleared) at a time.  meta.vin appears when the
	 * VIN is first read.
	 */
	"ALTER TABLE positions ADD COLUMN obd_rpm REAL;"
	"ALTER TABLE positions ADD COLUMN obd_speed_kmh REAL;"
	"ALTER TABLE positions ADD COLUMN obd_coolant_c REAL;"
	"ALTER TABLE positions ADD COLUMN obd_intake_c REAL;"
	"ALTER TABLE positions ADD COLUMN obd_ambient_c REAL;"
	"ALTER TABLE positions ADD COLUMN obd_load_pct REAL;"
	"ALTER TABLE positions ADD COLUMN obd_throttle_pct REAL;"
	"ALTER TABLE positions ADD COLUMN obd_maf_gps REAL;"
	"ALTER TABLE positions ADD COLUMN obd_fuel_level_pct REAL;"
	"ALTER TABLE positions ADD COLUMN obd_fuel_rate_lph REAL;"
	"ALTER TABLE positions ADD COLUMN obd_battery_v REAL;"
	"ALTER TABLE positions ADD COLUMN obd_odometer_km REAL;"
	"ALTER TABLE positions ADD COLUMN obd_run_time_s REAL;"
	"ALTER TABLE positions ADD COLUMN obd_fuel_rate_estimated INTEGER;"
	"ALTER TABLE positions ADD COLUMN obd_mil_on INTEGER;"
	"CREATE TABLE trips ("
	"  id			INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  seq			INTEGER,"
	"  start_utc_ms		INTEGER NOT NULL,"
	"  end_utc_ms		INTEGER NOT NULL,"
	"  open			INTEGER NOT NULL,"
	"  distance_m		REAL,"
	"  duration_s		REAL,"
	"  driving_s		REAL,"
	"  idle_s		REAL,"
	"  max_speed_kmh		REAL,"
	"  avg_speed_kmh		REAL,"
	"  fuel_used_l		REAL,"
	"  start_lat_deg		REAL,"
	"  start_lon_deg		REAL,"
	"  end_lat_deg		REAL,"
	"  end_lon_deg		REAL,"
	"  odometer_start_km	REAL,"
	"  odometer_end_km	REAL,"
	"  ended_by		TEXT,"
	"  gnss_gap		INTEGER NOT NULL DEFAULT 0,"
	"  towed			INTEGER NOT NULL DEFAULT 0,"
	"  synced		INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX trips_start_utc_ms ON trips(start_utc_ms);"
	"CREATE UNIQUE INDEX trips_seq ON trips(seq);"
	"CREATE TABLE dtcs ("
	"  seq			INTEGER PRIMARY KEY,"
	"  code			TEXT NOT NULL,"
	"  mode			INTEGER NOT NULL,"
	"  first_utc_ms		INTEGER NOT NULL,"
	"  last_utc_ms		INTEGER NOT NULL,"
	"  cleared_utc_ms	INTEGER,"
	"  synced		INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE UNIQUE INDEX dtcs_active ON dtcs(code, mode) "
	"  WHERE cleared_utc_ms IS NULL;",
	/*
	 * 4: rule events, dispatch orders.  An event row is one episode,
	 * keyed by the rules engine's id (given, not allocated here).  It
	 * takes its seq from the shared stream when first written and
	 * end_seq when it closes (the same one for an instant), so the
	 * platform sees it open, then final.  type and severity are the
	 * DESIGN.md names; NULL is unknown (trip_id, position, fence) or
	 * still open (end_utc_ms, end_seq).  Orders hold no seq; a NULL
	 * destination point or fence is none.  meta.rules_state (the
	 * engine's saved state) and meta.running (1 while a writer has the
	 * file open) appear when first written.
	 */
	"CREATE TABLE events ("
	"  id			INTEGER PRIMARY KEY,"
	"  seq			INTEGER UNIQUE,"
	"  end_seq		INTEGER UNIQUE,"
	"  type			TEXT NOT NULL,"
	"  severity		TEXT NOT NULL,"
	"  start_utc_ms		INTEGER NOT NULL,"
	"  end_utc_ms		INTEGER,"
	"  trip_id		INTEGER,"
	"  lat_deg		REAL,"
	"  lon_deg		REAL,"
	"  fence_id		TEXT,"
	"  details		TEXT NOT NULL DEFAULT '{}',"
	"  synced		INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX events_start_utc_ms ON events(start_utc_ms);"
	"CREATE TABLE dispatch_orders ("
	"  id			TEXT PRIMARY KEY,"
	"  valid_from_utc_ms	INTEGER NOT NULL,"
	"  valid_to_utc_ms	INTEGER NOT NULL,"
	"  dest_lon_deg		REAL,"
	"  dest_lat_deg		REAL,"
	"  dest_radius_m		REAL,"
	"  dest_fence_id		TEXT,"
	"  corridor_fence_id	TEXT,"
	"  purpose		TEXT NOT NULL DEFAULT '',"
	"  approver		TEXT NOT NULL DEFAULT '',"
	"  source		TEXT NOT NULL,"
	"  created_utc_ms	INTEGER NOT NULL"
	");"
	"CREATE INDEX dispatch_orders_valid_from "
	"  ON dispatch_orders(valid_from_utc_ms);",
	/*
	 * 5: two streams, each with its own dense seq: positions, and the
	 * events stream (closed trips, events' seq and end_seq, command
	 * results).  DTC rows leave the streams: their seq is only a key.
	 * Nothing was ever sent from an older file, so its records are
	 * renumbered: positions 1..n in their old order, the events
	 * stream's records 1..m in their old (global) order, an instant
	 * keeping one seq for both.  positions (nearly all the data) is
	 * copied once, in seq order, into a new table with the same
	 * columns: a third of the time and writes of renumbering it in
	 * place.  In trips and events the new seqs are never above the old
	 * ones but may collide with rows not renumbered yet, so the rows
	 * move to negative seqs first.  The floors restart at the next
	 * seqs (the old holes are gone).  The events' open_* columns hold
	 * the values a row was opened with, never updated (its start
	 * record); an older row has only its current values.  Command
	 * results: one row per platform command id.  sync_quarantine: the
	 * records the platform refused on their own (stream by name).
	 * meta.acked_<stream>: every seq up to it is acknowledged.
	 */
	"ALTER TABLE events ADD COLUMN open_trip_id INTEGER;"
	"ALTER TABLE events ADD COLUMN open_lat_deg REAL;"
	"ALTER TABLE events ADD COLUMN open_lon_deg REAL;"
	"ALTER TABLE events ADD COLUMN open_fence_id TEXT;"
	"ALTER TABLE events ADD COLUMN open_details TEXT;"
	"UPDATE events SET open_trip_id = trip_id, open_lat_deg = lat_deg, "
	"  open_lon_deg = lon_deg, open_fence_id = fence_id, "
	"  open_details = details;"
	"CREATE TABLE migrate5_positions ("
	"  seq		INTEGER PRIMARY KEY,"
	"  t_utc_ms	INTEGER NOT NULL,"
	"  lat_deg	REAL NOT NULL,"
	"  lon_deg	REAL NOT NULL,"
	"  alt_m	REAL,"
	"  speed_mps	REAL,"
	"  heading_deg	REAL,"
	"  hdop		REAL,"
	"  eph_m	REAL,"
	"  mode		INTEGER,"
	"  sats_used	INTEGER,"
	"  sats_visible	INTEGER,"
	"  gps_vis	INTEGER,"
	"  gps_used	INTEGER,"
	"  bds_vis	INTEGER,"
	"  bds_used	INTEGER,"
	"  glo_vis	INTEGER,"
	"  glo_used	INTEGER,"
	"  gal_vis	INTEGER,"
	"  gal_used	INTEGER,"
	"  synced	INTEGER NOT NULL DEFAULT 0,"
	"  obd_rpm REAL,"
	"  obd_speed_kmh REAL,"
	"  obd_coolant_c REAL,"
	"  obd_intake_c REAL,"
	"  obd_ambient_c REAL,"
	"  obd_load_pct REAL,"
	"  obd_throttle_pct REAL,"
	"  obd_maf_gps REAL,"
	"  obd_fuel_level_pct REAL,"
	"  obd_fuel_rate_lph REAL,"
	"  obd_battery_v REAL,"
	"  obd_odometer_km REAL,"
	"  obd_run_time_s REAL,"
	"  obd_fuel_rate_estimated INTEGER,"
	"  obd_mil_on INTEGER"
	");"
	"INSERT INTO migrate5_positions SELECT "
	"  row_number() OVER (ORDER BY seq), t_utc_ms, lat_deg, lon_deg, "
	"  alt_m, speed_mps, heading_deg, hdop, eph_m, mode, sats_used, "
	"  sats_visible, gps_vis, gps_used, bds_vis, bds_used, glo_vis, "
	"  glo_used, gal_vis, gal_used, synced, obd_rpm, obd_speed_kmh, "
	"  obd_coolant_c, obd_intake_c, obd_ambient_c, obd_load_pct, "
	"  obd_throttle_pct, obd_maf_gps, obd_fuel_level_pct, "
	"  obd_fuel_rate_lph, obd_battery_v, obd_odometer_km, "
	"  obd_run_time_s, obd_fuel_rate_estimated, obd_mil_on "
	"  FROM positions ORDER BY seq;"
	"DROP TABLE positions;"
	"ALTER TABLE migrate5_positions RENAME TO positions;"
	"CREATE INDEX positions_t_utc_ms ON positions(t_utc_ms);"
	"CREATE TEMP TABLE migrate5_ev ("
	"  old			INTEGER PRIMARY KEY,"
	"  new			INTEGER NOT NULL"
	");"
	"INSERT INTO migrate5_ev(old, new) "
	"  SELECT s, row_number() OVER (ORDER BY s) FROM ("
	"    SELECT seq AS s FROM trips WHERE seq IS NOT NULL"
	"    UNION SELECT seq FROM events WHERE seq IS NOT NULL"
	"    UNION SELECT end_seq FROM events WHERE end_seq IS NOT NULL);"
	"UPDATE trips SET seq = -seq WHERE seq IS NOT NULL;"
	"UPDATE trips SET seq = (SELECT new FROM migrate5_ev "
	"  WHERE old = -trips.seq) WHERE seq IS NOT NULL;"
	"UPDATE events SET seq = -seq, end_seq = -end_seq;"
	"UPDATE events SET "
	"  seq = (SELECT new FROM migrate5_ev WHERE old = -events.seq), "
	"  end_seq = (SELECT new FROM migrate5_ev WHERE old = -events.end_seq);"
	"CREATE TABLE command_results ("
	"  id			TEXT PRIMARY KEY,"
	"  seq			INTEGER UNIQUE NOT NULL,"
	"  type			TEXT NOT NULL,"
	"  received_utc_ms	INTEGER NOT NULL,"
	"  done_utc_ms		INTEGER NOT NULL,"
	"  status		TEXT NOT NULL,"
	"  result		TEXT,"
	"  error			TEXT,"
	"  delivered		INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE sync_quarantine ("
	"  stream		TEXT NOT NULL,"
	"  seq			INTEGER NOT NULL,"
	"  http_status		INTEGER NOT NULL,"
	"  reason		TEXT NOT NULL,"
	"  t_utc_ms		INTEGER NOT NULL,"
	"  PRIMARY KEY (stream, seq)"
	") WITHOUT ROWID;"
	"DELETE FROM meta WHERE key IN ('seq_floor', 'seq_floor_events', "
	"  'seq_floor_positions', 'acked_events', 'acked_positions');"
	"INSERT INTO meta(key, value) VALUES"
	"  ('seq_floor_positions', (SELECT count(*) + 1 FROM positions)),"
	"  ('seq_floor_events', (SELECT count(*) + 1 FROM migrate5_ev)),"
	"  ('acked_positions', 0),"
	"  ('acked_events', 0);"
	"DROP TABLE temp.migrate5_ev;",
	/*
	 * 6: tamper evidence (chain.h).  chain: the link h of each record
	 * of each stream (stream: enum store_stream, 0 events, 1
	 * positions), written in the transaction that commits the record;
	 * retention keeps the link just below the oldest record it keeps
	 * (the anchor of what follows).  checkpoints: the signed heads
	 * (body: the canonical JSON text signed, sig: its Ed25519
	 * signature; ev_seq and pos_seq: the heads' seqs, for lookups).
	 * Records already stored are chained by the first writable open
	 * (the chain needs SHA-256 and the records' canonical bytes).
	 */
	"CREATE TABLE chain ("
	"  stream		INTEGER NOT NULL,"
	"  seq			INTEGER NOT NULL,"
	"  h			BLOB NOT NULL,"
	"  PRIMARY KEY (stream, seq)"
	") WITHOUT ROWID;"
	"CREATE TABLE checkpoints ("
	"  id			INTEGER PRIMARY KEY,"
	"  t_utc_ms		INTEGER NOT NULL,"
	"  ev_seq		INTEGER NOT NULL,"
	"  pos_seq		INTEGER NOT NULL,"
	"  body			TEXT NOT NULL,"
	"  sig			BLOB NOT NULL"
	");",
};
#define STORE_SCHEMA_VERSION	((int)NELEM(store_migrations))
/* Schema version from which meta holds seq_floor instead of next_seq. */
#define STORE_SEQ_FLOOR_VERSION	2
/* Schema version with OBD columns, trips and DTCs. */
#define STORE_TRIPS_VERSION	3
/* Schema version with events, dispatch orders, rules state, running. */
#define STORE_EVENTS_VERSION	4
/* Schema version with two streams, commands, quarantine, acks. */
#define STORE_STREAMS_VERSION	5
/* Schema version with the hash chain and checkpoints. */
#define STORE_CHAIN_VERSION	6

/*
 * The columns that take seqs from each stream; a stream's next seq is
 * derived from their max.  trips.seq and events.end_seq are NULL while
 * the row is open.
 */
static const struct {
	enum store_stream stream;
	const char	*name;
	const char	*col;
} store_seq_cols[] = {
	{ STORE_STREAM_EVENTS,		"trips",		"seq" },
	{ STORE_STREAM_EVENTS,		"events",		"seq" },
	{ STORE_STREAM_EVENTS,		"events",		"end_seq" },
	{ STORE_STREAM_EVENTS,		"command_results",	"seq" },
	{ STORE_STREAM_POSITIONS,	"positions",		"seq" },
};

/*
 * Before schema version 5 (read-only connections to older files): one
 * stream over these columns.  since: the schema version that created the
 * table.
 */
static const struct {
	const char	*name;
	const char	*col;
	int		 since;
} store_legacy_seq_cols[] = {
	{ "positions",	"seq",		1 },
	{ "trips",	"seq",		STORE_TRIPS_VERSION },
	{ "dtcs",	"seq",		STORE_TRIPS_VERSION },
	{ "events",	"seq",		STORE_EVENTS_VERSION },
	{ "events",	"end_seq",	STORE_EVENTS_VERSION },
};

static const char *const store_stream_names[STORE_STREAMS] = {
	[STORE_STREAM_EVENTS] = "events",
	[STORE_STREAM_POSITIONS] = "positions",
};

/* meta keys per stream: the floor, the platform's acknowledged seq. */
static const char *const store_floor_keys[STORE_STREAMS] = {
	[STORE_STREAM_EVENTS] = "seq_floor_events",
	[STORE_STREAM_POSITIONS] = "seq_floor_positions",
};
static const char *const store_acked_keys[STORE_STREAMS] = {
	[STORE_STREAM_EVENTS] = "acked_events",
	[STORE_STREAM_POSITIONS] = "acked_positions",
};

/*
 * Tables that retention thins.  stream: the stream of the table's
 * records (-1: DTC rows, no records; they count as acknowledged).
 * deletable: the rows it may delete (open trips, active DTC rows and
 * open events stay: deleting an active row would make the next scan
 * report its code as new, an open event's close would come back as a new
 * row).  kept: quarantined records stay.  age_col: the time that the age
 * rule compares with the cutoff.  size_col: what the size rule compares
 * with its bound (positions: seq; the others: their time, compared with
 * the time of the chunk's last position).  first_col, last_col: the
 * row's seqs, for the log.  acked, unacked: the row's state against the
 * stream's cursor ?2 (an event with its end_seq, the newer of its two).
 * rec_n, rec_lo, rec_hi: the row's records above the cursor ?2, for the
 * pressure report.  size_ok: what the size rule may delete on top of
 * deletable: violation and critical events only go by age (reliability
 * brief T5: a full disk never drops violations or tamper evidence;
 * positions give way first).
 */
enum store_rtable {
	RT_POSITIONS,
	RT_TRIPS,
	RT_DTCS,
	RT_EVENTS,
	RT_COMMANDS,
	RT_COUNT
};

/* A quarantined record of the events stream with this seq. */
#define QUARANTINED_EV(seqexpr)						\
	"EXISTS (SELECT 1 FROM sync_quarantine q WHERE "		\
	"q.stream = 'events' AND q.seq = " seqexpr ")"
#define NOT_QUARANTINED_POS						\
	"NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE "		\
	"q.stream = 'positions' AND q.seq = positions.seq)"

static const struct {
	const char	*table;
	const char	*what;		/* for the log */
	int		 stream;
	const char	*deletable;	/* SQL conditions */
	const char	*kept;
	const char	*age_col;
	const char	*size_col;
	const char	*first_col;
	const char	*last_col;
	const char	*acked;
	const char	*unacked;
	const char	*rec_n;
	const char	*rec_lo;
	const char	*rec_hi;
	const char	*size_ok;
} store_rtables[RT_COUNT] = {
	[RT_POSITIONS] = { "positions", "positions", STORE_STREAM_POSITIONS,
	    "1", NOT_QUARANTINED_POS, "t_utc_ms", "seq", "seq", "seq",
	    "seq <= ?2", "seq > ?2", "1", "seq", "seq", "1" },
	[RT_TRIPS] = { "trips", "trips", STORE_STREAM_EVENTS, "open = 0",
	    "NOT " QUARANTINED_EV("trips.seq"), "end_utc_ms", "end_utc_ms",
	    "seq", "seq", "seq <= ?2", "seq > ?2", "1", "seq", "seq", "1" },
	[RT_DTCS] = { "dtcs", "DTC rows", -1, "cleared_utc_ms IS NOT NULL",
	    "1", "cleared_utc_ms", "cleared_utc_ms", "seq", "seq", "1", "0",
	    "0", "NULL", "NULL", "1" },
	[RT_EVENTS] = { "events", "events", STORE_STREAM_EVENTS,
	    "end_seq IS NOT NULL", "NOT " QUARANTINED_EV("events.seq") " AND "
	    "NOT " QUARANTINED_EV("events.end_seq"), "end_utc_ms",
	    "end_utc_ms", "seq", "end_seq", "end_seq <= ?2", "end_seq > ?2",
	    "1 + (seq > ?2 AND seq <> end_seq)",
	    "CASE WHEN seq > ?2 THEN seq ELSE end_seq END", "end_seq",
	    "severity NOT IN ('violation', 'critical')" },
	[RT_COMMANDS] = { "command_results", "command results",
	    STORE_STREAM_EVENTS, "1",
	    "NOT " QUARANTINED_EV("command_results.seq"), "done_utc_ms",
	    "done_utc_ms", "seq", "seq", "seq <= ?2", "seq > ?2", "1", "seq",
	    "seq", "1" },
};

/*
 * Retention passes: by age (acknowledged rows only), by size over the
 * acknowledged rows, by size over the unacknowledged ones.
 */
enum store_rmode {
	RM_AGE,
	RM_ACKED,
	RM_UNACKED,
	RM_COUNT
};

/* Per table and pass retention statements: ?1 the bound, ?2 the cursor. */
enum store_rstmt {
	RS_RANGE,
	RS_DELETE,
	RS_COUNT
};

enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_META_GET,
	STMT_META_SET,
	STMT_POS_INSERT,
	STMT_POS_QUERY,
	STMT_POS_COUNT,
	STMT_DATA_VERSION,
	STMT_PAGE_COUNT,
	STMT_FREELIST_COUNT,
	STMT_READ_BEGIN,
	STMT_READ_END,
	STMT_AGE_BOUND,
	STMT_ACKED_BOUND,
	STMT_UNACKED_BOUND,
	STMT_TRIP_INSERT,
	STMT_TRIP_PROGRESS,
	STMT_TRIP_CLOSE,
	STMT_TRIP_STATE,
	STMT_TRIP_OPEN_GET,
	STMT_TRIP_QUERY,
	STMT_TRIP_COUNT,
	STMT_DTC_ACTIVE,
	STMT_DTC_INSERT,
	STMT_DTC_TOUCH,
	STMT_DTC_CLEAR,
	STMT_DTC_QUERY,
	STMT_DTC_COUNT_ACTIVE,
	STMT_EV_STATE,
	STMT_EV_INSERT,
	STMT_EV_CLOSE,
	STMT_EV_QUERY,
	STMT_EV_COUNT,
	STMT_ORDER_INSERT,
	STMT_ORDER_DELETE,
	STMT_ORDER_QUERY,
	STMT_ORDER_EXPIRE,
	STMT_SR_POS,
	STMT_SR_TRIPS,
	STMT_SR_EV_START,
	STMT_SR_EV_END,
	STMT_SR_CMD,
	STMT_ST_FIRST_EV,
	STMT_ST_FIRST_POS,
	STMT_ST_PENDING_EV,
	STMT_ST_PENDING_POS,
	STMT_ST_OLDEST_EV,
	STMT_ST_OLDEST_POS,
	STMT_QUAR_INSERT,
	STMT_QUAR_COUNT,
	STMT_CMD_STATE,
	STMT_CMD_INSERT,
	STMT_CMD_GET,
	STMT_CMD_DELIVERED,
	STMT_CMD_QUERY,
	STMT_CHAIN_PUT,
	STMT_CHAIN_GET,
	STMT_CHAIN_HEAD,
	STMT_CHAIN_PRUNE,
	STMT_CP_INSERT,
	STMT_CP_QUERY,
	STMT_CP_PRUNE,
	STMT_NSTMT
};

#define POS_COLUMNS							\
	"seq, t_utc_ms, lat_deg, lon_deg, alt_m, speed_mps, heading_deg, "\
	"hdop, eph_m, mode, sats_used, sats_visible, gps_vis, gps_used, "\
	"bds_vis, bds_used, glo_vis, glo_used, gal_vis, gal_used"
/* struct obd_sample order; the 13 REALs first (store_obd_reals). */
#define POS_OBD_COLUMNS							\
	"obd_rpm, obd_speed_kmh, obd_coolant_c, obd_intake_c, "		\
	"obd_ambient_c, obd_load_pct, obd_throttle_pct, obd_maf_gps, "	\
	"obd_fuel_level_pct, obd_fuel_rate_lph, obd_battery_v, "	\
	"obd_odometer_km, obd_run_time_s, obd_fuel_rate_estimated, "	\
	"obd_mil_on"
#define POS_OBD_NCOLUMNS	15
/* What a file older than version 3 has instead. */
#define POS_OBD_NULLS							\
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "	\
	"NULL, NULL, NULL, NULL, NULL"
#define POS_NCOLUMNS		20	/* before the OBD ones */

/* A trip row as read: store_row_to_trip() knows the indexes. */
#define TRIP_COLUMNS							\
	"id, seq, open, start_utc_ms, end_utc_ms, distance_m, "		\
	"duration_s, driving_s, idle_s, max_speed_kmh, avg_speed_kmh, "	\
	"fuel_used_l, start_lat_deg, start_lon_deg, end_lat_deg, "	\
	"end_lon_deg, odometer_start_km, odometer_end_km, ended_by, "	\
	"gnss_gap, towed"
/* The summary values, parameters ?1..?17 (store_bind_trip()). */
#define TRIP_VALUE_COLUMNS						\
	"start_utc_ms, end_utc_ms, distance_m, duration_s, driving_s, "	\
	"idle_s, max_speed_kmh, avg_speed_kmh, fuel_used_l, "		\
	"start_lat_deg, start_lon_deg, end_lat_deg, end_lon_deg, "	\
	"odometer_start_km, odometer_end_km, gnss_gap, towed"
#define TRIP_VALUE_PARAMS						\
	"?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "	\
	"?15, ?16, ?17"
#define TRIP_SET_VALUES							\
	"start_utc_ms = ?1, end_utc_ms = ?2, distance_m = ?3, "		\
	"duration_s = ?4, driving_s = ?5, idle_s = ?6, "		\
	"max_speed_kmh = ?7, avg_speed_kmh = ?8, fuel_used_l = ?9, "	\
	"start_lat_deg = ?10, start_lon_deg = ?11, end_lat_deg = ?12, "	\
	"end_lon_deg = ?13, odometer_start_km = ?14, "			\
	"odometer_end_km = ?15, gnss_gap = ?16, towed = ?17"
/* Parameters after the values. */
#define TRIP_P_ID	18
#define TRIP_P_SEQ	19
#define TRIP_P_ENDED_BY	20
#define TRIP_P_OPEN	21

/* An event row as read: store_row_to_event() knows the indexes. */
#define EV_COLUMNS							\
	"id, seq, end_seq, type, severity, start_utc_ms, end_utc_ms, "	\
	"trip_id, lat_deg, lon_deg, fence_id, details"
/*
 * The values the row was opened with, after EV_COLUMNS in the start
 * records' query (store_row_to_event_open()); the insert sets them from
 * the same parameters as trip_id .. details.
 */
#define EV_OPEN_COLUMNS							\
	"open_trip_id, open_lat_deg, open_lon_deg, open_fence_id, "	\
	"open_details"
#define EV_NCOLUMNS	12
/* Parameters of the event insert and close (store_write_event()). */
enum {
	EV_P_ID = 1,
	EV_P_SEQ,
	EV_P_END_SEQ,
	EV_P_TYPE,
	EV_P_SEVERITY,
	EV_P_START,
	EV_P_END,
	EV_P_TRIP,
	EV_P_LAT,
	EV_P_LON,
	EV_P_FENCE,
	EV_P_DETAILS
};

/* A command row as read (store_row_to_command()) and written. */
#define CMD_COLUMNS							\
	"seq, id, type, received_utc_ms, done_utc_ms, status, result, "	\
	"error, delivered"

/* An order row as read and written (store_bind_order()). */
#define ORDER_COLUMNS							\
	"id, valid_from_utc_ms, valid_to_utc_ms, dest_lon_deg, "	\
	"dest_lat_deg, dest_radius_m, dest_fence_id, corridor_fence_id, "\
	"purpose, approver, source, created_utc_ms"

static const struct {
	const char	*sql;
	bool		 rw;	/* only prepared on writable connections */
	int		 since;	/* schema version it needs */
	const char	*old;	/* read-only connection to an older file:
				   this instead (NULL: not prepared) */
} store_sql[STMT_NSTMT] = {
	[STMT_BEGIN] = { "BEGIN IMMEDIATE", true, 1, NULL },
	[STMT_COMMIT] = { "COMMIT", true, 1, NULL },
	[STMT_ROLLBACK] = { "ROLLBACK", true, 1, NULL },
	[STMT_META_GET] = { "SELECT value FROM meta WHERE key = ?1", false, 1,
	    NULL },
	[STMT_META_SET] = { "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", true, 1,
	    NULL },
	[STMT_POS_INSERT] = { "INSERT INTO positions(" POS_COLUMNS ", "
	    POS_OBD_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
	    "?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)",
	    true, STORE_TRIPS_VERSION, NULL },
	[STMT_POS_QUERY] = { "SELECT " POS_COLUMNS ", " POS_OBD_COLUMNS
	    " FROM positions WHERE t_utc_ms >= ?1 AND t_utc_ms < ?2 "
	    "ORDER BY seq LIMIT ?3", false, STORE_TRIPS_VERSION,
	    "SELECT " POS_COLUMNS ", " POS_OBD_NULLS " FROM positions "
	    "WHERE t_utc_ms >= ?1 AND t_utc_ms < ?2 ORDER BY seq LIMIT ?3" },
	[STMT_POS_COUNT] = { "SELECT count(*) FROM positions", false, 1,
	    NULL },
	[STMT_DATA_VERSION] = { "PRAGMA data_version", false, 1, NULL },
	[STMT_PAGE_COUNT] = { "PRAGMA page_count", false, 1, NULL },
	[STMT_FREELIST_COUNT] = { "PRAGMA freelist_count", false, 1, NULL },
	/* A read snapshot over several statements (stream reads). */
	[STMT_READ_BEGIN] = { "BEGIN", false, 1, NULL },
	[STMT_READ_END] = { "COMMIT", false, 1, NULL },
	/*
	 * Retention chunks are bounded by the positions that the pass may
	 * delete, which are nearly all rows.  Age: everything up to the
	 * chunk-th oldest acknowledged position time; size: up to the
	 * chunk-th lowest acknowledged (unacknowledged) position seq, and
	 * its time for the other tables.  ?3, ?1: the positions cursor.
	 * The per table range and delete statements are built from
	 * store_rtables.
	 */
	[STMT_AGE_BOUND] = { "SELECT t_utc_ms FROM positions "
	    "WHERE t_utc_ms < ?1 AND seq <= ?3 AND " NOT_QUARANTINED_POS
	    " ORDER BY t_utc_ms LIMIT 1 OFFSET ?2", true,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_ACKED_BOUND] = { "SELECT seq, t_utc_ms FROM positions "
	    "WHERE seq <= ?1 AND " NOT_QUARANTINED_POS " ORDER BY seq "
	    "LIMIT 1 OFFSET ?2", true, STORE_STREAMS_VERSION, NULL },
	[STMT_UNACKED_BOUND] = { "SELECT seq, t_utc_ms FROM positions "
	    "WHERE seq > ?1 AND " NOT_QUARANTINED_POS " ORDER BY seq "
	    "LIMIT 1 OFFSET ?2", true, STORE_STREAMS_VERSION, NULL },
	[STMT_TRIP_INSERT] = { "INSERT INTO trips(" TRIP_VALUE_COLUMNS
	    ", id, seq, ended_by, open) VALUES (" TRIP_VALUE_PARAMS
	    ", ?18, ?19, ?20, ?21)", true, STORE_TRIPS_VERSION, NULL },
	[STMT_TRIP_PROGRESS] = { "UPDATE trips SET " TRIP_SET_VALUES
	    " WHERE id = ?18 AND open = 1", true, STORE_TRIPS_VERSION, NULL },
	[STMT_TRIP_CLOSE] = { "UPDATE trips SET " TRIP_SET_VALUES
	    ", seq = ?19, ended_by = ?20, open = 0 "
	    "WHERE id = ?18 AND open = 1", true, STORE_TRIPS_VERSION, NULL },
	[STMT_TRIP_STATE] = { "SELECT open FROM trips WHERE id = ?1", true,
	    STORE_TRIPS_VERSION, NULL },
	[STMT_TRIP_OPEN_GET] = { "SELECT " TRIP_COLUMNS " FROM trips "
	    "WHERE open = 1 ORDER BY id DESC LIMIT 1", false,
	    STORE_TRIPS_VERSION, NULL },
	[STMT_TRIP_QUERY] = { "SELECT " TRIP_COLUMNS " FROM trips "
	    "WHERE start_utc_ms < ?2 AND end_utc_ms >= ?1 "
	    "ORDER BY start_utc_ms, id LIMIT ?3", false, STORE_TRIPS_VERSION,
	    NULL },
	[STMT_TRIP_COUNT] = { "SELECT count(*) FROM trips", false,
	    STORE_TRIPS_VERSION, NULL },
	[STMT_DTC_ACTIVE] = { "SELECT seq, code, mode FROM dtcs "
	    "WHERE cleared_utc_ms IS NULL", true, STORE_TRIPS_VERSION, NULL },
	/* seq NULL: the highest + 1 (a row key, not a stream seq). */
	[STMT_DTC_INSERT] = { "INSERT INTO dtcs(seq, code, mode, "
	    "first_utc_ms, last_utc_ms) VALUES (NULL, ?1, ?2, ?3, ?3)", true,
	    STORE_STREAMS_VERSION, NULL },
	/* Times never run backwards inside a row: first <= last <= cleared. */
	[STMT_DTC_TOUCH] = { "UPDATE dtcs SET last_utc_ms = "
	    "max(last_utc_ms, ?2) WHERE seq = ?1", true, STORE_TRIPS_VERSION,
	    NULL },
	[STMT_DTC_CLEAR] = { "UPDATE dtcs SET cleared_utc_ms = "
	    "max(last_utc_ms, ?2) WHERE seq = ?1", true, STORE_TRIPS_VERSION,
	    NULL },
	[STMT_DTC_QUERY] = { "SELECT seq, code, mode, first_utc_ms, "
	    "last_utc_ms, cleared_utc_ms FROM dtcs "
	    "WHERE ?1 = 0 OR cleared_utc_ms IS NULL ORDER BY seq", false,
	    STORE_TRIPS_VERSION, NULL },
	[STMT_DTC_COUNT_ACTIVE] = { "SELECT count(*) FROM dtcs "
	    "WHERE cleared_utc_ms IS NULL", false, STORE_TRIPS_VERSION, NULL },
	[STMT_EV_STATE] = { "SELECT seq, end_seq FROM events WHERE id = ?1",
	    true, STORE_EVENTS_VERSION, NULL },
	[STMT_EV_INSERT] = { "INSERT INTO events(" EV_COLUMNS ", "
	    EV_OPEN_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10, ?11, ?12, ?8, ?9, ?10, ?11, ?12)", true,
	    STORE_STREAMS_VERSION, NULL },
	/*
	 * What the open row lacks comes from the close; the position only
	 * as a pair.  The open_* columns stay: they are the start record.
	 */
	[STMT_EV_CLOSE] = { "UPDATE events SET end_seq = ?3, "
	    "end_utc_ms = max(start_utc_ms, ?7), "
	    "trip_id = coalesce(trip_id, ?8), "
	    "lat_deg = CASE WHEN lat_deg IS NULL THEN ?9 ELSE lat_deg END, "
	    "lon_deg = CASE WHEN lat_deg IS NULL THEN ?10 ELSE lon_deg END, "
	    "fence_id = coalesce(fence_id, ?11), "
	    "details = coalesce(?12, details) "
	    "WHERE id = ?1 AND end_seq IS NULL", true, STORE_EVENTS_VERSION,
	    NULL },
	[STMT_EV_QUERY] = { "SELECT " EV_COLUMNS " FROM events "
	    "WHERE start_utc_ms < ?2 AND "
	    "(end_utc_ms IS NULL OR end_utc_ms >= ?1) AND "
	    "(?3 IS NULL OR type = ?3) AND (?4 IS NULL OR severity = ?4) "
	    "ORDER BY start_utc_ms, id", false, STORE_EVENTS_VERSION, NULL },
	[STMT_EV_COUNT] = { "SELECT count(*), "
	    "coalesce(sum(end_seq IS NULL), 0) FROM events", false,
	    STORE_EVENTS_VERSION, NULL },
	[STMT_ORDER_INSERT] = { "INSERT INTO dispatch_orders(" ORDER_COLUMNS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
	    "ON CONFLICT(id) DO NOTHING", true, STORE_EVENTS_VERSION, NULL },
	[STMT_ORDER_DELETE] = { "DELETE FROM dispatch_orders WHERE id = ?1",
	    true, STORE_EVENTS_VERSION, NULL },
	[STMT_ORDER_QUERY] = { "SELECT " ORDER_COLUMNS " FROM dispatch_orders "
	    "WHERE valid_from_utc_ms < ?2 AND valid_to_utc_ms >= ?1 "
	    "ORDER BY valid_from_utc_ms, id", false, STORE_EVENTS_VERSION,
	    NULL },
	[STMT_ORDER_EXPIRE] = { "DELETE FROM dispatch_orders "
	    "WHERE valid_to_utc_ms < ?1", true, STORE_EVENTS_VERSION, NULL },
	/*
	 * Stream reads, ?1 <= seq <= ?2: one cursor per kind of record, each
	 * an index range in seq order, merged by store_stream_read().  A
	 * start cursor row with end_seq = seq is an instant (one record).
	 */
	[STMT_SR_POS] = { "SELECT " POS_COLUMNS ", " POS_OBD_COLUMNS
	    " FROM positions WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq "
	    "LIMIT ?3", false, STORE_STREAMS_VERSION, NULL },
	[STMT_SR_TRIPS] = { "SELECT " TRIP_COLUMNS " FROM trips "
	    "WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_SR_EV_START] = { "SELECT " EV_COLUMNS ", " EV_OPEN_COLUMNS
	    " FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_SR_EV_END] = { "SELECT " EV_COLUMNS " FROM events "
	    "WHERE end_seq >= ?1 AND end_seq <= ?2 AND end_seq <> seq "
	    "ORDER BY end_seq", false, STORE_STREAMS_VERSION, NULL },
	[STMT_SR_CMD] = { "SELECT " CMD_COLUMNS " FROM command_results "
	    "WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq", false,
	    STORE_STREAMS_VERSION, NULL },
	/* Stream state: lowest seq; records above ?1; the oldest's time. */
	[STMT_ST_FIRST_EV] = { "SELECT min(s) FROM (SELECT min(seq) AS s "
	    "FROM trips UNION ALL SELECT min(seq) FROM events UNION ALL "
	    "SELECT min(seq) FROM command_results)", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_ST_FIRST_POS] = { "SELECT min(seq) FROM positions", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_ST_PENDING_EV] = { "SELECT "
	    "(SELECT count(*) FROM trips WHERE seq > ?1) + "
	    "(SELECT count(*) FROM events WHERE seq > ?1) + "
	    "(SELECT count(*) FROM events WHERE end_seq > ?1 AND "
	    "end_seq <> seq) + "
	    "(SELECT count(*) FROM command_results WHERE seq > ?1)", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_ST_PENDING_POS] = { "SELECT count(*) FROM positions "
	    "WHERE seq > ?1", false, STORE_STREAMS_VERSION, NULL },
	[STMT_ST_OLDEST_EV] = { "SELECT t FROM ("
	    "SELECT * FROM (SELECT seq AS s, end_utc_ms AS t FROM trips "
	    "WHERE seq > ?1 ORDER BY seq LIMIT 1) UNION ALL "
	    "SELECT * FROM (SELECT seq, start_utc_ms FROM events "
	    "WHERE seq > ?1 ORDER BY seq LIMIT 1) UNION ALL "
	    "SELECT * FROM (SELECT end_seq, end_utc_ms FROM events "
	    "WHERE end_seq > ?1 AND end_seq <> seq ORDER BY end_seq "
	    "LIMIT 1) UNION ALL "
	    "SELECT * FROM (SELECT seq, done_utc_ms FROM command_results "
	    "WHERE seq > ?1 ORDER BY seq LIMIT 1)) ORDER BY s LIMIT 1", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_ST_OLDEST_POS] = { "SELECT t_utc_ms FROM positions "
	    "WHERE seq > ?1 ORDER BY seq LIMIT 1", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_QUAR_INSERT] = { "INSERT INTO sync_quarantine(stream, seq, "
	    "http_status, reason, t_utc_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT(stream, seq) DO NOTHING", true,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_QUAR_COUNT] = { "SELECT count(*) FROM sync_quarantine "
	    "WHERE stream = ?1", false, STORE_STREAMS_VERSION, NULL },
	[STMT_CMD_STATE] = { "SELECT count(*) FROM command_results "
	    "WHERE id = ?1", true, STORE_STREAMS_VERSION, NULL },
	[STMT_CMD_INSERT] = { "INSERT INTO command_results(" CMD_COLUMNS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)", true,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_CMD_GET] = { "SELECT " CMD_COLUMNS " FROM command_results "
	    "WHERE id = ?1", false, STORE_STREAMS_VERSION, NULL },
	[STMT_CMD_DELIVERED] = { "UPDATE command_results SET delivered = 1 "
	    "WHERE id = ?1", true, STORE_STREAMS_VERSION, NULL },
	[STMT_CMD_QUERY] = { "SELECT " CMD_COLUMNS " FROM command_results "
	    "WHERE ?1 = 0 OR delivered = 0 ORDER BY seq", false,
	    STORE_STREAMS_VERSION, NULL },
	[STMT_CHAIN_PUT] = { "INSERT INTO chain(stream, seq, h) "
	    "VALUES (?1, ?2, ?3)", true, STORE_CHAIN_VERSION, NULL },
	[STMT_CHAIN_GET] = { "SELECT h FROM chain WHERE stream = ?1 AND "
	    "seq = ?2", false, STORE_CHAIN_VERSION, NULL },
	[STMT_CHAIN_HEAD] = { "SELECT seq, h FROM chain WHERE stream = ?1 "
	    "ORDER BY seq DESC LIMIT 1", false, STORE_CHAIN_VERSION, NULL },
	/* Below ?2, but never the head. */
	[STMT_CHAIN_PRUNE] = { "DELETE FROM chain WHERE stream = ?1 AND "
	    "seq < min(?2, (SELECT max(seq) FROM chain WHERE stream = ?1))",
	    true, STORE_CHAIN_VERSION, NULL },
	[STMT_CP_INSERT] = { "INSERT INTO checkpoints(t_utc_ms, ev_seq, "
	    "pos_seq, body, sig) VALUES (?1, ?2, ?3, ?4, ?5)", true,
	    STORE_CHAIN_VERSION, NULL },
	[STMT_CP_QUERY] = { "SELECT id, t_utc_ms, ev_seq, pos_seq, body, sig "
	    "FROM checkpoints WHERE id >= ?1 ORDER BY id", false,
	    STORE_CHAIN_VERSION, NULL },
	/* Those that vouch only for pruned links, never the newest. */
	[STMT_CP_PRUNE] = { "DELETE FROM checkpoints WHERE ev_seq < ?1 AND "
	    "pos_seq < ?2 AND id < (SELECT max(id) FROM checkpoints)", true,
	    STORE_CHAIN_VERSION, NULL },
};

/* The OBD doubles, in column order (obd_rpm ... obd_run_time_s). */
static const size_t store_obd_reals[] = {
	offsetof(struct obd_sample, rpm),
	offsetof(struct obd_sample, speed_kmh),
	offsetof(struct obd_sample, coolant_c),
	offsetof(struct obd_sample, intake_c),
	offsetof(struct obd_sample, ambient_c),
	offsetof(struct obd_sample, load_pct),
	offsetof(struct obd_sample, throttle_pct),
	offsetof(struct obd_sample, maf_gps),
	offsetof(struct obd_sample, fuel_level_pct),
	offsetof(struct obd_sample, fuel_rate_lph),
	offsetof(struct obd_sample, battery_v),
	offsetof(struct obd_sample, odometer_km),
	offsetof(struct obd_sample, run_time_s),
};
_Static_assert(NELEM(store_obd_reals) + 2 == POS_OBD_NCOLUMNS,
    "positions OBD columns: 13 REALs, fuel_rate_estimated, mil_on");

/* A position waiting for its commit. */
struct store_pending {
	struct fix		fix;
	struct obd_sample	obd;
};

/* What became of a queued event change inside a batch transaction. */
enum store_ev_result {
	EV_OPENED,		/* inserted open */
	EV_INSTANT,		/* inserted closed, one seq */
	EV_CLOSED,		/* the open row was closed */
	EV_INSERTED_CLOSED,	/* a close without a row: inserted closed */
	EV_DUPLICATE,		/* open or instant of a stored id */
	EV_CLOSED_ALREADY	/* close of a closed row: ignored */
};

/* An event change waiting for its commit. */
struct store_event_pending {
	struct rules_event	 ev;	/* ev.details unused (NULL) */
	char			*details; /* JSON text, NULL: none given */
	/* Set by the batch transaction, meaningful after its COMMIT. */
	enum store_ev_result	 res;
	uint64_t		 seq;
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[STMT_NSTMT];
	sqlite3_stmt	*rstmt[RM_COUNT][RT_COUNT][RS_COUNT]; /* writers */
	char		*path;
	bool		 readonly;

	int		 max_size_mb;
	int		 keep_days;
	uint32_t	 commit_interval_ms;
	uint32_t	 commit_rows;
	bool		 acks;

	char		*device_id;	/* from meta */
	char		*timezone;	/* from meta */
	char		*vin;		/* from meta, "" unknown */
	char		*chain_tz;	/* meta.chain_timezone, "" none */
	int64_t		 page_size;

	/* Each stream's chain head as committed (writable stores). */
	struct chain	 chain[STORE_STREAMS];

	struct store_pending *pending;	/* STORE_PENDING_MAX entries */
	size_t		 npending;
	uint64_t	 first_pending_ms;	/* caller's mono time of the
						   first pending thing */
	uint64_t	 last_now_ms;	/* latest mono time we were given */
	bool		 retry_wait;	/* last commit failed: wait for ... */
	uint64_t	 retry_at_ms;	/* ... this mono time */

	/* The open trip's RAM copy, and trip ends not written yet. */
	struct trip_summary prog;
	bool		 has_prog;
	bool		 prog_dirty;	/* changed since last written */
	bool		 prog_gone_logged;
	struct trip_summary ends[STORE_TRIP_QUEUE_MAX];
	size_t		 nends;

	/* Event changes and the rules state waiting for a commit. */
	struct store_event_pending *evq;	/* STORE_EVENT_QUEUE_MAX */
	size_t		 nevq;
	bool		 urgent;	/* one of them is urgent */
	bool		 events_full_logged;
	bool		 unknown_event_logged;
	char		*rules_state;	/* NULL: nothing pending */

	/* Clean stop: as found by store_open(). */
	bool		 unclean_previous;
	int64_t		 last_record_utc_ms;

	int64_t		 schema_version;	/* after migration, or as found (ro) */

	uint64_t	 positions;
	uint64_t	 trips;
	uint64_t	 dtcs_active;
	uint64_t	 events;
	uint64_t	 events_open;
	/*
	 * The seq allocators, one per stream.  next_seq is valid while
	 * seq_known; seq_mark is its value when the open write transaction
	 * began, restored when it rolls back.  data_version tells whether
	 * another connection wrote since we last derived next_seq (then we
	 * derive it again).
	 */
	uint64_t	 next_seq[STORE_STREAMS];
	uint64_t	 seq_mark[STORE_STREAMS];
	bool		 seq_known;
	int64_t		 data_version;
	uint64_t	 commits;
	uint64_t	 dropped;
	uint64_t	 refused;
	/* Unacknowledged records retention deleted, not taken yet. */
	struct store_pressure pressure;
	bool		 has_pressure;
	/* store_command_get()'s strings, valid until the next call. */
	char		*cmd_result;
	char		*cmd_error;

	/* Log state changes once, recoveries at info. */
	bool		 commit_failing;
	int		 commit_errcode;
	bool		 full_logged;
	uint64_t	 refused_at_full;
	bool		 retention_failing;
	bool		 invalid_logged;

	char		 err[STORE_ERR_LEN];	/* last SQLite failure */
};

struct store_drop {
	uint64_t	n;
	uint64_t	min_seq;
	uint64_t	max_seq;
};

/* One retention pass's unacknowledged records, per stream. */
struct store_unacked {
	uint64_t	n[STORE_STREAMS];
	uint64_t	lo[STORE_STREAMS];
	uint64_t	hi[STORE_STREAMS];
};

/* Work done inside a batch transaction, after the pending records. */
typedef int store_txn_fn(struct store *, void *arg);

/* Remember the connection's last error for a log line. */
static void
store_sqlerr(struct store *st, const char *what)
{
	snprintf(st->err, sizeof(st->err), "%s: %s (extended code %d)",
	    what, sqlite3_errmsg(st->db), sqlite3_extended_errcode(st->db));
}

/* Run a statement that returns no rows, then reset it.  0 or -1. */
static int
store_stmt_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int		 rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_sqlerr(st, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
store_step_done(struct store *st, enum store_stmt id, const char *what)
{
	return store_stmt_done(st, st->stmt[id], what);
}

/*
 * Run a statement expected to return one row of integers; fills up to n
 * columns (NULL and no row read as 0).  1 if a row came back, 0 if none,
 * -1 on error.
 */
static int
store_stmt_ints(struct store *st, sqlite3_stmt *s, const char *what,
    int64_t *v, int n)
{
	int		 i, rc, ret;

	for (i = 0; i < n; i++)
		v[i] = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(s, i);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else {
		store_sqlerr(st, what);
		ret = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int
store_step_ints(struct store *st, enum store_stmt id, const char *what,
    int64_t *v, int n)
{
	return store_stmt_ints(st, st->stmt[id], what, v, n);
}

/*
 * A count from a statement of the schema version 3 (0 when the file is
 * older and the statement was not prepared).  0 or -1.
 */
static int
store_count(struct store *st, enum store_stmt id, const char *what,
    uint64_t *n)
{
	int64_t		 v = 0;

	if (st->stmt[id] != NULL &&
	    store_step_ints(st, id, what, &v, 1) == -1)
		return -1;
	*n = v > 0 ? (uint64_t)v : 0;
	return 0;
}

static int	 store_seq_derive(struct store *, uint64_t [STORE_STREAMS]);
static int	 store_chain_load(struct store *);
static void	 store_rollback(struct store *);

/*
 * Begin a write transaction.  Derives the next seqs from the database the
 * first time, and again whenever another connection has committed since
 * (a second writer must not make us hand out its seqs); otherwise the
 * counters in memory are the truth and nothing is read.  0 or -1
 * (st->err).
 */
static int
store_begin(struct store *st)
{
	uint64_t	 next[STORE_STREAMS];
	int64_t		 version;
	int		 i;

	memcpy(st->seq_mark, st->next_seq, sizeof(st->seq_mark));
	if (store_step_done(st, STMT_BEGIN, "begin") == -1)
		return -1;
	if (store_step_ints(st, STMT_DATA_VERSION, "data_version", &version,
	    1) != 1)
		goto fail;
	if (!st->seq_known || version != st->data_version) {
		if (store_seq_derive(st, next) == -1)
			goto fail;
		for (i = 0; i < STORE_STREAMS; i++)
			if (st->seq_known && next[i] != st->next_seq[i])
				log_warnx("store: %s: another connection "
				    "wrote, %s seq continues at %" PRIu64
				    " instead of %" PRIu64, st->path,
				    store_stream_names[i], next[i],
				    st->next_seq[i]);
		memcpy(st->next_seq, next, sizeof(st->next_seq));
		memcpy(st->seq_mark, next, sizeof(st->seq_mark));
		st->seq_known = true;
		st->data_version = version;
	}
	return 0;
 fail:
	store_rollback(st);
	return -1;
}

/*
 * Roll back whatever is open (SQLite may already have done it) and give
 * back the seqs the transaction took.
 */
static void
store_rollback(struct store *st)
{
	memcpy(st->next_seq, st->seq_mark, sizeof(st->next_seq));
	if (sqlite3_get_autocommit(st->db))
		return;
	if (sqlite3_step(st->stmt[STMT_ROLLBACK]) != SQLITE_DONE)
		log_warnx("store: %s: rollback: %s (extended code %d)",
		    st->path, sqlite3_errmsg(st->db),
		    sqlite3_extended_errcode(st->db));
	sqlite3_reset(st->stmt[STMT_ROLLBACK]);
}

/* Run one SQL text on the connection (open, migrations).  0 or -1. */
static int
store_exec(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_sqlerr(st, what);
		return -1;
	}
	return 0;
}

/* PRAGMA returning one text value, copied to buf.  0 or -1. */
static int
store_pragma_text(struct store *st, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt	*s;
	const unsigned char *txt;
	int		 rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, sql);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		txt = sqlite3_column_text(s, 0);
		util_strlcpy(buf, txt != NULL ? (const char *)txt : "", len);
	} else if (rc == SQLITE_DONE)
		util_strlcpy(buf, "", len);
	else
		store_sqlerr(st, sql);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
store_pragma_int(struct store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, sql);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*v = 0;
	else
		store_sqlerr(st, sql);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Directory part of path, allocated. */
static char *
store_dirname(const char *path)
{
	const char	*slash;
	char		*dir;

	slash = strrchr(path, '/');
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	dir = xmalloc(slash - path + 1);
	memcpy(dir, path, slash - path);
	dir[slash - path] = '\0';
	return dir;
}

/*
 * Check what SQLite would report vaguely ("unable to open database file")
 * and say it clearly.  0 or -1 (logged).
 */
static int
store_check_path(const char *path, bool writable)
{
	struct stat	 sb;
	char		*dir;
	int		 ret = -1;

	if (path == NULL || *path == '\0') {
		log_warnx("store: no database path configured");
		return -1;
	}
	dir = store_dirname(path);
	if (stat(dir, &sb) == -1) {
		if (errno == ENOENT)
			log_warnx("store: %s: directory %s does not exist",
			    path, dir);
		else if (errno == ENOTDIR)
			log_warnx("store: %s: a component of %s is not a "
			    "directory", path, dir);
		else
			log_warnx("store: %s: directory %s: %s", path, dir,
			    strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_warnx("store: %s: %s is not a directory", path, dir);
		goto out;
	}
	if (access(dir, X_OK) == -1) {
		log_warnx("store: %s: directory %s is not searchable", path,
		    dir);
		goto out;
	}
	/* WAL needs to create the -wal and -shm files next to the database. */
	if (writable && access(dir, W_OK) == -1) {
		log_warnx("store: %s: directory %s is not writable", path,
		    dir);
		goto out;
	}
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && writable)
			ret = 0;	/* created by sqlite3_open_v2 */
		else if (errno == ENOENT)
			log_warnx("store: %s: no such file", path);
		else
			log_warnx("store: %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_warnx("store: %s: not a regular file", path);
		goto out;
	}
	if (access(path, writable ? R_OK | W_OK : R_OK) == -1) {
		log_warnx("store: %s: file is not %s", path,
		    writable ? "readable and writable" : "readable");
		goto out;
	}
	ret = 0;
 out:
	free(dir);
	return ret;
}

/* Read a meta text value into a new string ("" when absent).  0 or -1. */
static int
store_meta_text(struct store *st, const char *key, char **out)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_GET];
	const unsigned char *txt;
	int		 rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		txt = sqlite3_column_text(s, 0);
		*out = xstrdup(txt != NULL ? (const char *)txt : "");
	} else if (rc == SQLITE_DONE)
		*out = xstrdup("");
	else
		store_sqlerr(st, "read meta");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
store_meta_set_text(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_SET];

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return store_step_done(st, STMT_META_SET, "write meta");
}

/*
 * A seq floor, meta.<key> (meta.next_seq in a version 1 database, read
 * only).  -1 if missing or not a positive integer (in err): then nothing
 * tells whether the newest rows were deleted, and guessing could reuse
 * their seqs.
 */
static int
store_meta_seq_floor(struct store *st, const char *key, uint64_t *floor)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_GET];
	int64_t		 v = 0;
	int		 rc, type = SQLITE_NULL;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		type = sqlite3_column_type(s, 0);
		v = sqlite3_column_int64(s, 0);
	} else if (rc != SQLITE_DONE)
		store_sqlerr(st, "read seq floor");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (rc == SQLITE_DONE || type != SQLITE_INTEGER || v < 1) {
		snprintf(st->err, sizeof(st->err),
		    "meta.%s is missing or invalid", key);
		return -1;
	}
	*floor = (uint64_t)v;
	return 0;
}

/* max(col) of a table; NULL (no rows) reads as 0.  0 or -1 (in err). */
static int
store_max_seq(struct store *st, const char *table, const char *col,
    uint64_t *out)
{
	char		 sql[96];
	int64_t		 v;

	snprintf(sql, sizeof(sql), "SELECT max(%s) FROM %s", col, table);
	if (store_pragma_int(st, sql, &v) == -1)
		return -1;
	*out = v > 0 ? (uint64_t)v : 0;
	return 0;
}

/*
 * Before schema version 5 (read-only): the one stream's next seq, for
 * both.
 */
static int
store_seq_derive_legacy(struct store *st, uint64_t next[STORE_STREAMS])
{
	uint64_t	 floor, m;
	size_t		 i;
	int		 k;

	if (store_meta_seq_floor(st, st->schema_version <
	    STORE_SEQ_FLOOR_VERSION ? "next_seq" : "seq_floor", &floor) == -1)
		return -1;
	for (i = 0; i < NELEM(store_legacy_seq_cols); i++) {
		if (store_legacy_seq_cols[i].since > st->schema_version)
			continue;
		if (store_max_seq(st, store_legacy_seq_cols[i].name,
		    store_legacy_seq_cols[i].col, &m) == -1)
			return -1;
		if (m + 1 > floor)
			floor = m + 1;
	}
	for (k = 0; k < STORE_STREAMS; k++)
		next[k] = floor;
	return 0;
}

/*
 * The next seq of each stream as the database says: one above the
 * highest seq of the stream's columns, or its floor if that is higher.
 * Call inside a transaction so that all of it comes from one snapshot.
 * 0 or -1 (in err).
 */
static int
store_seq_derive(struct store *st, uint64_t next[STORE_STREAMS])
{
	uint64_t	 m;
	size_t		 i;
	int		 k;

	if (st->schema_version < STORE_STREAMS_VERSION)
		return store_seq_derive_legacy(st, next);
	for (k = 0; k < STORE_STREAMS; k++)
		if (store_meta_seq_floor(st, store_floor_keys[k],
		    &next[k]) == -1)
			return -1;
	for (i = 0; i < NELEM(store_seq_cols); i++) {
		if (store_max_seq(st, store_seq_cols[i].name,
		    store_seq_cols[i].col, &m) == -1)
			return -1;
		k = store_seq_cols[i].stream;
		if (m + 1 > next[k])
			next[k] = m + 1;
	}
	return 0;
}

/*
 * Record the next seqs as the floors, inside the write transaction of
 * anything that deletes records.  Only deletions need it: without them
 * the highest stored seq already tells where to go on.  0 or -1 (in err).
 */
static int
store_seq_floor_set(struct store *st)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_SET];
	int		 k;

	if (sqlite3_get_autocommit(st->db) || !st->seq_known) {
		snprintf(st->err, sizeof(st->err),
		    "seq floor written outside a transaction");
		return -1;
	}
	for (k = 0; k < STORE_STREAMS; k++) {
		if (st->next_seq[k] > (uint64_t)INT64_MAX) {
			snprintf(st->err, sizeof(st->err), "%s seq space "
			    "exhausted", store_stream_names[k]);
			return -1;
		}
		sqlite3_bind_text(s, 1, store_floor_keys[k], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)st->next_seq[k]);
		if (store_step_done(st, STMT_META_SET, "write seq floor") ==
		    -1)
			return -1;
	}
	return 0;
}

/*
 * The seq allocator: reserve n consecutive seqs of stream and return the
 * first.  Call inside a write transaction begun with store_begin();
 * nothing is written for it, and store_rollback() gives the seqs back,
 * so a failed commit neither burns nor reuses any.
 */
static int
store_seq_alloc(struct store *st, enum store_stream stream, uint64_t n,
    uint64_t *first)
{
	uint64_t	*next = &st->next_seq[stream];

	if (sqlite3_get_autocommit(st->db) || !st->seq_known) {
		snprintf(st->err, sizeof(st->err),
		    "seq allocation outside a transaction");
		return -1;
	}
	if (*next > (uint64_t)INT64_MAX ||
	    n > (uint64_t)INT64_MAX - *next + 1) {
		snprintf(st->err, sizeof(st->err), "%s seq space exhausted",
		    store_stream_names[stream]);
		return -1;
	}
	*first = *next;
	*next += n;
	return 0;
}

/*
 * A non-negative integer in meta (0 when absent).  0 or -1 (in err).
 * The acknowledgement cursors.
 */
static int
store_meta_uint(struct store *st, const char *key, uint64_t *out)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_GET];
	int64_t		 v = 0;
	int		 rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		store_sqlerr(st, "read meta");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	*out = v > 0 ? (uint64_t)v : 0;
	return 0;
}

const char *
store_stream_name(enum store_stream stream)
{
	if ((unsigned)stream >= STORE_STREAMS)
		return NULL;
	return store_stream_names[stream];
}

int
store_stream_parse(const char *name, enum store_stream *out)
{
	int		 k;

	for (k = 0; name != NULL && k < STORE_STREAMS; k++)
		if (strcmp(name, store_stream_names[k]) == 0) {
			*out = (enum store_stream)k;
			return 0;
		}
	return -1;
}

/* NaN is "unknown" in struct fix and NULL in the database. */
static void
store_bind_real(sqlite3_stmt *s, int idx, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, idx);
	else
		sqlite3_bind_double(s, idx, v);
}

/* Negative satellite counts are "unknown", NULL in the database. */
static void
store_bind_count(sqlite3_stmt *s, int idx, int v)
{
	if (v < 0)
		sqlite3_bind_null(s, idx);
	else
		sqlite3_bind_int(s, idx, v);
}

/*
 * OBD values and trip summaries: anything not finite is unknown, NULL in
 * the database.
 */
static void
store_bind_finite(sqlite3_stmt *s, int idx, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(s, idx, v);
	else
		sqlite3_bind_null(s, idx);
}

static double
store_column_real(sqlite3_stmt *s, int idx)
{
	if (sqlite3_column_type(s, idx) == SQLITE_NULL)
		return NAN;
	return sqlite3_column_double(s, idx);
}

static int
store_column_count(sqlite3_stmt *s, int idx, int unknown)
{
	if (sqlite3_column_type(s, idx) == SQLITE_NULL)
		return unknown;
	return sqlite3_column_int(s, idx);
}

static double *
store_obd_real(struct obd_sample *o, size_t i)
{
	return (double *)(void *)((char *)o + store_obd_reals[i]);
}

/* Bind the OBD columns from parameter col on; o NULL: all NULL. */
static void
store_bind_obd(sqlite3_stmt *s, int col, const struct obd_sample *o)
{
	struct obd_sample c;
	size_t		 i;

	if (o == NULL || !record_obd_any(o)) {
		for (i = 0; i < POS_OBD_NCOLUMNS; i++)
			sqlite3_bind_null(s, col + (int)i);
		return;
	}
	c = *o;
	for (i = 0; i < NELEM(store_obd_reals); i++)
		store_bind_finite(s, col + (int)i, *store_obd_real(&c, i));
	col += (int)NELEM(store_obd_reals);
	/* Whether the rate was estimated means nothing without a rate. */
	if (isfinite(c.fuel_rate_lph))
		sqlite3_bind_int(s, col, c.fuel_rate_estimated != 0);
	else
		sqlite3_bind_null(s, col);
	if (c.mil_on >= 0)
		sqlite3_bind_int(s, col + 1, c.mil_on != 0);
	else
		sqlite3_bind_null(s, col + 1);
}

static void
store_column_obd(sqlite3_stmt *s, int col, struct obd_sample *o)
{
	size_t		 i;

	record_obd_clear(o);
	for (i = 0; i < NELEM(store_obd_reals); i++)
		*store_obd_real(o, i) = store_column_real(s, col + (int)i);
	col += (int)NELEM(store_obd_reals);
	o->fuel_rate_estimated = store_column_count(s, col, 0) != 0;
	o->mil_on = store_column_count(s, col + 1, -1);
	if (o->mil_on > 1)
		o->mil_on = 1;
}

static int
store_insert_position(struct store *st, uint64_t seq,
    const struct store_pending *p)
{
	sqlite3_stmt	*s = st->stmt[STMT_POS_INSERT];
	const struct fix *f = &p->fix;
	int		 i, col;

	sqlite3_bind_int64(s, 1, (int64_t)seq);
	sqlite3_bind_int64(s, 2, f->t_utc_ms);
	sqlite3_bind_double(s, 3, f->lat_deg);
	sqlite3_bind_double(s, 4, f->lon_deg);
	store_bind_real(s, 5, f->alt_m);
	store_bind_real(s, 6, f->speed_mps);
	store_bind_real(s, 7, f->heading_deg);
	store_bind_real(s, 8, f->hdop);
	store_bind_real(s, 9, f->eph_m);
	sqlite3_bind_int(s, 10, f->mode);
	store_bind_count(s, 11, f->sats_used);
	store_bind_count(s, 12, f->sats_visible);
	/* gps_*, bds_*, glo_*, gal_*: enum gnss_sys order */
	_Static_assert(GNSS_SYS_GPS == 0 && GNSS_SYS_BEIDOU == 1 &&
	    GNSS_SYS_GLONASS == 2 && GNSS_SYS_GALILEO == 3 &&
	    GNSS_SYS_COUNT == 4, "positions columns follow enum gnss_sys");
	for (i = 0, col = 13; i < GNSS_SYS_COUNT; i++, col += 2) {
		sqlite3_bind_int(s, col, f->sys[i].visible);
		sqlite3_bind_int(s, col + 1, f->sys[i].used);
	}
	store_bind_obd(s, POS_NCOLUMNS + 1, &p->obd);
	return store_step_done(st, STMT_POS_INSERT, "insert position");
}

static void
store_row_to_position(sqlite3_stmt *s, struct store_position *p)
{
	struct fix	*f = &p->fix;
	int		 i, col;

	memset(p, 0, sizeof(*p));
	p->seq = (uint64_t)sqlite3_column_int64(s, 0);
	f->t_utc_ms = sqlite3_column_int64(s, 1);
	f->t_mono_ms = 0;	/* not stored: meaningless after a restart */
	f->lat_deg = sqlite3_column_double(s, 2);
	f->lon_deg = sqlite3_column_double(s, 3);
	f->alt_m = store_column_real(s, 4);
	f->speed_mps = store_column_real(s, 5);
	f->heading_deg = store_column_real(s, 6);
	f->hdop = store_column_real(s, 7);
	f->eph_m = store_column_real(s, 8);
	f->mode = store_column_count(s, 9, 0);
	f->sats_used = store_column_count(s, 10, -1);
	f->sats_visible = store_column_count(s, 11, -1);
	for (i = 0, col = 12; i < GNSS_SYS_COUNT; i++, col += 2) {
		f->sys[i].visible = (uint16_t)store_column_count(s, col, 0);
		f->sys[i].used = (uint16_t)store_column_count(s, col + 1, 0);
	}
	store_column_obd(s, POS_NCOLUMNS, &p->obd);
}

/* Database text of the end reasons; NULL while open. */
static const char *const store_trip_end_names[] = {
	[TRIP_END_NONE] = NULL,
	[TRIP_END_IGNITION_OFF] = "ignition_off",
	[TRIP_END_STATIONARY] = "stationary",
	[TRIP_END_POWER_LOSS] = "power_loss",
	[TRIP_END_SHUTDOWN] = "shutdown",
};

const char *
store_trip_end_name(enum trip_end why)
{
	if ((size_t)why >= NELEM(store_trip_end_names))
		return NULL;
	return store_trip_end_names[why];
}

/* Unknown text (a newer program's reason) reads as TRIP_END_NONE. */
static enum trip_end
store_trip_end_parse(const unsigned char *txt)
{
	size_t		 i;

	if (txt == NULL)
		return TRIP_END_NONE;
	for (i = 0; i < NELEM(store_trip_end_names); i++)
		if (store_trip_end_names[i] != NULL &&
		    strcmp((const char *)txt, store_trip_end_names[i]) == 0)
			return (enum trip_end)i;
	return TRIP_END_NONE;
}

/* The summary values, parameters ?1..?17 of the trip statements. */
static void
store_bind_trip(sqlite3_stmt *s, const struct trip_summary *t)
{
	sqlite3_bind_int64(s, 1, t->start_utc_ms);
	sqlite3_bind_int64(s, 2, t->end_utc_ms);
	store_bind_finite(s, 3, t->distance_m);
	store_bind_finite(s, 4, t->duration_s);
	store_bind_finite(s, 5, t->driving_s);
	store_bind_finite(s, 6, t->idle_s);
	store_bind_finite(s, 7, t->max_speed_kmh);
	store_bind_finite(s, 8, t->avg_speed_kmh);
	store_bind_finite(s, 9, t->fuel_used_l);
	store_bind_finite(s, 10, t->start_lat_deg);
	store_bind_finite(s, 11, t->start_lon_deg);
	store_bind_finite(s, 12, t->end_lat_deg);
	store_bind_finite(s, 13, t->end_lon_deg);
	store_bind_finite(s, 14, t->odometer_start_km);
	store_bind_finite(s, 15, t->odometer_end_km);
	sqlite3_bind_int(s, 16, t->gnss_gap);
	sqlite3_bind_int(s, 17, t->towed);
}

/* A row of TRIP_COLUMNS. */
static void
store_row_to_trip(sqlite3_stmt *s, struct store_trip *out)
{
	struct trip_summary *t = &out->trip;

	memset(out, 0, sizeof(*out));
	t->id = (uint64_t)sqlite3_column_int64(s, 0);
	out->seq = (uint64_t)sqlite3_column_int64(s, 1);	/* NULL: 0 */
	out->open = sqlite3_column_int(s, 2) != 0;
	t->start_utc_ms = sqlite3_column_int64(s, 3);
	t->end_utc_ms = sqlite3_column_int64(s, 4);
	t->distance_m = store_column_real(s, 5);
	t->duration_s = store_column_real(s, 6);
	t->driving_s = store_column_real(s, 7);
	t->idle_s = store_column_real(s, 8);
	t->max_speed_kmh = store_column_real(s, 9);
	t->avg_speed_kmh = store_column_real(s, 10);
	t->fuel_used_l = store_column_real(s, 11);
	t->start_lat_deg = store_column_real(s, 12);
	t->start_lon_deg = store_column_real(s, 13);
	t->end_lat_deg = store_column_real(s, 14);
	t->end_lon_deg = store_column_real(s, 15);
	t->odometer_start_km = store_column_real(s, 16);
	t->odometer_end_km = store_column_real(s, 17);
	t->ended_by = out->open ? TRIP_END_NONE :
	    store_trip_end_parse(sqlite3_column_text(s, 18));
	t->gnss_gap = sqlite3_column_int(s, 19) != 0;
	t->towed = sqlite3_column_int(s, 20) != 0;
}

/*
 * Bring the schema to STORE_SCHEMA_VERSION: every step that is missing,
 * and the user_version bump, in one transaction, so that a file is at one
 * version or the next, never in between.  The version is read under the
 * write lock so that two processes opening the same new file cannot both
 * run a step.
 */
static int
store_migrate(struct store *st)
{
	int64_t		 version, from, ntables;
	char		 sql[64];

	if (store_exec(st, "BEGIN IMMEDIATE", "begin migration") == -1)
		return -1;
	if (store_pragma_int(st, "PRAGMA user_version", &version) == -1)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err), "database schema "
		    "version %" PRId64 " is newer than this program "
		    "supports (%d), refusing to touch it", version,
		    STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 0) {
		snprintf(st->err, sizeof(st->err), "database schema "
		    "version %" PRId64 " is invalid", version);
		goto fail;
	}
	if (version == 0) {
		/* Refuse to add our tables to someone else's file. */
		if (store_pragma_int(st, "SELECT count(*) FROM "
		    "sqlite_master", &ntables) == -1)
			goto fail;
		if (ntables != 0) {
			snprintf(st->err, sizeof(st->err), "not a "
			    "fleetgw database (schema version 0 but "
			    "it has tables)");
			goto fail;
		}
	}
	for (from = version; version < STORE_SCHEMA_VERSION; version++)
		if (store_exec(st, store_migrations[version],
		    "migration") == -1)
			goto fail;
	if (version != from) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64,
		    version);
		if (store_exec(st, sql, "set user_version") == -1)
			goto fail;
	}
	if (store_exec(st, "COMMIT", "commit migration") == -1)
		goto fail;
	if (version != from)
		log_info("store: %s: schema migrated to version %" PRId64
		    " (from %" PRId64 ")", st->path, version, from);
	st->schema_version = version;
	return 0;
 fail:
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Prepare one statement for the life of the connection.  0 or -1. */
static int
store_prepare_one(struct store *st, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    out, NULL) != SQLITE_OK) {
		store_sqlerr(st, sql);
		return -1;
	}
	return 0;
}

/*
 * The retention statements of each pass and table (writers only): the
 * range (rows, their first and last seq, the records above the cursor
 * with their lowest and highest seq) and the delete, of the same rows.
 */
static int
store_prepare_retention(struct store *st)
{
	char		*where, *sql;
	const char	*cond, *col;
	size_t		 m, i;
	int		 rc;

	for (m = 0; m < RM_COUNT; m++)
		for (i = 0; i < RT_COUNT; i++) {
			cond = m == RM_UNACKED ? store_rtables[i].unacked :
			    store_rtables[i].acked;
			col = m == RM_AGE ? store_rtables[i].age_col :
			    store_rtables[i].size_col;
			where = xasprintf("%s AND %s AND %s AND %s AND "
			    "%s <= ?1", store_rtables[i].deletable,
			    store_rtables[i].kept, cond, m == RM_AGE ? "1" :
			    store_rtables[i].size_ok, col);
			sql = xasprintf("SELECT count(*), min(%s), max(%s), "
			    "coalesce(sum(%s), 0), min(%s), max(%s) FROM %s "
			    "WHERE %s", store_rtables[i].first_col,
			    store_rtables[i].last_col, store_rtables[i].rec_n,
			    store_rtables[i].rec_lo, store_rtables[i].rec_hi,
			    store_rtables[i].table, where);
			rc = store_prepare_one(st, sql,
			    &st->rstmt[m][i][RS_RANGE]);
			free(sql);
			if (rc == -1) {
				free(where);
				return -1;
			}
			sql = xasprintf("DELETE FROM %s WHERE %s",
			    store_rtables[i].table, where);
			rc = store_prepare_one(st, sql,
			    &st->rstmt[m][i][RS_DELETE]);
			free(sql);
			free(where);
			if (rc == -1)
				return -1;
		}
	return 0;
}

static int
store_prepare(struct store *st)
{
	const char	*sql;
	int		 i;

	for (i = 0; i < STMT_NSTMT; i++) {
		if (st->readonly && store_sql[i].rw)
			continue;
		sql = store_sql[i].since <= st->schema_version ?
		    store_sql[i].sql : store_sql[i].old;
		if (sql == NULL)
			continue;	/* read-only, older file */
		if (store_prepare_one(st, sql, &st->stmt[i]) == -1)
			return -1;
	}
	return st->readonly ? 0 : store_prepare_retention(st);
}

/* The newest record time, per table (store_last_record_utc_ms()). */
static const struct {
	const char	*sql;
	int		 since;
} store_last_sql[] = {
	{ "SELECT max(t_utc_ms) FROM positions", 1 },
	{ "SELECT max(end_utc_ms) FROM trips", STORE_TRIPS_VERSION },
	{ "SELECT max(start_utc_ms) FROM events", STORE_EVENTS_VERSION },
};

/*
 * The counts for the stats and the newest record time, inside the
 * caller's transaction (one snapshot).  0 or -1 (in err).
 */
static int
store_load_counts(struct store *st)
{
	int64_t		 count, ev[2] = { 0, 0 }, t;
	size_t		 i;

	if (store_step_ints(st, STMT_POS_COUNT, "count positions", &count,
	    1) == -1 ||
	    store_count(st, STMT_TRIP_COUNT, "count trips", &st->trips) == -1 ||
	    store_count(st, STMT_DTC_COUNT_ACTIVE, "count DTCs",
	    &st->dtcs_active) == -1)
		return -1;
	if (st->stmt[STMT_EV_COUNT] != NULL && store_step_ints(st,
	    STMT_EV_COUNT, "count events", ev, 2) == -1)
		return -1;
	st->last_record_utc_ms = 0;
	for (i = 0; i < NELEM(store_last_sql); i++) {
		if (store_last_sql[i].since > st->schema_version)
			continue;	/* read-only, older file */
		/* NULL (no rows) reads as 0. */
		if (store_pragma_int(st, store_last_sql[i].sql, &t) == -1)
			return -1;
		if (t > st->last_record_utc_ms)
			st->last_record_utc_ms = t;
	}
	st->positions = count > 0 ? (uint64_t)count : 0;
	st->events = ev[0] > 0 ? (uint64_t)ev[0] : 0;
	st->events_open = ev[1] > 0 ? (uint64_t)ev[1] : 0;
	return 0;
}

/*
 * Load meta and record device id and timezone; tell whether the previous
 * writer stopped cleanly and mark the file as being written.
 * store_begin() derives next_seq on the way (the first transaction of
 * the connection).
 */
static int
store_load_meta(struct store *st, const char *device_id,
    const char *tz)
{
	char		*running = NULL;

	if (store_begin(st) == -1)
		return -1;
	if (store_meta_text(st, "device_id", &st->device_id) == -1 ||
	    store_meta_text(st, "timezone", &st->timezone) == -1 ||
	    store_meta_text(st, "vin", &st->vin) == -1)
		goto fail;
	if (device_id != NULL && *device_id != '\0' &&
	    strcmp(device_id, st->device_id) != 0) {
		if (*st->device_id != '\0')
			log_warnx("store: %s: device id changes from %s to %s",
			    st->path, st->device_id, device_id);
		if (store_meta_set_text(st, "device_id", device_id) == -1)
			goto fail;
		free(st->device_id);
		st->device_id = xstrdup(device_id);
	}
	if (tz != NULL && *tz != '\0' && strcmp(tz, st->timezone) != 0) {
		if (store_meta_set_text(st, "timezone", tz) == -1)
			goto fail;
		free(st->timezone);
		st->timezone = xstrdup(tz);
	}
	if (store_load_counts(st) == -1)
		goto fail;
	/* Absent (a new file, or older than version 4): clean. */
	if (store_meta_text(st, "running", &running) == -1 ||
	    store_meta_set_text(st, "running", "1") == -1)
		goto fail;
	if (store_step_done(st, STMT_COMMIT, "commit meta") == -1)
		goto fail;
	st->unclean_previous = strcmp(running, "1") == 0;
	free(running);
	if (st->unclean_previous)
		log_info("store: %s: the previous run did not stop cleanly, "
		    "last record at %" PRId64 " ms", st->path,
		    st->last_record_utc_ms);
	return 0;
 fail:
	free(running);
	store_rollback(st);
	return -1;
}

/* Connection settings shared by both modes. */
static int
store_configure(struct store *st)
{
	int		 on;

	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/* Ordinary SQL must not be able to corrupt the file on purpose. */
	if (sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on) !=
	    SQLITE_OK || sqlite3_db_config(st->db,
	    SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on) != SQLITE_OK) {
		store_sqlerr(st, "db_config");
		return -1;
	}
	return store_exec(st, "PRAGMA trusted_schema = OFF;"
	    "PRAGMA cell_size_check = ON;"
	    "PRAGMA mmap_size = 0", "connection settings");
}

static struct store *
store_new(const char *path, bool readonly)
{
	struct store	*st;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->readonly = readonly;
	return st;
}

static void
store_free(struct store *st)
{
	size_t		 m, t, k;
	int		 i;

	if (st == NULL)
		return;
	for (i = 0; i < STMT_NSTMT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (m = 0; m < RM_COUNT; m++)
		for (t = 0; t < RT_COUNT; t++)
			for (k = 0; k < RS_COUNT; k++)
				sqlite3_finalize(st->rstmt[m][t][k]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("store: %s: close: %s", st->path,
		    sqlite3_errmsg(st->db));
	free(st->pending);
	for (k = 0; k < st->nevq; k++)
		free(st->evq[k].details);
	free(st->evq);
	free(st->rules_state);
	free(st->cmd_result);
	free(st->cmd_error);
	free(st->device_id);
	free(st->timezone);
	free(st->vin);
	free(st->chain_tz);
	free(st->path);
	free(st);
}

static void
store_apply_limits(struct store *st, const struct store_opts *o)
{
	st->max_size_mb = o->max_size_mb;
	st->keep_days = o->keep_days;
	st->commit_interval_ms = o->commit_interval_ms;
	st->commit_rows = o->commit_rows;
	st->acks = o->acks;
}

struct store *
store_open(const struct store_opts *opts)
{
	struct store	*st;
	char		 mode[16], check[256];

	if (store_check_path(opts->path, true) == -1)
		return NULL;
	st = store_new(opts->path, false);
	store_apply_limits(st, opts);
	if (sqlite3_open_v2(st->path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			fatalx("store: %s: out of memory", st->path);
		store_sqlerr(st, "open");
		goto fail;
	}
	if (store_configure(st) == -1)
		goto fail;
	/* The first statement to read the file: "not a database" shows here. */
	if (store_pragma_text(st, "PRAGMA journal_mode = WAL", mode,
	    sizeof(mode)) == -1)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		snprintf(st->err, sizeof(st->err), "cannot switch to WAL "
		    "(journal_mode is %s)", mode);
		goto fail;
	}
	if (store_exec(st, "PRAGMA synchronous = FULL;"
	    "PRAGMA journal_size_limit = " STORE_JOURNAL_LIMIT,
	    "durability settings") == -1)
		goto fail;
	if (store_pragma_text(st, "PRAGMA quick_check", check,
	    sizeof(check)) == -1)
		goto fail;
	if (strcmp(check, "ok") != 0) {
		snprintf(st->err, sizeof(st->err), "quick_check failed: %s",
		    check);
		goto fail;
	}
	if (store_migrate(st) == -1 || store_prepare(st) == -1)
		goto fail;
	if (store_pragma_int(st, "PRAGMA page_size", &st->page_size) == -1)
		goto fail;
	if (store_load_meta(st, opts->device_id, opts->timezone) == -1)
		goto fail;
	st->pending = xcalloc(STORE_PENDING_MAX, sizeof(*st->pending));
	st->evq = xcalloc(STORE_EVENT_QUEUE_MAX, sizeof(*st->evq));
	if (store_chain_load(st) == -1)
		goto fail;
	log_debug("store: %s: open, %" PRIu64 " positions, %" PRIu64 " trips, "
	    "next seq: events %" PRIu64 ", positions %" PRIu64, st->path,
	    st->positions, st->trips, st->next_seq[STORE_STREAM_EVENTS],
	    st->next_seq[STORE_STREAM_POSITIONS]);
	return st;
 fail:
	log_warnx("store: %s: %s", st->path, st->err);
	store_free(st);
	return NULL;
}

/* "file:" URI for path with immutable=1 (RFC 3986 escapes where needed). */
static char *
store_immutable_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char		*uri, *q;

	uri = xmalloc(strlen("file:") + 3 * strlen(path) +
	    strlen("?immutable=1") + 1);
	q = uri + sprintf(uri, "file:");
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p == '?' || *p == '#' || *p == '%' || *p <= ' ' ||
		    *p >= 0x7f) {
			*q++ = '%';
			*q++ = hex[*p >> 4];
			*q++ = hex[*p & 0xf];
		} else
			*q++ = (char)*p;
	}
	strcpy(q, "?immutable=1");
	return uri;
}

/* Check the schema of a read-only connection.  0 or -1 (in err). */
static int
store_ro_check(struct store *st)
{
	int64_t		 version;

	if (store_pragma_int(st, "PRAGMA user_version", &version) == -1)
		return -1;
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err), "database schema version "
		    "%" PRId64 " is newer than this program supports (%d)",
		    version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (version < 1) {
		snprintf(st->err, sizeof(st->err), "not a fleetgw database "
		    "(schema version %" PRId64 ")", version);
		return -1;
	}
	st->schema_version = version;
	return 0;
}

struct store *
store_open_readonly(const char *path)
{
	struct store	*st;
	struct stat	 sb;
	char		*uri = NULL, *wal;
	int		 rc, ecode;

	if (store_check_path(path, false) == -1)
		return NULL;
	st = store_new(path, true);
	/*
	 * A writer keeps a -wal file while it runs, and the last connection
	 * to close removes it.  Without one, the main file is the whole
	 * database and nobody writes it: read it as immutable.  That needs
	 * neither a -shm nor write access to the directory, and leaves no
	 * -wal/-shm behind (owned by whoever ran fleetgwctl, which would
	 * lock the daemon out), and works on read-only media.
	 */
	wal = xasprintf("%s-wal", st->path);
	if (stat(wal, &sb) == -1 && errno == ENOENT) {
		uri = store_immutable_uri(st->path);
		rc = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_URI, NULL);
	} else
		rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READONLY,
		    NULL);
	free(wal);
	if (st->db == NULL)
		fatalx("store: %s: out of memory", st->path);
	if (rc != SQLITE_OK) {
		store_sqlerr(st, "open");
		goto fail;
	}
	if (store_configure(st) == -1 || store_ro_check(st) == -1) {
		/* A live WAL needs its -shm, or the right to create it. */
		ecode = sqlite3_errcode(st->db) & 0xff;
		if (uri == NULL && (ecode == SQLITE_CANTOPEN ||
		    ecode == SQLITE_READONLY))
			snprintf(st->err + strlen(st->err), sizeof(st->err) -
			    strlen(st->err), "; a -wal file exists, reading it "
			    "needs the -shm file or write access to the "
			    "directory");
		goto fail;
	}
	if (store_exec(st, "PRAGMA query_only = ON", "query_only") == -1 ||
	    store_prepare(st) == -1)
		goto fail;
	/* One snapshot, so that next_seq and the count agree. */
	if (store_exec(st, "BEGIN", "begin") == -1 ||
	    store_meta_text(st, "device_id", &st->device_id) == -1 ||
	    store_meta_text(st, "timezone", &st->timezone) == -1 ||
	    store_meta_text(st, "vin", &st->vin) == -1 ||
	    store_meta_text(st, "chain_timezone", &st->chain_tz) == -1 ||
	    store_seq_derive(st, st->next_seq) == -1 ||
	    store_load_counts(st) == -1 ||
	    store_exec(st, "COMMIT", "end read") == -1)
		goto fail;
	free(uri);
	return st;
 fail:
	log_warnx("store: %s: %s", st->path, st->err);
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	free(uri);
	store_free(st);
	return NULL;
}

/*
 * Anything waiting for a commit: positions, trip progress, trip ends,
 * events, the rules state.
 */
static bool
store_dirty(const struct store *st)
{
	return st->npending > 0 || st->prog_dirty || st->nends > 0 ||
	    st->nevq > 0 || st->rules_state != NULL;
}

/* What is waiting, for a log line: "3 positions, trip progress". */
static void
store_pending_desc(const struct store *st, char *buf, size_t len)
{
	size_t		 off = 0;

	buf[0] = '\0';
	if (st->npending > 0)
		off += (size_t)snprintf(buf, len, "%zu position%s",
		    st->npending, st->npending == 1 ? "" : "s");
	if (st->prog_dirty && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%strip progress",
		    off > 0 ? ", " : "");
	if (st->nends > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off,
		    "%s%zu trip end%s", off > 0 ? ", " : "", st->nends,
		    st->nends == 1 ? "" : "s");
	if (st->nevq > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s%zu event "
		    "change%s", off > 0 ? ", " : "", st->nevq,
		    st->nevq == 1 ? "" : "s");
	if (st->rules_state != NULL && off < len)
		snprintf(buf + off, len - off, "%srules state",
		    off > 0 ? ", " : "");
}

/*
 * The last write of a writer: meta.running back to 0, in a transaction of
 * its own (after the final batch, which may have failed).  0 or -1.
 */
static int
store_mark_stopped(struct store *st)
{
	if (store_begin(st) == -1)
		return -1;
	if (store_meta_set_text(st, "running", "0") == -1 ||
	    store_step_done(st, STMT_COMMIT, "commit running") == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

void
store_close(struct store *st)
{
	char		 what[128];

	if (st == NULL)
		return;
	if (!st->readonly) {
		/* Progress is written, the open trip stays open. */
		store_pending_desc(st, what, sizeof(what));
		if (store_dirty(st) && store_commit(st) == -1)
			log_warnx("store: %s: %s lost at close", st->path,
			    what);
		if (store_mark_stopped(st) == -1)
			log_warnx("store: %s: %s, the next start will take "
			    "this stop for a crash", st->path, st->err);
		/* Leave a small WAL behind; best effort. */
		sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
		    NULL, NULL);
	}
	store_free(st);
}

void
store_set_limits(struct store *st, const struct store_opts *opts)
{
	store_apply_limits(st, opts);
}

/* Rows that make a batch due; never more than the buffer holds. */
static size_t
store_batch_rows(const struct store *st)
{
	if (st->commit_rows == 0)
		return 1;
	if (st->commit_rows > STORE_PENDING_MAX)
		return STORE_PENDING_MAX;
	return st->commit_rows;
}

/* What became of a queued trip end inside a batch transaction. */
enum store_end_result {
	END_CLOSED,	/* the open row was closed */
	END_INSERTED,	/* no such row: inserted closed */
	END_SKIPPED	/* the row was closed already (another writer) */
};

/* Write the open trip's RAM copy; *gone if its row is no longer open. */
static int
store_write_progress(struct store *st, bool *gone)
{
	sqlite3_stmt	*s = st->stmt[STMT_TRIP_PROGRESS];

	store_bind_trip(s, &st->prog);
	sqlite3_bind_int64(s, TRIP_P_ID, (int64_t)st->prog.id);
	if (store_step_done(st, STMT_TRIP_PROGRESS, "write trip progress") ==
	    -1)
		return -1;
	*gone = sqlite3_changes(st->db) == 0;
	return 0;
}

/*
 * Close (or insert closed) one queued trip with the next seq.  The row's
 * state is looked at first, so that no seq is taken for a row that is
 * skipped.
 */
static int
store_write_end(struct store *st, const struct trip_summary *t,
    uint64_t *seq, enum store_end_result *res)
{
	sqlite3_stmt	*s;
	int64_t		 open = 0;
	int		 rc = 0;

	if (t->id != 0) {
		sqlite3_bind_int64(st->stmt[STMT_TRIP_STATE], 1,
		    (int64_t)t->id);
		if ((rc = store_step_ints(st, STMT_TRIP_STATE, "trip state",
		    &open, 1)) == -1)
			return -1;
	}
	if (rc == 1 && open == 0) {
		*res = END_SKIPPED;
		return 0;
	}
	if (store_seq_alloc(st, STORE_STREAM_EVENTS, 1, seq) == -1)
		return -1;
	*res = rc == 1 ? END_CLOSED : END_INSERTED;
	s = st->stmt[rc == 1 ? STMT_TRIP_CLOSE : STMT_TRIP_INSERT];
	store_bind_trip(s, t);
	if (t->id != 0)
		sqlite3_bind_int64(s, TRIP_P_ID, (int64_t)t->id);
	else
		sqlite3_bind_null(s, TRIP_P_ID);	/* a new id */
	if (rc != 1)
		sqlite3_bind_int(s, TRIP_P_OPEN, 0);
	sqlite3_bind_int64(s, TRIP_P_SEQ, (int64_t)*seq);
	sqlite3_bind_text(s, TRIP_P_ENDED_BY, store_trip_end_name(t->ended_by),
	    -1, SQLITE_STATIC);
	return store_stmt_done(st, s, "write trip end");
}

/* Database text of a type or severity; the rules module owns the names. */
static const char *
store_event_type_name(int type)
{
	if (type < 0 || type >= RULES_TYPE_COUNT)
		return NULL;
	return rules_type_name((enum rules_type)type);
}

static const char *
store_event_severity_name(int severity)
{
	if (severity < RULES_INFO || severity > RULES_CRITICAL)
		return NULL;
	return rules_severity_name((enum rules_severity)severity);
}

/* Text of a row back to the enums; -1 if this program does not know it. */
static int
store_event_type_parse(const unsigned char *txt)
{
	const char	*name;
	int		 i;

	for (i = 0; txt != NULL && i < RULES_TYPE_COUNT; i++)
		if ((name = store_event_type_name(i)) != NULL &&
		    strcmp((const char *)txt, name) == 0)
			return i;
	return -1;
}

static int
store_event_severity_parse(const unsigned char *txt)
{
	const char	*name;
	int		 i;

	for (i = RULES_INFO; txt != NULL && i <= RULES_CRITICAL; i++)
		if ((name = store_event_severity_name(i)) != NULL &&
		    strcmp((const char *)txt, name) == 0)
			return i;
	return -1;
}

static const char *
store_phase_name(enum rules_phase phase)
{
	switch (phase) {
	case RULES_EV_OPEN:
		return "open";
	case RULES_EV_CLOSE:
		return "close";
	case RULES_EV_INSTANT:
		return "instant";
	}
	return NULL;
}

/* "" is no fence, NULL in the database. */
static void
store_bind_text_or_null(sqlite3_stmt *s, int idx, const char *txt)
{
	if (txt == NULL || *txt == '\0')
		sqlite3_bind_null(s, idx);
	else
		sqlite3_bind_text(s, idx, txt, -1, SQLITE_STATIC);
}

/*
 * Write one queued event change with the next seq.  The row's state is
 * looked at first, so that no seq is taken for a change that is ignored.
 */
static int
store_write_event(struct store *st, struct store_event_pending *p)
{
	const struct rules_event *ev = &p->ev;
	sqlite3_stmt	*s;
	int64_t		 row[2], end;
	uint64_t	 seq;
	int		 rc;

	sqlite3_bind_int64(st->stmt[STMT_EV_STATE], 1, (int64_t)ev->id);
	if ((rc = store_step_ints(st, STMT_EV_STATE, "event state", row,
	    2)) == -1)
		return -1;
	/* row[1]: end_seq, NULL (open) reads as 0; seqs start at 1. */
	if (rc == 1 && ev->phase != RULES_EV_CLOSE) {
		p->res = EV_DUPLICATE;
		return 0;
	}
	if (rc == 1 && row[1] != 0) {
		p->res = EV_CLOSED_ALREADY;
		return 0;
	}
	if (store_seq_alloc(st, STORE_STREAM_EVENTS, 1, &seq) == -1)
		return -1;
	p->seq = seq;
	end = ev->end_utc_ms > ev->start_utc_ms ? ev->end_utc_ms :
	    ev->start_utc_ms;
	if (rc == 1) {
		p->res = EV_CLOSED;
		s = st->stmt[STMT_EV_CLOSE];
	} else {
		p->res = ev->phase == RULES_EV_OPEN ? EV_OPENED :
		    ev->phase == RULES_EV_INSTANT ? EV_INSTANT :
		    EV_INSERTED_CLOSED;
		s = st->stmt[STMT_EV_INSERT];
		sqlite3_bind_int64(s, EV_P_SEQ, (int64_t)seq);
		sqlite3_bind_text(s, EV_P_TYPE,
		    store_event_type_name(ev->type), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, EV_P_SEVERITY,
		    store_event_severity_name(ev->severity), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, EV_P_START, ev->start_utc_ms);
	}
	sqlite3_bind_int64(s, EV_P_ID, (int64_t)ev->id);
	if (p->res == EV_OPENED) {
		sqlite3_bind_null(s, EV_P_END_SEQ);
		sqlite3_bind_null(s, EV_P_END);
	} else {
		sqlite3_bind_int64(s, EV_P_END_SEQ, (int64_t)seq);
		sqlite3_bind_int64(s, EV_P_END, end);
	}
	if (ev->trip_id != 0)
		sqlite3_bind_int64(s, EV_P_TRIP, (int64_t)ev->trip_id);
	else
		sqlite3_bind_null(s, EV_P_TRIP);
	/* A position is known as a pair or not at all. */
	if (isfinite(ev->lat_deg) && isfinite(ev->lon_deg)) {
		sqlite3_bind_double(s, EV_P_LAT, ev->lat_deg);
		sqlite3_bind_double(s, EV_P_LON, ev->lon_deg);
	} else {
		sqlite3_bind_null(s, EV_P_LAT);
		sqlite3_bind_null(s, EV_P_LON);
	}
	store_bind_text_or_null(s, EV_P_FENCE, ev->fence_id);
	if (p->details != NULL)
		sqlite3_bind_text(s, EV_P_DETAILS, p->details, -1,
		    SQLITE_STATIC);
	else if (rc == 1)
		sqlite3_bind_null(s, EV_P_DETAILS);	/* keep the row's */
	else
		sqlite3_bind_text(s, EV_P_DETAILS, "{}", -1, SQLITE_STATIC);
	return store_stmt_done(st, s, rc == 1 ? "close event" :
	    "insert event");
}

/* After COMMIT: the counters and the log lines of the written events. */
static void
store_events_done(struct store *st)
{
	struct store_event_pending *p;
	size_t		 i;

	for (i = 0; i < st->nevq; i++) {
		p = &st->evq[i];
		switch (p->res) {
		case EV_OPENED:
			st->events++;
			st->events_open++;
			break;
		case EV_INSTANT:
			st->events++;
			break;
		case EV_CLOSED:
			if (st->events_open > 0)
				st->events_open--;
			break;
		case EV_INSERTED_CLOSED:
			st->events++;
			log_info("store: %s: event %" PRIu64 " closed without "
			    "a stored open, recorded closed", st->path,
			    p->ev.id);
			break;
		case EV_DUPLICATE:
			log_warnx("store: %s: event %" PRIu64 " is stored "
			    "already, %s ignored", st->path, p->ev.id,
			    store_phase_name(p->ev.phase));
			break;
		case EV_CLOSED_ALREADY:
			log_warnx("store: %s: event %" PRIu64 " is closed "
			    "already, close ignored", st->path, p->ev.id);
			break;
		}
		if (p->res != EV_DUPLICATE && p->res != EV_CLOSED_ALREADY)
			log_debug("store: committed event %" PRIu64 " %s (%s), "
			    "seq %" PRIu64, p->ev.id,
			    store_event_type_name(p->ev.type),
			    store_phase_name(p->ev.phase), p->seq);
		free(p->details);
		p->details = NULL;
	}
	st->nevq = 0;
	st->urgent = false;
}


/* ---------------------------------------------------------------- chain */

static int	store_read_events(struct store *, int64_t, int64_t, uint64_t,
		    store_record_cb *, void *);
static int	store_commit_with(struct store *, store_txn_fn *, void *,
		    const char *);
static int	store_read_positions(struct store *, int64_t, int64_t,
		    uint64_t, store_record_cb *, void *);

/* Chaining one stream inside a write transaction. */
struct store_chainer {
	struct store	*st;
	enum store_stream stream;
	struct chain	 c;
	uint64_t	 n;
	bool		 failed;	/* SQLite error (in st->err) */
};

/*
 * Link r onto the chain and store the link.  A record without canonical
 * bytes (it cannot be formatted) stays out of the chain, logged: the
 * record is kept, and an export shows it without a link.
 */
static int
store_chain_one(const struct store_record *r, void *arg)
{
	struct store_chainer	*k = arg;
	struct store		*st = k->st;
	sqlite3_stmt		*s = st->stmt[STMT_CHAIN_PUT];
	char			*txt;
	size_t			 len;

	if ((txt = wirerec_canonical(r, st->chain_tz, &len)) == NULL ||
	    chain_add(&k->c, r->seq, txt, len) == -1) {
		log_warnx("store: %s: %s record %" PRIu64 " cannot be "
		    "chained (no canonical form); it is kept unchained",
		    st->path, store_stream_names[k->stream], r->seq);
		free(txt);
		return 0;
	}
	free(txt);
	sqlite3_bind_int(s, 1, (int)k->stream);
	sqlite3_bind_int64(s, 2, (int64_t)r->seq);
	sqlite3_bind_blob(s, 3, k->c.head, CHAIN_HASH_LEN, SQLITE_STATIC);
	if (store_stmt_done(st, s, "store chain link") == -1) {
		k->failed = true;
		return 1;
	}
	k->n++;
	return 0;
}

/*
 * Inside the batch transaction: chain every record committed above the
 * heads (st->chain), out = the new heads, *n = records linked.  0 or -1
 * (in err).
 */
static int
store_chain_extend(struct store *st, struct chain out[STORE_STREAMS],
    uint64_t *n)
{
	struct store_chainer	 k;
	int			 i, rc;

	*n = 0;
	for (i = 0; i < STORE_STREAMS; i++) {
		out[i] = st->chain[i];
		if (st->next_seq[i] <= out[i].seq + 1)
			continue;
		memset(&k, 0, sizeof(k));
		k.st = st;
		k.stream = (enum store_stream)i;
		k.c = out[i];
		rc = i == STORE_STREAM_EVENTS ?
		    store_read_events(st, (int64_t)k.c.seq + 1,
		    (int64_t)st->next_seq[i] - 1, 0, store_chain_one, &k) :
		    store_read_positions(st, (int64_t)k.c.seq + 1,
		    (int64_t)st->next_seq[i] - 1, 0, store_chain_one, &k);
		if (rc == -1 || k.failed)
			return -1;
		out[i] = k.c;
		*n += k.n;
	}
	return 0;
}

/* A stream's newest link (seq 0 and h_0: none).  0 or -1 (in err). */
static int
store_chain_head_get(struct store *st, enum store_stream stream,
    struct chain *out)
{
	sqlite3_stmt	*s = st->stmt[STMT_CHAIN_HEAD];
	int		 rc, ret = 0;

	chain_init(out);
	sqlite3_bind_int(s, 1, (int)stream);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 1) != CHAIN_HASH_LEN ||
		    sqlite3_column_int64(s, 0) <= 0) {
			snprintf(st->err, sizeof(st->err), "%s chain head "
			    "is malformed", store_stream_names[stream]);
			ret = -1;
		} else
			chain_resume(out, (uint64_t)sqlite3_column_int64(s, 0),
			    sqlite3_column_blob(s, 1));
	} else if (rc != SQLITE_DONE) {
		store_sqlerr(st, "read chain head");
		ret = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int
store_txn_nothing(struct store *st, void *arg)
{
	(void)st;
	(void)arg;
	return 0;
}

/*
 * At a writable open: the zone of the canonical bytes (fixed when the
 * chain starts: meta.chain_timezone), the heads, and the records that
 * are not chained yet (a file from before schema 6) chained now.
 */
static int
store_chain_load(struct store *st)
{
	const char	*tz;
	int		 i;
	bool		 behind = false;

	if (store_begin(st) == -1)
		return -1;
	if (store_meta_text(st, "chain_timezone", &st->chain_tz) == -1)
		goto fail;
	if (*st->chain_tz == '\0') {
		tz = *st->timezone != '\0' ? st->timezone : "UTC";
		if (store_meta_set_text(st, "chain_timezone", tz) == -1)
			goto fail;
		free(st->chain_tz);
		st->chain_tz = xstrdup(tz);
	}
	for (i = 0; i < STORE_STREAMS; i++) {
		if (store_chain_head_get(st, (enum store_stream)i,
		    &st->chain[i]) == -1)
			goto fail;
		if (st->next_seq[i] > st->chain[i].seq + 1)
			behind = true;
	}
	if (store_step_done(st, STMT_COMMIT, "commit chain state") == -1)
		goto fail;
	if (behind && store_commit_with(st, store_txn_nothing, NULL,
	    "the chain of stored records") == -1)
		return -1;
	return 0;
 fail:
	store_rollback(st);
	return -1;
}

/*
 * Retention, inside its transaction: drop the links below the one just
 * under each stream's oldest record (that one is the anchor of the rest)
 * and the checkpoints that vouch only for dropped links.  0 or -1.
 */
static int
store_chain_prune(struct store *st)
{
	static const enum store_stmt first[STORE_STREAMS] = {
		[STORE_STREAM_EVENTS] = STMT_ST_FIRST_EV,
		[STORE_STREAM_POSITIONS] = STMT_ST_FIRST_POS,
	};
	sqlite3_stmt	*s;
	int64_t		 v[STORE_STREAMS], below[STORE_STREAMS];
	int		 i;

	for (i = 0; i < STORE_STREAMS; i++) {
		if (store_step_ints(st, first[i], "first seq", &v[i], 1) == -1)
			return -1;
		/* Nothing stored: keep only the head. */
		below[i] = v[i] > 0 ? v[i] - 1 : INT64_MAX;
		s = st->stmt[STMT_CHAIN_PRUNE];
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_int64(s, 2, below[i]);
		if (store_stmt_done(st, s, "prune chain") == -1)
			return -1;
	}
	s = st->stmt[STMT_CP_PRUNE];
	sqlite3_bind_int64(s, 1, below[STORE_STREAM_EVENTS]);
	sqlite3_bind_int64(s, 2, below[STORE_STREAM_POSITIONS]);
	return store_stmt_done(st, s, "prune checkpoints");
}

/*
 * One batch transaction: the pending positions (so they get the lowest
 * seqs), the open trip's progress, the queued trip ends, the queued event
 * changes, the rules state, then fn.  What the rows say in memory changes
 * only after COMMIT returned OK.  0 or -1 (st->err; everything stays
 * pending, the seqs are given back).
 */
static int
store_write_batch(struct store *st, store_txn_fn *fn, void *arg)
{
	uint64_t	 first = 0, endseq[STORE_TRIP_QUEUE_MAX], nlinked;
	enum store_end_result endres[STORE_TRIP_QUEUE_MAX];
	struct chain	 heads[STORE_STREAMS];
	size_t		 i, n = st->npending, nends = st->nends;
	bool		 gone = false;

	if (store_begin(st) == -1)
		goto fail;
	if (n > 0 && store_seq_alloc(st, STORE_STREAM_POSITIONS, n,
	    &first) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (store_insert_position(st, first + i, &st->pending[i]) ==
		    -1)
			goto fail;
	if (st->prog_dirty && store_write_progress(st, &gone) == -1)
		goto fail;
	for (i = 0; i < nends; i++)
		if (store_write_end(st, &st->ends[i], &endseq[i],
		    &endres[i]) == -1)
			goto fail;
	for (i = 0; i < st->nevq; i++)
		if (store_write_event(st, &st->evq[i]) == -1)
			goto fail;
	if (st->rules_state != NULL && store_meta_set_text(st, "rules_state",
	    st->rules_state) == -1)
		goto fail;
	if (fn != NULL && fn(st, arg) == -1)
		goto fail;
	/* Every record committed here is chained here (chain.h). */
	if (store_chain_extend(st, heads, &nlinked) == -1)
		goto fail;
	/* A failed COMMIT is rolled back, and the seqs with it. */
	if (store_step_done(st, STMT_COMMIT, "commit") == -1)
		goto fail;
	/* Durable now, and only now; next_seq moved in store_seq_alloc(). */
	memcpy(st->chain, heads, sizeof(st->chain));
	if (nlinked > n + nends + st->nevq + 1)
		log_info("store: %s: chained %" PRIu64 " records stored "
		    "before", st->path, nlinked);
	st->positions += n;
	st->commits++;
	st->npending = 0;
	st->retry_wait = false;
	/* Tests treat this line as the acknowledgement of the rows. */
	if (n > 0)
		log_debug("store: committed %zu positions, seq %" PRIu64 "..%"
		    PRIu64, n, first, first + n - 1);
	if (st->prog_dirty) {
		st->prog_dirty = false;
		if (gone) {
			if (!st->prog_gone_logged)
				log_warnx("store: %s: trip %" PRIu64 " is not "
				    "open any more, its progress is dropped",
				    st->path, st->prog.id);
			st->prog_gone_logged = true;
			st->has_prog = false;
		}
	}
	for (i = 0; i < nends; i++) {
		if (endres[i] == END_SKIPPED) {
			log_warnx("store: %s: trip %" PRIu64 " was closed "
			    "already, its end is dropped", st->path,
			    st->ends[i].id);
			continue;
		}
		if (endres[i] == END_INSERTED)
			st->trips++;
		log_debug("store: committed trip %" PRIu64 ", seq %" PRIu64
		    " (%s)", st->ends[i].id, endseq[i],
		    store_trip_end_name(st->ends[i].ended_by));
	}
	st->nends = 0;
	store_events_done(st);
	free(st->rules_state);
	st->rules_state = NULL;
	if (st->events_full_logged) {
		log_info("store: %s: event queue has room again", st->path);
		st->events_full_logged = false;
	}
	return 0;
 fail:
	store_rollback(st);
	return -1;
}

/*
 * Commit what is pending, and fn's work if fn is not NULL, in one
 * transaction.  Logs a failure once per state (what = the caller's part,
 * or NULL for a plain batch), and the recovery at info.  0 or -1.
 */
static int
store_commit_with(struct store *st, store_txn_fn *fn, void *arg,
    const char *what)
{
	char		 desc[128];

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (!store_dirty(st) && fn == NULL)
		return 0;
	store_pending_desc(st, desc, sizeof(desc));
	if (store_write_batch(st, fn, arg) == -1) {
		/* The caller's part is not retried: say so each time. */
		if (what != NULL)
			log_warnx("store: %s: %s not recorded: %s", st->path,
			    what, st->err);
		if (store_dirty(st)) {
			st->retry_wait = true;
			if (!st->commit_failing || st->commit_errcode !=
			    sqlite3_extended_errcode(st->db))
				log_warnx("store: %s: %s, keeping %s in memory "
				    "and retrying", st->path, st->err, desc);
		}
		st->commit_failing = true;
		st->commit_errcode = sqlite3_extended_errcode(st->db);
		return -1;
	}
	if (st->commit_failing) {
		log_info("store: %s: commits work again%s%s", st->path,
		    *desc != '\0' ? ", committed " : "", desc);
		st->commit_failing = false;
	}
	if (st->full_logged) {
		log_info("store: %s: buffer has room again, %" PRIu64
		    " fixes were refused", st->path,
		    st->refused - st->refused_at_full);
		st->full_logged = false;
	}
	return 0;
}

int
store_commit(struct store *st)
{
	return store_commit_with(st, NULL, NULL, NULL);
}

int
store_put_position_obd(struct store *st, const struct fix *f,
    const struct obd_sample *obd, uint64_t now_mono_ms)
{
	struct store_pending *p;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	st->last_now_ms = now_mono_ms;
	/* NOT NULL columns: such a row would block every later batch. */
	if (!isfinite(f->lat_deg) || !isfinite(f->lon_deg)) {
		if (!st->invalid_logged)
			log_warnx("store: %s: fix without a finite position "
			    "refused", st->path);
		st->invalid_logged = true;
		st->refused++;
		return -1;
	}
	if (st->npending == STORE_PENDING_MAX && store_commit(st) == -1) {
		if (!st->full_logged) {
			log_warnx("store: %s: %d positions wait for a "
			    "commit, refusing new fixes", st->path,
			    STORE_PENDING_MAX);
			st->full_logged = true;
			st->refused_at_full = st->refused;
		}
		st->refused++;
		return -1;
	}
	if (!store_dirty(st))
		st->first_pending_ms = now_mono_ms;
	p = &st->pending[st->npending++];
	p->fix = *f;
	if (obd != NULL)
		p->obd = *obd;
	else
		record_obd_clear(&p->obd);
	return 0;
}

int
store_put_position(struct store *st, const struct fix *f,
    uint64_t now_mono_ms)
{
	return store_put_position_obd(st, f, NULL, now_mono_ms);
}

/* Mono time at which the pending batch is due; something is pending. */
static uint64_t
store_due_at(const struct store *st)
{
	if (st->retry_wait)
		return st->retry_at_ms;
	if (st->npending >= store_batch_rows(st) || st->nends > 0 ||
	    st->urgent)
		return 0;
	if (st->first_pending_ms > UINT64_MAX - st->commit_interval_ms)
		return UINT64_MAX - 1;
	return st->first_pending_ms + st->commit_interval_ms;
}

int
store_commit_due(struct store *st, uint64_t now_mono_ms)
{
	if (st->readonly)
		return 0;
	st->last_now_ms = now_mono_ms;
	if (!store_dirty(st) || now_mono_ms < store_due_at(st))
		return 0;
	if (store_commit(st) == -1) {
		/* Retry one interval later, not on every loop turn. */
		st->retry_at_ms = now_mono_ms + st->commit_interval_ms;
		return -1;
	}
	return 0;
}

uint64_t
store_next_due_ms(const struct store *st, uint64_t now_mono_ms)
{
	uint64_t	 due;

	if (st->readonly || !store_dirty(st))
		return UINT64_MAX;
	due = store_due_at(st);
	return due > now_mono_ms ? due - now_mono_ms : 0;
}

/* ---- trips ---- */

struct store_begin_arg {
	const struct trip_summary *t;
	int64_t		 id;
};

static int
store_txn_trip_begin(struct store *st, void *arg)
{
	struct store_begin_arg *b = arg;
	sqlite3_stmt	*s = st->stmt[STMT_TRIP_INSERT];

	store_bind_trip(s, b->t);
	sqlite3_bind_null(s, TRIP_P_ID);
	sqlite3_bind_null(s, TRIP_P_SEQ);
	sqlite3_bind_null(s, TRIP_P_ENDED_BY);
	sqlite3_bind_int(s, TRIP_P_OPEN, 1);
	if (store_step_done(st, STMT_TRIP_INSERT, "insert trip") == -1)
		return -1;
	b->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_trip_begin(struct store *st, struct trip_summary *t)
{
	struct store_begin_arg b = { t, 0 };

	if (store_commit_with(st, store_txn_trip_begin, &b,
	    "trip begin") == -1)
		return -1;
	t->id = (uint64_t)b.id;
	st->trips++;
	st->prog = *t;
	st->prog.ended_by = TRIP_END_NONE;
	st->has_prog = true;
	st->prog_dirty = false;
	st->prog_gone_logged = false;
	log_debug("store: trip %" PRIu64 " begun", t->id);
	return 0;
}

int
store_trip_progress(struct store *st, const struct trip_summary *t)
{
	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (t->id == 0)
		return -1;	/* never begun: nothing to update */
	if (!store_dirty(st))
		st->first_pending_ms = st->last_now_ms;
	if (!st->has_prog || st->prog.id != t->id)
		st->prog_gone_logged = false;
	st->prog = *t;
	st->prog.ended_by = TRIP_END_NONE;
	st->has_prog = true;
	st->prog_dirty = true;
	return 0;
}

int
store_trip_end(struct store *st, const struct trip_summary *t)
{
	int64_t		 open;
	size_t		 i;
	int		 rc;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (store_trip_end_name(t->ended_by) == NULL) {
		log_warnx("store: %s: trip %" PRIu64 " ended without a reason, "
		    "not recorded", st->path, t->id);
		return -1;
	}
	if (t->id != 0) {
		for (i = 0; i < st->nends; i++)
			if (st->ends[i].id == t->id) {
				log_warnx("store: %s: trip %" PRIu64 " ended "
				    "twice, second end ignored", st->path,
				    t->id);
				return -1;
			}
		sqlite3_bind_int64(st->stmt[STMT_TRIP_STATE], 1,
		    (int64_t)t->id);
		rc = store_step_ints(st, STMT_TRIP_STATE, "trip state", &open,
		    1);
		if (rc == -1) {
			log_warnx("store: %s: %s", st->path, st->err);
			return -1;
		}
		if (rc == 1 && open == 0) {
			log_warnx("store: %s: trip %" PRIu64 " is closed "
			    "already, end ignored", st->path, t->id);
			return -1;
		}
	}
	if (st->nends == STORE_TRIP_QUEUE_MAX && (store_commit(st) == -1 ||
	    st->nends == STORE_TRIP_QUEUE_MAX)) {
		log_warnx("store: %s: %d trip ends wait for a commit, trip %"
		    PRIu64 " refused", st->path, STORE_TRIP_QUEUE_MAX, t->id);
		return -1;
	}
	if (st->has_prog && st->prog.id == t->id) {
		st->has_prog = false;
		st->prog_dirty = false;
	}
	st->ends[st->nends++] = *t;
	return store_commit(st);
}

int
store_trip_open_get(struct store *st, struct trip_summary *out)
{
	sqlite3_stmt	*s = st->stmt[STMT_TRIP_OPEN_GET];
	struct store_trip tr;
	int		 rc;

	if (s == NULL)
		return 0;	/* read-only, file older than trips */
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_row_to_trip(s, &tr);
		*out = tr.trip;
		if (st->has_prog && st->prog.id == tr.trip.id)
			*out = st->prog;
		out->ended_by = TRIP_END_NONE;
	} else if (rc != SQLITE_DONE) {
		store_sqlerr(st, "open trip");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_query_trips(struct store *st, int64_t from_utc_ms, int64_t to_utc_ms,
    uint64_t limit, store_trip_cb *cb, void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_TRIP_QUERY];
	struct store_trip t;
	int		 rc;

	if (s == NULL)
		return 0;	/* read-only, file older than trips */
	sqlite3_bind_int64(s, 1, from_utc_ms);
	sqlite3_bind_int64(s, 2, to_utc_ms);
	/* LIMIT -1 is "no limit" in SQLite. */
	sqlite3_bind_int64(s, 3, limit == 0 || limit > INT64_MAX ? -1 :
	    (int64_t)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_row_to_trip(s, &t);
		if (cb(&t, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "query trips");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- DTCs ---- */

static bool
store_dtc_valid(const struct obd_dtc *d)
{
	size_t		 i;

	if (d->mode != STORE_DTC_STORED && d->mode != STORE_DTC_PENDING &&
	    d->mode != STORE_DTC_PERMANENT)
		return false;
	for (i = 0; i < RECORD_DTC_LEN; i++)
		if (!((d->code[i] >= '0' && d->code[i] <= '9') ||
		    (d->code[i] >= 'A' && d->code[i] <= 'Z')))
			return false;
	return d->code[RECORD_DTC_LEN] == '\0';
}

static bool
store_dtc_same(const struct obd_dtc *a, const char *code, int mode)
{
	return a->mode == mode && strcmp(a->code, code) == 0;
}

struct store_scan_arg {
	const struct obd_dtc *dtcs;	/* valid, without duplicates */
	size_t		 n;
	int64_t		 t_utc_ms;
	bool		*seen;		/* n entries: dtcs[i] has a row */
	uint64_t	 nnew, ncleared;
	uint64_t	 first_seq;
};

/* The active rows, as (seq, index in dtcs or n when absent). */
struct store_active {
	int64_t		 seq;
	size_t		 idx;
};

static int
store_txn_dtc_scan(struct store *st, void *arg)
{
	struct store_scan_arg *a = arg;
	sqlite3_stmt	*s = st->stmt[STMT_DTC_ACTIVE];
	struct store_active *act = NULL;
	enum store_stmt	 id;
	size_t		 nact = 0, cap = 0, i, k;
	const char	*code;
	int		 rc, mode;

	memset(a->seen, 0, a->n * sizeof(*a->seen));
	a->nnew = a->ncleared = 0;
	a->first_seq = 0;
	/* Collect first: no writes to the table while stepping over it. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		code = (const char *)sqlite3_column_text(s, 1);
		mode = sqlite3_column_int(s, 2);
		if (nact == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			act = xreallocarray(act, cap, sizeof(*act));
		}
		act[nact].seq = sqlite3_column_int64(s, 0);
		act[nact].idx = a->n;
		for (k = 0; code != NULL && k < a->n; k++)
			if (store_dtc_same(&a->dtcs[k], code, mode)) {
				act[nact].idx = k;
				a->seen[k] = true;
				break;
			}
		nact++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "active DTCs");
		goto fail;
	}
	for (i = 0; i < nact; i++) {
		/* Still reported: seen again; absent: cleared. */
		id = act[i].idx < a->n ? STMT_DTC_TOUCH : STMT_DTC_CLEAR;
		sqlite3_bind_int64(st->stmt[id], 1, act[i].seq);
		sqlite3_bind_int64(st->stmt[id], 2, a->t_utc_ms);
		if (store_step_done(st, id, "update DTC") == -1)
			goto fail;
		if (id == STMT_DTC_CLEAR)
			a->ncleared++;
	}
	for (k = 0; k < a->n; k++) {
		if (a->seen[k])
			continue;
		s = st->stmt[STMT_DTC_INSERT];
		sqlite3_bind_text(s, 1, a->dtcs[k].code, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, a->dtcs[k].mode);
		sqlite3_bind_int64(s, 3, a->t_utc_ms);
		if (store_step_done(st, STMT_DTC_INSERT, "insert DTC") == -1)
			goto fail;
		/* The row's key; DTC rows take no stream seq. */
		if (a->nnew == 0)
			a->first_seq = (uint64_t)sqlite3_last_insert_rowid(
			    st->db);
		a->nnew++;
	}
	free(act);
	return 0;
 fail:
	free(act);
	return -1;
}

int
store_dtc_scan(struct store *st, const struct obd_dtc *dtcs, size_t n,
    int64_t t_utc_ms)
{
	struct store_scan_arg a;
	struct obd_dtc	*uniq = NULL;
	size_t		 i, k, nu = 0;
	int		 ret = -1;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (n > 0)
		uniq = xcalloc(n, sizeof(*uniq));
	for (i = 0; i < n; i++) {
		if (!store_dtc_valid(&dtcs[i])) {
			log_warnx("store: %s: DTC scan with an invalid entry "
			    "(mode 0x%02x), not recorded", st->path,
			    dtcs[i].mode);
			goto out;
		}
		for (k = 0; k < nu; k++)
			if (store_dtc_same(&uniq[k], dtcs[i].code,
			    dtcs[i].mode))
				break;
		if (k == nu)
			uniq[nu++] = dtcs[i];
	}
	memset(&a, 0, sizeof(a));
	a.dtcs = uniq;
	a.n = nu;
	a.t_utc_ms = t_utc_ms;
	a.seen = xcalloc(nu + 1, sizeof(*a.seen));
	if (store_commit_with(st, store_txn_dtc_scan, &a, "DTC scan") == 0) {
		st->dtcs_active += a.nnew;
		st->dtcs_active = st->dtcs_active > a.ncleared ?
		    st->dtcs_active - a.ncleared : 0;
		if (a.nnew > 0)
			log_debug("store: DTC scan: %zu codes, %" PRIu64 " new "
			    "(seq %" PRIu64 "..%" PRIu64 "), %" PRIu64
			    " cleared", nu, a.nnew, a.first_seq,
			    a.first_seq + a.nnew - 1, a.ncleared);
		else
			log_debug("store: DTC scan: %zu codes, none new, %"
			    PRIu64 " cleared", nu, a.ncleared);
		ret = (int)a.nnew;
	}
	free(a.seen);
 out:
	free(uniq);
	return ret;
}

int
store_query_dtcs(struct store *st, bool active_only, store_dtc_cb *cb,
    void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_DTC_QUERY];
	struct store_dtc d;
	const unsigned char *code;
	int		 rc;

	if (s == NULL)
		return 0;	/* read-only, file older than DTCs */
	sqlite3_bind_int(s, 1, active_only);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.seq = (uint64_t)sqlite3_column_int64(s, 0);
		code = sqlite3_column_text(s, 1);
		util_strlcpy(d.code, code != NULL ? (const char *)code : "",
		    sizeof(d.code));
		d.mode = (uint8_t)sqlite3_column_int(s, 2);
		d.first_utc_ms = sqlite3_column_int64(s, 3);
		d.last_utc_ms = sqlite3_column_int64(s, 4);
		d.cleared_utc_ms = sqlite3_column_int64(s, 5);	/* NULL: 0 */
		if (cb(&d, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "query DTCs");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- events and the rules state ---- */

int
store_event_put(struct store *st, const struct rules_event *ev)
{
	struct store_event_pending *p;
	char		*details = NULL;
	bool		 urgent;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (ev->id == 0 || ev->id > INT64_MAX ||
	    store_phase_name(ev->phase) == NULL ||
	    store_event_type_name(ev->type) == NULL ||
	    store_event_severity_name(ev->severity) == NULL ||
	    memchr(ev->fence_id, '\0', sizeof(ev->fence_id)) == NULL) {
		log_warnx("store: %s: event %" PRIu64 ": invalid id, phase, "
		    "type, severity or fence, not recorded", st->path, ev->id);
		return -1;
	}
	if (ev->details != NULL) {
		if (json_is_object(ev->details))
			details = json_dumps(ev->details,
			    JSON_COMPACT | JSON_SORT_KEYS);
		if (details == NULL) {
			log_warnx("store: %s: event %" PRIu64 ": details are "
			    "not a JSON object, not recorded", st->path,
			    ev->id);
			return -1;
		}
	}
	if (st->nevq == STORE_EVENT_QUEUE_MAX) {
		/* Not committed here: the caller's state must come along. */
		if (!st->events_full_logged)
			log_warnx("store: %s: %d event changes wait for a "
			    "commit, refusing more", st->path,
			    STORE_EVENT_QUEUE_MAX);
		st->events_full_logged = true;
		free(details);
		return -1;
	}
	if (!store_dirty(st))
		st->first_pending_ms = st->last_now_ms;
	p = &st->evq[st->nevq++];
	memset(p, 0, sizeof(*p));
	p->ev = *ev;
	p->ev.details = NULL;	/* borrowed: gone after this call */
	p->details = details;
	urgent = ev->severity == RULES_VIOLATION ||
	    ev->severity == RULES_CRITICAL;
	if (urgent)
		st->urgent = true;
	return urgent ? 1 : 0;
}

int
store_rules_state(struct store *st, const char *json_text)
{
	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (json_text == NULL) {
		log_warnx("store: %s: no rules state given, not recorded",
		    st->path);
		return -1;
	}
	if (!store_dirty(st))
		st->first_pending_ms = st->last_now_ms;
	free(st->rules_state);
	st->rules_state = xstrdup(json_text);
	return 0;
}

char *
store_rules_state_get(struct store *st)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_GET];
	const unsigned char *txt;
	char		*out = NULL;
	int		 rc;

	if (st->rules_state != NULL)
		return xstrdup(st->rules_state);
	sqlite3_bind_text(s, 1, "rules_state", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && (txt = sqlite3_column_text(s, 0)) != NULL)
		out = xstrdup((const char *)txt);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "read rules state");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return out;
}

/*
 * A row of EV_COLUMNS; -1 when this program does not know its type or
 * severity.  The details point into the statement.
 */
static int
store_row_to_event(sqlite3_stmt *s, struct store_event *e)
{
	const unsigned char *txt;
	int		 type, severity;

	memset(e, 0, sizeof(*e));
	type = store_event_type_parse(sqlite3_column_text(s, 3));
	severity = store_event_severity_parse(sqlite3_column_text(s, 4));
	if (type == -1 || severity == -1)
		return -1;
	e->id = (uint64_t)sqlite3_column_int64(s, 0);
	e->seq = (uint64_t)sqlite3_column_int64(s, 1);	/* NULL: 0 */
	e->end_seq = (uint64_t)sqlite3_column_int64(s, 2);
	e->type = (enum rules_type)type;
	e->severity = (enum rules_severity)severity;
	e->start_utc_ms = sqlite3_column_int64(s, 5);
	e->end_utc_ms = sqlite3_column_int64(s, 6);
	e->trip_id = (uint64_t)sqlite3_column_int64(s, 7);
	e->lat_deg = store_column_real(s, 8);
	e->lon_deg = store_column_real(s, 9);
	txt = sqlite3_column_text(s, 10);
	util_strlcpy(e->fence_id, txt != NULL ? (const char *)txt : "",
	    sizeof(e->fence_id));
	txt = sqlite3_column_text(s, 11);
	e->details = txt != NULL ? (const char *)txt : "{}";
	return 0;
}

int
store_query_events(struct store *st, int64_t from_utc_ms, int64_t to_utc_ms,
    int type, int severity, uint64_t limit, store_event_cb *cb, void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_EV_QUERY];
	struct store_event e;
	uint64_t	 n = 0;
	int		 rc;

	if ((type != -1 && store_event_type_name(type) == NULL) ||
	    (severity != -1 && store_event_severity_name(severity) == NULL)) {
		log_warnx("store: %s: event query with type %d, severity %d: "
		    "out of range", st->path, type, severity);
		return -1;
	}
	if (s == NULL)
		return 0;	/* read-only, file older than events */
	sqlite3_bind_int64(s, 1, from_utc_ms);
	sqlite3_bind_int64(s, 2, to_utc_ms);
	if (type != -1)
		sqlite3_bind_text(s, 3, store_event_type_name(type), -1,
		    SQLITE_STATIC);
	if (severity != -1)
		sqlite3_bind_text(s, 4, store_event_severity_name(severity),
		    -1, SQLITE_STATIC);
	/* The limit counts in C: skipped rows must not use it up. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_row_to_event(s, &e) == -1) {
			if (!st->unknown_event_logged)
				log_warnx("store: %s: event %lld has a type or "
				    "severity this program does not know, "
				    "skipped", st->path,
				    (long long)sqlite3_column_int64(s, 0));
			st->unknown_event_logged = true;
			continue;
		}
		if (cb(&e, arg) != 0 || (limit != 0 && ++n == limit)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "query events");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- dispatch orders ---- */

/* s fits in len bytes with its NUL. */
static bool
store_str_ok(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

/* NULL if o can be stored, else what is wrong with it. */
static const char *
store_order_invalid(const struct store_order *so)
{
	const struct rules_order *o = &so->o;

	if (!store_str_ok(o->id, sizeof(o->id)) || *o->id == '\0')
		return "empty or unterminated id";
	if (o->valid_to_ms <= o->valid_from_ms)
		return "valid_to is not after valid_from";
	if (o->has_dest_point && (!(o->dest_lon >= -180 &&
	    o->dest_lon <= 180) || !(o->dest_lat >= -90 &&
	    o->dest_lat <= 90) || !(o->dest_radius_m > 0) ||
	    !isfinite(o->dest_radius_m)))
		return "destination point out of range";
	if (!store_str_ok(o->dest_fence, sizeof(o->dest_fence)) ||
	    !store_str_ok(o->corridor_fence, sizeof(o->corridor_fence)) ||
	    !store_str_ok(so->purpose, sizeof(so->purpose)) ||
	    !store_str_ok(so->approver, sizeof(so->approver)))
		return "unterminated string";
	if (!store_str_ok(so->source, sizeof(so->source)) ||
	    (strcmp(so->source, "ctl") != 0 &&
	    strcmp(so->source, "platform") != 0))
		return "source is neither ctl nor platform";
	return NULL;
}

struct store_order_arg {
	const struct store_order *so;
	const char	*id;
	int		 changes;
};

static int
store_txn_order_add(struct store *st, void *arg)
{
	struct store_order_arg *a = arg;
	const struct rules_order *o = &a->so->o;
	sqlite3_stmt	*s = st->stmt[STMT_ORDER_INSERT];

	sqlite3_bind_text(s, 1, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, o->valid_from_ms);
	sqlite3_bind_int64(s, 3, o->valid_to_ms);
	if (o->has_dest_point) {
		sqlite3_bind_double(s, 4, o->dest_lon);
		sqlite3_bind_double(s, 5, o->dest_lat);
		sqlite3_bind_double(s, 6, o->dest_radius_m);
	} else {
		sqlite3_bind_null(s, 4);
		sqlite3_bind_null(s, 5);
		sqlite3_bind_null(s, 6);
	}
	store_bind_text_or_null(s, 7, o->dest_fence);
	store_bind_text_or_null(s, 8, o->corridor_fence);
	sqlite3_bind_text(s, 9, a->so->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, a->so->approver, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, a->so->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 12, a->so->created_utc_ms);
	if (store_step_done(st, STMT_ORDER_INSERT, "insert order") == -1)
		return -1;
	a->changes = sqlite3_changes(st->db);
	return 0;
}

int
store_order_add(struct store *st, const struct store_order *so)
{
	struct store_order_arg a = { so, NULL, 0 };
	const char	*why;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if ((why = store_order_invalid(so)) != NULL) {
		log_warnx("store: %s: dispatch order %.*s: %s, not recorded",
		    st->path, RULES_ORDER_ID_MAX, so->o.id, why);
		return -1;
	}
	if (store_commit_with(st, store_txn_order_add, &a,
	    "dispatch order") == -1)
		return -1;
	if (a.changes == 0) {
		log_debug("store: dispatch order %s exists already", so->o.id);
		return 1;
	}
	log_debug("store: dispatch order %s recorded", so->o.id);
	return 0;
}

static int
store_txn_order_remove(struct store *st, void *arg)
{
	struct store_order_arg *a = arg;

	sqlite3_bind_text(st->stmt[STMT_ORDER_DELETE], 1, a->id, -1,
	    SQLITE_STATIC);
	if (store_step_done(st, STMT_ORDER_DELETE, "delete order") == -1)
		return -1;
	a->changes = sqlite3_changes(st->db);
	return 0;
}

int
store_order_remove(struct store *st, const char *id)
{
	struct store_order_arg a = { NULL, id, 0 };

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (id == NULL || *id == '\0') {
		log_warnx("store: %s: dispatch order removal without an id",
		    st->path);
		return -1;
	}
	if (store_commit_with(st, store_txn_order_remove, &a,
	    "dispatch order removal") == -1)
		return -1;
	if (a.changes > 0)
		log_debug("store: dispatch order %s removed", id);
	return a.changes > 0 ? 1 : 0;
}

/* Copy a text column into buf ("" for NULL). */
static void
store_column_str(sqlite3_stmt *s, int idx, char *buf, size_t len)
{
	const unsigned char *txt;

	txt = sqlite3_column_text(s, idx);
	util_strlcpy(buf, txt != NULL ? (const char *)txt : "", len);
}

int
store_query_orders(struct store *st, int64_t from_utc_ms, int64_t to_utc_ms,
    store_order_cb *cb, void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_ORDER_QUERY];
	struct store_order so;
	struct rules_order *o = &so.o;
	int		 rc;

	if (s == NULL)
		return 0;	/* read-only, file older than orders */
	sqlite3_bind_int64(s, 1, from_utc_ms);
	sqlite3_bind_int64(s, 2, to_utc_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&so, 0, sizeof(so));
		store_column_str(s, 0, o->id, sizeof(o->id));
		o->valid_from_ms = sqlite3_column_int64(s, 1);
		o->valid_to_ms = sqlite3_column_int64(s, 2);
		o->dest_lon = store_column_real(s, 3);
		o->dest_lat = store_column_real(s, 4);
		o->dest_radius_m = store_column_real(s, 5);
		o->has_dest_point = !isnan(o->dest_lon) && !isnan(o->dest_lat);
		if (!o->has_dest_point)
			o->dest_lon = o->dest_lat = o->dest_radius_m = 0;
		store_column_str(s, 6, o->dest_fence, sizeof(o->dest_fence));
		store_column_str(s, 7, o->corridor_fence,
		    sizeof(o->corridor_fence));
		store_column_str(s, 8, so.purpose, sizeof(so.purpose));
		store_column_str(s, 9, so.approver, sizeof(so.approver));
		store_column_str(s, 10, so.source, sizeof(so.source));
		so.created_utc_ms = sqlite3_column_int64(s, 11);
		if (cb(&so, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "query orders");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- clean stop ---- */

bool
store_unclean_previous(const struct store *st)
{
	return st->unclean_previous;
}

int64_t
store_last_record_utc_ms(const struct store *st)
{
	return st->last_record_utc_ms;
}

/* ---- VIN ---- */

static int
store_txn_vin(struct store *st, void *arg)
{
	return store_meta_set_text(st, "vin", arg);
}

int
store_set_vin(struct store *st, const char *vin)
{
	size_t		 i, len;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	len = vin != NULL ? strlen(vin) : 0;
	for (i = 0; i < len; i++)
		if (vin[i] <= ' ' || vin[i] >= 0x7f)
			break;
	if (len == 0 || len > STORE_VIN_MAX || i < len) {
		log_warnx("store: %s: invalid VIN not recorded", st->path);
		return -1;
	}
	if (strcmp(vin, st->vin) == 0)
		return 0;
	if (store_commit_with(st, store_txn_vin, (void *)(uintptr_t)vin,
	    "VIN") == -1)
		return -1;
	if (*st->vin != '\0')
		log_info("store: %s: VIN changes from %s to %s: the gateway "
		    "was moved to another vehicle", st->path, st->vin, vin);
	else
		log_debug("store: %s: VIN %s recorded", st->path, vin);
	free(st->vin);
	st->vin = xstrdup(vin);
	return 0;
}

const char *
store_vin(const struct store *st)
{
	return st->vin != NULL ? st->vin : "";
}

/* ---- retention ---- */

static void
store_drop_add(struct store_drop *d, int64_t n, int64_t lo, int64_t hi)
{
	if (n <= 0)
		return;
	if (d->n == 0 || (uint64_t)lo < d->min_seq)
		d->min_seq = (uint64_t)lo;
	if (d->n == 0 || (uint64_t)hi > d->max_seq)
		d->max_seq = (uint64_t)hi;
	d->n += (uint64_t)n;
}

static void
store_unacked_add(struct store_unacked *u, int stream, int64_t n,
    int64_t lo, int64_t hi)
{
	if (stream < 0 || n <= 0)
		return;
	if (u->n[stream] == 0 || (uint64_t)lo < u->lo[stream])
		u->lo[stream] = (uint64_t)lo;
	if (u->n[stream] == 0 || (uint64_t)hi > u->hi[stream])
		u->hi[stream] = (uint64_t)hi;
	u->n[stream] += (uint64_t)n;
}

/* Bind ?idx where the statement has it (DTC rows have no cursor). */
static void
store_bind_opt(sqlite3_stmt *s, int idx, int64_t v)
{
	if (idx <= sqlite3_bind_parameter_count(s))
		sqlite3_bind_int64(s, idx, v);
}

/*
 * The cursors retention goes by: the platform's (opts.acks), else above
 * every seq (no platform: every record counts as acknowledged).  Inside
 * the chunk's transaction.  0 or -1 (in err).
 */
static int
store_retention_cursors(struct store *st, int64_t cur[STORE_STREAMS])
{
	uint64_t	 v;
	int		 k;

	for (k = 0; k < STORE_STREAMS; k++) {
		cur[k] = INT64_MAX;
		if (!st->acks)
			continue;
		if (store_meta_uint(st, store_acked_keys[k], &v) == -1)
			return -1;
		cur[k] = v < (uint64_t)INT64_MAX ? (int64_t)v : INT64_MAX;
	}
	return 0;
}

/*
 * Delete one chunk in its own transaction, from every table in
 * store_rtables.  RM_AGE: acknowledged rows before cutoff, up to the
 * chunk-th oldest acknowledged position time.  RM_ACKED, RM_UNACKED: the
 * acknowledged (unacknowledged) rows that the size rule may delete,
 * positions up to the chunk-th lowest such position seq, the other rows
 * up to that position's time.  Fewer positions than chunk: all of them.
 * Rows deleted, or -1 (st->err).  d and u (the unacknowledged records
 * of RM_UNACKED) grow after COMMIT only.
 */
static int64_t
store_drop_chunk(struct store *st, enum store_rmode mode, int64_t cutoff,
    int64_t chunk, struct store_drop d[RT_COUNT], struct store_unacked *u)
{
	sqlite3_stmt	*s;
	int64_t		 cur[STORE_STREAMS], b[2], v[RT_COUNT][6];
	int64_t		 seq_bound, time_bound, total = 0;
	size_t		 i;
	int		 rc, k, step;

	if (store_begin(st) == -1)
		return -1;
	if (store_retention_cursors(st, cur) == -1)
		goto fail;
	if (mode == RM_AGE) {
		s = st->stmt[STMT_AGE_BOUND];
		sqlite3_bind_int64(s, 1, cutoff);
		sqlite3_bind_int64(s, 3, cur[STORE_STREAM_POSITIONS]);
	} else {
		s = st->stmt[mode == RM_ACKED ? STMT_ACKED_BOUND :
		    STMT_UNACKED_BOUND];
		sqlite3_bind_int64(s, 1, cur[STORE_STREAM_POSITIONS]);
	}
	sqlite3_bind_int64(s, 2, chunk - 1);
	if ((rc = store_stmt_ints(st, s, "retention bound", b,
	    mode == RM_AGE ? 1 : 2)) == -1)
		goto fail;
	if (mode == RM_AGE)
		seq_bound = time_bound = rc == 1 ? b[0] : cutoff - 1;
	else if (rc == 1) {
		seq_bound = b[0];
		time_bound = b[1];
	} else
		seq_bound = time_bound = INT64_MAX;
	/* Count, then delete, the same rows: two steps, same bindings. */
	for (step = RS_RANGE; step < RS_COUNT; step++) {
		if (step == RS_DELETE) {
			if (total == 0) {
				store_rollback(st);
				return 0;
			}
			/*
			 * The rows may include the newest ones (all of them,
			 * even): keep their seqs from being derived again, in
			 * the same transaction.
			 */
			if (store_seq_floor_set(st) == -1)
				goto fail;
		}
		for (i = 0; i < RT_COUNT; i++) {
			if (step == RS_DELETE && v[i][0] == 0)
				continue;
			s = st->rstmt[mode][i][step];
			sqlite3_bind_int64(s, 1, mode != RM_AGE &&
			    i == RT_POSITIONS ? seq_bound : time_bound);
			k = store_rtables[i].stream;
			store_bind_opt(s, 2, k >= 0 ? cur[k] : 0);
			if (step == RS_DELETE) {
				if (store_stmt_done(st, s, "retention delete") ==
				    -1)
					goto fail;
				continue;
			}
			if (store_stmt_ints(st, s, "retention range", v[i],
			    6) == -1)
				goto fail;
			total += v[i][0];
		}
	}
	if (store_chain_prune(st) == -1)
		goto fail;
	if (store_step_done(st, STMT_COMMIT, "retention commit") == -1)
		goto fail;
	for (i = 0; i < RT_COUNT; i++) {
		store_drop_add(&d[i], v[i][0], v[i][1], v[i][2]);
		if (mode == RM_UNACKED)
			store_unacked_add(u, store_rtables[i].stream, v[i][3],
			    v[i][4], v[i][5]);
	}
	st->positions = st->positions > (uint64_t)v[RT_POSITIONS][0] ?
	    st->positions - (uint64_t)v[RT_POSITIONS][0] : 0;
	st->trips = st->trips > (uint64_t)v[RT_TRIPS][0] ?
	    st->trips - (uint64_t)v[RT_TRIPS][0] : 0;
	st->events = st->events > (uint64_t)v[RT_EVENTS][0] ?
	    st->events - (uint64_t)v[RT_EVENTS][0] : 0;
	st->dropped += (uint64_t)total;
	return total;
 fail:
	store_rollback(st);
	return -1;
}

/* Bytes in pages that hold data (freed pages get reused, not counted). */
static int
store_live_bytes(struct store *st, int64_t *bytes)
{
	int64_t		 pages, freepages;

	if (store_step_ints(st, STMT_PAGE_COUNT, "page_count", &pages,
	    1) != 1 || store_step_ints(st, STMT_FREELIST_COUNT,
	    "freelist_count", &freepages, 1) != 1)
		return -1;
	*bytes = (pages - freepages) * st->page_size;
	return 0;
}

/*
 * Dispatch orders that ended before cutoff, in a transaction of their
 * own: they hold no seq, so the floor stays.  Rows deleted, or -1.
 */
static int64_t
store_drop_orders(struct store *st, int64_t cutoff)
{
	int64_t		 n;

	if (store_begin(st) == -1)
		return -1;
	sqlite3_bind_int64(st->stmt[STMT_ORDER_EXPIRE], 1, cutoff);
	if (store_step_done(st, STMT_ORDER_EXPIRE, "retention delete "
	    "orders") == -1)
		goto fail;
	n = sqlite3_changes(st->db);
	if (n == 0) {
		store_rollback(st);
		return 0;
	}
	if (store_step_done(st, STMT_COMMIT, "retention commit") == -1)
		goto fail;
	st->dropped += (uint64_t)n;
	return n;
 fail:
	store_rollback(st);
	return -1;
}

static int64_t
store_chunk_rows(const struct store *st)
{
	int64_t		 chunk;

	chunk = (int64_t)(st->positions / STORE_CHUNK_DIVISOR);
	return chunk < STORE_CHUNK_MIN ? STORE_CHUNK_MIN : chunk;
}

static void
store_drop_log(const struct store_drop d[RT_COUNT], const char *reason)
{
	size_t		 i;

	for (i = 0; i < RT_COUNT; i++)
		if (d[i].n > 0)
			log_warnx("store: retention dropped %" PRIu64 " %s "
			    "(seq %" PRIu64 "..%" PRIu64 ", reason: %s)",
			    d[i].n, store_rtables[i].what, d[i].min_seq,
			    d[i].max_seq, reason);
}

static uint64_t
store_drop_total(const struct store_drop d[RT_COUNT])
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < RT_COUNT; i++)
		n += d[i].n;
	return n;
}

/*
 * Unacknowledged records that a retention run deleted: logged, and kept
 * for store_take_pressure().
 */
static void
store_pressure_note(struct store *st, const struct store_unacked *u)
{
	struct store_pressure *p = &st->pressure;
	int		 k;

	for (k = 0; k < STORE_STREAMS; k++) {
		if (u->n[k] == 0)
			continue;
		log_warnx("store: %s: retention dropped %" PRIu64 " "
		    "unacknowledged records of the %s stream (seq %" PRIu64
		    "..%" PRIu64 "): storage pressure, the platform never "
		    "acknowledged them", st->path, u->n[k],
		    store_stream_names[k], u->lo[k], u->hi[k]);
		if (p->count[k] == 0 || u->lo[k] < p->from_seq[k])
			p->from_seq[k] = u->lo[k];
		if (p->count[k] == 0 || u->hi[k] > p->to_seq[k])
			p->to_seq[k] = u->hi[k];
		p->count[k] += u->n[k];
		st->has_pressure = true;
	}
}

int
store_take_pressure(struct store *st, struct store_pressure *out)
{
	if (!st->has_pressure)
		return 0;
	*out = st->pressure;
	memset(&st->pressure, 0, sizeof(st->pressure));
	st->has_pressure = false;
	return 1;
}

int64_t
store_retention(struct store *st, int64_t now_utc_ms)
{
	struct store_drop age[RT_COUNT], size[RT_COUNT];
	struct store_unacked u;
	int64_t		 n, live, cap, cutoff, norders = 0;

	if (st->readonly) {
		log_warnx("store: %s: retention on a read-only store",
		    st->path);
		return -1;
	}
	memset(age, 0, sizeof(age));
	memset(size, 0, sizeof(size));
	memset(&u, 0, sizeof(u));
	/* Age: GNSS time; a zero or negative now means we have none yet. */
	if (st->keep_days > 0 && now_utc_ms > 0) {
		cutoff = now_utc_ms - (int64_t)st->keep_days * STORE_DAY_MS;
		do {
			n = store_drop_chunk(st, RM_AGE, cutoff,
			    store_chunk_rows(st), age, &u);
		} while (n > 0);
		if (n == -1)
			goto fail;
		if ((norders = store_drop_orders(st, cutoff)) == -1)
			goto fail;
		if (norders > 0)
			log_warnx("store: retention dropped %" PRId64
			    " dispatch orders (reason: age)", norders);
	}
	/*
	 * Size: the oldest acknowledged rows first, unacknowledged ones only
	 * when none of those is left.
	 */
	if (st->max_size_mb > 0) {
		cap = (int64_t)st->max_size_mb * STORE_MIB;
		for (;;) {
			if (store_live_bytes(st, &live) == -1)
				goto fail;
			if (live <= cap)
				break;
			n = store_drop_chunk(st, RM_ACKED, 0,
			    store_chunk_rows(st), size, &u);
			if (n == 0)
				n = store_drop_chunk(st, RM_UNACKED, 0,
				    store_chunk_rows(st), size, &u);
			if (n == -1)
				goto fail;
			if (n == 0)
				break;	/* no rows left: schema, meta */
		}
	}
	store_drop_log(age, "age");
	store_drop_log(size, "size");
	store_pressure_note(st, &u);
	if (st->retention_failing) {
		log_info("store: %s: retention works again", st->path);
		st->retention_failing = false;
	}
	return (int64_t)(store_drop_total(age) + store_drop_total(size)) +
	    norders;
 fail:
	store_drop_log(age, "age");
	store_drop_log(size, "size");
	store_pressure_note(st, &u);
	if (!st->retention_failing)
		log_warnx("store: %s: retention: %s", st->path, st->err);
	st->retention_failing = true;
	return -1;
}

void
store_get_stats(const struct store *st, struct store_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->positions = st->positions;
	s->pending = st->npending;
	s->trips = st->trips;
	s->dtcs_active = st->dtcs_active;
	s->events = st->events;
	s->events_open = st->events_open;
	memcpy(s->next_seq, st->next_seq, sizeof(s->next_seq));
	s->commits = st->commits;
	s->dropped = st->dropped;
	s->refused = st->refused;
	s->commit_failing = st->commit_failing;
}

int
store_query_positions(struct store *st, int64_t from_utc_ms,
    int64_t to_utc_ms, uint64_t limit, store_position_cb *cb, void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_POS_QUERY];
	struct store_position p;
	int		 rc;

	sqlite3_bind_int64(s, 1, from_utc_ms);
	sqlite3_bind_int64(s, 2, to_utc_ms);
	/* LIMIT -1 is "no limit" in SQLite. */
	sqlite3_bind_int64(s, 3, limit == 0 || limit > INT64_MAX ? -1 :
	    (int64_t)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_row_to_position(s, &p);
		if (cb(&p, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "query positions");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

const char *
store_timezone(const struct store *st)
{
	return st->timezone != NULL ? st->timezone : "";
}

const char *
store_device_id(const struct store *st)
{
	return st->device_id != NULL ? st->device_id : "";
}

/* ---- streams ---- */

/* A stream out of range, or a file from before the streams: -1 logged. */
static int
store_stream_check(struct store *st, enum store_stream stream,
    const char *what)
{
	if ((unsigned)stream >= STORE_STREAMS) {
		log_warnx("store: %s: %s: stream %d out of range", st->path,
		    what, (int)stream);
		return -1;
	}
	if (st->schema_version < STORE_STREAMS_VERSION) {
		log_warnx("store: %s: %s: schema version %" PRId64 " has no "
		    "streams", st->path, what, st->schema_version);
		return -1;
	}
	return 0;
}

/*
 * One snapshot for several statements, unless a transaction is open
 * already (then it is the snapshot).  0 or -1 (in err).
 */
static int
store_read_begin(struct store *st, bool *began)
{
	*began = false;
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	if (store_step_done(st, STMT_READ_BEGIN, "begin read") == -1)
		return -1;
	*began = true;
	return 0;
}

static int
store_read_end(struct store *st, bool began)
{
	if (!began)
		return 0;
	return store_step_done(st, STMT_READ_END, "end read");
}

/*
 * A start record: the row (EV_COLUMNS) with the values it was opened
 * with (EV_OPEN_COLUMNS after them), open.  -1 as store_row_to_event().
 */
static int
store_row_to_event_open(sqlite3_stmt *s, struct store_event *e)
{
	const unsigned char *txt;
	int		 c = EV_NCOLUMNS;

	if (store_row_to_event(s, e) == -1)
		return -1;
	e->end_seq = 0;
	e->end_utc_ms = 0;
	e->trip_id = (uint64_t)sqlite3_column_int64(s, c);
	e->lat_deg = store_column_real(s, c + 1);
	e->lon_deg = store_column_real(s, c + 2);
	txt = sqlite3_column_text(s, c + 3);
	util_strlcpy(e->fence_id, txt != NULL ? (const char *)txt : "",
	    sizeof(e->fence_id));
	txt = sqlite3_column_text(s, c + 4);
	e->details = txt != NULL ? (const char *)txt : "{}";
	return 0;
}

/* A row of CMD_COLUMNS; the strings point into the statement. */
static void
store_row_to_command(sqlite3_stmt *s, struct store_command *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = (uint64_t)sqlite3_column_int64(s, 0);
	store_column_str(s, 1, c->id, sizeof(c->id));
	store_column_str(s, 2, c->type, sizeof(c->type));
	c->received_utc_ms = sqlite3_column_int64(s, 3);
	c->done_utc_ms = sqlite3_column_int64(s, 4);
	store_column_str(s, 5, c->status, sizeof(c->status));
	c->result = (const char *)sqlite3_column_text(s, 6);
	c->error = (const char *)sqlite3_column_text(s, 7);
	c->delivered = sqlite3_column_int(s, 8) != 0;
}

/* The events stream's cursors, merged by seq. */
enum store_sr {
	SR_TRIPS,
	SR_START,	/* event starts and instants, by seq */
	SR_END,		/* event ends, by end_seq */
	SR_CMD,
	SR_COUNT
};

static const struct {
	enum store_stmt	 stmt;
	int		 seq_col;
} store_sr[SR_COUNT] = {
	[SR_TRIPS] = { STMT_SR_TRIPS, 1 },
	[SR_START] = { STMT_SR_EV_START, 1 },
	[SR_END] = { STMT_SR_EV_END, 2 },
	[SR_CMD] = { STMT_SR_CMD, 0 },
};

struct store_cursor {
	sqlite3_stmt	*s;
	int		 rc;	/* of the last step */
	uint64_t	 seq;	/* of the row, when rc is SQLITE_ROW */
};

static int
store_cursor_step(struct store *st, struct store_cursor *c, int seq_col)
{
	c->rc = sqlite3_step(c->s);
	if (c->rc == SQLITE_ROW) {
		c->seq = (uint64_t)sqlite3_column_int64(c->s, seq_col);
		return 0;
	}
	if (c->rc == SQLITE_DONE)
		return 0;
	store_sqlerr(st, "read stream");
	return -1;
}

/*
 * The record at the cursor; 1 when the row is one this program cannot
 * read (a newer program's event type or severity), 0 else.
 */
static int
store_cursor_record(struct store *st, enum store_sr which,
    struct store_cursor *c, struct store_record *r)
{
	memset(r, 0, sizeof(*r));
	r->stream = STORE_STREAM_EVENTS;
	r->seq = c->seq;
	switch (which) {
	case SR_TRIPS:
		r->kind = STORE_REC_TRIP;
		store_row_to_trip(c->s, &r->u.trip);
		return 0;
	case SR_START:
		if (sqlite3_column_int64(c->s, 2) == (int64_t)c->seq) {
			r->kind = STORE_REC_EVENT_COMPLETE;
			if (store_row_to_event(c->s, &r->u.ev) == -1)
				break;
			return 0;
		}
		r->kind = STORE_REC_EVENT_START;
		if (store_row_to_event_open(c->s, &r->u.ev) == -1)
			break;
		return 0;
	case SR_END:
		r->kind = STORE_REC_EVENT_END;
		if (store_row_to_event(c->s, &r->u.ev) == -1)
			break;
		return 0;
	case SR_CMD:
		r->kind = STORE_REC_COMMAND_RESULT;
		store_row_to_command(c->s, &r->u.cmd);
		return 0;
	case SR_COUNT:
		break;
	}
	if (!st->unknown_event_logged)
		log_warnx("store: %s: event %lld has a type or severity this "
		    "program does not know, its record %" PRIu64 " is skipped",
		    st->path, (long long)sqlite3_column_int64(c->s, 0), c->seq);
	st->unknown_event_logged = true;
	return 1;
}

/* The events stream: the cursors merged by seq.  0 or -1 (in err). */
static int
store_read_events(struct store *st, int64_t from, int64_t to, uint64_t max,
    store_record_cb *cb, void *arg)
{
	struct store_cursor c[SR_COUNT];
	struct store_record r;
	uint64_t	 n = 0;
	int		 i, best, ret = -1;

	for (i = 0; i < SR_COUNT; i++) {
		c[i].s = st->stmt[store_sr[i].stmt];
		c[i].rc = SQLITE_DONE;
	}
	for (i = 0; i < SR_COUNT; i++) {
		sqlite3_bind_int64(c[i].s, 1, from);
		sqlite3_bind_int64(c[i].s, 2, to);
		if (store_cursor_step(st, &c[i], store_sr[i].seq_col) == -1)
			goto out;
	}
	while (max == 0 || n < max) {
		best = -1;
		for (i = 0; i < SR_COUNT; i++)
			if (c[i].rc == SQLITE_ROW && (best == -1 ||
			    c[i].seq < c[best].seq))
				best = i;
		if (best == -1)
			break;
		if (store_cursor_record(st, (enum store_sr)best, &c[best],
		    &r) == 0) {
			n++;
			if (cb(&r, arg) != 0)
				break;
		}
		if (store_cursor_step(st, &c[best],
		    store_sr[best].seq_col) == -1)
			goto out;
	}
	ret = 0;
 out:
	for (i = 0; i < SR_COUNT; i++) {
		sqlite3_reset(c[i].s);
		sqlite3_clear_bindings(c[i].s);
	}
	return ret;
}

/* The positions stream.  0 or -1 (in err). */
static int
store_read_positions(struct store *st, int64_t from, int64_t to,
    uint64_t max, store_record_cb *cb, void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_SR_POS];
	struct store_record r;
	int		 rc;

	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	/* LIMIT -1 is "no limit" in SQLite. */
	sqlite3_bind_int64(s, 3, max == 0 || max > INT64_MAX ? -1 :
	    (int64_t)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.stream = STORE_STREAM_POSITIONS;
		r.kind = STORE_REC_POSITION;
		store_row_to_position(s, &r.u.pos);
		r.seq = r.u.pos.seq;
		if (cb(&r, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		store_sqlerr(st, "read positions stream");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_stream_read(struct store *st, enum store_stream stream,
    uint64_t from_seq, uint64_t to_seq, uint64_t max_records,
    store_record_cb *cb, void *arg)
{
	bool		 began;
	int		 rc;

	if (store_stream_check(st, stream, "stream read") == -1)
		return -1;
	if (to_seq > (uint64_t)INT64_MAX)
		to_seq = INT64_MAX;
	if (from_seq > to_seq)
		return 0;
	if (store_read_begin(st, &began) == -1) {
		log_warnx("store: %s: %s", st->path, st->err);
		return -1;
	}
	if (stream == STORE_STREAM_EVENTS)
		rc = store_read_events(st, (int64_t)from_seq, (int64_t)to_seq,
		    max_records, cb, arg);
	else
		rc = store_read_positions(st, (int64_t)from_seq,
		    (int64_t)to_seq, max_records, cb, arg);
	if (store_read_end(st, began) == -1)
		rc = -1;
	if (rc == -1)
		log_warnx("store: %s: %s", st->path, st->err);
	return rc;
}

int
store_stream_state(struct store *st, enum store_stream stream,
    struct store_stream_state *out)
{
	static const enum store_stmt q[STORE_STREAMS][3] = {
		[STORE_STREAM_EVENTS] = { STMT_ST_FIRST_EV,
		    STMT_ST_PENDING_EV, STMT_ST_OLDEST_EV },
		[STORE_STREAM_POSITIONS] = { STMT_ST_FIRST_POS,
		    STMT_ST_PENDING_POS, STMT_ST_OLDEST_POS },
	};
	uint64_t	 next[STORE_STREAMS], acked;
	int64_t		 v[3], nq;
	sqlite3_stmt	*s;
	bool		 began;
	int		 i;

	memset(out, 0, sizeof(*out));
	if (store_stream_check(st, stream, "stream state") == -1)
		return -1;
	if (store_read_begin(st, &began) == -1)
		goto fail;
	if (store_seq_derive(st, next) == -1 ||
	    store_meta_uint(st, store_acked_keys[stream], &acked) == -1)
		goto fail_read;
	for (i = 0; i < 3; i++) {
		s = st->stmt[q[stream][i]];
		if (i > 0)
			sqlite3_bind_int64(s, 1, acked < (uint64_t)INT64_MAX ?
			    (int64_t)acked : INT64_MAX);
		if (store_stmt_ints(st, s, "stream state", &v[i], 1) == -1)
			goto fail_read;
	}
	s = st->stmt[STMT_QUAR_COUNT];
	sqlite3_bind_text(s, 1, store_stream_names[stream], -1,
	    SQLITE_STATIC);
	if (store_stmt_ints(st, s, "count quarantine", &nq, 1) == -1)
		goto fail_read;
	if (store_read_end(st, began) == -1)
		goto fail;
	out->next_seq = next[stream];
	out->acked_through = acked;
	out->first_seq = v[0] > 0 ? (uint64_t)v[0] : 0;
	out->pending = v[1] > 0 ? (uint64_t)v[1] : 0;
	out->oldest_pending_utc_ms = out->pending > 0 ? v[2] : 0;
	out->quarantined = nq > 0 ? (uint64_t)nq : 0;
	return 0;
 fail_read:
	if (began && !sqlite3_get_autocommit(st->db))
		(void)store_read_end(st, began);
 fail:
	log_warnx("store: %s: %s", st->path, st->err);
	memset(out, 0, sizeof(*out));
	return -1;
}

/*
 * A small write transaction of its own, without the pending records
 * (acknowledgements, quarantine, delivery marks: a meta row or a small
 * table, not worth an early batch).  fn returns 0 to commit, 1 to roll
 * back without an error, -1 on error (st->err).  0, 1 or -1 (logged with
 * what).
 */
static int
store_small_txn(struct store *st, store_txn_fn *fn, void *arg,
    const char *what)
{
	int		 rc;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if (store_begin(st) == -1)
		goto fail;
	if ((rc = fn(st, arg)) == -1)
		goto fail;
	if (rc == 1) {
		store_rollback(st);
		return 1;
	}
	if (store_step_done(st, STMT_COMMIT, "commit") == -1)
		goto fail;
	return 0;
 fail:
	store_rollback(st);
	log_warnx("store: %s: %s not recorded: %s", st->path, what, st->err);
	return -1;
}

struct store_ack_arg {
	enum store_stream stream;
	uint64_t	 acked;
	uint64_t	 old;
	uint64_t	 next;
	bool		 refused;
};

static int
store_txn_ack(struct store *st, void *arg)
{
	struct store_ack_arg *a = arg;
	sqlite3_stmt	*s = st->stmt[STMT_META_SET];

	if (store_meta_uint(st, store_acked_keys[a->stream], &a->old) == -1)
		return -1;
	a->next = st->next_seq[a->stream];
	if (a->acked <= a->old)
		return 1;
	if (a->acked >= a->next) {
		a->refused = true;
		return 1;
	}
	sqlite3_bind_text(s, 1, store_acked_keys[a->stream], -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)a->acked);
	return store_step_done(st, STMT_META_SET, "write acked");
}

int
store_stream_ack(struct store *st, enum store_stream stream,
    uint64_t acked_through)
{
	struct store_ack_arg a;
	int		 rc;

	if (store_stream_check(st, stream, "acknowledgement") == -1)
		return -1;
	memset(&a, 0, sizeof(a));
	a.stream = stream;
	a.acked = acked_through;
	rc = store_small_txn(st, store_txn_ack, &a, "acknowledgement");
	if (rc == -1)
		return -1;
	if (a.refused) {
		log_warnx("store: %s: %s acknowledged through seq %" PRIu64
		    ", but the next seq is %" PRIu64 ": refused", st->path,
		    store_stream_names[stream], acked_through, a.next);
		return -1;
	}
	if (rc == 0)
		log_debug("store: %s acknowledged through seq %" PRIu64,
		    store_stream_names[stream], acked_through);
	return 0;
}

struct store_quar_arg {
	enum store_stream stream;
	uint64_t	 seq;
	int		 http_status;
	const char	*reason;
	int64_t		 t_utc_ms;
	uint64_t	 next;
	bool		 refused;
	int		 changes;
};

static int
store_txn_quarantine(struct store *st, void *arg)
{
	struct store_quar_arg *a = arg;
	sqlite3_stmt	*s = st->stmt[STMT_QUAR_INSERT];

	a->next = st->next_seq[a->stream];
	if (a->seq >= a->next) {
		a->refused = true;
		return 1;
	}
	sqlite3_bind_text(s, 1, store_stream_names[a->stream], -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)a->seq);
	sqlite3_bind_int(s, 3, a->http_status);
	sqlite3_bind_text(s, 4, a->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, a->t_utc_ms);
	if (store_step_done(st, STMT_QUAR_INSERT, "quarantine") == -1)
		return -1;
	a->changes = sqlite3_changes(st->db);
	return 0;
}

int
store_stream_quarantine(struct store *st, enum store_stream stream,
    uint64_t seq, int http_status, const char *reason)
{
	struct store_quar_arg a;
	struct timespec	 ts;

	if (store_stream_check(st, stream, "quarantine") == -1)
		return -1;
	if (seq == 0) {
		log_warnx("store: %s: quarantine of %s seq 0 refused",
		    st->path, store_stream_names[stream]);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.stream = stream;
	a.seq = seq;
	a.http_status = http_status;
	a.reason = reason != NULL ? reason : "";
	/* When it happened, for the inspector: the system clock will do. */
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		a.t_utc_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (store_small_txn(st, store_txn_quarantine, &a, "quarantine") ==
	    -1)
		return -1;
	if (a.refused) {
		log_warnx("store: %s: quarantine of %s seq %" PRIu64 " refused: "
		    "the next seq is %" PRIu64, st->path,
		    store_stream_names[stream], seq, a.next);
		return -1;
	}
	if (a.changes > 0)
		log_warnx("store: %s: %s record %" PRIu64 " quarantined: the "
		    "platform refused it (HTTP %d: %s)", st->path,
		    store_stream_names[stream], seq, http_status, a.reason);
	else
		log_debug("store: %s record %" PRIu64 " is quarantined "
		    "already", store_stream_names[stream], seq);
	return 0;
}

/* ---- platform commands ---- */

static const char *const store_cmd_statuses[] = { "ok", "error",
    "unsupported" };

/* NULL if c can be stored, else what is wrong with it. */
static const char *
store_command_invalid(const struct store_command *c)
{
	json_t		*j;
	size_t		 i;
	bool		 obj;

	if (!store_str_ok(c->id, sizeof(c->id)) || *c->id == '\0')
		return "empty or too long id";
	if (!store_str_ok(c->type, sizeof(c->type)))
		return "unterminated type";
	if (!store_str_ok(c->status, sizeof(c->status)))
		return "unterminated status";
	for (i = 0; i < NELEM(store_cmd_statuses); i++)
		if (strcmp(c->status, store_cmd_statuses[i]) == 0)
			break;
	if (i == NELEM(store_cmd_statuses))
		return "status is not ok, error or unsupported";
	if (c->result != NULL) {
		j = json_loads(c->result, JSON_REJECT_DUPLICATES, NULL);
		obj = json_is_object(j);
		json_decref(j);
		if (!obj)
			return "result is not a JSON object";
	}
	return NULL;
}

struct store_cmd_arg {
	const struct store_command *c;
	uint64_t	 seq;
	bool		 dup;
};

static int
store_txn_command_put(struct store *st, void *arg)
{
	struct store_cmd_arg *a = arg;
	const struct store_command *c = a->c;
	sqlite3_stmt	*s;
	int64_t		 n;

	/* Looked at first, so that no seq is taken for a duplicate. */
	sqlite3_bind_text(st->stmt[STMT_CMD_STATE], 1, c->id, -1,
	    SQLITE_STATIC);
	if (store_step_ints(st, STMT_CMD_STATE, "command state", &n, 1) == -1)
		return -1;
	if (n > 0) {
		a->dup = true;
		return 0;
	}
	if (store_seq_alloc(st, STORE_STREAM_EVENTS, 1, &a->seq) == -1)
		return -1;
	s = st->stmt[STMT_CMD_INSERT];
	sqlite3_bind_int64(s, 1, (int64_t)a->seq);
	sqlite3_bind_text(s, 2, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c->received_utc_ms);
	sqlite3_bind_int64(s, 5, c->done_utc_ms);
	sqlite3_bind_text(s, 6, c->status, -1, SQLITE_STATIC);
	if (c->result != NULL)
		sqlite3_bind_text(s, 7, c->result, -1, SQLITE_STATIC);
	if (c->error != NULL)
		sqlite3_bind_text(s, 8, c->error, -1, SQLITE_STATIC);
	return store_step_done(st, STMT_CMD_INSERT, "insert command");
}

int
store_command_put(struct store *st, struct store_command *c)
{
	struct store_cmd_arg a;
	const char	*why;

	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
	if ((why = store_command_invalid(c)) != NULL) {
		log_warnx("store: %s: command %.*s: %s, not recorded", st->path,
		    STORE_CMD_ID_MAX, c->id, why);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.c = c;
	if (store_commit_with(st, store_txn_command_put, &a,
	    "command result") == -1)
		return -1;
	if (a.dup) {
		log_warnx("store: %s: command %s is stored already, result not "
		    "recorded", st->path, c->id);
		return -1;
	}
	c->seq = a.seq;
	log_debug("store: committed command %s (%s, %s), seq %" PRIu64, c->id,
	    c->type, c->status, a.seq);
	return 0;
}

int
store_command_get(struct store *st, const char *id,
    struct store_command *out)
{
	sqlite3_stmt	*s = st->stmt[STMT_CMD_GET];
	int		 rc;

	if (s == NULL || id == NULL)
		return 0;	/* read-only, file older than commands */
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_row_to_command(s, out);
		free(st->cmd_result);
		free(st->cmd_error);
		st->cmd_result = out->result != NULL ? xstrdup(out->result) :
		    NULL;
		st->cmd_error = out->error != NULL ? xstrdup(out->error) :
		    NULL;
		out->result = st->cmd_result;
		out->error = st->cmd_error;
	} else if (rc != SQLITE_DONE) {
		store_sqlerr(st, "command");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
store_txn_delivered(struct store *st, void *arg)
{
	sqlite3_bind_text(st->stmt[STMT_CMD_DELIVERED], 1, arg, -1,
	    SQLITE_STATIC);
	if (store_step_done(st, STMT_CMD_DELIVERED, "mark delivered") == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

int
store_command_delivered(struct store *st, const char *id)
{
	int		 rc;

	if (id == NULL || *id == '\0') {
		log_warnx("store: %s: delivery mark without a command id",
		    st->path);
		return -1;
	}
	rc = store_small_txn(st, store_txn_delivered, (void *)(uintptr_t)id,
	    "delivery mark");
	if (rc == 1)
		log_warnx("store: %s: command %s is not stored, delivery not "
		    "recorded", st->path, id);
	return rc == 0 ? 0 : -1;
}

int
store_query_commands(struct store *st, bool undelivered_only,
    store_command_cb *cb, void *arg)
{
	sqlite3_stmt	*s = st->stmt[STMT_CMD_QUERY];
	struct store_command c;
	int		 rc;

	if (s == NULL)
		return 0;	/* read-only, file older than commands */
	sqlite3_bind_int(s, 1, undelivered_only);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_row_to_command(s, &c);
		if (cb(&c, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "query commands");
		log_warnx("store: %s: %s", st->path, st->err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

/* ---------------------------------------------------- tamper evidence */

static int
store_chain_check(struct store *st, const char *what)
{
	if (st->schema_version < STORE_CHAIN_VERSION) {
		log_warnx("store: %s: %s: schema version %" PRId64 " has no "
		    "hash chain (version %d and later)", st->path, what,
		    st->schema_version, STORE_CHAIN_VERSION);
		return -1;
	}
	return 0;
}

const char *
store_chain_timezone(const struct store *st)
{
	return st->chain_tz != NULL ? st->chain_tz : "";
}

int
store_chain_head(struct store *st, enum store_stream stream,
    struct chain *out)
{
	chain_init(out);
	if (store_stream_check(st, stream, "chain head") == -1 ||
	    store_chain_check(st, "chain head") == -1)
		return -1;
	if (store_chain_head_get(st, stream, out) == -1) {
		log_warnx("store: %s: %s", st->path, st->err);
		return -1;
	}
	return 0;
}

int
store_chain_link(struct store *st, enum store_stream stream, uint64_t seq,
    unsigned char h[CHAIN_HASH_LEN])
{
	sqlite3_stmt	*s;
	int		 rc, ret;

	if (store_stream_check(st, stream, "chain link") == -1 ||
	    store_chain_check(st, "chain link") == -1)
		return -1;
	if (seq == 0 || seq > (uint64_t)INT64_MAX)
		return 0;
	s = st->stmt[STMT_CHAIN_GET];
	sqlite3_bind_int(s, 1, (int)stream);
	sqlite3_bind_int64(s, 2, (int64_t)seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == CHAIN_HASH_LEN) {
		memcpy(h, sqlite3_column_blob(s, 0), CHAIN_HASH_LEN);
		ret = 1;
	} else if (rc == SQLITE_ROW) {
		snprintf(st->err, sizeof(st->err), "%s link %" PRIu64 " is "
		    "malformed", store_stream_names[stream], seq);
		ret = -1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else {
		store_sqlerr(st, "read chain link");
		ret = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (ret == -1)
		log_warnx("store: %s: %s", st->path, st->err);
	return ret;
}

static int
store_txn_checkpoint(struct store *st, void *arg)
{
	struct store_checkpoint	*cp = arg;
	sqlite3_stmt		*s = st->stmt[STMT_CP_INSERT];

	sqlite3_bind_int64(s, 1, cp->t_utc_ms);
	sqlite3_bind_int64(s, 2, (int64_t)cp->seq[STORE_STREAM_EVENTS]);
	sqlite3_bind_int64(s, 3, (int64_t)cp->seq[STORE_STREAM_POSITIONS]);
	sqlite3_bind_text(s, 4, cp->body, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, cp->sig, (int)cp->siglen, SQLITE_STATIC);
	if (store_stmt_done(st, s, "insert checkpoint") == -1)
		return -1;
	cp->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_checkpoint_put(struct store *st, struct store_checkpoint *cp)
{
	if (store_chain_check(st, "checkpoint") == -1)
		return -1;
	if (cp->body == NULL || cp->sig == NULL || cp->siglen == 0 ||
	    cp->siglen > 1024 || cp->seq[0] > (uint64_t)INT64_MAX ||
	    cp->seq[1] > (uint64_t)INT64_MAX) {
		log_warnx("store: %s: invalid checkpoint", st->path);
		return -1;
	}
	return store_commit_with(st, store_txn_checkpoint, cp,
	    "a checkpoint");
}

int
store_checkpoint_query(struct store *st, int64_t from_id,
    store_checkpoint_cb *cb, void *arg)
{
	struct store_checkpoint	 cp;
	sqlite3_stmt		*s;
	bool			 began;
	int			 rc, ret = 0;

	if (store_chain_check(st, "checkpoints") == -1)
		return -1;
	if (store_read_begin(st, &began) == -1) {
		log_warnx("store: %s: %s", st->path, st->err);
		return -1;
	}
	s = st->stmt[STMT_CP_QUERY];
	sqlite3_bind_int64(s, 1, from_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&cp, 0, sizeof(cp));
		cp.id = sqlite3_column_int64(s, 0);
		cp.t_utc_ms = sqlite3_column_int64(s, 1);
		cp.seq[STORE_STREAM_EVENTS] = (uint64_t)(sqlite3_column_int64(s,
		    2) > 0 ? sqlite3_column_int64(s, 2) : 0);
		cp.seq[STORE_STREAM_POSITIONS] = (uint64_t)(
		    sqlite3_column_int64(s, 3) > 0 ?
		    sqlite3_column_int64(s, 3) : 0);
		cp.body = (const char *)sqlite3_column_text(s, 4);
		cp.sig = sqlite3_column_blob(s, 5);
		cp.siglen = (size_t)sqlite3_column_bytes(s, 5);
		if (cp.body == NULL)
			cp.body = "";
		if (cb(&cp, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "read checkpoints");
		ret = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (store_read_end(st, began) == -1)
		ret = -1;
	if (ret == -1)
		log_warnx("store: %s: %s", st->path, st->err);
	return ret;
}

int
store_snapshot_begin(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db)) {
		log_warnx("store: %s: snapshot inside a transaction", st->path);
		return -1;
	}
	if (store_step_done(st, STMT_READ_BEGIN, "begin snapshot") == -1) {
		log_warnx("store: %s: %s", st->path, st->err);
		return -1;
	}
	return 0;
}

int
store_snapshot_end(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	if (store_step_done(st, STMT_READ_END, "end snapshot") == -1) {
		log_warnx("store: %s: %s", st->path, st->err);
		return -1;
	}
	return 0;
}
