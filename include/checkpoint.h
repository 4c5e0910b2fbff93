/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.h - signed checkpoints of the records' hash chains
 * (chain.h; reliability brief §3.3 (b); docs/bundle.md).
 *
 * A checkpoint is the heads of both streams' chains, signed with the
 * gateway's Ed25519 key (sign.h): whoever holds the public key can tell
 * that the gateway's chains reached those links, so every record linked
 * before them is vouched for.  Its body is one compact JSON object, the
 * exact bytes signed:
 *
 *   {"kind":"checkpoint","device":"SC-0001",
 *    "time":"2026-11-17T12:00:00+08:00","reason":"interval",
 *    "events":{"seq":9,"head":"<64 hex>"},
 *    "positions":{"seq":2229,"head":"<64 hex>"}}
 *
 * time is the GNSS time (system time when there is no fix yet) in the
 * chain's zone; reason is "start", "interval", "stop" or "export".  The
 * daemon makes one at start when records are not vouched for yet, every
 * signing.checkpoint_interval_s while records come, at a clean stop
 * and before each export.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "sign.h"
#include "store.h"

#define CHECKPOINT_DEVICE_MAX	64	/* bytes of a device id */

/* A checkpoint body, parsed. */
struct checkpoint_info {
	char		 device[CHECKPOINT_DEVICE_MAX + 1];
	char		 time[40];		/* as written */
	char		 reason[16];
	struct chain	 heads[STORE_STREAMS];
};

/*
 * The body for heads (new string), or NULL (a time that cannot be
 * formatted in tz).
 */
char	*checkpoint_body(const char *device, int64_t t_utc_ms, const char *tz,
	    const char *reason, const struct chain heads[STORE_STREAMS]);

/*
 * Parse len bytes of a body.  0, or -1 with the reason in why (not JSON,
 * not a checkpoint, a member missing or of the wrong type, a head that
 * is not 64 hex digits, a seq out of range).
 */
int	 checkpoint_parse(const char *body, size_t len,
	    struct checkpoint_info *out, char *why, size_t whylen);

/*
 * Sign the store's current heads and store the checkpoint (with the
 * pending records, committed at once; they are chained first).  Unless
 * force, nothing is done when the heads are those of *last.  *last
 * becomes the heads signed.  1 made, 0 nothing new, -1 error (logged).
 */
int	 checkpoint_make(struct store *, const struct sign_key *,
	    const char *device, int64_t t_utc_ms, const char *reason,
	    bool force, struct chain last[STORE_STREAMS]);

/*
 * The heads of the newest stored checkpoint (seq 0 when there is none),
 * for checkpoint_make()'s last.  0 or -1 (logged).
 */
int	 checkpoint_last(struct store *, struct chain last[STORE_STREAMS]);

#endif /* CHECKPOINT_H */
