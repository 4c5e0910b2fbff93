/* SPDX-License-Identifier: MIT */
/*
 * test_store.c - the SQLite store: batching and visibility, dense seq
 * across reopen and crashes (kill -9 between and inside commits, through a
 * killing VFS), seq derived from the rows and meta.seq_floor (never reused
 * after retention deleted every row), commits that write no counter page,
 * value round trip (OBD columns included), retention by age and size
 * (trips and DTC rows too, never the open trip), migrations (v1 next_seq
 * to v2 seq_floor, v2 to v3 in one transaction), open errors, read-only
 * access beside a writer and to older files, commit failures
 * (SQLITE_FULL) that keep rows pending and give their seqs back.  Trips:
 * begin, progress written by the batch, end with a seq from the shared
 * stream, the open trip found again after a crash, window queries.  DTC
 * history: new, persisting and cleared codes.  VIN in meta.  Events
 * (schema version 4): open, close and instant with seqs dense among the
 * positions, duplicates ignored, a close without its open, committed in
 * one transaction with the rules state (also across a crash), queries by
 * window, type and severity, retention of closed events only; dispatch
 * orders; the clean-stop flag across close, exit and kill -9; migration
 * from version 3.
 *
 * Every test works in its own mkdtemp directory, removed afterwards.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
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

/* 2026-03-02T00:00:00Z */
#define T0_MS		INT64_C(1772409600000)
#define POS		STORE_STREAM_POSITIONS
#define EVS		STORE_STREAM_EVENTS
#define MIB		(1024 * 1024)
#define NOBODY		65534

static char	 tmpdir[PATH_MAX / 2];
static char	 dbpath[PATH_MAX];
static int	 saved_stderr = -1;
static char	 capture_path[PATH_MAX];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	const char	*base;

	log_init("test_store", LOG_TARGET_QUIET);
	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_store.XXXXXX", base);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s/fleetgw.db", tmpdir);
	snprintf(capture_path, sizeof(capture_path), "%s.log", tmpdir);
}

static void
teardown(void)
{
	chmod(tmpdir, 0700);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	unlink(capture_path);
}

TestSuite(store, .init = setup, .fini = teardown, .timeout = 60);

/* Send stderr (where LOG_TARGET_QUIET writes) to a file until captured. */
static void
capture_start(void)
{
	int		 fd;

	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd != -1 && saved_stderr != -1);
	dup2(fd, 2);
	close(fd);
}

/* Restore stderr; returns what was logged (static buffer). */
static const char *
capture_end(void)
{
	static char	 buf[16384];
	ssize_t		 n;
	int		 fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	fd = open(capture_path, O_RDONLY);
	cr_assert(fd != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* Show it in the test output too. */
	fputs(buf, stderr);
	return buf;
}

static struct fix
mkfix(int i)
{
	struct fix	 f;

	memset(&f, 0, sizeof(f));
	f.t_utc_ms = T0_MS + (int64_t)i * 1000;
	f.t_mono_ms = (uint64_t)i * 1000;
	f.lat_deg = 30.5723 + i * 1e-6;
	f.lon_deg = 104.0665 + i * 1e-6;
	f.alt_m = 500.0 + i % 7;
	f.speed_mps = 10.0 + i % 3;
	f.heading_deg = (double)(i % 360);
	f.hdop = 0.9;
	f.eph_m = 3.5;
	f.mode = 3;
	f.sats_used = 14;
	f.sats_visible = 24;
	f.sys[GNSS_SYS_GPS].visible = 9;
	f.sys[GNSS_SYS_GPS].used = 6;
	f.sys[GNSS_SYS_BEIDOU].visible = 12;
	f.sys[GNSS_SYS_BEIDOU].used = 8;
	return f;
}

static struct store_opts
mkopts(void)
{
	struct store_opts o = {
		.path = dbpath,
		.max_size_mb = 512,
		.keep_days = 180,
		.commit_interval_ms = 5000,
		.commit_rows = 256,
		.device_id = "SC-0001",
		.timezone = "Asia/Shanghai",
	};

	return o;
}

struct rows {
	struct store_position	*p;
	size_t			 n;
	size_t			 cap;
	size_t			 stop_at;	/* 0: never stop */
};

static int
collect(const struct store_position *p, void *arg)
{
	struct rows	*r = arg;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->p = realloc(r->p, r->cap * sizeof(*r->p));
		cr_assert_not_null(r->p);
	}
	r->p[r->n++] = *p;
	return r->stop_at != 0 && r->n == r->stop_at;
}

static void
rows_free(struct rows *r)
{
	free(r->p);
	memset(r, 0, sizeof(*r));
}

static void
query_all(struct store *st, struct rows *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(store_query_positions(st, INT64_MIN, INT64_MAX, 0,
	    collect, r), 0);
}

/* Rows a separate read-only connection sees now. */
static size_t
count_readonly(void)
{
	struct store	*ro;
	struct rows	 r;
	size_t		 n;

	ro = store_open_readonly(dbpath);
	cr_assert_not_null(ro);
	query_all(ro, &r);
	n = r.n;
	rows_free(&r);
	store_close(ro);
	return n;
}

static void
put_n(struct store *st, int from, int n, uint64_t now)
{
	struct fix	 f;
	int		 i;

	for (i = from; i < from + n; i++) {
		f = mkfix(i);
		cr_assert_eq(store_put_position(st, &f, now), 0, "put %d", i);
	}
}

/* The rows hold seq first..first+n-1 in order, fixes mkfix(fix0 + k). */
static void
assert_dense(const struct rows *r, uint64_t first, int fix0)
{
	size_t		 k;

	for (k = 0; k < r->n; k++) {
		cr_assert_eq(r->p[k].seq, first + k, "row %zu: seq %llu", k,
		    (unsigned long long)r->p[k].seq);
		cr_assert_eq(r->p[k].fix.t_utc_ms,
		    mkfix(fix0 + (int)k).t_utc_ms, "row %zu: wrong fix", k);
	}
}

static const char *
wal_path(void)
{
	static char	 buf[PATH_MAX + 8];

	snprintf(buf, sizeof(buf), "%s-wal", dbpath);
	return buf;
}

static const char *
shm_path(void)
{
	static char	 buf[PATH_MAX + 8];

	snprintf(buf, sizeof(buf), "%s-shm", dbpath);
	return buf;
}

static int64_t
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*s;
	int64_t		 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
sql_exec(sqlite3 *db, const char *sql)
{
	char		*err = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK,
	    "%s: %s", sql, err ? err : "?");
}

/* PRAGMA integrity_check on a fresh plain connection. */
static void
assert_integrity(void)
{
	sqlite3		*db;
	sqlite3_stmt	*s;

	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static int64_t
live_bytes(sqlite3 *db)
{
	return (sql_int(db, "PRAGMA page_count") -
	    sql_int(db, "PRAGMA freelist_count")) *
	    sql_int(db, "PRAGMA page_size");
}

/* ---- batching ---- */

Test(store, batch_by_interval_and_rows)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;

	o.commit_rows = 10;
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_next_due_ms(st, 1000), UINT64_MAX);
	cr_assert_eq(store_commit_due(st, 1000), 0);

	/* 9 rows, the first at t=1000: due by interval at 6000. */
	put_n(st, 0, 1, 1000);
	put_n(st, 1, 8, 3000);
	cr_assert_eq(store_next_due_ms(st, 1000), 5000);
	cr_assert_eq(store_next_due_ms(st, 5999), 1);
	cr_assert_eq(store_next_due_ms(st, 6000), 0);
	cr_assert_eq(store_next_due_ms(st, 9000), 0);
	cr_assert_eq(store_commit_due(st, 5999), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 9);
	cr_assert_eq(s.commits, 0);
	cr_assert_eq(count_readonly(), 0, "rows visible before commit");

	cr_assert_eq(store_commit_due(st, 6000), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.commits, 1);
	cr_assert_eq(s.positions, 9);
	cr_assert_eq(s.next_seq[POS], 10);
	cr_assert_eq(count_readonly(), 9);
	cr_assert_eq(store_next_due_ms(st, 6000), UINT64_MAX);

	/* By rows: the 10th pending row makes the batch due at once. */
	put_n(st, 9, 9, 7000);
	cr_assert_eq(store_next_due_ms(st, 7000), 5000);
	cr_assert_eq(store_commit_due(st, 7000), 0);
	cr_assert_eq(count_readonly(), 9);
	put_n(st, 18, 1, 7000);
	cr_assert_eq(store_next_due_ms(st, 7000), 0);
	cr_assert_eq(store_commit_due(st, 7000), 0);
	cr_assert_eq(count_readonly(), 19);

	/* store_commit() commits whatever is pending, due or not. */
	put_n(st, 19, 1, 8000);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(store_commit(st), 0);	/* nothing pending: no-op */
	store_get_stats(st, &s);
	cr_assert_eq(s.commits, 3);
	query_all(st, &r);
	cr_assert_eq(r.n, 20);
	assert_dense(&r, 1, 0);
	rows_free(&r);
	store_close(st);
}

Test(store, set_limits_changes_batching)
{
	struct store_opts o = mkopts();
	struct store	*st;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 3, 1000);
	cr_assert_eq(store_next_due_ms(st, 1000), 5000);
	o.commit_interval_ms = 2000;
	o.commit_rows = 3;
	store_set_limits(st, &o);
	cr_assert_eq(store_next_due_ms(st, 1000), 0);
	cr_assert_eq(store_commit_due(st, 1000), 0);
	put_n(st, 3, 1, 4000);
	cr_assert_eq(store_next_due_ms(st, 4000), 2000);
	store_close(st);
	cr_assert_eq(count_readonly(), 4, "close commits pending rows");
}

/* ---- seq ---- */

Test(store, seq_dense_across_reopen)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 5, 0);
	cr_assert_eq(store_commit(st), 0);
	put_n(st, 5, 3, 0);
	store_close(st);		/* commits the 3 pending */

	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 8);
	cr_assert_eq(s.next_seq[POS], 9);
	cr_assert_eq(s.pending, 0);
	put_n(st, 8, 2, 0);
	cr_assert_eq(store_commit(st), 0);
	query_all(st, &r);
	cr_assert_eq(r.n, 10);
	assert_dense(&r, 1, 0);
	rows_free(&r);
	store_close(st);
	assert_integrity();
}

/* Set meta.seq_floor_positions behind the store's back (store closed). */
static void
set_seq_floor(int64_t floor)
{
	sqlite3		*db;
	char		 sql[128];

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = %lld "
	    "WHERE key = 'seq_floor_positions'", (long long)floor);
	sql_exec(db, sql);
	cr_assert_eq(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

/* next_seq is max(highest seq + 1, the stream's floor), whichever is higher. */
Test(store, next_seq_derived_from_rows_and_floor)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 10, 0);
	cr_assert_eq(store_commit(st), 0);
	store_close(st);

	/* A floor below the rows (the normal case) changes nothing. */
	set_seq_floor(4);
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 11);
	store_close(st);
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 11);
	store_close(st);

	/* A floor above them (newest rows deleted) wins. */
	set_seq_floor(50);
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 50);
	put_n(st, 10, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(store_db(st), "SELECT max(seq) FROM positions"),
	    50);
	store_close(st);
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 51);
	store_close(st);
}

Test(store, missing_seq_floor_refused)
{
	struct store_opts o = mkopts();
	struct store	*st;
	sqlite3		*db;
	const char	*log;

	st = store_open(&o);
	cr_assert_not_null(st);
	store_close(st);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sql_exec(db, "DELETE FROM meta WHERE key = 'seq_floor_positions'");
	sqlite3_close(db);
	capture_start();
	cr_assert_null(store_open(&o));
	cr_assert_null(store_open_readonly(dbpath));
	log = capture_end();
	cr_assert(strstr(log, "meta.seq_floor_positions is missing or invalid")
	    != NULL, "log: %s", log);
	/* The other stream's floor too. */
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sql_exec(db, "INSERT INTO meta(key, value) VALUES "
	    "('seq_floor_positions', 1); DELETE FROM meta "
	    "WHERE key = 'seq_floor_events'");
	sqlite3_close(db);
	capture_start();
	cr_assert_null(store_open(&o));
	log = capture_end();
	cr_assert(strstr(log, "meta.seq_floor_events is missing or invalid")
	    != NULL, "log: %s", log);
}

/*
 * A child commits batches, leaves rows pending and dies (exit without
 * close, or SIGKILL in the middle of an open write transaction).  The
 * parent must find exactly the committed rows and continue the seq.
 */
static void
crash_child(int how)
{
	struct store_opts o = mkopts();
	struct store	*st;
	int		 b;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	for (b = 0; b < 5; b++) {
		put_n(st, b * 7, 7, 0);
		if (store_commit(st) != 0)
			_exit(3);
	}
	put_n(st, 35, 3, 0);		/* never committed */
	if (how == 0)
		_exit(0);
	/* Die inside a write transaction that also moved the floor. */
	if (sqlite3_exec(store_db(st), "BEGIN IMMEDIATE;"
	    "INSERT INTO positions(seq, t_utc_ms, lat_deg, lon_deg) "
	    "VALUES (1000000, 0, 1, 1);"
	    "UPDATE meta SET value = value + 100 "
	    "WHERE key = 'seq_floor_positions'",
	    NULL, NULL, NULL) != SQLITE_OK || sqlite3_changes(store_db(st)) !=
	    1)
		_exit(4);
	kill(getpid(), SIGKILL);
	_exit(5);
}

Test(store, crash_keeps_committed_rows_and_seq)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	pid_t		 pid;
	int		 how, status;

	for (how = 0; how < 2; how++) {
		pid = fork();
		cr_assert(pid != -1);
		if (pid == 0)
			crash_child(how);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		if (how == 0)
			cr_assert(WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0, "child status %d",
			    status);
		else
			cr_assert(WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL, "child status %d",
			    status);
		assert_integrity();

		st = store_open(&o);
		cr_assert_not_null(st);
		store_get_stats(st, &s);
		query_all(st, &r);
		/* Round 0: 35 rows.  Round 1 reopened and added 36 more. */
		if (how == 0) {
			cr_assert_eq(r.n, 35);
			assert_dense(&r, 1, 0);
			cr_assert_eq(s.next_seq[POS], 36);
			/* Move the file aside for the second round. */
			rows_free(&r);
			store_close(st);
			continue;
		}
		rows_free(&r);
		store_close(st);
	}
	/*
	 * Second round ran on the first round's file: 35 + 35 committed, the
	 * child's seqs continuing at 36.
	 */
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	query_all(st, &r);
	cr_assert_eq(r.n, 70);
	cr_assert_eq(s.next_seq[POS], 71, "next_seq %llu",
	    (unsigned long long)s.next_seq[POS]);
	cr_assert_eq(r.p[34].seq, 35);
	cr_assert_eq(r.p[35].seq, 36);
	cr_assert_eq(r.p[69].seq, 70);
	cr_assert_eq(r.p[35].fix.t_utc_ms, mkfix(0).t_utc_ms);
	rows_free(&r);
	put_n(st, 100, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	query_all(st, &r);
	cr_assert_eq(r.p[r.n - 1].seq, 71);
	rows_free(&r);
	store_close(st);
	assert_integrity();
}

/*
 * kill -9 at random moments while a child commits batches and reports
 * each commit on a pipe only after store_commit() returned 0: every
 * acknowledged row survives, seq stays dense, the file stays sound.
 */
static void
ack_child(int fd)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	uint64_t	 last;
	int		 i;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	for (i = 0;; i += 7) {
		put_n(st, i, 7, 0);
		if (store_commit(st) != 0)
			_exit(3);
		store_get_stats(st, &s);
		last = s.next_seq[POS] - 1;
		if (write(fd, &last, sizeof(last)) != (ssize_t)sizeof(last))
			_exit(4);
	}
}

Test(store, random_kill_loses_no_acknowledged_row)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	uint64_t	 ack, acked = 0;
	pid_t		 pid;
	size_t		 k;
	int		 fds[2], round, status;

	srand((unsigned)getpid());
	for (round = 0; round < 20; round++) {
		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert(pid != -1);
		if (pid == 0) {
			close(fds[0]);
			ack_child(fds[1]);
		}
		close(fds[1]);
		usleep(20000 + (useconds_t)(rand() % 80000));
		kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "child status %d", status);
		while (read(fds[0], &ack, sizeof(ack)) == (ssize_t)sizeof(ack))
			acked = ack > acked ? ack : acked;
		close(fds[0]);

		assert_integrity();
		st = store_open(&o);
		cr_assert_not_null(st);
		store_get_stats(st, &s);
		query_all(st, &r);
		cr_assert_geq(r.n, acked, "round %d: %zu rows, acked %llu",
		    round, r.n, (unsigned long long)acked);
		cr_assert_eq(s.next_seq[POS], r.n + 1);
		for (k = 0; k < r.n; k++)
			cr_assert_eq(r.p[k].seq, k + 1);
		acked = r.n;
		rows_free(&r);
		store_close(st);
	}
	cr_assert_gt(acked, 0);
}

/* meta.seq_floor_positions as the store wrote it. */
static int64_t
seq_floor(sqlite3 *db)
{
	return sql_int(db, "SELECT value FROM meta "
	    "WHERE key = 'seq_floor_positions'");
}

/* meta.seq_floor_events as the store wrote it. */
static int64_t
seq_floor_ev(sqlite3 *db)
{
	return sql_int(db, "SELECT value FROM meta "
	    "WHERE key = 'seq_floor_events'");
}

/*
 * A batch commit writes the record pages and nothing else: one row into a
 * warm table is the positions leaf and the t_utc_ms index leaf, no counter.
 */
static int
count_frames(void *arg, sqlite3 *db, const char *name, int nframe)
{
	(void)db;
	(void)name;
	*(int *)arg = nframe;
	return SQLITE_OK;
}

Test(store, commit_writes_no_counter_page)
{
	struct store_opts o = mkopts();
	struct store	*st;
	sqlite3		*db;
	int		 i, before, nframe = -1;

	o.commit_rows = 1000;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	put_n(st, 0, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	/* Replaces the autocheckpoint hook: the -wal only grows from here. */
	sqlite3_wal_hook(db, count_frames, &nframe);
	put_n(st, 1, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_gt(nframe, 0);
	/*
	 * Few rows: no leaf splits, so each commit is exactly three pages:
	 * the positions and index leaves and the chain's leaf.
	 */
	for (i = 0; i < 5; i++) {
		before = nframe;
		put_n(st, 2 + i, i == 4 ? 10 : 1, 0);
		cr_assert_eq(store_commit(st), 0);
		cr_assert_eq(nframe - before, 3, "commit %d wrote %d pages, "
		    "expected the positions, index and chain leaves only", i,
		    nframe - before);
	}
	cr_assert_eq(seq_floor(db), 1, "a commit moved the floor");
	sqlite3_wal_autocheckpoint(db, 1000);
	store_close(st);
}

/*
 * Retention deletes every row, the newest included: their seqs must not
 * come back, after a clean close or a kill -9 right after the deletion.
 */
static void
delete_all_child(void)
{
	struct store_opts o = mkopts();
	struct store	*st;

	o.keep_days = 1;
	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	put_n(st, 31, 5, 0);		/* seq 32..36 */
	if (store_commit(st) != 0)
		_exit(3);
	if (store_retention(st, mkfix(36).t_utc_ms + INT64_C(10) *
	    86400000) != 6)
		_exit(4);
	kill(getpid(), SIGKILL);
	_exit(5);
}

Test(store, seq_not_reused_after_deleting_all_rows)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	pid_t		 pid;
	int		 status;

	o.keep_days = 1;
	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 30, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(seq_floor(store_db(st)), 1);
	cr_assert_eq(store_retention(st, mkfix(30).t_utc_ms +
	    INT64_C(10) * 86400000), 30);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 0);
	cr_assert_eq(s.next_seq[POS], 31);
	cr_assert_eq(seq_floor(store_db(st)), 31);
	store_close(st);

	/* Nothing left to derive it from but the floor. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 0);
	cr_assert_eq(s.next_seq[POS], 31);
	store_close(st);
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 31);
	put_n(st, 30, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	query_all(st, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.p[0].seq, 31);
	rows_free(&r);
	store_close(st);

	/* Again, in a child killed right after the deleting transaction. */
	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0)
		delete_all_child();
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child status %d", status);
	assert_integrity();
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 0);
	cr_assert_eq(s.next_seq[POS], 37);
	put_n(st, 36, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	query_all(st, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.p[0].seq, 37);
	rows_free(&r);
	store_close(st);
}

/* Another writer on the same file: we continue after its seqs. */
Test(store, another_writer_moves_seq)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	sqlite3		*db;
	const char	*log;
	char		 sql[256];

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 5, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO positions(seq, t_utc_ms, "
	    "lat_deg, lon_deg) VALUES (6, %lld, 1, 1), (7, %lld, 1, 1)",
	    (long long)mkfix(5).t_utc_ms, (long long)mkfix(6).t_utc_ms);
	sql_exec(db, sql);
	sqlite3_close(db);
	put_n(st, 7, 2, 0);
	capture_start();
	cr_assert_eq(store_commit(st), 0);
	log = capture_end();
	cr_assert(strstr(log, "another connection wrote, positions seq "
	    "continues at 8 instead of 6") != NULL, "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 10);
	query_all(st, &r);
	cr_assert_eq(r.n, 9);
	assert_dense(&r, 1, 0);
	rows_free(&r);
	store_close(st);
}

/*
 * kill -9 inside a commit, through a VFS over the default one: at the n-th
 * write to the -wal since it was armed (after writing half of it: a torn
 * frame), or when the -wal is synced (every frame written, none durable
 * yet, but all of them in the page cache, which outlives the process: the
 * batch is committed although store_commit() never returned).
 */
struct kill_file {
	sqlite3_file	 base;
	sqlite3_file	*real;
	int		 wal;
};

static sqlite3_vfs	*kill_real;
static sqlite3_vfs	 kill_vfs;
static int		 kill_at_write;	/* 0: off */
static int		 kill_at_sync;
static int		 kill_writes;

#define REAL(f)	(((struct kill_file *)(f))->real)

static int
kf_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int
kf_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int
kf_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (((struct kill_file *)f)->wal && kill_at_write > 0 &&
	    ++kill_writes == kill_at_write) {
		REAL(f)->pMethods->xWrite(REAL(f), buf, n / 2, off);
		kill(getpid(), SIGKILL);
	}
	return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int
kf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
kf_sync(sqlite3_file *f, int flags)
{
	if (((struct kill_file *)f)->wal && kill_at_sync)
		kill(getpid(), SIGKILL);
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
kf_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
kf_lock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int
kf_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int
kf_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
kf_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
kf_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
kf_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
kf_shmmap(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int
kf_shmlock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void
kf_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
kf_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
kf_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int
kf_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods kill_io = {
	3, kf_close, kf_read, kf_write, kf_truncate, kf_sync, kf_size,
	kf_lock, kf_unlock, kf_reserved, kf_fcntl, kf_sector, kf_devchar,
	kf_shmmap, kf_shmlock, kf_shmbarrier, kf_shmunmap, kf_fetch,
	kf_unfetch,
};

static int
kill_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
    int flags, int *out)
{
	struct kill_file *k = (struct kill_file *)f;
	int		 rc;

	(void)vfs;
	k->real = (sqlite3_file *)(k + 1);
	k->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = kill_real->xOpen(kill_real, name, k->real, flags, out);
	k->base.pMethods = k->real->pMethods != NULL ? &kill_io : NULL;
	return rc;
}

/* Make the killing VFS the default one (in a child). */
static void
kill_vfs_install(void)
{
	kill_real = sqlite3_vfs_find(NULL);
	cr_assert_not_null(kill_real);
	cr_assert_geq(kill_real->iVersion, 1);
	kill_vfs = *kill_real;
	kill_vfs.pNext = NULL;
	kill_vfs.zName = "test-kill";
	kill_vfs.szOsFile = (int)sizeof(struct kill_file) +
	    kill_real->szOsFile;
	kill_vfs.xOpen = kill_open;
	cr_assert_eq(sqlite3_vfs_register(&kill_vfs, 1), SQLITE_OK);
}

#define MIDCOMMIT_ROWS	30

/*
 * Commit 5 rows (acknowledged on fd), then MIDCOMMIT_ROWS with the kill
 * armed.  Exits 0 after acknowledging them if the commit needed fewer
 * -wal writes than kill_write.
 */
static void
midcommit_child(int fd, int kill_write, int kill_sync)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	int		 base;

	kill_vfs_install();
	o.commit_rows = 1000;
	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	store_get_stats(st, &s);
	base = (int)s.positions;
	put_n(st, base, 5, 0);
	if (store_commit(st) != 0)
		_exit(3);
	store_get_stats(st, &s);
	if (write(fd, &s.positions, sizeof(s.positions)) !=
	    (ssize_t)sizeof(s.positions))
		_exit(4);
	put_n(st, base + 5, MIDCOMMIT_ROWS, 0);
	kill_writes = 0;
	kill_at_write = kill_write;
	kill_at_sync = kill_sync;
	if (store_commit(st) != 0)
		_exit(5);
	kill_at_write = kill_at_sync = 0;
	store_get_stats(st, &s);
	if (write(fd, &s.positions, sizeof(s.positions)) !=
	    (ssize_t)sizeof(s.positions))
		_exit(6);
	_exit(0);
}

Test(store, kill_mid_commit_keeps_seq_dense)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	uint64_t	 ack, acked;
	pid_t		 pid;
	int		 fds[2], round, status, kill_write, kill_sync;
	bool		 killed, torn = false;

	/* Kill at -wal write 1, 2, .., 12, then at the sync. */
	for (round = 1; round <= 13; round++) {
		kill_sync = round == 13;
		kill_write = kill_sync ? 0 : round;
		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert(pid != -1);
		if (pid == 0) {
			close(fds[0]);
			midcommit_child(fds[1], kill_write, kill_sync);
		}
		close(fds[1]);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		acked = 0;
		while (read(fds[0], &ack, sizeof(ack)) == (ssize_t)sizeof(ack))
			acked = ack;
		close(fds[0]);
		killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		cr_assert(killed || (WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0), "round %d: child status %d",
		    round, status);
		cr_assert_gt(acked, 0, "round %d", round);

		assert_integrity();
		st = store_open(&o);
		cr_assert_not_null(st);
		store_get_stats(st, &s);
		query_all(st, &r);
		/*
		 * A torn -wal write loses the whole batch; killed at the sync
		 * or not at all, the whole batch is there.
		 */
		if (killed && !kill_sync) {
			cr_assert_eq(r.n, acked, "round %d: %zu rows, acked "
			    "%llu", round, r.n, (unsigned long long)acked);
			torn = true;
		} else {
			cr_assert_eq(r.n, acked + (killed ? MIDCOMMIT_ROWS : 0),
			    "round %d: %zu rows, acked %llu", round, r.n,
			    (unsigned long long)acked);
		}
		assert_dense(&r, 1, 0);
		cr_assert_eq(s.next_seq[POS], r.n + 1, "round %d", round);
		rows_free(&r);
		/* And the next commit continues the stream. */
		put_n(st, (int)s.positions, 1, 0);
		cr_assert_eq(store_commit(st), 0);
		query_all(st, &r);
		cr_assert_eq(r.p[r.n - 1].seq, r.n);
		assert_dense(&r, 1, 0);
		rows_free(&r);
		store_close(st);
	}
	/* The rounds did cover both: torn batches and whole ones. */
	cr_assert(torn);
}

/* ---- values ---- */

Test(store, values_round_trip)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct fix	 a, b;
	struct rows	 r;
	sqlite3		*db;
	int		 i;

	a = mkfix(1);
	a.lat_deg = -33.8688197;
	a.lon_deg = 151.2092955;
	a.alt_m = 12.345;
	a.speed_mps = 0.0;
	a.heading_deg = 359.99;
	a.hdop = 1.25;
	a.eph_m = 4.5;
	a.mode = 3;
	a.sats_used = 21;
	a.sats_visible = 40;
	for (i = 0; i < GNSS_SYS_COUNT; i++) {
		a.sys[i].visible = (uint16_t)(10 + i);
		a.sys[i].used = (uint16_t)(5 + i);
	}
	b = mkfix(2);
	b.alt_m = NAN;
	b.speed_mps = NAN;
	b.heading_deg = NAN;
	b.hdop = NAN;
	b.eph_m = NAN;
	b.mode = 2;
	b.sats_used = -1;
	b.sats_visible = -1;
	memset(b.sys, 0, sizeof(b.sys));

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_put_position(st, &a, 0), 0);
	cr_assert_eq(store_put_position(st, &b, 0), 0);
	cr_assert_eq(store_commit(st), 0);
	query_all(st, &r);
	cr_assert_eq(r.n, 2);

	cr_assert_eq(r.p[0].fix.t_utc_ms, a.t_utc_ms);
	cr_assert_eq(r.p[0].fix.lat_deg, a.lat_deg);
	cr_assert_eq(r.p[0].fix.lon_deg, a.lon_deg);
	cr_assert_eq(r.p[0].fix.alt_m, a.alt_m);
	cr_assert_eq(r.p[0].fix.speed_mps, 0.0);
	cr_assert_eq(r.p[0].fix.heading_deg, a.heading_deg);
	cr_assert_eq(r.p[0].fix.hdop, a.hdop);
	cr_assert_eq(r.p[0].fix.eph_m, a.eph_m);
	cr_assert_eq(r.p[0].fix.mode, 3);
	cr_assert_eq(r.p[0].fix.sats_used, 21);
	cr_assert_eq(r.p[0].fix.sats_visible, 40);
	for (i = 0; i < GNSS_SYS_COUNT; i++) {
		cr_assert_eq(r.p[0].fix.sys[i].visible, 10 + i);
		cr_assert_eq(r.p[0].fix.sys[i].used, 5 + i);
	}

	cr_assert(isnan(r.p[1].fix.alt_m));
	cr_assert(isnan(r.p[1].fix.speed_mps));
	cr_assert(isnan(r.p[1].fix.heading_deg));
	cr_assert(isnan(r.p[1].fix.hdop));
	cr_assert(isnan(r.p[1].fix.eph_m));
	cr_assert_eq(r.p[1].fix.mode, 2);
	cr_assert_eq(r.p[1].fix.sats_used, -1);
	cr_assert_eq(r.p[1].fix.sats_visible, -1);
	cr_assert_eq(r.p[1].fix.sys[GNSS_SYS_BEIDOU].used, 0);
	rows_free(&r);

	/* Unknown is NULL in the file, for other readers. */
	db = store_db(st);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions WHERE seq = 2"
	    " AND alt_m IS NULL AND speed_mps IS NULL AND heading_deg IS NULL"
	    " AND hdop IS NULL AND eph_m IS NULL AND sats_used IS NULL"
	    " AND sats_visible IS NULL"), 1);
	cr_assert_eq(sql_int(db, "SELECT bds_vis * 100 + bds_used FROM "
	    "positions WHERE seq = 1"), 1106);
	cr_assert_eq(sql_int(db, "SELECT glo_vis * 100 + gal_used FROM "
	    "positions WHERE seq = 1"), 1208);
	cr_assert_eq(sql_int(db, "SELECT synced FROM positions WHERE seq = 1"),
	    0);
	store_close(st);
}

Test(store, non_finite_position_refused)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct fix	 f = mkfix(0);

	st = store_open(&o);
	cr_assert_not_null(st);
	f.lat_deg = NAN;
	cr_assert_eq(store_put_position(st, &f, 0), -1);
	f = mkfix(0);
	f.lon_deg = INFINITY;
	cr_assert_eq(store_put_position(st, &f, 0), -1);
	put_n(st, 1, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.refused, 2);
	cr_assert_eq(s.positions, 1);
	cr_assert_eq(s.next_seq[POS], 2);
	store_close(st);
}

Test(store, device_id_and_timezone_in_meta)
{
	struct store_opts o = mkopts();
	struct store	*st;

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_device_id(st), "SC-0001");
	cr_assert_str_eq(store_timezone(st), "Asia/Shanghai");
	store_close(st);

	o.timezone = "Asia/Urumqi";
	o.device_id = NULL;		/* not given: keep what is there */
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_device_id(st), "SC-0001");
	cr_assert_str_eq(store_timezone(st), "Asia/Urumqi");
	store_close(st);

	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_device_id(st), "SC-0001");
	cr_assert_str_eq(store_timezone(st), "Asia/Urumqi");
	store_close(st);
}

/* ---- retention ---- */

Test(store, retention_by_age)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	struct fix	 f;
	const char	*log;
	int64_t		 now, cutoff;
	size_t		 k;
	int		 i;

	/* 3000 fixes a minute apart: 50 hours; keep one day. */
	o.keep_days = 1;
	o.commit_rows = 4096;
	st = store_open(&o);
	cr_assert_not_null(st);
	for (i = 0; i < 3000; i++) {
		f = mkfix(0);
		f.t_utc_ms = T0_MS + (int64_t)i * 60000;
		cr_assert_eq(store_put_position(st, &f, 0), 0);
	}
	cr_assert_eq(store_commit(st), 0);

	now = T0_MS + INT64_C(3000) * 60000;
	cutoff = now - INT64_C(86400000);
	capture_start();
	cr_assert_eq(store_retention(st, now), 1560);
	log = capture_end();
	cr_assert(strstr(log, "store: retention dropped 1560 positions "
	    "(seq 1..1560, reason: age)") != NULL, "log: %s", log);

	store_get_stats(st, &s);
	cr_assert_eq(s.dropped, 1560);
	cr_assert_eq(s.positions, 1440);
	query_all(st, &r);
	cr_assert_eq(r.n, 1440);
	for (k = 0; k < r.n; k++) {
		cr_assert_geq(r.p[k].fix.t_utc_ms, cutoff);
		cr_assert_eq(r.p[k].seq, 1561 + k);
	}
	rows_free(&r);

	/* Nothing more to do: 0 and no log line. */
	capture_start();
	cr_assert_eq(store_retention(st, now), 0);
	log = capture_end();
	cr_assert(strstr(log, "retention") == NULL, "log: %s", log);

	/* Everything ages out; seq still continues where it was. */
	cr_assert_eq(store_retention(st, now + INT64_C(10) * 86400000),
	    1440);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 0);
	cr_assert_eq(s.dropped, 3000);
	cr_assert_eq(s.next_seq[POS], 3001);
	put_n(st, 0, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 3002);
	query_all(st, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.p[0].seq, 3001);
	rows_free(&r);
	store_close(st);
	assert_integrity();
}

/*
 * Size, with a platform: the acknowledged rows go first, the oldest
 * first; when they are enough, no unacknowledged row goes and nothing is
 * reported.
 */
Test(store, retention_by_size_acknowledged_first)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_pressure p;
	sqlite3		*db;
	const char	*log;
	int64_t		 total, acked, dropped, min_seq, remaining;
	int		 n = 0;

	o.max_size_mb = 8;
	o.commit_rows = 4096;
	o.keep_days = 3650;
	o.acks = true;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	/* Fill to about 10 MiB of live data. */
	while (live_bytes(db) < 10 * MIB) {
		put_n(st, n, 4096, 0);
		n += 4096;
		cr_assert_eq(store_commit(st), 0);
	}
	total = n;
	/* The platform holds the older half: more than needs to go. */
	acked = total / 2;
	cr_assert_eq(store_stream_ack(st, POS, (uint64_t)acked), 0);

	capture_start();
	dropped = store_retention(st, mkfix(n).t_utc_ms);
	log = capture_end();
	cr_assert_gt(dropped, 10000);
	cr_assert(strstr(log, "reason: size") != NULL, "log: %s", log);
	cr_assert(strstr(log, "reason: age") == NULL, "log: %s", log);
	cr_assert(strstr(log, "unacknowledged") == NULL, "log: %s", log);
	cr_assert_leq(live_bytes(db), 8 * MIB);
	/* Not much more than needed: in chunks. */
	cr_assert_gt(live_bytes(db), 6 * MIB);

	/* From the oldest on, acknowledged ones only. */
	min_seq = sql_int(db, "SELECT min(seq) FROM positions");
	remaining = sql_int(db, "SELECT count(*) FROM positions");
	cr_assert_gt(min_seq, 1);
	cr_assert_leq(min_seq, acked + 1);
	cr_assert_eq(remaining, total - min_seq + 1);
	cr_assert_eq(dropped, min_seq - 1);
	cr_assert_eq(store_take_pressure(st, &p), 0, "nothing unacknowledged "
	    "went");
	store_get_stats(st, &s);
	cr_assert_eq(s.dropped, (uint64_t)dropped);
	cr_assert_eq(s.positions, (uint64_t)remaining);
	cr_assert_eq(s.next_seq[POS], (uint64_t)total + 1);

	/* Under the cap now: nothing to do. */
	cr_assert_eq(store_retention(st, mkfix(n).t_utc_ms), 0);
	store_close(st);
	assert_integrity();
}

Test(store, retention_size_small_cap)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;

	o.commit_rows = 4096;
	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 4000, 0);
	cr_assert_eq(store_commit(st), 0);
	/* 1 MiB is above what the rows need: nothing to drop. */
	o.max_size_mb = 1;
	store_set_limits(st, &o);
	cr_assert_eq(store_retention(st, mkfix(4000).t_utc_ms), 0);
	put_n(st, 4000, 4096 * 4, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_gt(store_retention(st, mkfix(30000).t_utc_ms), 0);
	store_get_stats(st, &s);
	cr_assert_gt(s.positions, 0);
	cr_assert_lt(s.positions, 4000 + 4096 * 4);
	cr_assert_eq(s.next_seq[POS], 4000 + 4096 * 4 + 1);
	store_close(st);
}

/* ---- migrations and open errors ---- */

Test(store, empty_file_is_migrated)
{
	struct store_opts o = mkopts();
	struct store	*st;
	int		 fd;

	fd = open(dbpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd != -1);
	close(fd);
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(sql_int(store_db(st), "PRAGMA user_version"), 6);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('trips', 'dtcs', 'trips_start_utc_ms', "
	    "'command_results', 'sync_quarantine')"), 5);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM "
	    "sqlite_temp_master"), 0, "the migration's temp tables are gone");
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM "
	    "pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	cr_assert_eq(seq_floor(store_db(st)), 1);
	cr_assert_eq(seq_floor_ev(store_db(st)), 1);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM meta "
	    "WHERE key IN ('next_seq', 'seq_floor')"), 0);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM meta "
	    "WHERE key IN ('acked_events', 'acked_positions') AND "
	    "value = 0"), 2);
	cr_assert_eq(sql_int(store_db(st), "PRAGMA synchronous"), 2);
	store_close(st);
}

static void
make_raw_db(const char *sql)
{
	sqlite3		*db;

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sql_exec(db, sql);
	sqlite3_close(db);
}

/*
 * Schema version 1 as it shipped (migration 1, which never changes), with
 * 42 rows and next_seq as the version 1 code left it: one above the rows,
 * or higher after its retention had dropped the newest ones.
 */
static void
make_v1_db(int64_t next_seq)
{
	char		 sql[256];

	make_raw_db("PRAGMA journal_mode = WAL;"
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
	    "  ('created', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));"
	    "PRAGMA user_version = 1;"
	    "INSERT INTO meta(key, value) VALUES ('device_id', 'SC-0001'),"
	    "  ('timezone', 'Asia/Shanghai');");
	snprintf(sql, sizeof(sql), "WITH RECURSIVE c(i) AS (SELECT 1 UNION "
	    "ALL SELECT i + 1 FROM c WHERE i < 42) INSERT INTO positions("
	    "seq, t_utc_ms, lat_deg, lon_deg) SELECT i, %lld + (i - 1) * 1000, "
	    "30.5, 104.0 FROM c; UPDATE meta SET value = %lld "
	    "WHERE key = 'next_seq'", (long long)T0_MS, (long long)next_seq);
	make_raw_db(sql);
}

/*
 * A version 1 file is read as it is (its next_seq for both streams), and
 * migrated to version 5 renumbered: positions 1..42, the floor above
 * them (the seqs above were never sent anywhere).
 */
Test(store, v1_database_read_then_migrated_and_renumbered)
{
	static const int64_t next[] = { 43, 100 };
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	sqlite3		*db;
	const char	*log;
	size_t		 i;

	for (i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		unlink(dbpath);
		unlink(wal_path());
		unlink(shm_path());
		make_v1_db(next[i]);

		/* fleetgwctl reads it as it is, without migrating. */
		st = store_open_readonly(dbpath);
		cr_assert_not_null(st);
		store_get_stats(st, &s);
		cr_assert_eq(s.positions, 42);
		cr_assert_eq(s.next_seq[POS], (uint64_t)next[i]);
		cr_assert_eq(s.next_seq[EVS], (uint64_t)next[i]);
		cr_assert_eq(sql_int(store_db(st), "PRAGMA user_version"), 1);
		store_close(st);

		capture_start();
		st = store_open(&o);
		log = capture_end();
		cr_assert_not_null(st);
		cr_assert(strstr(log, "schema migrated to version 6 (from 1)")
		    != NULL, "log: %s", log);
		db = store_db(st);
		cr_assert_eq(sql_int(db, "PRAGMA user_version"), 6);
		cr_assert_eq(seq_floor(db), 43);
		cr_assert_eq(seq_floor_ev(db), 1);
		cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta "
		    "WHERE key IN ('next_seq', 'seq_floor')"), 0);
		store_get_stats(st, &s);
		cr_assert_eq(s.positions, 42);
		cr_assert_eq(s.next_seq[POS], 43);
		cr_assert_eq(s.next_seq[EVS], 1);
		put_n(st, 42, 1, 0);
		cr_assert_eq(store_commit(st), 0);
		cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 43);
		store_close(st);

		st = store_open(&o);
		cr_assert_not_null(st);
		store_get_stats(st, &s);
		cr_assert_eq(s.next_seq[POS], 44);
		query_all(st, &r);
		cr_assert_eq(r.n, 43);
		assert_dense(&r, 1, 0);
		rows_free(&r);
		store_close(st);
		assert_integrity();
	}
}

Test(store, newer_schema_refused)
{
	struct store_opts o = mkopts();
	const char	*log;

	make_raw_db("CREATE TABLE future(x); PRAGMA user_version = 99");
	capture_start();
	cr_assert_null(store_open(&o));
	cr_assert_null(store_open_readonly(dbpath));
	log = capture_end();
	cr_assert(strstr(log, "version 99 is newer") != NULL, "log: %s", log);
	/* And it was left alone. */
	make_raw_db("SELECT 1");
	{
		sqlite3	*db;

		cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
		cr_assert_eq(sql_int(db, "PRAGMA user_version"), 99);
		cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_master"),
		    1);
		sqlite3_close(db);
	}
}

Test(store, foreign_database_refused)
{
	struct store_opts o = mkopts();
	const char	*log;

	make_raw_db("CREATE TABLE other(x)");
	capture_start();
	cr_assert_null(store_open(&o));
	log = capture_end();
	cr_assert(strstr(log, "not a fleetgw database") != NULL, "log: %s",
	    log);
	capture_start();
	cr_assert_null(store_open_readonly(dbpath));
	log = capture_end();
	cr_assert(strstr(log, "not a fleetgw database") != NULL, "log: %s",
	    log);
}

Test(store, not_a_database)
{
	struct store_opts o = mkopts();
	const char	*log;
	char		 junk[8192];
	int		 fd;

	memset(junk, 'x', sizeof(junk));
	fd = open(dbpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd != -1);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	capture_start();
	cr_assert_null(store_open(&o));
	cr_assert_null(store_open_readonly(dbpath));
	log = capture_end();
	cr_assert(strstr(log, "file is not a database") != NULL, "log: %s",
	    log);
}

Test(store, missing_directory)
{
	struct store_opts o = mkopts();
	char		 path[PATH_MAX + 32];
	const char	*log;

	snprintf(path, sizeof(path), "%s/nope/fleetgw.db", tmpdir);
	o.path = path;
	capture_start();
	cr_assert_null(store_open(&o));
	cr_assert_null(store_open_readonly(path));
	cr_assert_null(store_open_readonly(dbpath));	/* no such file */
	log = capture_end();
	cr_assert(strstr(log, "/nope does not exist") != NULL, "log: %s", log);
	cr_assert(strstr(log, "fleetgw.db: no such file") != NULL, "log: %s",
	    log);
}

Test(store, parent_is_a_file)
{
	struct store_opts o = mkopts();
	char		 path[PATH_MAX + 32];
	const char	*log;
	int		 fd;

	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert(fd != -1);
	close(fd);
	snprintf(path, sizeof(path), "%s/file/fleetgw.db", tmpdir);
	o.path = path;
	capture_start();
	cr_assert_null(store_open(&o));
	log = capture_end();
	cr_assert(strstr(log, "is not a directory") != NULL, "log: %s", log);
}

/*
 * Run fn as an unprivileged user: as root, in a child that drops to
 * nobody (root ignores permissions); otherwise directly.  Returns fn's
 * result (0 = pass).
 */
static int
as_unprivileged(int (*fn)(void))
{
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0)
		return fn();
	cr_assert_eq(chmod(tmpdir, 0755), 0);
	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0) {
		if (setgid(NOBODY) == -1 || setuid(NOBODY) == -1)
			_exit(100);
		_exit(fn());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %d", status);
	return WEXITSTATUS(status);
}

static int
open_in_readonly_dir(void)
{
	struct store_opts o = mkopts();

	return store_open(&o) == NULL ? 0 : 1;
}

Test(store, directory_not_writable)
{
	const char	*log;

	if (geteuid() != 0)
		cr_assert_eq(chmod(tmpdir, 0555), 0);
	capture_start();
	cr_assert_eq(as_unprivileged(open_in_readonly_dir), 0);
	log = capture_end();
	cr_assert(strstr(log, "is not writable") != NULL, "log: %s", log);
}

/* ---- read-only access ---- */

static int
read_without_write_access(void)
{
	struct store	*ro;
	struct rows	 r;
	int		 ret;

	ro = store_open_readonly(dbpath);
	if (ro == NULL)
		return 1;
	query_all(ro, &r);
	ret = r.n == 12 && r.p[11].seq == 12 ? 0 : 2;
	rows_free(&r);
	store_close(ro);
	return ret;
}

Test(store, readonly_without_write_access)
{
	struct store_opts o = mkopts();
	struct store	*st;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 12, 0);
	cr_assert_eq(store_commit(st), 0);
	/* Daemon running: -wal and -shm exist. */
	cr_assert_eq(chmod(dbpath, 0644), 0);
	cr_assert_eq(as_unprivileged(read_without_write_access), 0,
	    "while the writer is open");
	store_close(st);
	/* Daemon stopped: no -wal, no -shm, and no right to create them. */
	cr_assert_eq(access(dbpath, F_OK), 0);
	cr_assert_eq(as_unprivileged(read_without_write_access), 0,
	    "after the writer closed");
	/*
	 * And a reader with write access (root running fleetgwctl) leaves no
	 * -wal/-shm behind that the daemon's user could not open.
	 */
	cr_assert_eq(read_without_write_access(), 0);
	cr_assert_eq(access(wal_path(), F_OK), -1, "reader left a -wal");
	cr_assert_eq(access(shm_path(), F_OK), -1, "reader left a -shm");
}

static void
crashed_writer(void)
{
	struct store_opts o = mkopts();
	struct store	*st;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	put_n(st, 0, 12, 0);
	if (store_commit(st) != 0)
		_exit(3);
	_exit(0);
}

static int
read_needs_shm(void)
{
	struct store	*ro;

	ro = store_open_readonly(dbpath);
	if (ro != NULL) {
		store_close(ro);
		return 1;
	}
	return 0;
}

Test(store, readonly_after_crash_reads_the_wal)
{
	const char	*log;
	pid_t		 pid;
	int		 status;

	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0)
		crashed_writer();
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The rows are in the -wal only; the -shm can be rebuilt from it. */
	cr_assert_eq(access(wal_path(), F_OK), 0);
	cr_assert_eq(unlink(shm_path()), 0);
	cr_assert_eq(chmod(dbpath, 0644), 0);
	cr_assert_eq(chmod(wal_path(), 0644), 0);
	if (geteuid() != 0)
		cr_assert_eq(chmod(tmpdir, 0555), 0);
	capture_start();
	cr_assert_eq(as_unprivileged(read_needs_shm), 0);
	log = capture_end();
	cr_assert(strstr(log, "needs the -shm file") != NULL, "log: %s", log);
	cr_assert_eq(chmod(tmpdir, 0700), 0);
	/* Allowed to create the -shm: the committed rows are all there. */
	cr_assert_eq(count_readonly(), 12);
}

Test(store, readonly_beside_writer_and_query_bounds)
{
	struct store_opts o = mkopts();
	struct store	*st, *ro;
	struct store_stats s;
	struct rows	 r;
	struct fix	 f;

	o.commit_rows = 1000;
	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 20, 0);
	cr_assert_eq(store_commit(st), 0);
	put_n(st, 20, 5, 0);		/* pending in the writer */
	/* An open write transaction in the writer does not block readers. */
	sql_exec(store_db(st), "BEGIN IMMEDIATE; UPDATE positions "
	    "SET synced = 1 WHERE seq = 1");

	ro = store_open_readonly(dbpath);
	cr_assert_not_null(ro);
	store_get_stats(ro, &s);
	cr_assert_eq(s.positions, 20);
	cr_assert_eq(s.next_seq[POS], 21);
	cr_assert_eq(s.pending, 0);
	query_all(ro, &r);
	cr_assert_eq(r.n, 20);
	assert_dense(&r, 1, 0);
	rows_free(&r);
	cr_assert_eq(sql_int(store_db(ro), "SELECT synced FROM positions "
	    "WHERE seq = 1"), 0);

	/* A read-only store refuses writes. */
	f = mkfix(99);
	cr_assert_eq(store_put_position(ro, &f, 0), -1);
	cr_assert_eq(store_commit(ro), -1);
	cr_assert_eq(store_retention(ro, T0_MS), -1);
	cr_assert_eq(store_next_due_ms(ro, 0), UINT64_MAX);

	sql_exec(store_db(st), "COMMIT");
	cr_assert_eq(store_commit(st), 0);

	/* Same reader connection, next query: the new rows are there. */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(store_query_positions(ro, INT64_MIN, INT64_MAX, 0,
	    collect, &r), 0);
	cr_assert_eq(r.n, 25);
	rows_free(&r);

	/* from is inclusive, to exclusive (fix i is at T0 + i s). */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(store_query_positions(ro, mkfix(5).t_utc_ms,
	    mkfix(10).t_utc_ms, 0, collect, &r), 0);
	cr_assert_eq(r.n, 5);
	assert_dense(&r, 6, 5);
	rows_free(&r);

	memset(&r, 0, sizeof(r));
	cr_assert_eq(store_query_positions(ro, mkfix(3).t_utc_ms, INT64_MAX,
	    7, collect, &r), 0);
	cr_assert_eq(r.n, 7);
	assert_dense(&r, 4, 3);
	rows_free(&r);

	/* The callback stops early. */
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	cr_assert_eq(store_query_positions(ro, INT64_MIN, INT64_MAX, 0,
	    collect, &r), 0);
	cr_assert_eq(r.n, 2);
	rows_free(&r);

	/* Empty range. */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(store_query_positions(ro, mkfix(10).t_utc_ms,
	    mkfix(10).t_utc_ms, 0, collect, &r), 0);
	cr_assert_eq(r.n, 0);
	rows_free(&r);

	store_close(ro);
	store_close(st);
	store_close(NULL);
}

/* ---- commit failures ---- */

Test(store, full_disk_keeps_rows_pending)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rows	 r;
	struct fix	 f;
	sqlite3		*db;
	const char	*log;
	char		 sql[128];
	int		 i;

	o.commit_rows = 4096;
	o.commit_interval_ms = 1000;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	put_n(st, 0, 10, 0);
	cr_assert_eq(store_commit(st), 0);

	/* No room to grow the file: SQLITE_FULL. */
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)sql_int(db, "PRAGMA page_count"));
	sql_exec(db, sql);
	put_n(st, 10, 3000, 0);
	capture_start();
	cr_assert_eq(store_commit(st), -1);
	cr_assert_eq(store_commit(st), -1);
	log = capture_end();
	cr_assert(strstr(log, "database or disk is full") != NULL, "log: %s",
	    log);
	cr_assert(strstr(log, "keeping 3000 positions") != NULL, "log: %s",
	    log);
	/* Logged once, not once per attempt. */
	cr_assert_eq(strstr(strstr(log, "keeping") + 1, "keeping"), NULL,
	    "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 3000);
	cr_assert_eq(s.positions, 10);
	cr_assert_eq(s.next_seq[POS], 11);
	cr_assert(s.commit_failing);
	cr_assert_eq(count_readonly(), 10);

	/* After a failure the retry waits one interval. */
	cr_assert_eq(store_commit_due(st, 50000), -1);
	cr_assert_eq(store_next_due_ms(st, 50000), 1000);
	cr_assert_eq(store_commit_due(st, 50999), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 3000);

	/* The buffer fills: the forced commit fails, fixes are refused. */
	put_n(st, 3010, 4096 - 3000, 51000);
	f = mkfix(5000);
	cr_assert_eq(store_put_position(st, &f, 51000), -1);
	cr_assert_eq(store_put_position(st, &f, 51000), -1);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 4096);
	cr_assert_eq(s.refused, 2);

	/* Room again: the next put commits the backlog with dense seqs. */
	sql_exec(db, "PRAGMA max_page_count = 1073741823");
	f = mkfix(10 + 4096);
	capture_start();
	cr_assert_eq(store_put_position(st, &f, 52000), 0);
	log = capture_end();
	cr_assert(strstr(log, "commits work again") != NULL, "log: %s", log);
	cr_assert_eq(store_commit(st), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert(!s.commit_failing);
	cr_assert_eq(s.positions, 10 + 4096 + 1);
	cr_assert_eq(s.next_seq[POS], 10 + 4096 + 2);
	query_all(st, &r);
	cr_assert_eq(r.n, 10 + 4096 + 1);
	for (i = 0; i < (int)r.n; i++)
		cr_assert_eq(r.p[i].seq, (uint64_t)i + 1);
	assert_dense(&r, 1, 0);
	rows_free(&r);
	store_close(st);
	assert_integrity();
}

Test(store, failed_commit_via_commit_due_then_recovers)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	sqlite3		*db;
	char		 sql[128];

	o.commit_rows = 100;
	o.commit_interval_ms = 5000;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)sql_int(db, "PRAGMA page_count"));
	sql_exec(db, sql);
	put_n(st, 0, 500, 0);		/* due by rows at once */
	cr_assert_eq(store_next_due_ms(st, 0), 0);
	cr_assert_eq(store_commit_due(st, 0), -1);
	/* Rows do not trigger a retry: the interval does. */
	cr_assert_eq(store_next_due_ms(st, 0), 5000);
	cr_assert_eq(store_commit_due(st, 4999), 0);
	sql_exec(db, "PRAGMA max_page_count = 1073741823");
	cr_assert_eq(store_commit_due(st, 5000), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.positions, 500);
	cr_assert_eq(s.next_seq[POS], 501);
	/* Back to normal batching. */
	put_n(st, 500, 100, 6000);
	cr_assert_eq(store_next_due_ms(st, 6000), 0);
	store_close(st);
}

/* ---- schema version 3: OBD columns, trips, DTCs, VIN ---- */

/* Version 2 as it shipped: the version 1 file after migration 2. */
static void
make_v2_db(int64_t seq_floor)
{
	make_v1_db(seq_floor);
	make_raw_db("UPDATE meta SET key = 'seq_floor' WHERE key = 'next_seq';"
	    "PRAGMA user_version = 2");
}

static int
count_trips(const struct store_trip *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

static int
count_dtcs(const struct store_dtc *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
	return 0;
}

static int64_t
has_column(sqlite3 *db, const char *table, const char *column)
{
	char		 sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info"
	    "('%s') WHERE name = '%s'", table, column);
	return sql_int(db, sql);
}

Test(store, v2_database_read_as_is_then_migrated)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t;
	struct rows	 r;
	struct fix	 f;
	struct obd_sample obd;
	sqlite3		*db;
	const char	*log;
	int		 n;

	make_v2_db(60);

	/* fleetgwctl reads it without migrating: no trips, no OBD. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 42);
	cr_assert_eq(s.next_seq[POS], 60);
	cr_assert_eq(s.next_seq[EVS], 60, "before version 5: one stream");
	cr_assert_eq(s.trips, 0);
	cr_assert_eq(s.dtcs_active, 0);
	query_all(st, &r);
	cr_assert_eq(r.n, 42);
	assert_dense(&r, 1, 0);
	cr_assert_not(record_obd_any(&r.p[0].obd));
	cr_assert_eq(r.p[0].obd.mil_on, -1);
	rows_free(&r);
	n = 0;
	cr_assert_eq(store_query_trips(st, INT64_MIN, INT64_MAX, 0,
	    count_trips, &n), 0);
	cr_assert_eq(store_query_dtcs(st, false, count_dtcs, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_trip_open_get(st, &t), 0);
	cr_assert_str_eq(store_vin(st), "");
	cr_assert_eq(sql_int(store_db(st), "PRAGMA user_version"), 2);
	store_close(st);

	capture_start();
	st = store_open(&o);
	log = capture_end();
	cr_assert_not_null(st);
	cr_assert(strstr(log, "schema migrated to version 6 (from 2)") != NULL,
	    "log: %s", log);
	db = store_db(st);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 6);
	cr_assert_eq(has_column(db, "positions", "obd_mil_on"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions "
	    "WHERE obd_rpm IS NOT NULL OR obd_mil_on IS NOT NULL"), 0);
	cr_assert_eq(seq_floor(db), 43, "renumbered: the holes are gone");
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 42);
	cr_assert_eq(s.next_seq[POS], 43);
	f = mkfix(42);
	record_obd_clear(&obd);
	obd.rpm = 800;
	cr_assert_eq(store_put_position_obd(st, &f, &obd, 0), 0);
	cr_assert_eq(store_commit(st), 0);
	query_all(st, &r);
	cr_assert_eq(r.n, 43);
	assert_dense(&r, 1, 0);
	cr_assert_eq(r.p[42].obd.rpm, 800);
	rows_free(&r);
	store_close(st);
	assert_integrity();
}

/* A migration that fails half way leaves the file as it was. */
Test(store, failed_migration_changes_nothing)
{
	struct store_opts o = mkopts();
	sqlite3		*db;
	const char	*log;

	make_v2_db(43);
	/* Migration 3 creates trips; a table of that name makes it fail. */
	make_raw_db("CREATE TABLE trips(x)");
	capture_start();
	cr_assert_null(store_open(&o));
	log = capture_end();
	cr_assert(strstr(log, "trips already exists") != NULL, "log: %s", log);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 2);
	/* The ALTER TABLEs before the failing step were rolled back too. */
	cr_assert_eq(has_column(db, "positions", "obd_rpm"), 0);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions"), 42);
	sqlite3_close(db);

	/* From version 1, both steps or neither. */
	unlink(dbpath);
	unlink(wal_path());
	unlink(shm_path());
	make_v1_db(43);
	make_raw_db("CREATE TABLE dtcs(x)");
	capture_start();
	cr_assert_null(store_open(&o));
	(void)capture_end();
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta "
	    "WHERE key = 'next_seq'"), 1);
	sqlite3_close(db);
}

static struct obd_sample
mkobd(int i)
{
	struct obd_sample o;

	record_obd_clear(&o);
	o.rpm = 800.25 + i;
	o.speed_kmh = 37;
	o.coolant_c = 90;
	o.intake_c = 31;
	o.ambient_c = -4;
	o.load_pct = 100.0 * 87 / 255;
	o.throttle_pct = 16.078431372549;
	o.maf_gps = 5.12;
	o.fuel_level_pct = 62.7450980392;
	o.fuel_rate_lph = 1.85;
	o.battery_v = 14.1;
	o.odometer_km = 123456.7;
	o.run_time_s = 612;
	o.fuel_rate_estimated = 1;
	o.mil_on = 1;
	return o;
}

Test(store, obd_columns_round_trip)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct obd_sample full, part, none;
	struct fix	 f;
	struct rows	 r;
	sqlite3		*db;
	size_t		 k;

	full = mkobd(0);
	part = mkobd(1);
	part.rpm = NAN;
	part.coolant_c = INFINITY;	/* not finite: unknown too */
	part.fuel_rate_lph = NAN;	/* then "estimated" is unknown */
	part.mil_on = -1;
	record_obd_clear(&none);
	none.fuel_rate_estimated = 1;	/* alone it is nothing */

	st = store_open(&o);
	cr_assert_not_null(st);
	f = mkfix(0);
	cr_assert_eq(store_put_position_obd(st, &f, &full, 0), 0);
	f = mkfix(1);
	cr_assert_eq(store_put_position_obd(st, &f, &part, 0), 0);
	f = mkfix(2);
	cr_assert_eq(store_put_position_obd(st, &f, &none, 0), 0);
	f = mkfix(3);
	cr_assert_eq(store_put_position_obd(st, &f, NULL, 0), 0);
	put_n(st, 4, 1, 0);		/* the plain wrapper */
	cr_assert_eq(store_commit(st), 0);

	query_all(st, &r);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(memcmp(&r.p[0].obd, &full, sizeof(full)), 0);
	cr_assert(isnan(r.p[1].obd.rpm));
	cr_assert(isnan(r.p[1].obd.coolant_c));
	cr_assert(isnan(r.p[1].obd.fuel_rate_lph));
	cr_assert_eq(r.p[1].obd.fuel_rate_estimated, 0);
	cr_assert_eq(r.p[1].obd.mil_on, -1);
	cr_assert_eq(r.p[1].obd.battery_v, 14.1);
	for (k = 2; k < 5; k++) {
		cr_assert_not(record_obd_any(&r.p[k].obd), "row %zu", k);
		cr_assert_eq(r.p[k].obd.fuel_rate_estimated, 0);
		cr_assert_eq(r.p[k].obd.mil_on, -1);
	}
	rows_free(&r);

	/* NULL in the file for every unknown, 0/1 for the flags. */
	db = store_db(st);
	cr_assert_eq(sql_int(db, "SELECT obd_fuel_rate_estimated * 10 + "
	    "obd_mil_on FROM positions WHERE seq = 1"), 11);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions WHERE seq = 2"
	    " AND obd_rpm IS NULL AND obd_coolant_c IS NULL AND "
	    "obd_fuel_rate_lph IS NULL AND obd_fuel_rate_estimated IS NULL "
	    "AND obd_mil_on IS NULL AND obd_battery_v = 14.1"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions WHERE seq >= 3"
	    " AND coalesce(obd_rpm, obd_speed_kmh, obd_coolant_c, "
	    "obd_intake_c, obd_ambient_c, obd_load_pct, obd_throttle_pct, "
	    "obd_maf_gps, obd_fuel_level_pct, obd_fuel_rate_lph, "
	    "obd_battery_v, obd_odometer_km, obd_run_time_s, "
	    "obd_fuel_rate_estimated, obd_mil_on) IS NULL"), 3);
	store_close(st);

	/* The same through a read-only connection. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	query_all(st, &r);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(memcmp(&r.p[0].obd, &full, sizeof(full)), 0);
	rows_free(&r);
	store_close(st);
}

/* A trip in progress at i minutes: every field set, some unknown. */
static struct trip_summary
mktrip(int64_t start_ms, int minutes)
{
	struct trip_summary t;

	memset(&t, 0, sizeof(t));
	t.start_utc_ms = start_ms;
	t.end_utc_ms = start_ms + (int64_t)minutes * 60000;
	t.distance_m = 750.5 * minutes;
	t.duration_s = 60.0 * minutes;
	t.driving_s = 50.0 * minutes;
	t.idle_s = 10.0 * minutes;
	t.max_speed_kmh = 60 + minutes;
	t.avg_speed_kmh = 54.036;
	t.fuel_used_l = minutes > 0 ? 0.1 * minutes : NAN;
	t.start_lat_deg = 30.5723;
	t.start_lon_deg = 104.0665;
	t.end_lat_deg = 30.5723 + 0.001 * minutes;
	t.end_lon_deg = 104.0665 + 0.001 * minutes;
	t.odometer_start_km = 1000.0;
	t.odometer_end_km = NAN;
	t.ended_by = TRIP_END_NONE;
	t.gnss_gap = minutes % 2;
	t.towed = false;
	return t;
}

/* Equal, with NaN equal to NaN. */
static bool
same_real(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static void
assert_same_trip(const struct trip_summary *a, const struct trip_summary *b)
{
	cr_assert_eq(a->id, b->id);
	cr_assert_eq(a->start_utc_ms, b->start_utc_ms);
	cr_assert_eq(a->end_utc_ms, b->end_utc_ms);
	cr_assert(same_real(a->distance_m, b->distance_m));
	cr_assert(same_real(a->duration_s, b->duration_s));
	cr_assert(same_real(a->driving_s, b->driving_s));
	cr_assert(same_real(a->idle_s, b->idle_s));
	cr_assert(same_real(a->max_speed_kmh, b->max_speed_kmh));
	cr_assert(same_real(a->avg_speed_kmh, b->avg_speed_kmh));
	cr_assert(same_real(a->fuel_used_l, b->fuel_used_l));
	cr_assert(same_real(a->start_lat_deg, b->start_lat_deg));
	cr_assert(same_real(a->start_lon_deg, b->start_lon_deg));
	cr_assert(same_real(a->end_lat_deg, b->end_lat_deg));
	cr_assert(same_real(a->end_lon_deg, b->end_lon_deg));
	cr_assert(same_real(a->odometer_start_km, b->odometer_start_km));
	cr_assert(same_real(a->odometer_end_km, b->odometer_end_km));
	cr_assert_eq(a->ended_by, b->ended_by);
	cr_assert_eq(a->gnss_gap, b->gnss_gap);
	cr_assert_eq(a->towed, b->towed);
}

struct trips {
	struct store_trip	 t[32];
	size_t			 n;
	size_t			 stop_at;
};

static int
collect_trip(const struct store_trip *t, void *arg)
{
	struct trips	*r = arg;

	cr_assert_lt(r->n, NELEM(r->t));
	r->t[r->n++] = *t;
	return r->stop_at != 0 && r->n == r->stop_at;
}

static void
query_trips(struct store *st, int64_t from, int64_t to, uint64_t limit,
    struct trips *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(store_query_trips(st, from, to, limit, collect_trip, r),
	    0);
}

Test(store, trip_begin_progress_end)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t, got;
	struct trips	 r;
	sqlite3		*db;

	o.commit_rows = 100;
	o.commit_interval_ms = 5000;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	cr_assert_eq(store_trip_open_get(st, &got), 0);

	/* Begin commits the pending positions with it, at once. */
	put_n(st, 0, 3, 1000);
	t = mktrip(mkfix(3).t_utc_ms, 0);
	t.id = 99;			/* ignored */
	t.ended_by = TRIP_END_SHUTDOWN;	/* ignored */
	cr_assert_eq(store_trip_begin(st, &t), 0);
	cr_assert_eq(t.id, 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.positions, 3);
	cr_assert_eq(s.trips, 1);
	cr_assert_eq(s.next_seq[POS], 4);
	cr_assert_eq(s.next_seq[EVS], 1, "an open trip takes no seq");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips WHERE id = 1 AND "
	    "open = 1 AND seq IS NULL AND ended_by IS NULL"), 1);
	cr_assert_eq(count_readonly(), 3);

	/* Progress waits in RAM for the next batch ... */
	put_n(st, 3, 2, 2000);
	t = mktrip(t.start_utc_ms, 5);
	t.id = 1;
	cr_assert_eq(store_trip_progress(st, &t), 0);
	cr_assert_eq(store_commit_due(st, 6999), 0);
	cr_assert_eq(sql_int(db, "SELECT end_utc_ms FROM trips WHERE id = 1"),
	    t.start_utc_ms);
	/* ... but the open trip as the store sees it is current. */
	cr_assert_eq(store_trip_open_get(st, &got), 1);
	assert_same_trip(&got, &t);
	/* ... which writes it. */
	cr_assert_eq(store_commit_due(st, 7000), 0);
	cr_assert_eq(sql_int(db, "SELECT end_utc_ms FROM trips WHERE id = 1"),
	    t.end_utc_ms);
	cr_assert_eq(sql_int(db, "SELECT seq IS NULL FROM trips WHERE id = 1"),
	    1);
	/* Progress alone makes a batch due one interval later. */
	t = mktrip(t.start_utc_ms, 6);
	t.id = 1;
	cr_assert_eq(store_next_due_ms(st, 8000), UINT64_MAX);
	cr_assert_eq(store_commit_due(st, 8000), 0);
	cr_assert_eq(store_trip_progress(st, &t), 0);
	cr_assert_eq(store_next_due_ms(st, 8000), 5000);
	cr_assert_eq(store_commit_due(st, 13000), 0);
	cr_assert_eq(sql_int(db, "SELECT end_utc_ms FROM trips WHERE id = 1"),
	    t.end_utc_ms);
	cr_assert_eq(store_next_due_ms(st, 13000), UINT64_MAX);

	/* A progress copy without an id is refused. */
	got = t;
	got.id = 0;
	cr_assert_eq(store_trip_progress(st, &got), -1);

	/* End: the positions before it, in one transaction; the trip's
	 * seq is the events stream's first. */
	put_n(st, 5, 2, 14000);
	t = mktrip(t.start_utc_ms, 7);
	t.id = 1;
	t.ended_by = TRIP_END_IGNITION_OFF;
	t.odometer_end_km = 1005.3;
	cr_assert_eq(store_trip_end(st, &t), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.positions, 7);
	cr_assert_eq(s.next_seq[POS], 8);
	cr_assert_eq(s.next_seq[EVS], 2);
	cr_assert_eq(s.trips, 1);
	cr_assert_eq(sql_int(db, "SELECT seq FROM trips WHERE id = 1"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips WHERE id = 1 AND "
	    "open = 0 AND ended_by = 'ignition_off' AND "
	    "fuel_used_l = 0.1 * 7 AND "
	    "odometer_end_km = 1005.3"), 1);
	cr_assert_eq(store_trip_open_get(st, &got), 0);

	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].seq, 1);
	cr_assert_not(r.t[0].open);
	assert_same_trip(&r.t[0].trip, &t);

	/* Ending again, or without a reason, is refused and changes nothing. */
	capture_start();
	cr_assert_eq(store_trip_end(st, &t), -1);
	t.ended_by = TRIP_END_NONE;
	t.id = 0;
	cr_assert_eq(store_trip_end(st, &t), -1);
	(void)capture_end();
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 2);
	cr_assert_eq(s.trips, 1);

	/* Unknown values are NULL in the file. */
	t = mktrip(mkfix(100).t_utc_ms, 0);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	cr_assert_eq(t.id, 2);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips WHERE id = 2 AND "
	    "fuel_used_l IS NULL AND odometer_end_km IS NULL AND "
	    "odometer_start_km = 1000.0"), 1);
	store_close(st);
	assert_integrity();
}

/*
 * A child begins a trip, commits progress with a batch, buffers more
 * progress and dies without closing: the next run finds the trip open with
 * the committed progress and closes it as a power loss.
 */
static void
trip_crash_child(void)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct trip_summary t;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	t = mktrip(mkfix(0).t_utc_ms, 0);
	if (store_trip_begin(st, &t) != 0)
		_exit(3);
	put_n(st, 0, 10, 0);
	t = mktrip(t.start_utc_ms, 3);
	t.id = 1;
	if (store_trip_progress(st, &t) != 0 || store_commit_due(st, 5000) != 0)
		_exit(4);
	put_n(st, 10, 2, 6000);
	t = mktrip(t.start_utc_ms, 4);	/* never committed */
	t.id = 1;
	if (store_trip_progress(st, &t) != 0)
		_exit(5);
	_exit(0);
}

Test(store, open_trip_survives_crash_and_is_recovered)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t, want;
	struct trips	 r;
	pid_t		 pid;
	int		 status;

	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0)
		trip_crash_child();
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d",
	    status);

	/* fleetgwctl sees it open. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert(r.t[0].open);
	cr_assert_eq(r.t[0].seq, 0);
	cr_assert_eq(store_trip_open_get(st, &t), 1);
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_trip_open_get(st, &t), 1);
	want = mktrip(mkfix(0).t_utc_ms, 3);
	want.id = 1;
	assert_same_trip(&t, &want);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 10);
	cr_assert_eq(s.next_seq[POS], 11);
	cr_assert_eq(s.next_seq[EVS], 1);
	cr_assert_eq(s.trips, 1);

	/* Recovery: a trip this run never began. */
	t.ended_by = TRIP_END_POWER_LOSS;
	cr_assert_eq(store_trip_end(st, &t), 0);
	cr_assert_eq(store_trip_open_get(st, &t), 0);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].seq, 1);
	cr_assert_eq(r.t[0].trip.ended_by, TRIP_END_POWER_LOSS);
	store_close(st);
	assert_integrity();
}

Test(store, close_writes_progress_and_never_ends_the_trip)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct trip_summary t, got;
	struct trips	 r;

	st = store_open(&o);
	cr_assert_not_null(st);
	t = mktrip(T0_MS, 0);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	t = mktrip(T0_MS, 9);
	t.id = 1;
	cr_assert_eq(store_trip_progress(st, &t), 0);
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_trip_open_get(st, &got), 1);
	assert_same_trip(&got, &t);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert(r.t[0].open);
	store_close(st);
}

/* An end for a trip the database does not have is inserted closed. */
Test(store, trip_end_without_begin_inserts)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t;
	struct trips	 r;

	st = store_open(&o);
	cr_assert_not_null(st);
	t = mktrip(T0_MS, 10);
	t.ended_by = TRIP_END_STATIONARY;
	cr_assert_eq(store_trip_end(st, &t), 0);	/* id 0: a new id */
	t.id = 40;
	cr_assert_eq(store_trip_end(st, &t), 0);	/* id 40 kept */
	store_get_stats(st, &s);
	cr_assert_eq(s.trips, 2);
	cr_assert_eq(s.next_seq[EVS], 3);
	cr_assert_eq(s.next_seq[POS], 1);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.t[0].trip.id, 1);
	cr_assert_eq(r.t[0].seq, 1);
	cr_assert_eq(r.t[1].trip.id, 40);
	cr_assert_eq(r.t[1].seq, 2);
	/* Ids keep growing, also past deleted trips (AUTOINCREMENT). */
	sql_exec(store_db(st), "DELETE FROM trips WHERE id = 40");
	t = mktrip(T0_MS, 0);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	cr_assert_eq(t.id, 41);
	store_close(st);
}

/*
 * A closed trip takes the events stream's next seq, a DTC row none (its
 * seq is a row key); the positions stream goes on by itself.
 */
Test(store, trips_in_the_events_stream_dtcs_in_none)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t;
	struct obd_dtc	 d[2] = { { "P0301", 0x03 }, { "P0420", 0x03 } };
	struct obd_dtc	 d2[1] = { { "P0171", 0x03 } };
	sqlite3		*db;

	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	put_n(st, 0, 3, 0);
	t = mktrip(mkfix(3).t_utc_ms, 0);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	put_n(st, 3, 2, 0);
	t.ended_by = TRIP_END_IGNITION_OFF;
	cr_assert_eq(store_trip_end(st, &t), 0);
	cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 5);
	cr_assert_eq(sql_int(db, "SELECT seq FROM trips"), 1);
	store_close(st);

	/* The trip holds the events stream's highest seq. */
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 2);
	cr_assert_eq(s.next_seq[POS], 6);
	cr_assert_eq(store_dtc_scan(st, d, 2, mkfix(10).t_utc_ms), 2);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 2, "DTC rows take no stream seq");
	cr_assert_eq(s.next_seq[POS], 6);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) * 100 + "
	    "min(seq) * 10 + max(seq) FROM dtcs"), 212, "row keys 1, 2");
	store_close(st);

	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 2, "read-only: dtcs not counted");
	cr_assert_eq(s.next_seq[POS], 6);
	cr_assert_eq(s.trips, 1);
	cr_assert_eq(s.dtcs_active, 2);
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	put_n(st, 5, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 6);
	/* The next DTC row: one above the highest key, also after a gap. */
	sql_exec(db, "UPDATE dtcs SET seq = 40 WHERE seq = 2");
	cr_assert_eq(store_dtc_scan(st, d2, 1, mkfix(20).t_utc_ms), 1);
	cr_assert_eq(sql_int(db, "SELECT seq FROM dtcs WHERE code = 'P0171'"),
	    41);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 2);
	store_close(st);
	assert_integrity();
}

Test(store, query_trips_window_overlap)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct trip_summary t;
	struct trips	 r;
	const int64_t	 m = 60000;

	st = store_open(&o);
	cr_assert_not_null(st);
	/* Added out of order: the listing sorts by start. */
	t = mktrip(T0_MS + 30 * m, 10);		/* B [30, 40] */
	t.ended_by = TRIP_END_IGNITION_OFF;
	cr_assert_eq(store_trip_end(st, &t), 0);
	t = mktrip(T0_MS + 10 * m, 10);		/* A [10, 20] */
	t.ended_by = TRIP_END_STATIONARY;
	cr_assert_eq(store_trip_end(st, &t), 0);
	t = mktrip(T0_MS + 50 * m, 10);		/* C [50, 60], open */
	cr_assert_eq(store_trip_begin(st, &t), 0);
	t = mktrip(T0_MS + 50 * m, 10);
	t.id = 3;
	cr_assert_eq(store_trip_progress(st, &t), 0);
	cr_assert_eq(store_commit(st), 0);

	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.t[0].trip.id, 2);
	cr_assert_eq(r.t[1].trip.id, 1);
	cr_assert_eq(r.t[2].trip.id, 3);
	cr_assert(r.t[2].open);
	/* start < to: a trip starting at to is outside. */
	query_trips(st, T0_MS, T0_MS + 10 * m, 0, &r);
	cr_assert_eq(r.n, 0);
	query_trips(st, T0_MS, T0_MS + 10 * m + 1, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].trip.id, 2);
	/* end >= from: a trip ending at from is inside. */
	query_trips(st, T0_MS + 20 * m, T0_MS + 30 * m, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].trip.id, 2);
	query_trips(st, T0_MS + 20 * m + 1, T0_MS + 30 * m + 1, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].trip.id, 1);
	/* A window inside one trip. */
	query_trips(st, T0_MS + 33 * m, T0_MS + 34 * m, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].trip.id, 1);
	/* Between trips; the open trip by its last known time. */
	query_trips(st, T0_MS + 41 * m, T0_MS + 50 * m, 0, &r);
	cr_assert_eq(r.n, 0);
	query_trips(st, T0_MS + 60 * m, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.t[0].trip.id, 3);
	query_trips(st, T0_MS + 60 * m + 1, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 0);
	/* Limit and an early stop. */
	query_trips(st, INT64_MIN, INT64_MAX, 2, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.t[1].trip.id, 1);
	memset(&r, 0, sizeof(r));
	r.stop_at = 1;
	cr_assert_eq(store_query_trips(st, INT64_MIN, INT64_MAX, 0,
	    collect_trip, &r), 0);
	cr_assert_eq(r.n, 1);
	store_close(st);
}

struct dtcs {
	struct store_dtc	 d[16];
	size_t			 n;
};

static int
collect_dtc(const struct store_dtc *d, void *arg)
{
	struct dtcs	*r = arg;

	cr_assert_lt(r->n, NELEM(r->d));
	r->d[r->n++] = *d;
	return 0;
}

static void
query_dtcs(struct store *st, bool active_only, struct dtcs *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(store_query_dtcs(st, active_only, collect_dtc, r), 0);
}

static void
assert_dtc(const struct store_dtc *d, uint64_t seq, const char *code,
    int mode, int64_t first, int64_t last, int64_t cleared)
{
	cr_assert_eq(d->seq, seq, "seq %llu", (unsigned long long)d->seq);
	cr_assert_str_eq(d->code, code);
	cr_assert_eq(d->mode, mode);
	cr_assert_eq(d->first_utc_ms, first, "%s first", code);
	cr_assert_eq(d->last_utc_ms, last, "%s last", code);
	cr_assert_eq(d->cleared_utc_ms, cleared, "%s cleared", code);
}

Test(store, dtc_scan_new_persisting_cleared)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct dtcs	 r;
	const int64_t	 t1 = T0_MS, t2 = T0_MS + 60000, t3 = T0_MS + 120000,
			 t4 = T0_MS + 180000;
	struct obd_dtc	 scan1[] = {
		{ "P0301", 0x03 }, { "P0420", 0x03 }, { "P0301", 0x07 },
		{ "P0301", 0x03 },	/* reported twice: once */
	};
	struct obd_dtc	 scan2[] = { { "P0420", 0x03 }, { "P0301", 0x03 } };
	struct obd_dtc	 scan3[] = { { "P0301", 0x07 } };
	struct obd_dtc	 bad[] = { { "P0301", 0x03 }, { "P03", 0x03 } };
	struct obd_dtc	 badmode[] = { { "P0301", 0x01 } };

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 2, 0);		/* committed first: seq 1, 2 */
	cr_assert_eq(store_dtc_scan(st, scan1, NELEM(scan1), t1), 3);
	store_get_stats(st, &s);
	cr_assert_eq(s.dtcs_active, 3);
	cr_assert_eq(s.next_seq[POS], 3);
	cr_assert_eq(s.next_seq[EVS], 1);
	cr_assert_eq(s.positions, 2);

	/* Still there: last moves; gone (pending P0301): cleared. */
	cr_assert_eq(store_dtc_scan(st, scan2, NELEM(scan2), t2), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.dtcs_active, 2);

	/* Back again: a new episode, a new row (key); the others cleared. */
	cr_assert_eq(store_dtc_scan(st, scan3, NELEM(scan3), t3), 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.dtcs_active, 1);
	cr_assert_eq(s.next_seq[POS], 3);
	cr_assert_eq(s.next_seq[EVS], 1);

	/* Invalid scans record nothing. */
	capture_start();
	cr_assert_eq(store_dtc_scan(st, bad, NELEM(bad), t4), -1);
	cr_assert_eq(store_dtc_scan(st, badmode, NELEM(badmode), t4), -1);
	(void)capture_end();

	query_dtcs(st, false, &r);
	cr_assert_eq(r.n, 4);
	assert_dtc(&r.d[0], 1, "P0301", 0x03, t1, t2, t3);
	assert_dtc(&r.d[1], 2, "P0420", 0x03, t1, t2, t3);
	assert_dtc(&r.d[2], 3, "P0301", 0x07, t1, t1, t2);
	assert_dtc(&r.d[3], 4, "P0301", 0x07, t3, t3, 0);
	query_dtcs(st, true, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.d[0].seq, 4);

	/* An empty scan clears everything. */
	cr_assert_eq(store_dtc_scan(st, NULL, 0, t4), 0);
	query_dtcs(st, true, &r);
	cr_assert_eq(r.n, 0);
	store_close(st);

	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.dtcs_active, 0);
	query_dtcs(st, false, &r);
	cr_assert_eq(r.n, 4);
	assert_dtc(&r.d[3], 4, "P0301", 0x07, t3, t3, t4);
	cr_assert_eq(store_dtc_scan(st, scan3, 1, t4), -1, "read-only");
	store_close(st);
}

Test(store, vin_set_and_change)
{
	struct store_opts o = mkopts();
	struct store	*st;
	const char	*log;
	char		 longvin[40];

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_vin(st), "");
	capture_start();
	cr_assert_eq(store_set_vin(st, "LSVAU2180N2183294"), 0);
	cr_assert_eq(store_set_vin(st, "LSVAU2180N2183294"), 0);
	log = capture_end();
	cr_assert(strstr(log, "VIN changes") == NULL, "log: %s", log);
	cr_assert_str_eq(store_vin(st), "LSVAU2180N2183294");
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_vin(st), "LSVAU2180N2183294");
	capture_start();
	cr_assert_eq(store_set_vin(st, "LFV2A21K6A3042001"), 0);
	memset(longvin, 'A', sizeof(longvin) - 1);
	longvin[sizeof(longvin) - 1] = '\0';
	cr_assert_eq(store_set_vin(st, ""), -1);
	cr_assert_eq(store_set_vin(st, longvin), -1);
	cr_assert_eq(store_set_vin(st, "LSV AU2180"), -1);
	log = capture_end();
	cr_assert(strstr(log, "VIN changes from LSVAU2180N2183294 to "
	    "LFV2A21K6A3042001") != NULL, "log: %s", log);
	cr_assert_str_eq(store_vin(st), "LFV2A21K6A3042001");
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM meta WHERE "
	    "key = 'vin' AND value = 'LFV2A21K6A3042001'"), 1);
	store_close(st);

	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_vin(st), "LFV2A21K6A3042001");
	cr_assert_eq(store_set_vin(st, "LSVAU2180N2183294"), -1);
	store_close(st);
}

Test(store, retention_by_age_includes_trips_never_the_open_one)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t;
	struct trips	 r;
	struct dtcs	 dr;
	struct obd_dtc	 d1[] = { { "P0301", 0x03 }, { "P0171", 0x03 } };
	struct obd_dtc	 d2[] = { { "P0171", 0x03 } };
	struct fix	 f;
	const char	*log;
	const int64_t	 h = 3600000;
	int		 i;

	o.keep_days = 1;
	o.commit_rows = 4096;
	st = store_open(&o);
	cr_assert_not_null(st);
	/* Day 0: a DTC that clears at once and one that stays active. */
	cr_assert_eq(store_dtc_scan(st, d1, 2, T0_MS), 2);	/* seq 1, 2 */
	cr_assert_eq(store_dtc_scan(st, d2, 1, T0_MS + h), 0);
	/* A trip a day, 50 hours of positions once a minute. */
	for (i = 0; i < 3000; i++) {
		f = mkfix(0);
		f.t_utc_ms = T0_MS + (int64_t)i * 60000;
		cr_assert_eq(store_put_position(st, &f, 0), 0);
		if (i % 1440 == 600) {
			t = mktrip(f.t_utc_ms - 30 * 60000, 30);
			t.ended_by = TRIP_END_IGNITION_OFF;
			cr_assert_eq(store_trip_end(st, &t), 0);
		}
	}
	/* The open trip began on day 0 and has not been heard of since. */
	t = mktrip(T0_MS + 2 * h, 5);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	cr_assert_eq(store_commit(st), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.trips, 3);
	cr_assert_eq(s.dtcs_active, 1);

	capture_start();
	cr_assert_gt(store_retention(st, T0_MS + 50 * h), 1500);
	log = capture_end();
	cr_assert(strstr(log, "store: retention dropped 1 trips (seq ") !=
	    NULL, "log: %s", log);
	cr_assert(strstr(log, "store: retention dropped 1 DTC rows (seq 1..1, "
	    "reason: age)") != NULL, "log: %s", log);

	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 2, "the day 0 trip went, day 1 and the open one "
	    "stay");
	cr_assert(r.t[0].open);
	cr_assert_eq(r.t[0].trip.id, t.id);
	cr_assert_not(r.t[1].open);
	cr_assert_geq(r.t[1].trip.end_utc_ms, T0_MS + 26 * h);
	query_dtcs(st, false, &dr);
	cr_assert_eq(dr.n, 1);
	cr_assert_str_eq(dr.d[0].code, "P0171");
	store_get_stats(st, &s);
	cr_assert_eq(s.trips, 2);
	cr_assert_eq(s.dtcs_active, 1);

	/* Everything ages out but the open trip and the active DTC. */
	cr_assert_gt(store_retention(st, T0_MS + 500 * h), 0);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert(r.t[0].open);
	query_dtcs(st, false, &dr);
	cr_assert_eq(dr.n, 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 0);
	cr_assert_eq(s.trips, 1);
	/* The trip's end still works, with a seq above everything deleted. */
	t.ended_by = TRIP_END_POWER_LOSS;
	cr_assert_eq(store_trip_end(st, &t), 0);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.t[0].seq, 2 + 1, "the events stream's, above both "
	    "deleted trips");
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 3001);
	cr_assert_eq(s.next_seq[EVS], 4);
	store_close(st);
	assert_integrity();
}

Test(store, retention_by_size_includes_trips_never_the_open_one)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t, open_t;
	struct trips	 r;
	sqlite3		*db;
	int64_t		 min_pos, min_t;
	size_t		 k;
	int		 i;

	o.commit_rows = 4096;
	o.max_size_mb = 0;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	open_t = mktrip(T0_MS, 0);
	cr_assert_eq(store_trip_begin(st, &open_t), 0);
	/* A closed trip after every 1000 positions. */
	for (i = 0; i < 24; i++) {
		put_n(st, i * 1000, 1000, 0);
		t = mktrip(mkfix(i * 1000).t_utc_ms, 16);
		t.ended_by = TRIP_END_IGNITION_OFF;
		cr_assert_eq(store_trip_end(st, &t), 0);
	}
	cr_assert_gt(live_bytes(db), 2 * MIB);
	o.max_size_mb = 1;
	store_set_limits(st, &o);
	cr_assert_gt(store_retention(st, mkfix(24000).t_utc_ms), 0);
	cr_assert_leq(live_bytes(db), 1 * MIB);

	/*
	 * Oldest first: positions by seq, trips with them by time (their
	 * end, against the chunk's last position); the open trip stays.
	 */
	min_pos = sql_int(db, "SELECT min(seq) FROM positions");
	min_t = sql_int(db, "SELECT min(t_utc_ms) FROM positions");
	cr_assert_gt(min_pos, 1);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_lt(r.n, 25);
	cr_assert_gt(r.n, 1);
	cr_assert(r.t[0].open);
	cr_assert_eq(r.t[0].trip.id, open_t.id);
	for (k = 1; k < r.n; k++)
		cr_assert_geq(r.t[k].trip.end_utc_ms, min_t,
		    "trip %llu ending at %lld kept before positions from %lld",
		    (unsigned long long)r.t[k].seq,
		    (long long)r.t[k].trip.end_utc_ms, (long long)min_t);
	/* ... and no newer trip went before an older one. */
	cr_assert_eq(sql_int(db, "SELECT min(seq) FROM trips WHERE open = 0"),
	    24 - (int64_t)r.n + 2);
	store_get_stats(st, &s);
	cr_assert_eq(s.trips, r.n);
	cr_assert_eq(s.next_seq[POS], 24000 + 1);
	cr_assert_eq(s.next_seq[EVS], 24 + 1);
	store_close(st);
	assert_integrity();
}

/* A trip end whose commit fails waits in RAM and goes with the next one. */
Test(store, failed_trip_end_is_kept_and_retried)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct trip_summary t, got;
	struct trips	 r;
	sqlite3		*db;
	const char	*log;
	char		 sql[128];

	o.commit_rows = 4096;
	o.commit_interval_ms = 1000;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	t = mktrip(T0_MS, 0);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)sql_int(db, "PRAGMA page_count"));
	sql_exec(db, sql);
	put_n(st, 0, 3000, 0);
	t = mktrip(T0_MS, 50);
	t.id = 1;
	t.ended_by = TRIP_END_SHUTDOWN;
	capture_start();
	cr_assert_eq(store_trip_end(st, &t), -1);
	log = capture_end();
	cr_assert(strstr(log, "keeping 3000 positions, 1 trip end in memory")
	    != NULL, "log: %s", log);
	store_get_stats(st, &s);
	cr_assert(s.commit_failing);
	cr_assert_eq(s.pending, 3000);
	/* Still open in the file, and no progress copy left to apply. */
	cr_assert_eq(store_trip_open_get(st, &got), 1);
	cr_assert_eq(got.end_utc_ms, T0_MS);
	cr_assert_eq(store_next_due_ms(st, 5000), 0);
	cr_assert_eq(store_commit_due(st, 5000), -1);
	cr_assert_eq(store_next_due_ms(st, 5000), 1000);

	sql_exec(db, "PRAGMA max_page_count = 1073741823");
	cr_assert_eq(store_commit_due(st, 6000), 0);
	store_get_stats(st, &s);
	cr_assert_not(s.commit_failing);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.positions, 3000, "with the positions of its batch");
	cr_assert_eq(s.next_seq[POS], 3001);
	cr_assert_eq(s.next_seq[EVS], 2);
	query_trips(st, INT64_MIN, INT64_MAX, 0, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_not(r.t[0].open);
	cr_assert_eq(r.t[0].seq, 1);
	cr_assert_eq(r.t[0].trip.end_utc_ms, t.end_utc_ms);
	cr_assert_eq(store_trip_open_get(st, &got), 0);
	store_close(st);
	assert_integrity();
}

/* ---- schema version 4: events, rules state, orders, clean stop ---- */

#define MIN_MS		INT64_C(60000)
#define HOUR_MS		INT64_C(3600000)

/*
 * Every seq of the events stream handed out (an instant's end_seq is its
 * seq), as one column; the positions stream's.
 */
#define EV_SEQS								\
	"SELECT seq AS s FROM trips WHERE seq IS NOT NULL UNION ALL "	\
	"SELECT seq FROM events UNION ALL SELECT end_seq FROM events "	\
	"WHERE end_seq <> seq UNION ALL SELECT seq FROM command_results"
#define POS_SEQS	"SELECT seq AS s FROM positions"
/* Columns of the positions table: 21 of version 1, 15 OBD ones. */
#define POS_TABLE_NCOLUMNS	36

/* The seqs of a stream in the file are exactly 1..n, each used once. */
static void
assert_dense_sql(sqlite3 *db, const char *seqs, int64_t n)
{
	char		 sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM (%s)", seqs);
	cr_assert_eq(sql_int(db, sql), n, "%s", sql);
	snprintf(sql, sizeof(sql), "SELECT count(DISTINCT s) FROM (%s)", seqs);
	cr_assert_eq(sql_int(db, sql), n, "a seq used twice");
	if (n == 0)
		return;
	snprintf(sql, sizeof(sql), "SELECT min(s) FROM (%s)", seqs);
	cr_assert_eq(sql_int(db, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT max(s) FROM (%s)", seqs);
	cr_assert_eq(sql_int(db, sql), n);
}

static void
assert_seq_dense(sqlite3 *db, int64_t nev, int64_t npos)
{
	assert_dense_sql(db, EV_SEQS, nev);
	assert_dense_sql(db, POS_SEQS, npos);
}

static struct rules_event
mkevent(uint64_t id, enum rules_phase phase, enum rules_type type,
    enum rules_severity severity, int64_t start_ms, int64_t end_ms)
{
	struct rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = id;
	ev.phase = phase;
	ev.type = type;
	ev.severity = severity;
	ev.start_utc_ms = start_ms;
	ev.end_utc_ms = end_ms;
	ev.lat_deg = NAN;
	ev.lon_deg = NAN;
	return ev;
}

/* Put ev with details (JSON text, NULL none); store_event_put's answer. */
static int
put_event(struct store *st, struct rules_event ev, const char *details)
{
	json_error_t	 err;
	int		 rc;

	ev.details = NULL;
	if (details != NULL) {
		ev.details = json_loads(details, 0, &err);
		cr_assert_not_null(ev.details, "%s: %s", details, err.text);
	}
	rc = store_event_put(st, &ev);
	json_decref(ev.details);
	return rc;
}

struct events {
	struct store_event	 e[64];
	char			 details[64][256];
	size_t			 n;
	size_t			 stop_at;
};

static int
collect_event(const struct store_event *e, void *arg)
{
	struct events	*r = arg;

	cr_assert_lt(r->n, NELEM(r->e));
	r->e[r->n] = *e;
	util_strlcpy(r->details[r->n], e->details, sizeof(r->details[0]));
	r->e[r->n].details = r->details[r->n];
	r->n++;
	return r->stop_at != 0 && r->n == r->stop_at;
}

static void
query_events(struct store *st, int64_t from, int64_t to, int type,
    int severity, uint64_t limit, struct events *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(store_query_events(st, from, to, type, severity, limit,
	    collect_event, r), 0);
}

/* The events' ids in query order, e.g. "1,4,3". */
static const char *
event_ids(const struct events *r)
{
	static char	 buf[256];
	size_t		 i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%llu",
		    i > 0 ? "," : "", (unsigned long long)r->e[i].id);
	return buf;
}

Test(store, events_open_close_seqs_dense_beside_positions)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	struct events	 r;
	sqlite3		*db;

	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	put_n(st, 0, 3, 0);
	ev = mkevent(1, RULES_EV_OPEN, RULES_AFTER_HOURS_USE, RULES_VIOLATION,
	    mkfix(0).t_utc_ms, 0);
	ev.lat_deg = 30.5;
	ev.lon_deg = 104.0;
	ev.trip_id = 3;
	cr_assert_eq(put_event(st, ev, "{\"covered\": false}"), 1,
	    "a violation is urgent");
	/* Queued, not written: the caller commits after the rules state. */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events"), 0);
	cr_assert_eq(store_next_due_ms(st, 0), 0, "urgent: due at once");
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 3,
	    "in the same batch");
	cr_assert_eq(sql_int(db, "SELECT seq FROM events WHERE id = 1"), 1,
	    "the events stream's first");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events WHERE "
	    "end_seq IS NULL AND end_utc_ms IS NULL"), 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 1);
	cr_assert_eq(s.events_open, 1);
	cr_assert_eq(s.next_seq[POS], 4);
	cr_assert_eq(s.next_seq[EVS], 2);

	/* Two more positions, then the close: end_seq after them. */
	put_n(st, 3, 2, 0);
	ev = mkevent(1, RULES_EV_CLOSE, RULES_AFTER_HOURS_USE, RULES_VIOLATION,
	    mkfix(0).t_utc_ms, mkfix(4).t_utc_ms);
	cr_assert_eq(put_event(st, ev, "{\"uncovered_s\": 4, \"a\": [1, 2]}"),
	    1);
	/* An open and its close in one batch: two seqs, in that order. */
	ev = mkevent(2, RULES_EV_OPEN, RULES_SPEEDING, RULES_WARNING,
	    mkfix(3).t_utc_ms, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0, "a warning is not urgent");
	ev.phase = RULES_EV_CLOSE;
	ev.end_utc_ms = mkfix(4).t_utc_ms;
	cr_assert_eq(put_event(st, ev, "{\"max_kmh\": 131.5}"), 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 5);
	cr_assert_eq(sql_int(db, "SELECT end_seq FROM events WHERE id = 1"),
	    2);
	cr_assert_eq(sql_int(db, "SELECT seq FROM events WHERE id = 2"), 3);
	cr_assert_eq(sql_int(db, "SELECT end_seq FROM events WHERE id = 2"),
	    4);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 2);
	cr_assert_eq(s.events_open, 0);
	cr_assert_eq(s.positions, 5);

	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.e[0].id, 1);
	cr_assert_eq(r.e[0].seq, 1);
	cr_assert_eq(r.e[0].end_seq, 2);
	cr_assert_eq(r.e[0].type, RULES_AFTER_HOURS_USE);
	cr_assert_eq(r.e[0].severity, RULES_VIOLATION);
	cr_assert_eq(r.e[0].start_utc_ms, mkfix(0).t_utc_ms);
	cr_assert_eq(r.e[0].end_utc_ms, mkfix(4).t_utc_ms);
	cr_assert_eq(r.e[0].trip_id, 3);
	cr_assert_eq(r.e[0].lat_deg, 30.5);
	cr_assert_eq(r.e[0].lon_deg, 104.0);
	cr_assert_str_eq(r.e[0].fence_id, "");
	/* The close's details replace the open's, compact, keys sorted. */
	cr_assert_str_eq(r.e[0].details, "{\"a\":[1,2],\"uncovered_s\":4}");
	cr_assert_eq(r.e[1].id, 2);
	cr_assert(isnan(r.e[1].lat_deg) && isnan(r.e[1].lon_deg));
	cr_assert_eq(r.e[1].trip_id, 0);
	cr_assert_str_eq(r.e[1].details, "{\"max_kmh\":131.5}");
	assert_seq_dense(db, 4, 5);
	store_close(st);

	/* The newest seq is an end_seq: the next run continues above it. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 5);
	cr_assert_eq(s.next_seq[POS], 6);
	cr_assert_eq(s.events, 2);
	cr_assert_eq(s.events_open, 0);
	store_close(st);
	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 5);
	cr_assert_eq(s.next_seq[POS], 6);
	put_n(st, 5, 1, 0);
	ev = mkevent(3, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING,
	    mkfix(5).t_utc_ms, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);
	assert_seq_dense(store_db(st), 5, 6);
	store_close(st);
	assert_integrity();
}

Test(store, event_instant_and_close_without_open)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	struct events	 r;
	const char	*log;

	st = store_open(&o);
	cr_assert_not_null(st);
	ev = mkevent(5, RULES_EV_INSTANT, RULES_POWER_LOSS, RULES_CRITICAL,
	    T0_MS, T0_MS + MIN_MS);
	cr_assert_eq(put_event(st, ev, "{\"in_trip\": true}"), 1);
	/* An instant without an end ends where it starts. */
	ev = mkevent(6, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING,
	    T0_MS + 2 * MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);
	/* A close whose open never reached the disk (lost in a crash). */
	ev = mkevent(9, RULES_EV_CLOSE, RULES_EXCESSIVE_IDLE, RULES_WARNING,
	    T0_MS + 3 * MIN_MS, T0_MS + 20 * MIN_MS);
	ev.lat_deg = 30.6;
	ev.lon_deg = 104.1;
	util_strlcpy(ev.fence_id, "lot-a", sizeof(ev.fence_id));
	cr_assert_eq(put_event(st, ev, "{\"idle_s\": 1020}"), 0);
	capture_start();
	cr_assert_eq(store_commit(st), 0);
	log = capture_end();
	cr_assert(strstr(log, "store: ") != NULL && strstr(log, ": event 9 "
	    "closed without a stored open, recorded closed") != NULL,
	    "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 3);
	cr_assert_eq(s.events_open, 0);
	cr_assert_eq(s.next_seq[EVS], 4, "one seq each");
	cr_assert_eq(s.next_seq[POS], 1);

	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.e[0].id, 5);
	cr_assert_eq(r.e[0].seq, 1);
	cr_assert_eq(r.e[0].end_seq, 1);
	cr_assert_eq(r.e[0].end_utc_ms, T0_MS + MIN_MS);
	cr_assert_str_eq(r.e[0].details, "{\"in_trip\":true}");
	cr_assert_eq(r.e[1].id, 6);
	cr_assert_eq(r.e[1].seq, 2);
	cr_assert_eq(r.e[1].end_seq, 2);
	cr_assert_eq(r.e[1].end_utc_ms, T0_MS + 2 * MIN_MS);
	cr_assert_str_eq(r.e[1].details, "{}");
	cr_assert_eq(r.e[2].id, 9);
	cr_assert_eq(r.e[2].seq, 3);
	cr_assert_eq(r.e[2].end_seq, 3);
	cr_assert_eq(r.e[2].type, RULES_EXCESSIVE_IDLE);
	cr_assert_eq(r.e[2].end_utc_ms, T0_MS + 20 * MIN_MS);
	cr_assert_eq(r.e[2].lat_deg, 30.6);
	cr_assert_str_eq(r.e[2].fence_id, "lot-a");

	/* A close fills what the open row lacks, and keeps what it has. */
	ev = mkevent(10, RULES_EV_OPEN, RULES_FORBIDDEN_PLACE, RULES_VIOLATION,
	    T0_MS + 30 * MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, "{\"category\": \"golf\"}"), 1);
	ev = mkevent(11, RULES_EV_OPEN, RULES_REGION_EXIT, RULES_VIOLATION,
	    T0_MS + 31 * MIN_MS, 0);
	ev.lat_deg = 31.0;
	ev.lon_deg = 105.0;
	ev.trip_id = 4;
	util_strlcpy(ev.fence_id, "county", sizeof(ev.fence_id));
	cr_assert_eq(put_event(st, ev, "{\"n\": 1}"), 1);
	cr_assert_eq(store_commit(st), 0);
	ev = mkevent(10, RULES_EV_CLOSE, RULES_FORBIDDEN_PLACE,
	    RULES_VIOLATION, T0_MS + 30 * MIN_MS, T0_MS + 40 * MIN_MS);
	ev.lat_deg = 30.7;
	ev.lon_deg = 104.2;
	ev.trip_id = 7;
	util_strlcpy(ev.fence_id, "golf-1", sizeof(ev.fence_id));
	cr_assert_eq(put_event(st, ev, NULL), 1);
	ev = mkevent(11, RULES_EV_CLOSE, RULES_REGION_EXIT, RULES_VIOLATION,
	    T0_MS + 31 * MIN_MS, T0_MS + 50 * MIN_MS);
	ev.lat_deg = 32.0;
	ev.lon_deg = 106.0;
	ev.trip_id = 8;
	util_strlcpy(ev.fence_id, "other", sizeof(ev.fence_id));
	cr_assert_eq(put_event(st, ev, "{\"n\": 2}"), 1);
	cr_assert_eq(store_commit(st), 0);
	query_events(st, T0_MS + 30 * MIN_MS, INT64_MAX, -1, -1, 0, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.e[0].id, 10);
	cr_assert_eq(r.e[0].seq, 4);
	cr_assert_eq(r.e[0].end_seq, 6);
	cr_assert_eq(r.e[0].lat_deg, 30.7);
	cr_assert_eq(r.e[0].lon_deg, 104.2);
	cr_assert_eq(r.e[0].trip_id, 7);
	cr_assert_str_eq(r.e[0].fence_id, "golf-1");
	cr_assert_str_eq(r.e[0].details, "{\"category\":\"golf\"}",
	    "a close without details keeps the open's");
	cr_assert_eq(r.e[1].id, 11);
	cr_assert_eq(r.e[1].end_seq, 7);
	cr_assert_eq(r.e[1].end_utc_ms, T0_MS + 50 * MIN_MS);
	cr_assert_eq(r.e[1].lat_deg, 31.0);
	cr_assert_eq(r.e[1].lon_deg, 105.0);
	cr_assert_eq(r.e[1].trip_id, 4);
	cr_assert_str_eq(r.e[1].fence_id, "county");
	cr_assert_str_eq(r.e[1].details, "{\"n\":2}");
	assert_seq_dense(store_db(st), 7, 0);
	store_close(st);
}

Test(store, event_duplicate_open_ignored)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	struct events	 r;
	const char	*log;

	st = store_open(&o);
	cr_assert_not_null(st);
	ev = mkevent(1, RULES_EV_OPEN, RULES_FATIGUE_DRIVING, RULES_WARNING,
	    T0_MS, 0);
	cr_assert_eq(put_event(st, ev, "{\"v\": 1}"), 0);
	cr_assert_eq(store_commit(st), 0);

	/* Again (a restored engine's replay), as an instant, and twice in one
	 * batch for a new id: one row each, no seq taken. */
	ev.start_utc_ms = T0_MS + MIN_MS;
	cr_assert_eq(put_event(st, ev, "{\"v\": 2}"), 0);
	ev.phase = RULES_EV_INSTANT;
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev = mkevent(2, RULES_EV_OPEN, RULES_OBD_LOST, RULES_WARNING,
	    T0_MS + 2 * MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	capture_start();
	cr_assert_eq(store_commit(st), 0);
	log = capture_end();
	cr_assert(strstr(log, "event 1 is stored already, open ignored") !=
	    NULL, "log: %s", log);
	cr_assert(strstr(log, "event 1 is stored already, instant ignored") !=
	    NULL, "log: %s", log);
	cr_assert(strstr(log, "event 2 is stored already, open ignored") !=
	    NULL, "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 2);
	cr_assert_eq(s.events_open, 2);
	cr_assert_eq(s.next_seq[EVS], 3);
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.e[0].start_utc_ms, T0_MS, "the first open stays");
	cr_assert_str_eq(r.e[0].details, "{\"v\":1}");

	/* A second close is ignored too. */
	ev = mkevent(1, RULES_EV_CLOSE, RULES_FATIGUE_DRIVING, RULES_WARNING,
	    T0_MS, T0_MS + HOUR_MS);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(put_event(st, ev, "{\"v\": 3}"), 0);
	capture_start();
	cr_assert_eq(store_commit(st), 0);
	log = capture_end();
	cr_assert(strstr(log, "event 1 is closed already, close ignored") !=
	    NULL, "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 2);
	cr_assert_eq(s.events_open, 1);
	cr_assert_eq(s.next_seq[EVS], 4);
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_str_eq(r.e[0].details, "{\"v\":1}");
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM events"), 2);
	store_close(st);
}

Test(store, event_put_refuses_invalid_and_full_queue)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	const char	*log;
	uint64_t	 id;

	st = store_open(&o);
	cr_assert_not_null(st);
	ev = mkevent(1, RULES_EV_INSTANT, RULES_CLOCK_JUMP, RULES_INFO, T0_MS,
	    T0_MS);
	capture_start();
	ev.id = 0;
	cr_assert_eq(put_event(st, ev, NULL), -1);
	ev.id = 1;
	ev.type = RULES_TYPE_COUNT;
	cr_assert_eq(put_event(st, ev, NULL), -1);
	ev.type = RULES_CLOCK_JUMP;
	ev.severity = (enum rules_severity)7;
	cr_assert_eq(put_event(st, ev, NULL), -1);
	ev.severity = RULES_INFO;
	ev.phase = (enum rules_phase)9;
	cr_assert_eq(put_event(st, ev, NULL), -1);
	ev.phase = RULES_EV_INSTANT;
	cr_assert_eq(put_event(st, ev, "[1, 2]"), -1);
	log = capture_end();
	cr_assert(strstr(log, "event 1: details are not a JSON object, not "
	    "recorded") != NULL, "log: %s", log);
	cr_assert(strstr(log, "event 0: invalid id") != NULL, "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(store_next_due_ms(st, 0), UINT64_MAX, "nothing queued");

	/* Not urgent: due one interval after it was queued. */
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev.severity = RULES_WARNING;
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_next_due_ms(st, 0), o.commit_interval_ms);
	cr_assert_eq(store_commit_due(st, 1000), 0);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM events"), 0);
	cr_assert_eq(store_commit_due(st, o.commit_interval_ms), 0);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM events"), 1);

	/* The queue is bounded and never commits by itself. */
	for (id = 2; id < 2 + 1024; id++) {
		ev = mkevent(id, RULES_EV_OPEN, RULES_SPEEDING,
		    RULES_WARNING, T0_MS + (int64_t)id, 0);
		cr_assert_eq(put_event(st, ev, NULL), 0);
	}
	ev.id = id;
	capture_start();
	cr_assert_eq(put_event(st, ev, NULL), -1);
	cr_assert_eq(put_event(st, ev, NULL), -1);
	log = capture_end();
	cr_assert(strstr(log, "1024 event changes wait for a commit, refusing "
	    "more") != NULL, "log: %s", log);
	cr_assert_null(strstr(strstr(log, "refusing more") + 1,
	    "refusing more"), "logged once: %s", log);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM events"), 1);
	capture_start();
	cr_assert_eq(store_commit(st), 0);
	log = capture_end();
	cr_assert(strstr(log, "event queue has room again") != NULL, "log: %s",
	    log);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 1025);
	cr_assert_eq(s.events_open, 1024);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	store_close(st);

	/* A read-only store takes nothing. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	capture_start();
	cr_assert_eq(put_event(st, ev, NULL), -1);
	cr_assert_eq(store_rules_state(st, "{}"), -1);
	log = capture_end();
	cr_assert(strstr(log, "write on a read-only store") != NULL, "log: %s",
	    log);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 1026, "the close wrote the last one");
	store_close(st);
}

static int
count_commits(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

Test(store, rules_state_committed_with_the_events)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	sqlite3		*db;
	char		*state, sql[128];
	const char	*log;
	int		 ncommits = 0;

	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	cr_assert_null(store_rules_state_get(st), "a new file has none");
	sqlite3_commit_hook(db, count_commits, &ncommits);
	put_n(st, 0, 2, 0);
	ev = mkevent(1, RULES_EV_OPEN, RULES_HOLIDAY_USE, RULES_VIOLATION,
	    T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_rules_state(st, "{\"next_id\":2}"), 0);
	state = store_rules_state_get(st);
	cr_assert_str_eq(state, "{\"next_id\":2}", "the pending copy");
	free(state);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta "
	    "WHERE key = 'rules_state'"), 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(ncommits, 1, "positions, event and state: one "
	    "transaction");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta WHERE key = "
	    "'rules_state' AND value = '{\"next_id\":2}'"), 1);

	/* The state alone is a batch: due one interval later, newest wins. */
	cr_assert_eq(store_rules_state(st, "{\"next_id\":3}"), 0);
	cr_assert_eq(store_rules_state(st, "{\"next_id\":4}"), 0);
	cr_assert_eq(store_next_due_ms(st, 0), o.commit_interval_ms);
	state = store_rules_state_get(st);
	cr_assert_str_eq(state, "{\"next_id\":4}");
	free(state);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(ncommits, 2);
	cr_assert_eq(store_next_due_ms(st, 0), UINT64_MAX);
	state = store_rules_state_get(st);
	cr_assert_str_eq(state, "{\"next_id\":4}", "the committed copy");
	free(state);

	/*
	 * A failing commit (disk full) writes neither the event nor the
	 * state; both wait and go together with the next one that works.
	 */
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)sql_int(db, "PRAGMA page_count"));
	sql_exec(db, sql);
	put_n(st, 2, 3000, 0);
	ev = mkevent(2, RULES_EV_INSTANT, RULES_FUEL_DROP, RULES_CRITICAL,
	    T0_MS + HOUR_MS, T0_MS + HOUR_MS);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_rules_state(st, "{\"next_id\":5}"), 0);
	capture_start();
	cr_assert_eq(store_commit(st), -1);
	log = capture_end();
	cr_assert(strstr(log, "keeping 3000 positions, 1 event change, rules "
	    "state in memory") != NULL, "log: %s", log);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta WHERE key = "
	    "'rules_state' AND value = '{\"next_id\":4}'"), 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 1);
	cr_assert_eq(s.next_seq[POS], 3, "the seqs were given back");
	cr_assert_eq(s.next_seq[EVS], 2, "the seqs were given back");
	sql_exec(db, "PRAGMA max_page_count = 1073741823");
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(db, "SELECT seq FROM events WHERE id = 2"), 2);
	cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 3002);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta WHERE key = "
	    "'rules_state' AND value = '{\"next_id\":5}'"), 1);
	sqlite3_commit_hook(db, NULL, NULL);

	/* Written at close with whatever else is pending. */
	cr_assert_eq(store_rules_state(st, "{\"next_id\":6}"), 0);
	store_close(st);
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	state = store_rules_state_get(st);
	cr_assert_str_eq(state, "{\"next_id\":6}");
	free(state);
	store_close(st);
}

/*
 * A child commits an event with the state that reported it, queues a
 * second pair and dies: the parent finds the first pair, and nothing of
 * the second.
 */
static void
state_crash_child(bool sigkill)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct rules_event ev;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	put_n(st, 0, 3, 0);
	ev = mkevent(1, RULES_EV_OPEN, RULES_REGION_EXIT, RULES_VIOLATION,
	    mkfix(1).t_utc_ms, 0);
	if (store_event_put(st, &ev) != 1 ||
	    store_rules_state(st, "{\"next_id\":2}") != 0 ||
	    store_commit(st) != 0)
		_exit(3);
	put_n(st, 3, 3, 0);
	ev = mkevent(2, RULES_EV_INSTANT, RULES_POSITION_JUMP, RULES_CRITICAL,
	    mkfix(4).t_utc_ms, mkfix(4).t_utc_ms);
	if (store_event_put(st, &ev) != 1 ||
	    store_rules_state(st, "{\"next_id\":3}") != 0)
		_exit(4);
	if (sigkill)
		kill(getpid(), SIGKILL);
	_exit(0);
}

Test(store, events_and_state_survive_a_crash_together)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct events	 r;
	char		*state;
	pid_t		 pid;
	int		 round, status;

	for (round = 0; round < 2; round++) {
		unlink(dbpath);
		unlink(wal_path());
		unlink(shm_path());
		pid = fork();
		cr_assert(pid != -1);
		if (pid == 0)
			state_crash_child(round == 1);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		if (round == 0)
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) ==
			    0, "child status %d", status);
		else
			cr_assert(WIFSIGNALED(status) && WTERMSIG(status) ==
			    SIGKILL, "child status %d", status);
		assert_integrity();

		st = store_open(&o);
		cr_assert_not_null(st);
		cr_assert(store_unclean_previous(st));
		cr_assert_eq(store_last_record_utc_ms(st), mkfix(2).t_utc_ms);
		state = store_rules_state_get(st);
		cr_assert_str_eq(state, "{\"next_id\":2}");
		free(state);
		query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
		cr_assert_eq(r.n, 1);
		cr_assert_eq(r.e[0].id, 1);
		cr_assert_eq(r.e[0].seq, 1);
		cr_assert_eq(r.e[0].end_seq, 0);
		store_get_stats(st, &s);
		cr_assert_eq(s.events, 1);
		cr_assert_eq(s.events_open, 1);
		cr_assert_eq(s.next_seq[EVS], 2);
		cr_assert_eq(s.next_seq[POS], 4);
		cr_assert_eq(s.positions, 3);
		store_close(st);
	}
}

/*
 * Version 3 as it shipped: the version 2 file after migration 3, with a
 * closed trip (seq 60) and an active DTC (seq 61).
 */
static void
make_v3_db(void)
{
	make_v2_db(60);
	make_raw_db("BEGIN;"
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
	    "  WHERE cleared_utc_ms IS NULL;"
	    "PRAGMA user_version = 3;"
	    "INSERT INTO trips(seq, start_utc_ms, end_utc_ms, open, ended_by) "
	    "  VALUES (60, 1772409600000, 1772413200000, 0, 'ignition_off');"
	    "INSERT INTO dtcs(seq, code, mode, first_utc_ms, last_utc_ms) "
	    "  VALUES (61, 'P0301', 3, 1772409600000, 1772409600000);"
	    "COMMIT");
}

static int
count_events(const struct store_event *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int
count_orders(const struct store_order *so, void *arg)
{
	(void)so;
	(*(int *)arg)++;
	return 0;
}

Test(store, v3_database_read_as_is_then_migrated)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	sqlite3		*db;
	const char	*log;
	int		 n;

	make_v3_db();

	/* fleetgwctl reads it without migrating: no events, orders, state. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 42);
	cr_assert_eq(s.trips, 1);
	cr_assert_eq(s.next_seq[POS], 62);
	cr_assert_eq(s.next_seq[EVS], 62);
	cr_assert_eq(s.events, 0);
	cr_assert_eq(s.events_open, 0);
	n = 0;
	cr_assert_eq(store_query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0,
	    count_events, &n), 0);
	cr_assert_eq(store_query_orders(st, INT64_MIN, INT64_MAX,
	    count_orders, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(store_rules_state_get(st));
	cr_assert_not(store_unclean_previous(st));
	cr_assert_eq(store_last_record_utc_ms(st), T0_MS + HOUR_MS,
	    "the trip's end is the newest record");
	cr_assert_eq(sql_int(store_db(st), "PRAGMA user_version"), 3);
	store_close(st);

	capture_start();
	st = store_open(&o);
	log = capture_end();
	cr_assert_not_null(st);
	cr_assert(strstr(log, "schema migrated to version 6 (from 3)") != NULL,
	    "log: %s", log);
	cr_assert_null(strstr(log, "did not stop cleanly"), "log: %s", log);
	cr_assert_not(store_unclean_previous(st), "a v3 file has no flag");
	db = store_db(st);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 6);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('events', 'dispatch_orders', 'events_start_utc_ms', "
	    "'dispatch_orders_valid_from', 'command_results', "
	    "'sync_quarantine')"), 6);
	/* Renumbered: the trip is the events stream's first record. */
	cr_assert_eq(sql_int(db, "SELECT seq FROM trips"), 1);
	cr_assert_eq(sql_int(db, "SELECT seq FROM dtcs"), 61, "a row key, "
	    "kept");
	cr_assert_eq(seq_floor(db), 43);
	cr_assert_eq(seq_floor_ev(db), 2);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 43);
	cr_assert_eq(s.next_seq[EVS], 2);
	ev = mkevent(1, RULES_EV_OPEN, RULES_DTC, RULES_WARNING, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	put_n(st, 42, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(db, "SELECT seq FROM positions WHERE seq > 42"),
	    43);
	cr_assert_eq(sql_int(db, "SELECT seq FROM events"), 2);
	store_close(st);
	assert_integrity();
}

/* A failed step 4 leaves a version 3 file as it was. */
Test(store, failed_v4_migration_changes_nothing)
{
	struct store_opts o = mkopts();
	sqlite3		*db;
	const char	*log;

	make_v3_db();
	make_raw_db("CREATE TABLE dispatch_orders(x)");
	capture_start();
	cr_assert_null(store_open(&o));
	log = capture_end();
	cr_assert(strstr(log, "dispatch_orders already exists") != NULL,
	    "log: %s", log);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 3);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'events'"), 0, "the events table was rolled back");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta "
	    "WHERE key = 'running'"), 0);
	sqlite3_close(db);
}

Test(store, query_events_filters_and_overlap)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct rules_event ev;
	struct events	 r;
	const char	*log;
	int		 pass;

	st = store_open(&o);
	cr_assert_not_null(st);
	/* 1: [0, 10 min]  2: [5, 6 min]  3: instant at 30 min  4: open from
	 * 20 min. */
	ev = mkevent(1, RULES_EV_INSTANT, RULES_AFTER_HOURS_USE,
	    RULES_VIOLATION, T0_MS, T0_MS + 10 * MIN_MS);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	ev = mkevent(2, RULES_EV_INSTANT, RULES_SPEEDING, RULES_WARNING,
	    T0_MS + 5 * MIN_MS, T0_MS + 6 * MIN_MS);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev = mkevent(3, RULES_EV_INSTANT, RULES_FUEL_DROP, RULES_CRITICAL,
	    T0_MS + 30 * MIN_MS, T0_MS + 30 * MIN_MS);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	ev = mkevent(4, RULES_EV_OPEN, RULES_REGION_EXIT, RULES_VIOLATION,
	    T0_MS + 20 * MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_commit(st), 0);
	/* Queued changes are not shown. */
	ev = mkevent(5, RULES_EV_OPEN, RULES_SPEEDING, RULES_WARNING,
	    T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);

	for (pass = 0; pass < 2; pass++) {
		query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
		cr_assert_str_eq(event_ids(&r), "1,2,4,3", "by start");
		cr_assert_eq(r.e[2].end_utc_ms, 0);
		cr_assert_eq(r.e[2].end_seq, 0);
		query_events(st, T0_MS + 11 * MIN_MS, T0_MS + 25 * MIN_MS, -1,
		    -1, 0, &r);
		cr_assert_str_eq(event_ids(&r), "4", "open: ongoing");
		query_events(st, T0_MS + 100 * HOUR_MS, INT64_MAX, -1, -1, 0,
		    &r);
		cr_assert_str_eq(event_ids(&r), "4");
		/* The end counts in, the start bound does not. */
		query_events(st, T0_MS + 10 * MIN_MS, T0_MS + 10 * MIN_MS + 1,
		    -1, -1, 0, &r);
		cr_assert_str_eq(event_ids(&r), "1");
		query_events(st, INT64_MIN, T0_MS + 5 * MIN_MS, -1, -1, 0, &r);
		cr_assert_str_eq(event_ids(&r), "1");
		query_events(st, INT64_MIN, INT64_MAX, RULES_SPEEDING, -1, 0,
		    &r);
		cr_assert_str_eq(event_ids(&r), "2");
		query_events(st, INT64_MIN, INT64_MAX, -1, RULES_VIOLATION, 0,
		    &r);
		cr_assert_str_eq(event_ids(&r), "1,4");
		query_events(st, INT64_MIN, INT64_MAX, RULES_REGION_EXIT,
		    RULES_VIOLATION, 0, &r);
		cr_assert_str_eq(event_ids(&r), "4");
		query_events(st, INT64_MIN, INT64_MAX, RULES_REGION_EXIT,
		    RULES_WARNING, 0, &r);
		cr_assert_eq(r.n, 0);
		query_events(st, INT64_MIN, INT64_MAX, -1, -1, 2, &r);
		cr_assert_str_eq(event_ids(&r), "1,2", "limit");
		memset(&r, 0, sizeof(r));
		r.stop_at = 3;
		cr_assert_eq(store_query_events(st, INT64_MIN, INT64_MAX, -1,
		    -1, 0, collect_event, &r), 0);
		cr_assert_str_eq(event_ids(&r), "1,2,4", "cb stops");
		capture_start();
		cr_assert_eq(store_query_events(st, INT64_MIN, INT64_MAX,
		    RULES_TYPE_COUNT, -1, 0, collect_event, &r), -1);
		cr_assert_eq(store_query_events(st, INT64_MIN, INT64_MAX, -1,
		    RULES_CRITICAL + 1, 0, collect_event, &r), -1);
		log = capture_end();
		cr_assert(strstr(log, "out of range") != NULL, "log: %s", log);

		/* The same from fleetgwctl's side. */
		if (pass == 0) {
			store_close(st);	/* writes event 5 */
			st = store_open_readonly(dbpath);
			cr_assert_not_null(st);
			/* Event 5 is now committed; drop it for the checks. */
			query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
			cr_assert_str_eq(event_ids(&r), "1,5,2,4,3");
			store_close(st);
			make_raw_db("DELETE FROM events WHERE id = 5");
			st = store_open_readonly(dbpath);
			cr_assert_not_null(st);
		}
	}
	store_close(st);

	/* A newer program's type: skipped, logged once, limit not used up. */
	make_raw_db("INSERT INTO events(id, seq, type, severity, start_utc_ms) "
	    "VALUES (7, 100, 'teleport', 'violation', 1772409600000),"
	    " (8, 101, 'speeding', 'catastrophic', 1772409600001)");
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	capture_start();
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 2, &r);
	cr_assert_str_eq(event_ids(&r), "1,2");
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_str_eq(event_ids(&r), "1,2,4,3");
	log = capture_end();
	cr_assert(strstr(log, "event 7 has a type or severity this program "
	    "does not know, skipped") != NULL, "log: %s", log);
	cr_assert_null(strstr(log, "event 8"), "once per store: %s", log);
	store_close(st);
}

Test(store, retention_by_age_closed_events_never_open_ones)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct rules_event ev;
	struct events	 r;
	struct fix	 f;
	const char	*log;
	int		 i;

	o.keep_days = 1;
	st = store_open(&o);
	cr_assert_not_null(st);
	/* 1: closed at 1 h (seq 1, 3)  2: open from 0 h (seq 2)  3: closed
	 * at 40 h (seq 4). */
	ev = mkevent(1, RULES_EV_OPEN, RULES_EXCESSIVE_IDLE, RULES_WARNING,
	    T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev = mkevent(2, RULES_EV_OPEN, RULES_OVERNIGHT_PARKING,
	    RULES_VIOLATION, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_commit(st), 0);
	ev = mkevent(1, RULES_EV_CLOSE, RULES_EXCESSIVE_IDLE, RULES_WARNING,
	    T0_MS, T0_MS + HOUR_MS);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev = mkevent(3, RULES_EV_INSTANT, RULES_CLOCK_JUMP, RULES_INFO,
	    T0_MS + 40 * HOUR_MS, T0_MS + 40 * HOUR_MS);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);
	for (i = 0; i < 50; i++) {
		f = mkfix(0);
		f.t_utc_ms = T0_MS + i * HOUR_MS;
		cr_assert_eq(store_put_position(st, &f, 0), 0);
	}
	cr_assert_eq(store_commit(st), 0);

	capture_start();
	cr_assert_eq(store_retention(st, T0_MS + 50 * HOUR_MS), 26 + 1);
	log = capture_end();
	cr_assert(strstr(log, "store: retention dropped 1 events (seq 1..3, "
	    "reason: age)") != NULL, "log: %s", log);
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_str_eq(event_ids(&r), "2,3");
	store_get_stats(st, &s);
	cr_assert_eq(s.events, 2);
	cr_assert_eq(s.events_open, 1);

	/* Everything ages out but the open event. */
	cr_assert_gt(store_retention(st, T0_MS + 500 * HOUR_MS), 0);
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_str_eq(event_ids(&r), "2");
	store_get_stats(st, &s);
	cr_assert_eq(s.positions, 0);
	cr_assert_eq(s.events, 1);
	cr_assert_eq(s.events_open, 1);
	/* Its close still works, above every seq deleted. */
	ev = mkevent(2, RULES_EV_CLOSE, RULES_OVERNIGHT_PARKING,
	    RULES_VIOLATION, T0_MS, T0_MS + 501 * HOUR_MS);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_commit(st), 0);
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_eq(r.e[0].seq, 2);
	cr_assert_eq(r.e[0].end_seq, 4 + 1, "above every events seq deleted");
	store_close(st);
	assert_integrity();
}

Test(store, retention_by_size_closed_events_by_end_time)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_order so;
	struct rules_event ev;
	struct events	 r;
	sqlite3		*db;
	int64_t		 min_pos, min_t;
	size_t		 k;
	int		 i, n;

	o.commit_rows = 4096;
	o.max_size_mb = 0;
	o.keep_days = 0;	/* the size rule alone */
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	/* 1: open for good (seq 1); 2: opened now (seq 2), closed last. */
	ev = mkevent(1, RULES_EV_OPEN, RULES_GNSS_LOST_WHILE_MOVING,
	    RULES_CRITICAL, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	ev = mkevent(2, RULES_EV_OPEN, RULES_FATIGUE_DRIVING, RULES_WARNING,
	    T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	/* An order long over: only the age rule drops orders. */
	memset(&so, 0, sizeof(so));
	util_strlcpy(so.o.id, "PC-OLD", sizeof(so.o.id));
	so.o.valid_from_ms = T0_MS - 400 * 24 * HOUR_MS;
	so.o.valid_to_ms = so.o.valid_from_ms + HOUR_MS;
	util_strlcpy(so.source, "ctl", sizeof(so.source));
	cr_assert_eq(store_order_add(st, &so), 0);
	/* An instant after every 1000 positions, every other one critical. */
	for (i = 0; i < 24; i++) {
		put_n(st, i * 1000, 1000, 0);
		ev = mkevent(10 + (uint64_t)i, RULES_EV_INSTANT,
		    i % 2 ? RULES_FUEL_DROP : RULES_POSITION_JUMP,
		    i % 2 ? RULES_CRITICAL : RULES_WARNING,
		    mkfix(i * 1000).t_utc_ms, mkfix(i * 1000).t_utc_ms);
		cr_assert_eq(put_event(st, ev, NULL), i % 2);
		cr_assert_eq(store_commit(st), 0);
	}
	ev = mkevent(2, RULES_EV_CLOSE, RULES_FATIGUE_DRIVING, RULES_WARNING,
	    T0_MS, mkfix(24000).t_utc_ms);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_gt(live_bytes(db), 2 * MIB);
	o.max_size_mb = 1;
	store_set_limits(st, &o);
	cr_assert_gt(store_retention(st, mkfix(24000).t_utc_ms), 0);
	cr_assert_leq(live_bytes(db), 1 * MIB);

	/*
	 * Oldest first: positions by seq, events with them by their end
	 * (the newer of their two records) against the chunk's last
	 * position.
	 */
	min_pos = sql_int(db, "SELECT min(seq) FROM positions");
	min_t = sql_int(db, "SELECT min(t_utc_ms) FROM positions");
	cr_assert_gt(min_pos, 1000);
	query_events(st, INT64_MIN, INT64_MAX, -1, -1, 0, &r);
	cr_assert_lt(r.n, 26);
	cr_assert_gt(r.n, 3);
	cr_assert_eq(r.e[0].id, 1, "open: never deleted");
	cr_assert_eq(r.e[0].seq, 1);
	cr_assert_eq(r.e[1].id, 2, "opened first but closed last: kept");
	cr_assert_eq(r.e[1].seq, 2);
	cr_assert_eq(r.e[1].end_seq, 27);
	for (k = 2; k < r.n; k++)
		cr_assert(r.e[k].severity == RULES_CRITICAL ||
		    r.e[k].end_utc_ms >= min_t,
		    "event %llu ending at %lld kept before positions from %lld",
		    (unsigned long long)r.e[k].id,
		    (long long)r.e[k].end_utc_ms, (long long)min_t);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events WHERE "
	    "end_utc_ms < (SELECT min(t_utc_ms) FROM positions) AND "
	    "severity = 'warning'"), 0);
	cr_assert_gt(sql_int(db, "SELECT count(*) FROM events WHERE "
	    "severity = 'warning' AND end_seq <> 27"), 0,
	    "the newer warnings stay");
	/* Violations and tamper evidence only ever go by age (T5). */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events WHERE "
	    "severity = 'critical'"), 13);
	cr_assert_gt(sql_int(db, "SELECT count(*) FROM events WHERE "
	    "end_utc_ms < (SELECT min(t_utc_ms) FROM positions)"), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.events, r.n);
	cr_assert_eq(s.events_open, 1);
	cr_assert_eq(s.next_seq[POS], 24000 + 1);
	cr_assert_eq(s.next_seq[EVS], 24 + 3 + 1);
	n = 0;
	cr_assert_eq(store_query_orders(st, INT64_MIN, INT64_MAX, count_orders,
	    &n), 0);
	cr_assert_eq(n, 1, "the size rule leaves orders alone");
	store_close(st);
	assert_integrity();
}

struct orders {
	struct store_order	 o[16];
	size_t			 n;
};

static int
collect_order(const struct store_order *so, void *arg)
{
	struct orders	*r = arg;

	cr_assert_lt(r->n, NELEM(r->o));
	r->o[r->n++] = *so;
	return 0;
}

static void
query_orders(struct store *st, int64_t from, int64_t to, struct orders *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(store_query_orders(st, from, to, collect_order, r), 0);
}

static const char *
order_ids(const struct orders *r)
{
	static char	 buf[256];
	size_t		 i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i > 0 ? "," : "", r->o[i].o.id);
	return buf;
}

static struct store_order
mkorder(const char *id, int64_t from, int64_t to, const char *source)
{
	struct store_order so;

	memset(&so, 0, sizeof(so));
	util_strlcpy(so.o.id, id, sizeof(so.o.id));
	so.o.valid_from_ms = from;
	so.o.valid_to_ms = to;
	util_strlcpy(so.source, source, sizeof(so.source));
	so.created_utc_ms = from - HOUR_MS;
	return so;
}

Test(store, dispatch_orders_add_duplicate_remove_query)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_order a, b, c, bad;
	struct orders	 r;
	const char	*log;
	int		 pass;

	st = store_open(&o);
	cr_assert_not_null(st);
	a = mkorder("PC-2026-0001", T0_MS, T0_MS + 2 * HOUR_MS, "ctl");
	a.o.has_dest_point = true;
	a.o.dest_lon = 104.0817;
	a.o.dest_lat = 30.6571;
	a.o.dest_radius_m = 300;
	util_strlcpy(a.o.corridor_fence, "corridor-1",
	    sizeof(a.o.corridor_fence));
	util_strlcpy(a.purpose, "赴县应急局送文件", sizeof(a.purpose));
	util_strlcpy(a.approver, "王主任", sizeof(a.approver));
	b = mkorder("PC-2026-0002", T0_MS + HOUR_MS, T0_MS + 3 * HOUR_MS,
	    "platform");
	util_strlcpy(b.o.dest_fence, "office", sizeof(b.o.dest_fence));
	c = mkorder("PC-2026-0000", T0_MS - 24 * HOUR_MS,
	    T0_MS - 23 * HOUR_MS, "ctl");

	/* An order commits at once, with the positions pending before it. */
	put_n(st, 0, 3, 0);
	cr_assert_eq(store_order_add(st, &a), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.positions, 3);
	cr_assert_eq(store_order_add(st, &b), 0);
	cr_assert_eq(store_order_add(st, &c), 0);
	/* The same id again changes nothing. */
	bad = a;
	util_strlcpy(bad.purpose, "changed", sizeof(bad.purpose));
	cr_assert_eq(store_order_add(st, &bad), 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 4);
	cr_assert_eq(s.next_seq[EVS], 1, "orders take no seq");

	/* Invalid orders are refused. */
	capture_start();
	bad = mkorder("PC-X", T0_MS, T0_MS, "ctl");
	cr_assert_eq(store_order_add(st, &bad), -1);
	bad = mkorder("", T0_MS, T0_MS + 1, "ctl");
	cr_assert_eq(store_order_add(st, &bad), -1);
	bad = mkorder("PC-X", T0_MS, T0_MS + 1, "phone");
	cr_assert_eq(store_order_add(st, &bad), -1);
	bad = mkorder("PC-X", T0_MS, T0_MS + 1, "ctl");
	bad.o.has_dest_point = true;
	bad.o.dest_lon = 104;
	bad.o.dest_lat = 30;
	cr_assert_eq(store_order_add(st, &bad), -1);
	bad.o.dest_radius_m = 100;
	bad.o.dest_lat = NAN;
	cr_assert_eq(store_order_add(st, &bad), -1);
	memset(bad.purpose, 'x', sizeof(bad.purpose));
	bad.o.has_dest_point = false;
	cr_assert_eq(store_order_add(st, &bad), -1);
	log = capture_end();
	cr_assert(strstr(log, "dispatch order PC-X: valid_to is not after "
	    "valid_from, not recorded") != NULL, "log: %s", log);
	cr_assert(strstr(log, "dispatch order PC-X: source is neither ctl nor "
	    "platform, not recorded") != NULL, "log: %s", log);
	cr_assert(strstr(log, "dispatch order PC-X: destination point out of "
	    "range, not recorded") != NULL, "log: %s", log);
	cr_assert(strstr(log, "dispatch order PC-X: unterminated string, not "
	    "recorded") != NULL, "log: %s", log);

	for (pass = 0; pass < 2; pass++) {
		query_orders(st, INT64_MIN, INT64_MAX, &r);
		cr_assert_str_eq(order_ids(&r),
		    "PC-2026-0000,PC-2026-0001,PC-2026-0002", "by valid_from");
		cr_assert(r.o[1].o.has_dest_point);
		cr_assert_eq(r.o[1].o.valid_from_ms, a.o.valid_from_ms);
		cr_assert_eq(r.o[1].o.valid_to_ms, a.o.valid_to_ms);
		cr_assert_eq(r.o[1].o.dest_lon, 104.0817);
		cr_assert_eq(r.o[1].o.dest_lat, 30.6571);
		cr_assert_eq(r.o[1].o.dest_radius_m, 300);
		cr_assert_str_eq(r.o[1].o.dest_fence, "");
		cr_assert_str_eq(r.o[1].o.corridor_fence, "corridor-1");
		cr_assert_str_eq(r.o[1].purpose, "赴县应急局送文件",
		    "the first add stays");
		cr_assert_str_eq(r.o[1].approver, "王主任");
		cr_assert_str_eq(r.o[1].source, "ctl");
		cr_assert_eq(r.o[1].created_utc_ms, T0_MS - HOUR_MS);
		cr_assert_not(r.o[2].o.has_dest_point);
		cr_assert_str_eq(r.o[2].o.dest_fence, "office");
		cr_assert_str_eq(r.o[2].source, "platform");
		cr_assert_str_eq(r.o[2].purpose, "");
		/* Overlap: valid_from < to and valid_to >= from. */
		query_orders(st, T0_MS + 2 * HOUR_MS + 1, INT64_MAX, &r);
		cr_assert_str_eq(order_ids(&r), "PC-2026-0002");
		query_orders(st, T0_MS + 2 * HOUR_MS, INT64_MAX, &r);
		cr_assert_str_eq(order_ids(&r), "PC-2026-0001,PC-2026-0002");
		query_orders(st, T0_MS - HOUR_MS, T0_MS + HOUR_MS, &r);
		cr_assert_str_eq(order_ids(&r), "PC-2026-0001");
		if (pass == 0) {
			store_close(st);
			st = store_open_readonly(dbpath);
			cr_assert_not_null(st);
			capture_start();
			cr_assert_eq(store_order_add(st, &a), -1);
			cr_assert_eq(store_order_remove(st, a.o.id), -1);
			(void)capture_end();
		}
	}
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_order_remove(st, "PC-2026-0001"), 1);
	cr_assert_eq(store_order_remove(st, "PC-2026-0001"), 0);
	cr_assert_eq(store_order_remove(st, "PC-2026-9999"), 0);
	capture_start();
	cr_assert_eq(store_order_remove(st, ""), -1);
	(void)capture_end();
	query_orders(st, INT64_MIN, INT64_MAX, &r);
	cr_assert_str_eq(order_ids(&r), "PC-2026-0000,PC-2026-0002");
	/* Removed, it can be added again. */
	cr_assert_eq(store_order_add(st, &a), 0);
	store_close(st);
	assert_integrity();
}

Test(store, dispatch_orders_retention_by_age)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_order so;
	struct store_stats s;
	struct orders	 r;
	const char	*log;

	o.keep_days = 1;
	st = store_open(&o);
	cr_assert_not_null(st);
	so = mkorder("PC-1", T0_MS, T0_MS + HOUR_MS, "ctl");
	cr_assert_eq(store_order_add(st, &so), 0);
	so = mkorder("PC-2", T0_MS, T0_MS + 40 * HOUR_MS, "platform");
	cr_assert_eq(store_order_add(st, &so), 0);
	/* No GNSS time yet: no age rule. */
	cr_assert_eq(store_retention(st, INT64_MIN), 0);
	capture_start();
	cr_assert_eq(store_retention(st, T0_MS + 50 * HOUR_MS), 1);
	log = capture_end();
	cr_assert(strstr(log, "store: retention dropped 1 dispatch orders "
	    "(reason: age)") != NULL, "log: %s", log);
	query_orders(st, INT64_MIN, INT64_MAX, &r);
	cr_assert_str_eq(order_ids(&r), "PC-2");
	store_get_stats(st, &s);
	cr_assert_eq(s.dropped, 1);
	cr_assert_eq(s.next_seq[POS], 1);
	cr_assert_eq(s.next_seq[EVS], 1);
	cr_assert_eq(seq_floor(store_db(st)), 1, "orders hold no seq");
	cr_assert_eq(seq_floor_ev(store_db(st)), 1, "orders hold no seq");
	cr_assert_eq(store_retention(st, T0_MS + 50 * HOUR_MS), 0);
	store_close(st);
}

/* A writer that commits a position and dies without store_close(). */
static void
unclean_child(bool sigkill)
{
	struct store_opts o = mkopts();
	struct store	*st;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	put_n(st, 1000, 1, 0);
	if (store_commit(st) != 0)
		_exit(3);
	put_n(st, 1001, 1, 0);		/* never committed */
	if (sigkill)
		kill(getpid(), SIGKILL);
	_exit(0);
}

Test(store, unclean_flag_across_close_and_crash)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct trip_summary t;
	struct rules_event ev;
	sqlite3		*db;
	const char	*log;
	pid_t		 pid;
	int		 round, status;

	/* A new file is clean, and running while open. */
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_not(store_unclean_previous(st));
	cr_assert_eq(store_last_record_utc_ms(st), 0);
	cr_assert_eq(sql_int(store_db(st), "SELECT value FROM meta "
	    "WHERE key = 'running'"), 1);
	put_n(st, 0, 3, 0);
	store_close(st);	/* commits the three, then clean */
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sql_int(db, "SELECT value FROM meta WHERE key = "
	    "'running'"), 0);
	sqlite3_close(db);

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_not(store_unclean_previous(st));
	cr_assert_eq(store_last_record_utc_ms(st), mkfix(2).t_utc_ms);
	/* The newest of position time, trip end and event start. */
	t = mktrip(mkfix(5).t_utc_ms, 10);
	t.ended_by = TRIP_END_IGNITION_OFF;
	cr_assert_eq(store_trip_end(st, &t), 0);
	store_close(st);
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_last_record_utc_ms(st), t.end_utc_ms);
	ev = mkevent(1, RULES_EV_OPEN, RULES_EXCESSIVE_IDLE, RULES_WARNING,
	    t.end_utc_ms + MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	store_close(st);

	for (round = 0; round < 2; round++) {
		pid = fork();
		cr_assert(pid != -1);
		if (pid == 0)
			unclean_child(round == 1);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(round == 0 ? WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0 : WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL, "child status %d", status);

		/* A reader cannot tell a dead writer from a live one. */
		st = store_open_readonly(dbpath);
		cr_assert_not_null(st);
		cr_assert_not(store_unclean_previous(st));
		store_close(st);

		capture_start();
		st = store_open(&o);
		log = capture_end();
		cr_assert_not_null(st);
		cr_assert(store_unclean_previous(st), "round %d", round);
		cr_assert(strstr(log, "the previous run did not stop "
		    "cleanly") != NULL, "log: %s", log);
		/* The committed position is the newest record. */
		cr_assert_eq(store_last_record_utc_ms(st),
		    mkfix(1000).t_utc_ms);
		store_close(st);

		st = store_open(&o);
		cr_assert_not_null(st);
		cr_assert_not(store_unclean_previous(st), "closed cleanly");
		store_close(st);
	}
	assert_integrity();
}

/* ---- schema version 5: streams, acknowledgements, commands ---- */

/*
 * Size, with a platform that has acknowledged little: every
 * acknowledged row goes, then unacknowledged ones from the oldest on,
 * each counted for store_take_pressure() (count and seq range per
 * stream) and logged; violation events and quarantined records stay.
 */
Test(store, retention_by_size_unacknowledged_last_with_pressure)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_pressure p;
	struct store_stream_state ss;
	struct trip_summary t;
	struct rules_event ev;
	sqlite3		*db;
	const char	*log;
	char		 want[160];
	int64_t		 total, min_seq, dropped;
	int		 n = 0;

	o.max_size_mb = 8;
	o.commit_rows = 4096;
	o.keep_days = 3650;
	o.acks = true;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	/* Events stream: a warning (1), a violation (2), a trip (3). */
	ev = mkevent(1, RULES_EV_INSTANT, RULES_SPEEDING, RULES_WARNING,
	    mkfix(0).t_utc_ms, mkfix(0).t_utc_ms);
	cr_assert_eq(store_event_put(st, &ev), 0);
	ev = mkevent(2, RULES_EV_INSTANT, RULES_AFTER_HOURS_USE,
	    RULES_VIOLATION, mkfix(0).t_utc_ms, mkfix(0).t_utc_ms);
	cr_assert_eq(store_event_put(st, &ev), 1);
	cr_assert_eq(store_commit(st), 0);
	t = mktrip(mkfix(0).t_utc_ms, 0);
	t.ended_by = TRIP_END_STATIONARY;
	cr_assert_eq(store_trip_end(st, &t), 0);
	while (live_bytes(db) < 10 * MIB) {
		put_n(st, n, 4096, 0);
		n += 4096;
		cr_assert_eq(store_commit(st), 0);
	}
	total = n;
	cr_assert_eq(store_stream_ack(st, POS, 5000), 0);
	/* One acknowledged and one unacknowledged position are quarantined. */
	cr_assert_eq(store_stream_quarantine(st, POS, 100, 422, "bad"), 0);
	cr_assert_eq(store_stream_quarantine(st, POS, 5010, 422, "bad"), 0);
	cr_assert_eq(store_take_pressure(st, &p), 0);

	capture_start();
	dropped = store_retention(st, mkfix(n).t_utc_ms);
	log = capture_end();
	cr_assert_leq(live_bytes(db), 8 * MIB);
	min_seq = sql_int(db, "SELECT min(seq) FROM positions WHERE seq > 5010");
	cr_assert_gt(min_seq, 5011, "unacknowledged positions went too");
	/* Acknowledged all gone but the quarantined one. */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions "
	    "WHERE seq <= 5000"), 1);
	cr_assert_eq(sql_int(db, "SELECT seq FROM positions ORDER BY seq "
	    "LIMIT 1"), 100);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions "
	    "WHERE seq = 5010"), 1, "quarantined: kept");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions"),
	    total - min_seq + 1 + 2);
	cr_assert_eq(dropped, (min_seq - 1 - 2) + 2, "positions and 2 of "
	    "the events stream");
	/* The warning and the trip went, the violation stayed. */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events"), 1);
	cr_assert_eq(sql_int(db, "SELECT id FROM events"), 2);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips"), 0);

	cr_assert_eq(store_take_pressure(st, &p), 1);
	cr_assert_eq(p.count[POS], (uint64_t)(min_seq - 1 - 5000 - 1));
	cr_assert_eq(p.from_seq[POS], 5001);
	cr_assert_eq(p.to_seq[POS], (uint64_t)min_seq - 1);
	cr_assert_eq(p.count[EVS], 2);
	cr_assert_eq(p.from_seq[EVS], 1);
	cr_assert_eq(p.to_seq[EVS], 3);
	snprintf(want, sizeof(want), "retention dropped %llu unacknowledged "
	    "records of the positions stream (seq 5001..%lld)",
	    (unsigned long long)p.count[POS], (long long)min_seq - 1);
	cr_assert(strstr(log, want) != NULL, "want %s, log: %s", want, log);
	cr_assert(strstr(log, "retention dropped 2 unacknowledged records of "
	    "the events stream (seq 1..3)") != NULL, "log: %s", log);
	/* Taken: reset. */
	cr_assert_eq(store_take_pressure(st, &p), 0);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.quarantined, 2);
	cr_assert_eq(ss.first_seq, 100);
	cr_assert_eq(ss.pending, (uint64_t)(total - min_seq + 1 + 1));
	cr_assert_eq(store_retention(st, mkfix(n).t_utc_ms), 0);
	cr_assert_eq(store_take_pressure(st, &p), 0);
	store_close(st);
	assert_integrity();
}

Test(store, stream_names)
{
	enum store_stream s;

	cr_assert_str_eq(store_stream_name(EVS), "events");
	cr_assert_str_eq(store_stream_name(POS), "positions");
	cr_assert_null(store_stream_name(STORE_STREAMS));
	cr_assert_eq(store_stream_parse("positions", &s), 0);
	cr_assert_eq(s, POS);
	cr_assert_eq(store_stream_parse("events", &s), 0);
	cr_assert_eq(s, EVS);
	cr_assert_eq(store_stream_parse("trips", &s), -1);
	cr_assert_eq(store_stream_parse(NULL, &s), -1);
}

/* Stream records as read back, with their strings copied. */
struct recs {
	struct store_record	 r[64];
	char			 text[64][256];
	char			 err[64][64];
	size_t			 n;
	size_t			 stop_at;
};

static int
collect_rec(const struct store_record *r, void *arg)
{
	struct recs	*c = arg;
	size_t		 i = c->n;

	cr_assert_lt(i, NELEM(c->r));
	c->r[i] = *r;
	switch (r->kind) {
	case STORE_REC_EVENT_START:
	case STORE_REC_EVENT_END:
	case STORE_REC_EVENT_COMPLETE:
		util_strlcpy(c->text[i], r->u.ev.details, sizeof(c->text[i]));
		c->r[i].u.ev.details = c->text[i];
		break;
	case STORE_REC_COMMAND_RESULT:
		util_strlcpy(c->text[i], r->u.cmd.result != NULL ?
		    r->u.cmd.result : "(null)", sizeof(c->text[i]));
		util_strlcpy(c->err[i], r->u.cmd.error != NULL ?
		    r->u.cmd.error : "(null)", sizeof(c->err[i]));
		c->r[i].u.cmd.result = c->text[i];
		c->r[i].u.cmd.error = c->err[i];
		break;
	default:
		break;
	}
	c->n++;
	return c->stop_at != 0 && c->n == c->stop_at;
}

static void
read_stream(struct store *st, enum store_stream stream, uint64_t from,
    uint64_t to, uint64_t max, struct recs *c)
{
	memset(c, 0, sizeof(*c));
	cr_assert_eq(store_stream_read(st, stream, from, to, max, collect_rec,
	    c), 0);
}

/*
 * The records as "S1,C2,T3": kind (Position, Trip, Start, End,
 * Complete, Kommand) and seq.
 */
static const char *
rec_list(const struct recs *c)
{
	static const char kinds[] = {
		[STORE_REC_POSITION] = 'P',
		[STORE_REC_TRIP] = 'T',
		[STORE_REC_EVENT_START] = 'S',
		[STORE_REC_EVENT_END] = 'E',
		[STORE_REC_EVENT_COMPLETE] = 'C',
		[STORE_REC_COMMAND_RESULT] = 'K',
	};
	static char	 buf[512];
	size_t		 i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < c->n && off < sizeof(buf); i++) {
		cr_assert_eq(c->r[i].stream, c->r[0].stream);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%c%llu",
		    i > 0 ? "," : "", kinds[c->r[i].kind],
		    (unsigned long long)c->r[i].seq);
	}
	return buf;
}

static struct store_command
mkcommand(const char *id, const char *type, const char *status,
    int64_t done_ms)
{
	struct store_command c;

	memset(&c, 0, sizeof(c));
	util_strlcpy(c.id, id, sizeof(c.id));
	util_strlcpy(c.type, type, sizeof(c.type));
	util_strlcpy(c.status, status, sizeof(c.status));
	c.received_utc_ms = done_ms - 500;
	c.done_utc_ms = done_ms;
	return c;
}

/* A child that writes both streams, leaves some pending and is killed. */
static void
interleave_child(void)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_command c;
	struct rules_event ev;

	st = store_open(&o);
	if (st == NULL)
		_exit(2);
	put_n(st, 6, 2, 0);
	ev = mkevent(3, RULES_EV_OPEN, RULES_REGION_EXIT, RULES_VIOLATION,
	    mkfix(6).t_utc_ms, 0);
	if (store_event_put(st, &ev) != 1 || store_commit(st) != 0)
		_exit(3);
	c = mkcommand("c2", "status", "ok", mkfix(7).t_utc_ms);
	if (store_command_put(st, &c) != 0 || c.seq != 7)
		_exit(4);
	put_n(st, 8, 3, 0);		/* never committed */
	ev.phase = RULES_EV_CLOSE;
	ev.end_utc_ms = mkfix(9).t_utc_ms;
	if (store_event_put(st, &ev) != 1)
		_exit(5);
	kill(getpid(), SIGKILL);
	_exit(6);
}

/*
 * Each stream has its own seq, dense from 1, whatever the interleaving
 * of positions, trips, events, commands and DTC scans, across a clean
 * reopen and a kill -9 with records pending.
 */
Test(store, streams_dense_across_interleavings_reopen_and_crash)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_command c;
	struct trip_summary t;
	struct rules_event ev, ev1;
	struct obd_dtc	 d[1] = { { "P0301", 0x03 } };
	struct recs	 r;
	pid_t		 pid;
	int		 status;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 3, 0);
	t = mktrip(mkfix(3).t_utc_ms, 0);
	cr_assert_eq(store_trip_begin(st, &t), 0);
	ev1 = mkevent(1, RULES_EV_OPEN, RULES_SPEEDING, RULES_VIOLATION,
	    mkfix(3).t_utc_ms, 0);
	cr_assert_eq(put_event(st, ev1, NULL), 1);
	cr_assert_eq(store_commit(st), 0);			/* E1 */
	put_n(st, 3, 2, 0);
	c = mkcommand("c1", "locate", "ok", mkfix(4).t_utc_ms);
	cr_assert_eq(store_command_put(st, &c), 0);		/* E2 */
	cr_assert_eq(c.seq, 2);
	cr_assert_eq(store_dtc_scan(st, d, 1, mkfix(5).t_utc_ms), 1);
	ev = mkevent(2, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING,
	    mkfix(5).t_utc_ms, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	put_n(st, 5, 1, 0);
	t = mktrip(mkfix(3).t_utc_ms, 1);
	t.id = 1;
	t.ended_by = TRIP_END_IGNITION_OFF;
	cr_assert_eq(store_trip_end(st, &t), 0);	/* T3, then C4 */
	ev1.phase = RULES_EV_CLOSE;
	ev1.end_utc_ms = mkfix(5).t_utc_ms;
	cr_assert_eq(put_event(st, ev1, NULL), 1);
	cr_assert_eq(store_commit(st), 0);			/* E5 */
	assert_seq_dense(store_db(st), 5, 6);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 6);
	cr_assert_eq(s.next_seq[POS], 7);
	read_stream(st, EVS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "S1,K2,T3,C4,E5");
	store_close(st);

	st = store_open(&o);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 6);
	cr_assert_eq(s.next_seq[POS], 7);
	store_close(st);

	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0)
		interleave_child();
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child status %d", status);
	assert_integrity();
	st = store_open(&o);
	cr_assert_not_null(st);
	assert_seq_dense(store_db(st), 7, 8);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 8);
	cr_assert_eq(s.next_seq[POS], 9);
	/* The lost close comes again: the seqs go on where they were. */
	put_n(st, 8, 1, 0);
	ev = mkevent(3, RULES_EV_CLOSE, RULES_REGION_EXIT, RULES_VIOLATION,
	    mkfix(6).t_utc_ms, mkfix(9).t_utc_ms);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_commit(st), 0);
	assert_seq_dense(store_db(st), 8, 9);
	read_stream(st, EVS, 6, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "S6,K7,E8");
	read_stream(st, POS, 7, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "P7,P8,P9");
	store_close(st);
	assert_integrity();
}

/*
 * Version 4 as it shipped: the version 3 file after migration 4, with
 * records of one global stream: positions 1..42 but 5, 6, 7 and 20, and
 * 64; events 1 (5, closed at 20), 2 (an instant at 6), 3 (open from 7),
 * 4 (63, closed at 65); trips 60 and 62 closed and one open; DTC row 61;
 * seq_floor 66.
 */
static void
make_v4_db(void)
{
	make_v3_db();
	make_raw_db("BEGIN;"
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
	    "  ON dispatch_orders(valid_from_utc_ms);"
	    "PRAGMA user_version = 4;"
	    "DELETE FROM positions WHERE seq IN (5, 6, 7, 20);"
	    "INSERT INTO positions(seq, t_utc_ms, lat_deg, lon_deg, alt_m, "
	    "  sats_used, bds_used, obd_rpm, obd_fuel_rate_estimated, "
	    "  obd_mil_on) VALUES (64, 1772409663000, 30.25, 104.125, 12.5, "
	    "  7, 5, 900.5, NULL, 1);"
	    "INSERT INTO trips(seq, start_utc_ms, end_utc_ms, open, ended_by) "
	    "  VALUES (62, 1772409640000, 1772409650000, 0, 'stationary'),"
	    "  (NULL, 1772409660000, 1772409665000, 1, NULL);"
	    "INSERT INTO events(id, seq, end_seq, type, severity, start_utc_ms,"
	    "  end_utc_ms, trip_id, lat_deg, lon_deg, fence_id, details) VALUES"
	    "  (1, 5, 20, 'speeding', 'warning', 1772409604000, 1772409619000,"
	    "   1, 30.5, 104.0, NULL, '{\"n\":2}'),"
	    "  (2, 6, 6, 'power_loss', 'critical', 1772409605000, "
	    "   1772409605000, NULL, NULL, NULL, NULL, '{}'),"
	    "  (3, 7, NULL, 'region_exit', 'violation', 1772409606000, NULL,"
	    "   NULL, NULL, NULL, 'county', '{\"a\":1}'),"
	    "  (4, 63, 65, 'excessive_idle', 'warning', 1772409662000,"
	    "   1772409664000, 3, 30.6, 104.1, 'lot', '{}');"
	    "UPDATE meta SET value = 66 WHERE key = 'seq_floor';"
	    "INSERT INTO meta(key, value) VALUES ('running', 0),"
	    "  ('rules_state', '{\"next_id\":5}');"
	    "COMMIT");
}

/*
 * A version 4 file is read as it is (one stream: no stream reads), then
 * migrated: positions renumbered 1..39 in their order, the events
 * stream's records 1..8 in their old order (an instant keeps one seq),
 * the floors at the next seqs, DTC keys kept, open_* filled from the
 * rows.
 */
Test(store, v4_database_read_as_is_then_renumbered)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_stream_state ss;
	struct rules_event ev;
	struct obd_dtc	 d[2] = { { "P0301", 0x03 }, { "P0420", 0x03 } };
	struct recs	 r;
	struct rows	 rows;
	sqlite3		*db;
	const char	*log;
	char		*state;
	size_t		 k;

	make_v4_db();
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 66);
	cr_assert_eq(s.next_seq[EVS], 66);
	cr_assert_eq(s.positions, 39);
	cr_assert_eq(s.events, 4);
	capture_start();
	cr_assert_eq(store_stream_read(st, POS, 1, 10, 0, collect_rec, &r), -1);
	cr_assert_eq(store_stream_state(st, EVS, &ss), -1);
	log = capture_end();
	cr_assert(strstr(log, "schema version 4 has no streams") != NULL,
	    "log: %s", log);
	store_close(st);

	capture_start();
	st = store_open(&o);
	log = capture_end();
	cr_assert_not_null(st);
	cr_assert(strstr(log, "schema migrated to version 6 (from 4)") != NULL,
	    "log: %s", log);
	db = store_db(st);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 6);
	/* Positions: 1..39 in the old order (GNSS time increasing). */
	query_all(st, &rows);
	cr_assert_eq(rows.n, 39);
	for (k = 0; k < rows.n; k++) {
		cr_assert_eq(rows.p[k].seq, k + 1);
		if (k > 0)
			cr_assert_gt(rows.p[k].fix.t_utc_ms,
			    rows.p[k - 1].fix.t_utc_ms);
	}
	cr_assert_eq(rows.p[3].fix.t_utc_ms, T0_MS + 3000, "old 4 stays 4");
	cr_assert_eq(rows.p[4].fix.t_utc_ms, T0_MS + 7000, "old 8 is 5");
	cr_assert_eq(rows.p[38].fix.t_utc_ms, T0_MS + 63000, "old 64 is 39");
	/* Every column came along. */
	cr_assert_eq(rows.p[38].fix.lat_deg, 30.25);
	cr_assert_eq(rows.p[38].fix.lon_deg, 104.125);
	cr_assert_eq(rows.p[38].fix.alt_m, 12.5);
	cr_assert_eq(rows.p[38].fix.sats_used, 7);
	cr_assert_eq(rows.p[38].fix.sys[GNSS_SYS_BEIDOU].used, 5);
	cr_assert_eq(rows.p[38].obd.rpm, 900.5);
	cr_assert_eq(rows.p[38].obd.mil_on, 1);
	cr_assert(isnan(rows.p[38].obd.speed_kmh));
	cr_assert(isnan(rows.p[37].fix.alt_m));
	rows_free(&rows);
	/* The same table as a new file's (and its index). */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM pragma_table_info("
	    "'positions')"), POS_TABLE_NCOLUMNS);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM pragma_table_info("
	    "'positions') WHERE name = 'seq' AND pk = 1"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'positions_t_utc_ms' AND tbl_name = 'positions'"), 1);
	/* The events stream: 5 20 60 62 63 65 and the instant's 6. */
	cr_assert_eq(sql_int(db, "SELECT seq * 10 + end_seq FROM events "
	    "WHERE id = 1"), 14);
	cr_assert_eq(sql_int(db, "SELECT seq * 10 + end_seq FROM events "
	    "WHERE id = 2"), 22);
	cr_assert_eq(sql_int(db, "SELECT seq * 10 + (end_seq IS NULL) FROM "
	    "events WHERE id = 3"), 31);
	cr_assert_eq(sql_int(db, "SELECT seq * 10 + end_seq FROM events "
	    "WHERE id = 4"), 78);
	cr_assert_eq(sql_int(db, "SELECT seq FROM trips WHERE id = 1"), 5);
	cr_assert_eq(sql_int(db, "SELECT seq FROM trips WHERE id = 2"), 6);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips WHERE id = 3 AND "
	    "seq IS NULL AND open = 1"), 1);
	cr_assert_eq(sql_int(db, "SELECT seq FROM dtcs"), 61);
	assert_seq_dense(db, 8, 39);
	/* Floors and cursors. */
	cr_assert_eq(seq_floor(db), 40);
	cr_assert_eq(seq_floor_ev(db), 9);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta WHERE key IN "
	    "('seq_floor', 'next_seq')"), 0);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta WHERE key IN "
	    "('acked_events', 'acked_positions') AND value = 0"), 2);
	/* open_* from the rows as they were. */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events WHERE "
	    "open_trip_id IS trip_id AND open_lat_deg IS lat_deg AND "
	    "open_lon_deg IS lon_deg AND open_fence_id IS fence_id AND "
	    "open_details IS details"), 4);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events WHERE id = 3 AND "
	    "open_fence_id = 'county' AND open_details = '{\"a\":1}'"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_temp_master"), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[POS], 40);
	cr_assert_eq(s.next_seq[EVS], 9);
	cr_assert_eq(s.positions, 39);
	cr_assert_eq(s.events, 4);
	cr_assert_eq(s.events_open, 1);
	cr_assert_eq(s.trips, 3);
	state = store_rules_state_get(st);
	cr_assert_not_null(state);
	free(state);

	read_stream(st, EVS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "S1,C2,S3,E4,T5,T6,S7,E8");
	cr_assert_eq(r.r[3].u.ev.id, 1);
	cr_assert_eq(r.r[3].u.ev.seq, 1);
	cr_assert_eq(r.r[3].u.ev.end_seq, 4);
	cr_assert_eq(r.r[4].u.trip.trip.id, 1);

	/* And the streams go on from there. */
	put_n(st, 100, 1, 0);
	ev = mkevent(5, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING,
	    mkfix(100).t_utc_ms, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(store_dtc_scan(st, d, 2, mkfix(100).t_utc_ms), 1,
	    "P0301 is active already");
	cr_assert_eq(sql_int(db, "SELECT seq FROM dtcs WHERE code = 'P0420'"),
	    62);
	assert_seq_dense(db, 9, 40);
	store_close(st);
	assert_integrity();
}

/* A failed step 5 leaves a version 4 file as it was. */
Test(store, failed_v5_migration_changes_nothing)
{
	struct store_opts o = mkopts();
	sqlite3		*db;
	const char	*log;

	make_v4_db();
	make_raw_db("CREATE TABLE sync_quarantine(x)");
	capture_start();
	cr_assert_null(store_open(&o));
	log = capture_end();
	cr_assert(strstr(log, "sync_quarantine already exists") != NULL,
	    "log: %s", log);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 4);
	cr_assert_eq(has_column(db, "events", "open_details"), 0);
	cr_assert_eq(sql_int(db, "SELECT max(seq) FROM positions"), 64,
	    "not renumbered");
	cr_assert_eq(sql_int(db, "SELECT seq FROM trips WHERE id = 1"), 60);
	cr_assert_eq(sql_int(db, "SELECT end_seq FROM events WHERE id = 4"),
	    65);
	cr_assert_eq(sql_int(db, "SELECT value FROM meta "
	    "WHERE key = 'seq_floor'"), 66);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'command_results'"), 0);
	sqlite3_close(db);
}

/*
 * store_stream_read: the events stream merges trips, event starts, ends
 * and instants and command results in seq order; limits, windows and an
 * early stop; positions decoded as store_query_positions() does; the
 * holes retention leaves.
 */
Test(store, stream_read_order_kinds_limits_and_holes)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_command c;
	struct trip_summary t;
	struct rules_event ev;
	struct recs	 r;
	struct rows	 rows;
	struct fix	 f;
	const int64_t	 late = T0_MS + 5 * 24 * HOUR_MS;
	size_t		 k;
	int		 i;

	o.keep_days = 1;
	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 5, 0);
	ev = mkevent(1, RULES_EV_OPEN, RULES_SPEEDING, RULES_WARNING, T0_MS,
	    0);
	cr_assert_eq(put_event(st, ev, "{\"v\": 1}"), 0);
	cr_assert_eq(store_commit(st), 0);			/* S1 */
	ev = mkevent(2, RULES_EV_INSTANT, RULES_POWER_LOSS, RULES_CRITICAL,
	    T0_MS, T0_MS);
	cr_assert_eq(put_event(st, ev, NULL), 1);
	cr_assert_eq(store_commit(st), 0);			/* C2 */
	t = mktrip(T0_MS, 10);
	t.ended_by = TRIP_END_STATIONARY;
	cr_assert_eq(store_trip_end(st, &t), 0);		/* T3 */
	c = mkcommand("cmd-1", "locate", "ok", late);
	c.result = "{\"speed_kmh\":0}";
	cr_assert_eq(store_command_put(st, &c), 0);		/* K4 */
	ev = mkevent(1, RULES_EV_CLOSE, RULES_SPEEDING, RULES_WARNING, T0_MS,
	    late);
	cr_assert_eq(put_event(st, ev, "{\"v\": 2}"), 0);
	cr_assert_eq(store_commit(st), 0);			/* E5 */
	ev = mkevent(3, RULES_EV_CLOSE, RULES_EXCESSIVE_IDLE, RULES_WARNING,
	    late, late + MIN_MS);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);			/* C6 */

	read_stream(st, EVS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "S1,C2,T3,K4,E5,C6");
	cr_assert_eq(r.r[0].u.ev.id, 1);
	cr_assert_eq(r.r[0].u.ev.seq, 1);
	cr_assert_eq(r.r[0].u.ev.end_seq, 0);
	cr_assert_eq(r.r[0].u.ev.end_utc_ms, 0);
	cr_assert_str_eq(r.r[0].u.ev.details, "{\"v\":1}");
	cr_assert_eq(r.r[1].u.ev.seq, 2);
	cr_assert_eq(r.r[1].u.ev.end_seq, 2);
	cr_assert_eq(r.r[1].u.ev.severity, RULES_CRITICAL);
	cr_assert_eq(r.r[2].u.trip.seq, 3);
	cr_assert_eq(r.r[2].u.trip.trip.ended_by, TRIP_END_STATIONARY);
	cr_assert_not(r.r[2].u.trip.open);
	cr_assert_str_eq(r.r[3].u.cmd.id, "cmd-1");
	cr_assert_eq(r.r[3].u.cmd.seq, 4);
	cr_assert_str_eq(r.r[3].u.cmd.result, "{\"speed_kmh\":0}");
	cr_assert_eq(r.r[4].u.ev.id, 1);
	cr_assert_eq(r.r[4].u.ev.seq, 1);
	cr_assert_eq(r.r[4].u.ev.end_seq, 5);
	cr_assert_eq(r.r[4].u.ev.end_utc_ms, late);
	cr_assert_str_eq(r.r[4].u.ev.details, "{\"v\":2}");
	cr_assert_eq(r.r[5].u.ev.id, 3);
	cr_assert_eq(r.r[5].u.ev.seq, 6);

	/* Windows, limits, an early stop, empty and reversed ranges. */
	read_stream(st, EVS, 3, 4, 0, &r);
	cr_assert_str_eq(rec_list(&r), "T3,K4");
	read_stream(st, EVS, 2, UINT64_MAX, 3, &r);
	cr_assert_str_eq(rec_list(&r), "C2,T3,K4");
	read_stream(st, EVS, 5, 5, 0, &r);
	cr_assert_str_eq(rec_list(&r), "E5");
	read_stream(st, EVS, 7, UINT64_MAX, 0, &r);
	cr_assert_eq(r.n, 0);
	read_stream(st, EVS, 4, 3, 0, &r);
	cr_assert_eq(r.n, 0);
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	cr_assert_eq(store_stream_read(st, EVS, 1, UINT64_MAX, 0, collect_rec,
	    &r), 0);
	cr_assert_str_eq(rec_list(&r), "S1,C2");

	/* Positions: the same values as store_query_positions(). */
	read_stream(st, POS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "P1,P2,P3,P4,P5");
	query_all(st, &rows);
	for (k = 0; k < rows.n; k++) {
		cr_assert_eq(r.r[k].u.pos.seq, rows.p[k].seq);
		cr_assert_eq(memcmp(&r.r[k].u.pos.fix, &rows.p[k].fix,
		    sizeof(rows.p[k].fix)), 0);
	}
	rows_free(&rows);
	read_stream(st, POS, 2, 4, 2, &r);
	cr_assert_str_eq(rec_list(&r), "P2,P3");

	/*
	 * Retention by age takes the early rows: the positions, the
	 * instant, the trip.  Their seqs are holes; the event closed late
	 * keeps both its records.
	 */
	for (i = 0; i < 2; i++) {
		f = mkfix(10 + i);
		f.t_utc_ms = late + i * 1000;
		cr_assert_eq(store_put_position(st, &f, 0), 0);
	}
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(store_retention(st, late + HOUR_MS), 5 + 2);
	read_stream(st, EVS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "S1,K4,E5,C6");
	read_stream(st, POS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "P6,P7");
	cr_assert_eq(r.r[0].u.pos.fix.t_utc_ms, late);
	store_close(st);

	/* fleetgwctl's side reads the same. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	read_stream(st, EVS, 1, UINT64_MAX, 0, &r);
	cr_assert_str_eq(rec_list(&r), "S1,K4,E5,C6");
	capture_start();
	cr_assert_eq(store_stream_read(st, STORE_STREAMS, 1, 2, 0, collect_rec,
	    &r), -1);
	(void)capture_end();
	store_close(st);
}

/*
 * A committed record never changes: an event's start record reads the
 * values it was opened with, before and after a close that filled in or
 * replaced the position, trip, fence and details.
 */
Test(store, event_start_record_unchanged_after_close)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct rules_event ev;
	struct recs	 before, after;
	struct store_event *a, *b;

	st = store_open(&o);
	cr_assert_not_null(st);
	ev = mkevent(1, RULES_EV_OPEN, RULES_FORBIDDEN_PLACE, RULES_VIOLATION,
	    T0_MS, 0);
	cr_assert_eq(put_event(st, ev, "{\"v\": 1}"), 1);
	cr_assert_eq(store_commit(st), 0);
	read_stream(st, EVS, 1, UINT64_MAX, 0, &before);
	cr_assert_str_eq(rec_list(&before), "S1");

	ev = mkevent(1, RULES_EV_CLOSE, RULES_FORBIDDEN_PLACE, RULES_VIOLATION,
	    T0_MS, T0_MS + HOUR_MS);
	ev.lat_deg = 30.65;
	ev.lon_deg = 104.08;
	ev.trip_id = 9;
	util_strlcpy(ev.fence_id, "ktv-1", sizeof(ev.fence_id));
	cr_assert_eq(put_event(st, ev, "{\"stay_s\": 3600, \"v\": 2}"), 1);
	cr_assert_eq(store_commit(st), 0);
	read_stream(st, EVS, 1, UINT64_MAX, 0, &after);
	cr_assert_str_eq(rec_list(&after), "S1,E2");

	a = &before.r[0].u.ev;
	b = &after.r[0].u.ev;
	cr_assert_eq(b->id, 1);
	cr_assert_eq(b->seq, 1);
	cr_assert_eq(b->end_seq, 0);
	cr_assert_eq(b->end_utc_ms, 0);
	cr_assert(isnan(b->lat_deg) && isnan(b->lon_deg));
	cr_assert_eq(b->trip_id, 0);
	cr_assert_str_eq(b->fence_id, "");
	cr_assert_str_eq(b->details, "{\"v\":1}");
	cr_assert_eq(a->type, b->type);
	cr_assert_eq(a->severity, b->severity);
	cr_assert_eq(a->start_utc_ms, b->start_utc_ms);
	cr_assert_str_eq(a->details, b->details);
	cr_assert_str_eq(a->fence_id, b->fence_id);
	cr_assert_eq(a->trip_id, b->trip_id);
	/* The end record is the final row. */
	b = &after.r[1].u.ev;
	cr_assert_eq(after.r[1].seq, 2);
	cr_assert_eq(b->seq, 1);
	cr_assert_eq(b->end_seq, 2);
	cr_assert_eq(b->end_utc_ms, T0_MS + HOUR_MS);
	cr_assert_eq(b->lat_deg, 30.65);
	cr_assert_eq(b->lon_deg, 104.08);
	cr_assert_eq(b->trip_id, 9);
	cr_assert_str_eq(b->fence_id, "ktv-1");
	cr_assert_str_eq(b->details, "{\"stay_s\":3600,\"v\":2}");
	/* The listing shows the final row; the file keeps both. */
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM events WHERE "
	    "open_lat_deg IS NULL AND open_trip_id IS NULL AND open_fence_id "
	    "IS NULL AND open_details = '{\"v\":1}' AND lat_deg = 30.65"), 1);
	store_close(st);
}

/*
 * Acknowledgement cursors: monotonic, never at or beyond the next seq,
 * durable across reopen, seen by read-only stores; the state of a
 * stream with them.
 */
Test(store, stream_ack_monotonic_refused_durable)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stream_state ss;
	struct rules_event ev;
	const char	*log;

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.next_seq, 1);
	cr_assert_eq(ss.first_seq, 0);
	cr_assert_eq(ss.pending, 0);
	cr_assert_eq(ss.oldest_pending_utc_ms, 0);
	put_n(st, 0, 5, 0);
	ev = mkevent(1, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING,
	    T0_MS + MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev = mkevent(2, RULES_EV_OPEN, RULES_SPEEDING, RULES_WARNING,
	    T0_MS + 2 * MIN_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);

	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.next_seq, 6);
	cr_assert_eq(ss.acked_through, 0);
	cr_assert_eq(ss.first_seq, 1);
	cr_assert_eq(ss.pending, 5);
	cr_assert_eq(ss.oldest_pending_utc_ms, mkfix(0).t_utc_ms);
	cr_assert_eq(ss.quarantined, 0);
	cr_assert_eq(store_stream_state(st, EVS, &ss), 0);
	cr_assert_eq(ss.next_seq, 3);
	cr_assert_eq(ss.first_seq, 1);
	cr_assert_eq(ss.pending, 2);
	cr_assert_eq(ss.oldest_pending_utc_ms, T0_MS + MIN_MS);

	cr_assert_eq(store_stream_ack(st, POS, 3), 0);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.acked_through, 3);
	cr_assert_eq(ss.pending, 2);
	cr_assert_eq(ss.oldest_pending_utc_ms, mkfix(3).t_utc_ms);
	/* Never back; the same again changes nothing. */
	cr_assert_eq(store_stream_ack(st, POS, 2), 0);
	cr_assert_eq(store_stream_ack(st, POS, 3), 0);
	cr_assert_eq(store_stream_ack(st, POS, 0), 0);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.acked_through, 3);
	/* Nobody acknowledges what was never committed. */
	put_n(st, 5, 1, 0);		/* pending: seq 6 not committed yet */
	capture_start();
	cr_assert_eq(store_stream_ack(st, POS, 6), -1);
	cr_assert_eq(store_stream_ack(st, EVS, 3), -1);
	cr_assert_eq(store_stream_ack(st, EVS, UINT64_MAX), -1);
	cr_assert_eq(store_stream_ack(st, STORE_STREAMS, 1), -1);
	log = capture_end();
	cr_assert(strstr(log, "positions acknowledged through seq 6, but the "
	    "next seq is 6: refused") != NULL, "log: %s", log);
	cr_assert(strstr(log, "events acknowledged through seq 3, but the "
	    "next seq is 3: refused") != NULL, "log: %s", log);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.acked_through, 3);
	cr_assert_eq(store_stream_ack(st, POS, 5), 0);
	cr_assert_eq(store_stream_ack(st, EVS, 1), 0);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.pending, 0, "the pending fix is not a record yet");
	cr_assert_eq(ss.oldest_pending_utc_ms, 0);
	cr_assert_eq(store_stream_state(st, EVS, &ss), 0);
	cr_assert_eq(ss.pending, 1);
	cr_assert_eq(ss.oldest_pending_utc_ms, T0_MS + 2 * MIN_MS);
	cr_assert_eq(sql_int(store_db(st), "SELECT value FROM meta "
	    "WHERE key = 'acked_positions'"), 5);
	store_close(st);		/* commits seq 6 */

	/* Durable; read-only stores see it and cannot move it. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.next_seq, 7);
	cr_assert_eq(ss.acked_through, 5);
	cr_assert_eq(ss.pending, 1);
	capture_start();
	cr_assert_eq(store_stream_ack(st, POS, 6), -1);
	(void)capture_end();
	store_close(st);
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(store_stream_state(st, EVS, &ss), 0);
	cr_assert_eq(ss.acked_through, 1);
	cr_assert_eq(store_stream_ack(st, POS, 6), 0);
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.acked_through, 6);
	cr_assert_eq(ss.pending, 0);
	store_close(st);
}

/*
 * The age rule with a platform deletes acknowledged rows only, however
 * old the others are, and never reports pressure; store_set_limits()
 * switches acks on.
 */
Test(store, retention_by_age_with_acks_only_acknowledged)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_pressure p;
	struct trip_summary t;
	struct rules_event ev;
	struct fix	 f;
	const char	*log;
	sqlite3		*db;
	int64_t		 now;
	int		 i;

	o.keep_days = 1;
	o.commit_rows = 4096;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	/* 3000 fixes a minute apart (50 h); events at 0 h, 1 h, a trip 2 h. */
	for (i = 0; i < 3000; i++) {
		f = mkfix(0);
		f.t_utc_ms = T0_MS + (int64_t)i * 60000;
		cr_assert_eq(store_put_position(st, &f, 0), 0);
	}
	ev = mkevent(1, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	ev = mkevent(2, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING,
	    T0_MS + HOUR_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);
	t = mktrip(T0_MS + HOUR_MS, 60);
	t.ended_by = TRIP_END_IGNITION_OFF;
	cr_assert_eq(store_trip_end(st, &t), 0);		/* seq 3 */
	cr_assert_eq(store_stream_ack(st, POS, 1000), 0);
	cr_assert_eq(store_stream_ack(st, EVS, 1), 0);
	o.acks = true;
	store_set_limits(st, &o);

	/* Cutoff at 26 h: positions 1..1560 are old, 1..1000 acknowledged. */
	now = T0_MS + INT64_C(3000) * 60000;
	capture_start();
	cr_assert_eq(store_retention(st, now), 1000 + 1);
	log = capture_end();
	cr_assert(strstr(log, "store: retention dropped 1000 positions "
	    "(seq 1..1000, reason: age)") != NULL, "log: %s", log);
	cr_assert(strstr(log, "store: retention dropped 1 events (seq 1..1, "
	    "reason: age)") != NULL, "log: %s", log);
	cr_assert(strstr(log, "unacknowledged") == NULL, "log: %s", log);
	cr_assert_eq(store_take_pressure(st, &p), 0);
	cr_assert_eq(sql_int(db, "SELECT min(seq) FROM positions"), 1001);
	cr_assert_eq(sql_int(db, "SELECT id FROM events"), 2);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips"), 1);
	/* Long past the cutoff: still nothing unacknowledged goes. */
	cr_assert_eq(store_retention(st, now + 100 * 24 * HOUR_MS), 0);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM positions"), 2000);

	/* The platform catches up: now they go. */
	cr_assert_eq(store_stream_ack(st, POS, 3000), 0);
	cr_assert_eq(store_stream_ack(st, EVS, 3), 0);
	cr_assert_eq(store_retention(st, now), 560 + 1 + 1);
	cr_assert_eq(sql_int(db, "SELECT min(seq) FROM positions"), 1561);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM events"), 0);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips"), 0);
	cr_assert_eq(store_take_pressure(st, &p), 0);
	store_close(st);

	/* Nothing of the events stream is left: its floor keeps the seqs. */
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_eq(seq_floor_ev(store_db(st)), 4);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 4);
	cr_assert_eq(s.next_seq[POS], 3001);
	store_close(st);
	assert_integrity();
}

/*
 * Quarantine: kept with the first entry, refused for seq 0 or a seq not
 * handed out; quarantined records outlive retention (an event while
 * either of its records is).
 */
Test(store, quarantine_kept_first_and_by_retention)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stream_state ss;
	struct trip_summary t;
	struct rules_event ev;
	sqlite3		*db;
	const char	*log;

	o.keep_days = 1;
	o.acks = true;
	st = store_open(&o);
	cr_assert_not_null(st);
	db = store_db(st);
	put_n(st, 0, 100, 0);
	ev = mkevent(1, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);		/* 1 */
	ev = mkevent(2, RULES_EV_OPEN, RULES_SPEEDING, RULES_WARNING, T0_MS,
	    0);
	cr_assert_eq(put_event(st, ev, NULL), 0);		/* 2 */
	cr_assert_eq(store_commit(st), 0);
	ev.phase = RULES_EV_CLOSE;
	ev.end_utc_ms = T0_MS + MIN_MS;
	cr_assert_eq(put_event(st, ev, NULL), 0);		/* 3 */
	cr_assert_eq(store_commit(st), 0);
	t = mktrip(T0_MS, 2);
	t.ended_by = TRIP_END_IGNITION_OFF;
	cr_assert_eq(store_trip_end(st, &t), 0);		/* 4 */
	ev = mkevent(3, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);		/* 5 */
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(store_stream_ack(st, POS, 100), 0);
	cr_assert_eq(store_stream_ack(st, EVS, 5), 0);

	capture_start();
	cr_assert_eq(store_stream_quarantine(st, POS, 50, 422,
	    "lat out of range"), 0);
	cr_assert_eq(store_stream_quarantine(st, POS, 50, 400, "again"), 0);
	cr_assert_eq(store_stream_quarantine(st, EVS, 3, 400, "bad end"), 0);
	cr_assert_eq(store_stream_quarantine(st, EVS, 4, 413, NULL), 0);
	cr_assert_eq(store_stream_quarantine(st, EVS, 6, 400, "x"), -1);
	cr_assert_eq(store_stream_quarantine(st, POS, 0, 400, "x"), -1);
	log = capture_end();
	cr_assert(strstr(log, "positions record 50 quarantined: the platform "
	    "refused it (HTTP 422: lat out of range)") != NULL, "log: %s", log);
	cr_assert(strstr(log, "quarantine of events seq 6 refused") != NULL,
	    "log: %s", log);
	cr_assert_eq(sql_int(db, "SELECT http_status FROM sync_quarantine "
	    "WHERE stream = 'positions' AND seq = 50"), 422, "the first stays");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sync_quarantine "
	    "WHERE stream = 'events' AND seq = 4 AND reason = ''"), 1);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sync_quarantine "
	    "WHERE t_utc_ms > 1600000000000"), 3, "system time");
	cr_assert_eq(store_stream_state(st, POS, &ss), 0);
	cr_assert_eq(ss.quarantined, 1);
	cr_assert_eq(store_stream_state(st, EVS, &ss), 0);
	cr_assert_eq(ss.quarantined, 2);

	/* Everything is old and acknowledged: all goes but those. */
	cr_assert_eq(store_retention(st, T0_MS + 10 * 24 * HOUR_MS),
	    99 + 2);
	cr_assert_eq(sql_int(db, "SELECT group_concat(seq) = '50' FROM "
	    "positions"), 1);
	cr_assert_eq(sql_int(db, "SELECT id FROM events"), 2,
	    "its end is quarantined");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM trips"), 1);
	store_close(st);

	/* Read-only: refused. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	capture_start();
	cr_assert_eq(store_stream_quarantine(st, POS, 1, 400, "x"), -1);
	(void)capture_end();
	store_close(st);
}

struct cmds {
	struct store_command	 c[8];
	char			 result[8][128];
	size_t			 n;
};

static int
collect_cmd(const struct store_command *c, void *arg)
{
	struct cmds	*r = arg;

	cr_assert_lt(r->n, NELEM(r->c));
	r->c[r->n] = *c;
	util_strlcpy(r->result[r->n], c->result != NULL ? c->result :
	    "(null)", sizeof(r->result[0]));
	r->c[r->n].result = r->result[r->n];
	r->c[r->n].error = NULL;
	r->n++;
	return 0;
}

static void
query_cmds(struct store *st, bool undelivered, struct cmds *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(store_query_commands(st, undelivered, collect_cmd, r), 0);
}

/*
 * Platform commands: put commits at once with the pending positions and
 * gives the events stream's next seq; get, delivered and the query; a
 * duplicate id or an invalid command is refused without taking a seq.
 */
Test(store, commands_put_get_delivered_query)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct store_stats s;
	struct store_command c, got, bad;
	struct rules_event ev;
	struct cmds	 r;
	const char	*log;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 3, 0);
	c = mkcommand("cmd-0001", "locate", "ok", T0_MS);
	c.result = "{\"lat\":30.5,\"lon\":104.0}";
	c.seq = 99;			/* ignored */
	cr_assert_eq(store_command_put(st, &c), 0);
	cr_assert_eq(c.seq, 1);
	store_get_stats(st, &s);
	cr_assert_eq(s.pending, 0, "committed with the positions");
	cr_assert_eq(s.positions, 3);
	ev = mkevent(1, RULES_EV_INSTANT, RULES_DTC, RULES_WARNING, T0_MS, 0);
	cr_assert_eq(put_event(st, ev, NULL), 0);
	cr_assert_eq(store_commit(st), 0);			/* 2 */
	c = mkcommand("cmd-0002", "frobnicate", "unsupported", T0_MS + 1000);
	c.error = "unknown command type";
	cr_assert_eq(store_command_put(st, &c), 0);
	cr_assert_eq(c.seq, 3);

	cr_assert_eq(store_command_get(st, "cmd-0001", &got), 1);
	cr_assert_eq(got.seq, 1);
	cr_assert_str_eq(got.id, "cmd-0001");
	cr_assert_str_eq(got.type, "locate");
	cr_assert_str_eq(got.status, "ok");
	cr_assert_eq(got.received_utc_ms, T0_MS - 500);
	cr_assert_eq(got.done_utc_ms, T0_MS);
	cr_assert_str_eq(got.result, "{\"lat\":30.5,\"lon\":104.0}");
	cr_assert_null(got.error);
	cr_assert_not(got.delivered);
	/* Valid until the next store call, not only the statement's step. */
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM "
	    "command_results"), 2);
	cr_assert_str_eq(got.result, "{\"lat\":30.5,\"lon\":104.0}");
	cr_assert_eq(store_command_get(st, "cmd-0002", &got), 1);
	cr_assert_null(got.result);
	cr_assert_str_eq(got.error, "unknown command type");
	cr_assert_str_eq(got.status, "unsupported");
	cr_assert_eq(store_command_get(st, "cmd-9999", &got), 0);

	/* Refused: a stored id, an empty or unterminated id, bad values. */
	capture_start();
	c = mkcommand("cmd-0001", "locate", "ok", T0_MS + 2000);
	cr_assert_eq(store_command_put(st, &c), -1);
	bad = mkcommand("", "locate", "ok", T0_MS);
	cr_assert_eq(store_command_put(st, &bad), -1);
	bad = mkcommand("x", "locate", "ok", T0_MS);
	memset(bad.id, 'x', sizeof(bad.id));
	cr_assert_eq(store_command_put(st, &bad), -1);
	bad = mkcommand("cmd-0003", "locate", "maybe", T0_MS);
	cr_assert_eq(store_command_put(st, &bad), -1);
	bad = mkcommand("cmd-0003", "locate", "ok", T0_MS);
	bad.result = "[1, 2]";
	cr_assert_eq(store_command_put(st, &bad), -1);
	log = capture_end();
	cr_assert(strstr(log, "command cmd-0001 is stored already, result not "
	    "recorded") != NULL, "log: %s", log);
	cr_assert(strstr(log, "empty or too long id, not recorded") != NULL,
	    "log: %s", log);
	cr_assert(strstr(log, "command cmd-0003: status is not ok, error or "
	    "unsupported, not recorded") != NULL, "log: %s", log);
	cr_assert(strstr(log, "command cmd-0003: result is not a JSON object, "
	    "not recorded") != NULL, "log: %s", log);
	store_get_stats(st, &s);
	cr_assert_eq(s.next_seq[EVS], 4, "no seq taken");

	query_cmds(st, false, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.c[0].id, "cmd-0001");
	cr_assert_str_eq(r.c[1].id, "cmd-0002");
	cr_assert_str_eq(r.result[1], "(null)");
	cr_assert_eq(store_command_delivered(st, "cmd-0001"), 0);
	cr_assert_eq(store_command_delivered(st, "cmd-0001"), 0);
	capture_start();
	cr_assert_eq(store_command_delivered(st, "cmd-9999"), -1);
	cr_assert_eq(store_command_delivered(st, ""), -1);
	log = capture_end();
	cr_assert(strstr(log, "command cmd-9999 is not stored") != NULL,
	    "log: %s", log);
	query_cmds(st, true, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.c[0].id, "cmd-0002");
	cr_assert_eq(store_command_get(st, "cmd-0001", &got), 1);
	cr_assert(got.delivered);
	assert_seq_dense(store_db(st), 3, 3);
	store_close(st);

	/* Read-only: get and query work, put does not. */
	st = store_open_readonly(dbpath);
	cr_assert_not_null(st);
	cr_assert_eq(store_command_get(st, "cmd-0002", &got), 1);
	cr_assert_eq(got.seq, 3);
	query_cmds(st, false, &r);
	cr_assert_eq(r.n, 2);
	cr_assert(r.c[0].delivered);
	c = mkcommand("cmd-0004", "status", "ok", T0_MS);
	capture_start();
	cr_assert_eq(store_command_put(st, &c), -1);
	cr_assert_eq(store_command_delivered(st, "cmd-0002"), -1);
	(void)capture_end();
	store_close(st);
}

/* --------------------------------------------------------------- chain */

/* Recompute a stream's chain from its records, as an export would. */
struct rechain {
	struct store	*st;
	const char	*tz;
	struct chain	 c;
	uint64_t	 n;
	uint64_t	 mismatch;	/* first seq whose stored link differs */
	bool		 first;
};

static int
rechain_one(const struct store_record *r, void *arg)
{
	struct rechain	*k = arg;
	unsigned char	 h[CHAIN_HASH_LEN];
	char		*txt;
	size_t		 len;

	if (k->first) {
		/* The anchor: the link below the first record, if any. */
		if (store_chain_link(k->st, r->stream, r->seq - 1, h) == 1)
			chain_resume(&k->c, r->seq - 1, h);
		k->first = false;
	}
	txt = wirerec_canonical(r, k->tz, &len);
	cr_assert_not_null(txt);
	cr_assert_eq(chain_add(&k->c, r->seq, txt, len), 0);
	free(txt);
	cr_assert_eq(store_chain_link(k->st, r->stream, r->seq, h), 1,
	    "no link for %llu", (unsigned long long)r->seq);
	if (memcmp(h, k->c.head, CHAIN_HASH_LEN) != 0 && k->mismatch == 0)
		k->mismatch = r->seq;
	k->n++;
	return 0;
}

static struct rechain
rechain(struct store *st, enum store_stream stream)
{
	struct rechain	 k;

	memset(&k, 0, sizeof(k));
	k.st = st;
	k.tz = store_chain_timezone(st);
	k.first = true;
	chain_init(&k.c);
	cr_assert_eq(store_stream_read(st, stream, 1, UINT64_MAX, 0,
	    rechain_one, &k), 0);
	return k;
}

/*
 * Every committed record is linked in its commit, over its canonical
 * bytes; the head is the last link; a read-only connection sees the same.
 */
Test(store, chain_links_every_record_at_commit)
{
	struct store_opts o = mkopts();
	struct store	*st, *ro;
	struct rechain	 k;
	struct chain	 head, rohead;
	int64_t		 t0 = mkfix(0).t_utc_ms;

	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_chain_timezone(st), "Asia/Shanghai");
	cr_assert_eq(store_chain_head(st, POS, &head), 0);
	cr_assert_eq(head.seq, 0);
	put_n(st, 0, 7, 0);
	cr_assert_eq(put_event(st, mkevent(1, RULES_EV_INSTANT,
	    RULES_INSPECTION, RULES_INFO, t0, t0), "{\"result\":\"pass\"}"),
	    0, "an info event is not urgent");
	cr_assert_eq(store_commit(st), 0);
	put_n(st, 7, 3, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM chain "
	    "WHERE stream = 1"), 10);
	k = rechain(st, POS);
	cr_assert_eq(k.n, 10);
	cr_assert_eq(k.mismatch, 0, "link %llu differs",
	    (unsigned long long)k.mismatch);
	cr_assert_eq(store_chain_head(st, POS, &head), 0);
	cr_assert_eq(head.seq, 10);
	cr_assert_eq(memcmp(head.head, k.c.head, CHAIN_HASH_LEN), 0);
	k = rechain(st, EVS);
	cr_assert_eq(k.n, 1);
	cr_assert_eq(k.mismatch, 0);

	ro = store_open_readonly(dbpath);
	cr_assert_not_null(ro);
	cr_assert_eq(store_chain_head(ro, POS, &rohead), 0);
	cr_assert_eq(rohead.seq, 10);
	cr_assert_eq(memcmp(rohead.head, head.head, CHAIN_HASH_LEN), 0);
	cr_assert_str_eq(store_chain_timezone(ro), "Asia/Shanghai");
	store_close(ro);

	/* Edited behind the store's back: the stored links disagree. */
	sql_exec(store_db(st), "UPDATE positions SET speed_mps = 33.0 "
	    "WHERE seq = 4");
	k = rechain(st, POS);
	cr_assert_eq(k.mismatch, 4);
	store_close(st);
}

/*
 * The chain's zone is the one it started with: a later device.timezone
 * does not change old records' canonical bytes.
 */
Test(store, chain_timezone_is_fixed)
{
	struct store_opts o = mkopts();
	struct store	*st;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 2, 0);
	cr_assert_eq(store_commit(st), 0);
	store_close(st);
	o.timezone = "Asia/Urumqi";
	st = store_open(&o);
	cr_assert_not_null(st);
	cr_assert_str_eq(store_timezone(st), "Asia/Urumqi");
	cr_assert_str_eq(store_chain_timezone(st), "Asia/Shanghai");
	put_n(st, 2, 2, 0);
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(rechain(st, POS).mismatch, 0);
	store_close(st);
}

/* A file from before the chain: its records are chained at open. */
Test(store, chain_added_to_older_file)
{
	struct store_opts o = mkopts();
	struct store	*st;
	sqlite3		*db;
	struct rechain	 k;
	const char	*log;

	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 20, 0);
	cr_assert_eq(store_commit(st), 0);
	store_close(st);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sql_exec(db, "DROP TABLE chain; DROP TABLE checkpoints; "
	    "DELETE FROM meta WHERE key = 'chain_timezone'; "
	    "PRAGMA user_version = 5");
	sqlite3_close(db);

	capture_start();
	st = store_open(&o);
	log = capture_end();
	cr_assert_not_null(st);
	cr_assert(strstr(log, "schema migrated to version 6 (from 5)") !=
	    NULL, "log: %s", log);
	cr_assert(strstr(log, "chained 20 records stored before") != NULL,
	    "log: %s", log);
	k = rechain(st, POS);
	cr_assert_eq(k.n, 20);
	cr_assert_eq(k.mismatch, 0);
	store_close(st);
}

/*
 * Retention keeps the link below the oldest record it keeps (the
 * anchor), and the head when it deletes everything; the chain goes on.
 */
Test(store, chain_survives_retention)
{
	struct store_opts o = mkopts();
	struct store	*st;
	struct chain	 head;
	struct rechain	 k;
	unsigned char	 h[CHAIN_HASH_LEN];

	o.keep_days = 1;
	o.acks = false;
	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 10, 0);
	cr_assert_eq(store_commit(st), 0);
	put_n(st, 3000, 5, 0);		/* 3000 s later, kept */
	cr_assert_eq(store_commit(st), 0);
	cr_assert_eq(store_retention(st, mkfix(10).t_utc_ms +
	    INT64_C(86400000) + 1000), 10);
	cr_assert_eq(store_chain_link(st, POS, 10, h), 1, "anchor kept");
	cr_assert_eq(store_chain_link(st, POS, 9, h), 0, "pruned");
	k = rechain(st, POS);
	cr_assert_eq(k.n, 5);
	cr_assert_eq(k.mismatch, 0);
	/* Everything goes: the head stays, and the next record links on. */
	cr_assert_eq(store_retention(st, mkfix(4000).t_utc_ms +
	    INT64_C(86400000)), 5);
	cr_assert_eq(store_chain_head(st, POS, &head), 0);
	cr_assert_eq(head.seq, 15);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM chain "
	    "WHERE stream = 1"), 1);
	put_n(st, 5000, 1, 0);
	cr_assert_eq(store_commit(st), 0);
	k = rechain(st, POS);
	cr_assert_eq(k.n, 1);
	cr_assert_eq(k.mismatch, 0);
	store_close(st);
}

static int
collect_cp(const struct store_checkpoint *cp, void *arg)
{
	char	*out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%lld:%llu/%llu:%s:%zu;",
	    (long long)cp->id, (unsigned long long)cp->seq[EVS],
	    (unsigned long long)cp->seq[POS], cp->body, cp->siglen);
	return 0;
}

/* Checkpoints: stored with the pending records, read back by id. */
Test(store, checkpoints_round_trip)
{
	struct store_opts o = mkopts();
	struct store	*st, *ro;
	struct store_checkpoint cp;
	unsigned char	 sig[64];
	char		 out[256] = "";

	memset(sig, 0xab, sizeof(sig));
	st = store_open(&o);
	cr_assert_not_null(st);
	put_n(st, 0, 3, 0);
	memset(&cp, 0, sizeof(cp));
	cp.t_utc_ms = 1000;
	cp.seq[POS] = 3;
	cp.body = "{\"a\":1}";
	cp.sig = sig;
	cp.siglen = sizeof(sig);
	cr_assert_eq(store_checkpoint_put(st, &cp), 0);
	cr_assert_eq(cp.id, 1);
	cr_assert_eq(sql_int(store_db(st), "SELECT count(*) FROM positions"),
	    3, "the pending records went with it");
	cp.seq[EVS] = 0;
	cp.seq[POS] = 3;
	cp.body = "{\"b\":2}";
	cr_assert_eq(store_checkpoint_put(st, &cp), 0);
	cr_assert_eq(cp.id, 2);
	cp.siglen = 0;
	cr_assert_eq(store_checkpoint_put(st, &cp), -1);
	ro = store_open_readonly(dbpath);
	cr_assert_not_null(ro);
	cr_assert_eq(store_checkpoint_query(ro, 2, collect_cp, out), 0);
	cr_assert_str_eq(out, "2:0/3:{\"b\":2}:64;");
	store_close(ro);
	store_close(st);
}
