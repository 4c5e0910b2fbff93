/* SPDX-License-Identifier: MIT */
/*
 * chain.h - the hash chain that makes a record stream tamper-evident
 * (reliability brief §3.3 (b); offline inspection, issue 7).
 *
 * Each stream has its own chain.  For record i (seq s_i, in seq order):
 *
 *   h_0 = 32 zero bytes
 *   h_i = SHA-256(h_{i-1} || s_i as 8 bytes big-endian || bytes_i)
 *
 * where bytes_i are the record's canonical bytes: its platform record
 * (wirerec.h) dumped with WIREREC_DUMP_FLAGS, the exact bytes the
 * platform receives.  A record edited, removed from the middle or moved
 * changes every later link; the head, signed at checkpoints, vouches for
 * all records before it.  Pure: OpenSSL's SHA-256, no I/O, no clock.
 */
#ifndef CHAIN_H
#define CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define CHAIN_HASH_LEN	32
#define CHAIN_HEX_LEN	(2 * CHAIN_HASH_LEN + 1)

struct chain {
	unsigned char	head[CHAIN_HASH_LEN];	/* h of the last record */
	uint64_t	seq;			/* its seq, 0: none yet */
};

/* An empty chain: head h_0, seq 0. */
void	chain_init(struct chain *);
/* A chain that goes on from a known link (seq, head). */
void	chain_resume(struct chain *, uint64_t seq,
	    const unsigned char head[CHAIN_HASH_LEN]);
/*
 * Add the record seq with its canonical bytes.  seq must be above the
 * chain's (records retention deleted leave a gap the caller accounts
 * for; the chain itself only orders).  0, or -1 (seq not increasing,
 * hashing failed): the chain is unchanged.
 */
int	chain_add(struct chain *, uint64_t seq, const void *bytes,
	    size_t len);
/* Lower-case hex of a hash, NUL-terminated. */
void	chain_hex(const unsigned char h[CHAIN_HASH_LEN],
	    char out[CHAIN_HEX_LEN]);
/* Parse 64 hex digits (either case).  0, or -1. */
int	chain_unhex(const char *hex, unsigned char out[CHAIN_HASH_LEN]);

#endif /* CHAIN_H */
