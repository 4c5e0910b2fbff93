/* SPDX-License-Identifier: MIT */
/*
 * sync.h - store-and-forward to the supervision platform
 * (docs/platform-api.md), inside the daemon's event loop.
 *
 * libcurl's multi socket interface: curl's sockets and its timer are
 * watched by the ev loop; nothing blocks and no thread is started.  Sync
 * looks for work before every poll of the loop (a prepare hook reading
 * the store's counters, no query), so the caller need not tell it about
 * commits.  At
 * most one upload per stream is in flight; the events stream goes first
 * (a positions upload starts only while the events stream has nothing
 * waiting), so violations overtake a position backlog.  A batch is read
 * from the store from the stream's durable cursor (store_stream_ack())
 * on, built as platform records (wirerec), gzip-compressed (zlib),
 * signed (Ed25519 over the body bytes) and POSTed; only the reply's
 * acked_through moves the cursor, never past what the batch held, or
 * its "holds" (records the platform got from an export bundle), when
 * our own chain link for that seq is the one the platform names.
 * Failures back off (capped exponential, full jitter, Retry-After
 * honoured and clamped); 400/422 split the batch down to the record that
 * is refused, which is quarantined in the store; 413 halves the batch
 * limits; 401/403 wait auth_backoff_s.
 *
 * Commands (online inspection): one long poll at a time; each command
 * id runs once (store_command_get/put); its result is stored (and so
 * becomes a command_result record of the events stream) and POSTed
 * until acknowledged.  The caller runs the commands it knows through
 * sync_hooks.command; resend is handled here.
 */
#ifndef SYNC_H
#define SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "chain.h"
#include "ev.h"
#include "sign.h"
#include "store.h"

struct sync;

struct sync_opts {
	const char	*url;		/* base, no trailing '/' */
	const char	*ca_file;	/* NULL: none (http:// only) */
	const char	*cert_file;
	const char	*key_file;
	const char	*pinned_pubkey;	/* NULL: no pin */
	bool		 allow_insecure_http;
	const char	*device_id;
	const char	*timezone;	/* device zone, for record times */
	int		 connect_timeout_s;
	int		 timeout_s;
	int		 stall_timeout_s;
	int		 batch_records;
	int		 batch_bytes;
	double		 backoff_base_s;
	double		 backoff_cap_s;
	int		 retry_after_max_s;
	double		 auth_backoff_s;
	int		 poll_wait_s;	/* 0: no command polling */
	double		 start_delay_max_s;
};

/*
 * Running a platform command (docs/platform-api.md §4.3) other than
 * resend.  Return a new result object and set *status to "ok", or NULL
 * and *status "error" (err filled) or "unsupported".  args is borrowed.
 */
typedef json_t *sync_command_fn(const char *type, json_t *args,
    const char **status, char *err, size_t errlen, void *arg);

struct sync_hooks {
	sync_command_fn	*command;
	/* GNSS time now if trusted, else the system clock (ms UTC). */
	int64_t		(*now_utc_ms)(void *arg);
	void		*arg;
};

/*
 * Start syncing (the first request waits a random 0..start_delay_max_s).
 * Strings in opts are copied; store and key are borrowed and must
 * outlive the sync.  NULL (logged) when libcurl cannot be set up.
 */
struct sync	*sync_new(struct ev_loop *, struct store *,
		    const struct sign_key *, const struct sync_opts *,
		    const struct sync_hooks *);
/* Aborts transfers in flight (nothing is marked), frees.  NULL ok. */
void		 sync_free(struct sync *);

/*
 * Per stream: pending, oldest_pending, acked_through, next_seq,
 * in_flight, last_success, last_error, next_retry_s, quarantined, and
 * the command channel; new reference.
 */
json_t		*sync_status_json(struct sync *);

/*
 * Replies, parsed without the network (fuzzed: tests/fuzz/fuzz_sync_reply.c).
 *
 * sync_parse_ack: a 2xx reply to an upload of stream: {"stream",
 * "acked_through": N >= 0, "rejected": [{"seq", "reason"}], "holds":
 * {"seq": M, "h": "<64 hex>"}}.  0 and *out (at most SYNC_REJECTED_MAX
 * rejected entries with an integer seq >= 1, reasons cut to fit), or -1
 * with why (not JSON, another stream, no acked_through).  "holds" is
 * optional (docs/platform-api.md §2.1, records the platform got from a
 * bundle): holds is SYNC_HOLDS_NONE without it, SYNC_HOLDS_OK with
 * holds_seq >= 1 and holds_h, SYNC_HOLDS_BAD when it is there but not
 * that shape (the rest of the reply still counts).  Whether N and M are
 * plausible is the caller's business.
 *
 * sync_parse_command: one element of a poll reply's "commands": 0 with
 * id, type (1..STORE_CMD_*_MAX bytes) and args (an object or NULL), all
 * borrowed from cmd; or -1 with why, and id set when the command has a
 * usable id (so an error result can be posted for it).
 */
#define SYNC_REJECTED_MAX	64
enum sync_holds {
	SYNC_HOLDS_NONE,
	SYNC_HOLDS_OK,
	SYNC_HOLDS_BAD
};
struct sync_ack {
	uint64_t	acked_through;
	enum sync_holds	holds;
	uint64_t	holds_seq;
	unsigned char	holds_h[CHAIN_HASH_LEN];
	size_t		nrejected;
	struct {
		uint64_t	seq;
		char		reason[128];
	}		rejected[SYNC_REJECTED_MAX];
};
int	sync_parse_ack(const char *buf, size_t len, const char *stream,
	    struct sync_ack *out, char *why, size_t whylen);
int	sync_parse_command(const json_t *cmd, const char **id,
	    const char **type, const json_t **args, char *why, size_t whylen);

#endif /* SYNC_H */
