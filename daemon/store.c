/* SPDX-License-Identifier: MIT */
/*
 * store.c - the SQLite store.
 *
 * Durability rules (docs: reliability brief section 1):
 *  - WAL, synchronous=FULL: a COMMIT that returned SQLITE_OK survives a
 *    process crash and a power cut; nothing is reported committed before.
 *  - Positions wait in a bounded RAM buffer and go to disk in one
 *    transaction per batch, which cuts fsyncs and flash writes.
 *  - A batch commit writes nothing but the record tables and their
 *    indexes: in the steady state one positions leaf and one t_utc_ms
 *    index leaf.  seq is therefore not kept in a counter row (that was a
 *    third page per commit) but derived from the data: the next seq is one
 *    above the highest seq in any record table, or meta.seq_floor if that
 *    is higher.  Only deletions could lower the highest seq, so only the
 *    transactions that delete (retention) write seq_floor, set to the next
 *    seq before they delete.  The counter in memory moves with each write
 *    transaction and is put back when it rolls back.  A crash loses only
 *    uncommitted seqs, which nobody has seen; the next open derives the
 *    counter again.  So seq stays dense, increasing and never reused.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "record.h"
#include "store.h"
#include "util.h"

/* Rows kept in RAM at most; about 0.5 MB, 68 minutes at 1 Hz. */
#define STORE_PENDING_MAX	4096
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
};
#define STORE_SCHEMA_VERSION	((int)NELEM(store_migrations))
/* Schema version from which meta holds seq_floor instead of next_seq. */
#define STORE_SEQ_FLOOR_VERSION	2

/*
 * Tables whose rows take their seq from the one stream; the next seq is
 * derived from their max(seq).  Trips and events go here when they come.
 */
static const char *const store_seq_tables[] = {
	"positions",
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
	STMT_AGE_BOUND,
	STMT_AGE_RANGE,
	STMT_AGE_DELETE,
	STMT_OLD_BOUND,
	STMT_OLD_RANGE,
	STMT_OLD_DELETE,
	STMT_NSTMT
};

#define POS_COLUMNS							\
	"seq, t_utc_ms, lat_deg, lon_deg, alt_m, speed_mps, heading_deg, "\
	"hdop, eph_m, mode, sats_used, sats_visible, gps_vis, gps_used, "\
	"bds_vis, bds_used, glo_vis, glo_used, gal_vis, gal_used"

static const struct {
	const char	*sql;
	bool		 rw;	/* only prepared on writable connections */
} store_sql[STMT_NSTMT] = {
	[STMT_BEGIN] = { "BEGIN IMMEDIATE", true },
	[STMT_COMMIT] = { "COMMIT", true },
	[STMT_ROLLBACK] = { "ROLLBACK", true },
	[STMT_META_GET] = { "SELECT value FROM meta WHERE key = ?1", false },
	[STMT_META_SET] = { "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", true },
	[STMT_POS_INSERT] = { "INSERT INTO positions(" POS_COLUMNS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14, ?15, ?16, ?17, ?18, ?19, ?20)", true },
	[STMT_POS_QUERY] = { "SELECT " POS_COLUMNS " FROM positions "
	    "WHERE t_utc_ms >= ?1 AND t_utc_ms < ?2 ORDER BY seq LIMIT ?3",
	    false },
	[STMT_POS_COUNT] = { "SELECT count(*) FROM positions", false },
	[STMT_DATA_VERSION] = { "PRAGMA data_version", false },
	[STMT_PAGE_COUNT] = { "PRAGMA page_count", false },
	[STMT_FREELIST_COUNT] = { "PRAGMA freelist_count", false },
	/* Age: the chunk is everything up to the chunk-th oldest t. */
	[STMT_AGE_BOUND] = { "SELECT t_utc_ms FROM positions "
	    "WHERE t_utc_ms < ?1 ORDER BY t_utc_ms LIMIT 1 OFFSET ?2", true },
	[STMT_AGE_RANGE] = { "SELECT count(*), min(seq), max(seq) "
	    "FROM positions WHERE t_utc_ms <= ?1", true },
	[STMT_AGE_DELETE] = { "DELETE FROM positions WHERE t_utc_ms <= ?1",
	    true },
	/* Size: the chunk is the oldest seqs with the given synced state. */
	[STMT_OLD_BOUND] = { "SELECT seq FROM positions "
	    "WHERE (synced <> 0) = ?1 ORDER BY seq LIMIT 1 OFFSET ?2", true },
	[STMT_OLD_RANGE] = { "SELECT count(*), min(seq), max(seq) "
	    "FROM positions WHERE (synced <> 0) = ?1 AND seq <= ?2", true },
	[STMT_OLD_DELETE] = { "DELETE FROM positions "
	    "WHERE (synced <> 0) = ?1 AND seq <= ?2", true },
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[STMT_NSTMT];
	char		*path;
	bool		 readonly;

	int		 max_size_mb;
	int		 keep_days;
	uint32_t	 commit_interval_ms;
	uint32_t	 commit_rows;

	char		*device_id;	/* from meta */
	char		*timezone;	/* from meta */
	int64_t		 page_size;

	struct fix	*pending;	/* STORE_PENDING_MAX entries */
	size_t		 npending;
	uint64_t	 first_pending_ms;	/* caller's mono time */
	bool		 retry_wait;	/* last commit failed: wait for ... */
	uint64_t	 retry_at_ms;	/* ... this mono time */

	int64_t		 schema_version;	/* after migration, or as found (ro) */

	uint64_t	 positions;
	/*
	 * The seq allocator.  next_seq is valid while seq_known; seq_mark is
	 * its value when the open write transaction began, restored when it
	 * rolls back.  data_version tells whether another connection wrote
	 * since we last derived next_seq (then we derive it again).
	 */
	uint64_t	 next_seq;
	uint64_t	 seq_mark;
	bool		 seq_known;
	int64_t		 data_version;
	uint64_t	 commits;
	uint64_t	 dropped;
	uint64_t	 refused;

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

/* Remember the connection's last error for a log line. */
static void
store_sqlerr(struct store *st, const char *what)
{
	snprintf(st->err, sizeof(st->err), "%s: %s (extended code %d)",
	    what, sqlite3_errmsg(st->db), sqlite3_extended_errcode(st->db));
}

/* Run a statement that returns no rows, then reset it.  0 or -1. */
static int
store_step_done(struct store *st, enum store_stmt id, const char *what)
{
	sqlite3_stmt	*s = st->stmt[id];
	int		 rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_sqlerr(st, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Run a statement expected to return one row of integers; fills up to n
 * columns (NULL and no row read as 0).  1 if a row came back, 0 if none,
 * -1 on error.
 */
static int
store_step_ints(struct store *st, enum store_stmt id, const char *what,
    int64_t *v, int n)
{
	sqlite3_stmt	*s = st->stmt[id];
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

static int	 store_seq_derive(struct store *, uint64_t *);
static void	 store_rollback(struct store *);

/*
 * Begin a write transaction.  Derives next_seq from the database the first
 * time, and again whenever another connection has committed since (a
 * second writer must not make us hand out its seqs); otherwise the counter
 * in memory is the truth and nothing is read.  0 or -1 (st->err).
 */
static int
store_begin(struct store *st)
{
	uint64_t	 next;
	int64_t		 version;

	st->seq_mark = st->next_seq;
	if (store_step_done(st, STMT_BEGIN, "begin") == -1)
		return -1;
	if (store_step_ints(st, STMT_DATA_VERSION, "data_version", &version,
	    1) != 1)
		goto fail;
	if (!st->seq_known || version != st->data_version) {
		if (store_seq_derive(st, &next) == -1)
			goto fail;
		if (st->seq_known && next != st->next_seq)
			log_warnx("store: %s: another connection wrote, seq "
			    "continues at %" PRIu64 " instead of %" PRIu64,
			    st->path, next, st->next_seq);
		st->next_seq = st->seq_mark = next;
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
	st->next_seq = st->seq_mark;
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
 * The seq floor: meta.seq_floor, or meta.next_seq in a version 1 database
 * (read-only connections do not migrate).  -1 if missing or not a positive
 * integer (in err): then nothing tells whether the newest rows were
 * deleted, and guessing could reuse their seqs.
 */
static int
store_meta_seq_floor(struct store *st, uint64_t *floor)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_GET];
	const char	*key;
	int64_t		 v = 0;
	int		 rc, type = SQLITE_NULL;

	key = st->schema_version < STORE_SEQ_FLOOR_VERSION ? "next_seq" :
	    "seq_floor";
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

/*
 * The next seq as the database says: one above the highest seq of every
 * record table, or the floor if that is higher.  Call inside a transaction
 * so that all of it comes from one snapshot.  0 or -1 (in err).
 */
static int
store_seq_derive(struct store *st, uint64_t *next)
{
	char		 sql[64];
	uint64_t	 floor;
	int64_t		 maxseq;
	size_t		 i;

	if (store_meta_seq_floor(st, &floor) == -1)
		return -1;
	*next = floor;
	for (i = 0; i < NELEM(store_seq_tables); i++) {
		snprintf(sql, sizeof(sql), "SELECT max(seq) FROM %s",
		    store_seq_tables[i]);
		/* NULL (no rows) reads as 0. */
		if (store_pragma_int(st, sql, &maxseq) == -1)
			return -1;
		if (maxseq >= 0 && (uint64_t)maxseq + 1 > *next)
			*next = (uint64_t)maxseq + 1;
	}
	return 0;
}

/*
 * Record next_seq as the floor, inside the write transaction of anything
 * that deletes records.  Only deletions need it: without them the highest
 * stored seq already tells where to go on.  0 or -1 (in err).
 */
static int
store_seq_floor_set(struct store *st)
{
	sqlite3_stmt	*s = st->stmt[STMT_META_SET];

	if (sqlite3_get_autocommit(st->db) || !st->seq_known) {
		snprintf(st->err, sizeof(st->err),
		    "seq floor written outside a transaction");
		return -1;
	}
	if (st->next_seq > (uint64_t)INT64_MAX) {
		snprintf(st->err, sizeof(st->err), "seq space exhausted");
		return -1;
	}
	sqlite3_bind_text(s, 1, "seq_floor", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)st->next_seq);
	return store_step_done(st, STMT_META_SET, "write seq_floor");
}

/*
 * The seq allocator: reserve n consecutive seqs and return the first.
 * Call inside a write transaction begun with store_begin(); nothing is
 * written for it, and store_rollback() gives the seqs back, so a failed
 * commit neither burns nor reuses any.  Positions use it now; trips and
 * events will share the same stream (list them in store_seq_tables).
 */
static int
store_seq_alloc(struct store *st, uint64_t n, uint64_t *first)
{
	if (sqlite3_get_autocommit(st->db) || !st->seq_known) {
		snprintf(st->err, sizeof(st->err),
		    "seq allocation outside a transaction");
		return -1;
	}
	if (st->next_seq > (uint64_t)INT64_MAX ||
	    n > (uint64_t)INT64_MAX - st->next_seq + 1) {
		snprintf(st->err, sizeof(st->err), "seq space exhausted");
		return -1;
	}
	*first = st->next_seq;
	st->next_seq += n;
	return 0;
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

static int
store_insert_position(struct store *st, uint64_t seq, const struct fix *f)
{
	sqlite3_stmt	*s = st->stmt[STMT_POS_INSERT];
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
}

/*
 * Bring the schema to STORE_SCHEMA_VERSION, one transaction per step.
 * The version is read again under the write lock so that two processes
 * opening the same new file cannot both run a step.
 */
static int
store_migrate(struct store *st)
{
	int64_t		 version, ntables;
	char		 sql[64];

	for (;;) {
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
		if (version == STORE_SCHEMA_VERSION)
			break;
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
		if (store_exec(st, store_migrations[version],
		    "migration") == -1)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64,
		    version + 1);
		if (store_exec(st, sql, "set user_version") == -1)
			goto fail;
		if (store_exec(st, "COMMIT", "commit migration") == -1)
			goto fail;
		log_info("store: %s: schema migrated to version %" PRId64,
		    st->path, version + 1);
	}
	st->schema_version = version;
	return store_exec(st, "COMMIT", "end migration check");
 fail:
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
store_prepare(struct store *st)
{
	int		 i;

	for (i = 0; i < STMT_NSTMT; i++) {
		if (st->readonly && store_sql[i].rw)
			continue;
		if (sqlite3_prepare_v3(st->db, store_sql[i].sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			store_sqlerr(st, store_sql[i].sql);
			return -1;
		}
	}
	return 0;
}

/*
 * Load meta and record device id and timezone.  store_begin() derives
 * next_seq on the way (the first transaction of the connection).
 */
static int
store_load_meta(struct store *st, const char *device_id,
    const char *timezone)
{
	int64_t		 count;

	if (store_begin(st) == -1)
		return -1;
	if (store_meta_text(st, "device_id", &st->device_id) == -1 ||
	    store_meta_text(st, "timezone", &st->timezone) == -1)
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
	if (timezone != NULL && *timezone != '\0' &&
	    strcmp(timezone, st->timezone) != 0) {
		if (store_meta_set_text(st, "timezone", timezone) == -1)
			goto fail;
		free(st->timezone);
		st->timezone = xstrdup(timezone);
	}
	if (store_step_ints(st, STMT_POS_COUNT, "count positions", &count,
	    1) == -1)
		goto fail;
	if (store_step_done(st, STMT_COMMIT, "commit meta") == -1)
		goto fail;
	st->positions = (uint64_t)count;
	return 0;
 fail:
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
	int		 i;

	if (st == NULL)
		return;
	for (i = 0; i < STMT_NSTMT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("store: %s: close: %s", st->path,
		    sqlite3_errmsg(st->db));
	free(st->pending);
	free(st->device_id);
	free(st->timezone);
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
	log_debug("store: %s: open, %" PRIu64 " positions, next seq %" PRIu64,
	    st->path, st->positions, st->next_seq);
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
	int64_t		 count;
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
	    store_seq_derive(st, &st->next_seq) == -1 ||
	    store_step_ints(st, STMT_POS_COUNT, "count positions", &count,
	    1) == -1 ||
	    store_exec(st, "COMMIT", "end read") == -1)
		goto fail;
	st->positions = (uint64_t)count;
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

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (!st->readonly) {
		if (st->npending > 0 && store_commit(st) == -1)
			log_warnx("store: %s: %zu positions lost at close",
			    st->path, st->npending);
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

/* Commit all pending rows in one transaction.  0 or -1 (st->err). */
static int
store_commit_batch(struct store *st)
{
	uint64_t	 first = 0;
	size_t		 i, n = st->npending;

	if (store_begin(st) == -1)
		goto fail;
	if (store_seq_alloc(st, n, &first) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (store_insert_position(st, first + i, &st->pending[i]) ==
		    -1)
			goto fail;
	/* A failed COMMIT is rolled back, and the seqs with it. */
	if (store_step_done(st, STMT_COMMIT, "commit") == -1)
		goto fail;
	/* Durable now, and only now; next_seq moved in store_seq_alloc(). */
	st->positions += n;
	st->commits++;
	st->npending = 0;
	st->retry_wait = false;
	/* Tests treat this line as the acknowledgement of the rows. */
	log_debug("store: committed %zu positions, seq %" PRIu64 "..%" PRIu64,
	    n, first, first + n - 1);
	return 0;
 fail:
	store_rollback(st);
	return -1;
}

int
store_commit(struct store *st)
{
	size_t		 n = st->npending;

	if (st->readonly) {
		log_warnx("store: %s: commit on a read-only store", st->path);
		return -1;
	}
	if (n == 0)
		return 0;
	if (store_commit_batch(st) == -1) {
		st->retry_wait = true;
		if (!st->commit_failing ||
		    st->commit_errcode != sqlite3_extended_errcode(st->db))
			log_warnx("store: %s: %s, keeping %zu positions in "
			    "memory and retrying", st->path, st->err, n);
		st->commit_failing = true;
		st->commit_errcode = sqlite3_extended_errcode(st->db);
		return -1;
	}
	if (st->commit_failing) {
		log_info("store: %s: commits work again, %zu positions "
		    "committed up to seq %" PRIu64, st->path, n,
		    st->next_seq - 1);
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
store_put_position(struct store *st, const struct fix *f,
    uint64_t now_mono_ms)
{
	if (st->readonly) {
		log_warnx("store: %s: write on a read-only store", st->path);
		return -1;
	}
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
	if (st->npending == 0)
		st->first_pending_ms = now_mono_ms;
	st->pending[st->npending++] = *f;
	return 0;
}

/* Mono time at which the pending batch is due; npending must be > 0. */
static uint64_t
store_due_at(const struct store *st)
{
	if (st->retry_wait)
		return st->retry_at_ms;
	if (st->npending >= store_batch_rows(st))
		return 0;
	if (st->first_pending_ms > UINT64_MAX - st->commit_interval_ms)
		return UINT64_MAX - 1;
	return st->first_pending_ms + st->commit_interval_ms;
}

int
store_commit_due(struct store *st, uint64_t now_mono_ms)
{
	if (st->readonly || st->npending == 0 ||
	    now_mono_ms < store_due_at(st))
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

	if (st->readonly || st->npending == 0)
		return UINT64_MAX;
	due = store_due_at(st);
	return due > now_mono_ms ? due - now_mono_ms : 0;
}

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

/*
 * Delete one chunk in its own transaction: by age (rows before cutoff, the
 * oldest chunk rows by time) or by seq (the oldest chunk rows whose synced
 * state is synced).  Rows deleted, or -1 (st->err).
 */
static int64_t
store_drop_chunk(struct store *st, bool by_age, int64_t cutoff, bool synced,
    int64_t chunk, struct store_drop *d)
{
	enum store_stmt	 bound, range, del;
	int64_t		 v[3], limit;
	int		 rc;

	bound = by_age ? STMT_AGE_BOUND : STMT_OLD_BOUND;
	range = by_age ? STMT_AGE_RANGE : STMT_OLD_RANGE;
	del = by_age ? STMT_AGE_DELETE : STMT_OLD_DELETE;
	if (store_begin(st) == -1)
		return -1;
	if (by_age)
		sqlite3_bind_int64(st->stmt[bound], 1, cutoff);
	else
		sqlite3_bind_int(st->stmt[bound], 1, synced);
	sqlite3_bind_int64(st->stmt[bound], 2, chunk - 1);
	if ((rc = store_step_ints(st, bound, "retention bound", &limit,
	    1)) == -1)
		goto fail;
	if (rc == 0)		/* fewer than chunk rows: take them all */
		limit = by_age ? cutoff - 1 : INT64_MAX;
	if (by_age)
		sqlite3_bind_int64(st->stmt[range], 1, limit);
	else {
		sqlite3_bind_int(st->stmt[range], 1, synced);
		sqlite3_bind_int64(st->stmt[range], 2, limit);
	}
	if (store_step_ints(st, range, "retention range", v, 3) == -1)
		goto fail;
	if (v[0] == 0) {
		store_rollback(st);
		return 0;
	}
	/*
	 * The rows may include the newest ones (all of them, even): keep
	 * their seqs from being derived again, in the same transaction.
	 */
	if (store_seq_floor_set(st) == -1)
		goto fail;
	if (by_age)
		sqlite3_bind_int64(st->stmt[del], 1, limit);
	else {
		sqlite3_bind_int(st->stmt[del], 1, synced);
		sqlite3_bind_int64(st->stmt[del], 2, limit);
	}
	if (store_step_done(st, del, "retention delete") == -1 ||
	    store_step_done(st, STMT_COMMIT, "retention commit") == -1)
		goto fail;
	store_drop_add(d, v[0], v[1], v[2]);
	st->positions = st->positions > (uint64_t)v[0] ?
	    st->positions - (uint64_t)v[0] : 0;
	st->dropped += (uint64_t)v[0];
	return v[0];
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

static int64_t
store_chunk_rows(const struct store *st)
{
	int64_t		 chunk;

	chunk = (int64_t)(st->positions / STORE_CHUNK_DIVISOR);
	return chunk < STORE_CHUNK_MIN ? STORE_CHUNK_MIN : chunk;
}

static void
store_drop_log(const struct store_drop *d, const char *reason)
{
	if (d->n == 0)
		return;
	log_warnx("store: retention dropped %" PRIu64 " positions (seq %"
	    PRIu64 "..%" PRIu64 ", reason: %s)", d->n, d->min_seq,
	    d->max_seq, reason);
}

int64_t
store_retention(struct store *st, int64_t now_utc_ms)
{
	struct store_drop age = { 0, 0, 0 }, size = { 0, 0, 0 };
	int64_t		 n, live, cap, cutoff;

	if (st->readonly) {
		log_warnx("store: %s: retention on a read-only store",
		    st->path);
		return -1;
	}
	/* Age: GNSS time; a zero or negative now means we have none yet. */
	if (st->keep_days > 0 && now_utc_ms > 0) {
		cutoff = now_utc_ms - (int64_t)st->keep_days * STORE_DAY_MS;
		do {
			n = store_drop_chunk(st, true, cutoff, false,
			    store_chunk_rows(st), &age);
		} while (n > 0);
		if (n == -1)
			goto fail;
	}
	/* Size: oldest synced rows first, unsynced ones only after them. */
	if (st->max_size_mb > 0) {
		cap = (int64_t)st->max_size_mb * STORE_MIB;
		for (;;) {
			if (store_live_bytes(st, &live) == -1)
				goto fail;
			if (live <= cap)
				break;
			n = store_drop_chunk(st, false, 0, true,
			    store_chunk_rows(st), &size);
			if (n == 0)
				n = store_drop_chunk(st, false, 0, false,
				    store_chunk_rows(st), &size);
			if (n == -1)
				goto fail;
			if (n == 0)
				break;	/* no rows left: schema, meta */
		}
	}
	store_drop_log(&age, "age");
	store_drop_log(&size, "size");
	if (st->retention_failing) {
		log_info("store: %s: retention works again", st->path);
		st->retention_failing = false;
	}
	return (int64_t)(age.n + size.n);
 fail:
	store_drop_log(&age, "age");
	store_drop_log(&size, "size");
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
	s->next_seq = st->next_seq;
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

struct sqlite3 *
store_db(struct store *st)
{
	return st->db;
}
