/* SPDX-License-Identifier: MIT */
/*
 * bundle.h - export bundles (docs/bundle.md): write the records of a
 * period with the links and signed checkpoints that prove them, and
 * verify a bundle offline.
 *
 * bundle_write() reads one snapshot of a store (the daemon's, or a file
 * opened read-only by fleetgwctl --db) and writes the bundle to a FILE.
 * bundle_verify() reads a bundle and reports every problem it finds,
 * with the stream and seqs concerned.  Both are pure of policy: who may
 * export, recording the export and making a fresh checkpoint are the
 * caller's (main.c, fleetgwctl.c).
 */
#ifndef BUNDLE_H
#define BUNDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sign.h"
#include "store.h"

#define BUNDLE_FORMAT	"fleetgw-bundle"
#define BUNDLE_VERSION	1

struct bundle_opts {
	int64_t			 from_utc_ms;	/* INT64_MIN: not given */
	int64_t			 to_utc_ms;	/* INT64_MAX: not given */
	bool			 unsynced;	/* only unacknowledged records */
	const char		*via;		/* "daemon" or "db" */
	int64_t			 exported_utc_ms;
	long			 uid;		/* who asked; -1 unknown */
	const char		*user;		/* "" unknown */
	/* Identity; NULL or "" when unknown (id: the store's). */
	const char		*device_id;
	const char		*plate;
	const char		*unit;
	const char		*vclass;
	const char		*tz;		/* for the header's times */
	const struct sign_key	*key;		/* NULL: end line unsigned */
};

struct bundle_summary {
	uint64_t	first[STORE_STREAMS];	/* 0: none of the stream */
	uint64_t	last[STORE_STREAMS];
	uint64_t	records[STORE_STREAMS];
	uint64_t	checkpoints;
	uint64_t	lines;
	bool		covered[STORE_STREAMS]; /* a checkpoint covers last */
};

/*
 * Write the bundle of the records of opts' period to out.  A stream's
 * records are those from the lowest to the highest seq with a time in
 * [from, to) (positions: the fix time; trips: the end; event records:
 * their start or end; command results: when done), above the platform's
 * acknowledged cursor with unsynced, extended to the first checkpoint
 * at or after the last one.  0, or -1 with a message in err (SQLite, a
 * file older than schema 6, a write error).  out is flushed, not closed
 * or synced.
 */
int	bundle_write(struct store *, const struct bundle_opts *, FILE *out,
	    struct bundle_summary *, char *err, size_t errlen);

/* One thing wrong with a bundle. */
struct bundle_problem {
	char		 kind[16];	/* "edited", "missing", ... */
	char		 stream[16];	/* "" when not a stream's */
	uint64_t	 from_seq;	/* 0 when not about records */
	uint64_t	 to_seq;
	char		 msg[256];	/* one line, says where */
};

#define BUNDLE_PROBLEMS_MAX	200	/* kept; more are only counted */

struct bundle_stream_result {
	uint64_t	 first;		/* declared by the header */
	uint64_t	 last;
	uint64_t	 records;	/* record lines read */
	char		 t_first[40];	/* time of the lowest seq, "" */
	char		 t_last[40];
};

struct bundle_result {
	bool		 ok;		/* no problem at all */
	bool		 trusted_key;	/* checked against a given key */
	char		 device[72];
	char		 plate[40];
	char		 exported[40];
	char		 via[16];
	struct bundle_stream_result s[STORE_STREAMS];
	uint64_t	 checkpoints;
	uint64_t	 checkpoints_good;
	uint64_t	 lines;
	bool		 end_signed;	/* the end line's signature checked */
	struct bundle_problem p[BUNDLE_PROBLEMS_MAX];
	size_t		 np;		/* kept */
	uint64_t	 nproblems;	/* all */
};

/*
 * Verify the bundle read from in against trusted (NULL: the key in the
 * header, if any, and the problem "no trusted key").  Fills *r (the
 * problems in the order found).  0 when the verdict is in *r, -1 when
 * in could not be read (errno; nothing judged).
 */
int	bundle_verify(FILE *in, const struct sign_pub *trusted,
	    struct bundle_result *r);

#endif /* BUNDLE_H */
