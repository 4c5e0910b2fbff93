/* SPDX-License-Identifier: MIT */
/*
 * store.h - the SQLite store: schema, migrations, batched commits, seq,
 * retention and queries.
 *
 * WAL with synchronous=FULL.  Positions are buffered in RAM (bounded) and
 * written in one transaction per batch: when commit_rows are pending or
 * commit_interval_ms has passed since the first pending row, or on
 * store_commit().  Each committed record gets a seq, dense, increasing and
 * never reused, across restarts and crashes (kill -9 included).  The
 * counter lives in memory and is derived at open from the stored records
 * (highest seq + 1) and meta.seq_floor, which retention raises to the next
 * seq whenever it deletes; a batch commit writes no counter.  A failed
 * COMMIT gives its seqs back and keeps the rows in RAM for the next
 * attempt.
 *
 * Schema: version 1 had meta.next_seq, advanced by every commit; version 2
 * turns it into meta.seq_floor.  Read-only connections read either.
 *
 * The read-only mode is for fleetgwctl; it works while the daemon writes.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

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
 * Buffer one fix (copied) for the next commit.  0, or -1 if the RAM buffer
 * (4096 rows) is still full after a forced commit attempt, or if the fix
 * has a non-finite lat/lon (refused: it could never be stored).  Refused
 * fixes are counted in store_stats.refused.
 */
int		 store_put_position(struct store *, const struct fix *,
		    uint64_t now_mono_ms);
/*
 * Commit if a batch is due at now_mono_ms. 0 (nothing due or committed) or
 * -1.  After a failed attempt the next one is due commit_interval_ms later,
 * whatever the number of pending rows.
 */
int		 store_commit_due(struct store *, uint64_t now_mono_ms);
/* Commit everything pending now.  0 or -1 (rows stay pending, logged). */
int		 store_commit(struct store *);
/* Milliseconds until the next batch is due, or UINT64_MAX if none pending. */
uint64_t	 store_next_due_ms(const struct store *, uint64_t now_mono_ms);

/*
 * Retention: delete the oldest rows (synced rows first, unsynced last) older
 * than keep_days before now_utc_ms, then more until the live data fit in
 * max_size_mb.  now_utc_ms <= 0 (e.g. INT64_MIN, when GNSS time is not
 * trusted yet) skips the age rule.  Logs what it dropped.  Returns rows
 * deleted, or -1.
 */
int64_t		 store_retention(struct store *, int64_t now_utc_ms);

struct store_stats {
	uint64_t	positions;	/* committed rows */
	uint64_t	pending;	/* buffered, not yet committed */
	uint64_t	next_seq;	/* seq the next committed record gets
					   (read-only: as of open) */
	uint64_t	commits;	/* successful commits since open */
	uint64_t	dropped;	/* rows deleted by retention since open */
	uint64_t	refused;	/* fixes refused by put since open */
	bool		commit_failing;	/* the last commit attempt failed */
};
void		 store_get_stats(const struct store *, struct store_stats *);

/* A committed position as read back. */
struct store_position {
	uint64_t	seq;
	struct fix	fix;
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

/* Device timezone and id recorded in the database ("" if none); borrowed. */
const char	*store_timezone(const struct store *);
const char	*store_device_id(const struct store *);

/* The underlying handle, for tests and the benchmark only. */
struct sqlite3	*store_db(struct store *);

#endif /* STORE_H */
