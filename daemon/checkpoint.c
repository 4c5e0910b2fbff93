/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.c - signed checkpoints of the hash chains (checkpoint.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checkpoint.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

char *
checkpoint_body(const char *device, int64_t t_utc_ms, const char *tz,
    const char *reason, const struct chain heads[STORE_STREAMS])
{
	char		 when[40], hex[CHAIN_HEX_LEN], *txt;
	json_t		*o, *h;
	int		 i;

	if (timefmt_format(t_utc_ms, tz, when, sizeof(when)) == -1)
		return NULL;
	o = json_pack("{s:s, s:s, s:s, s:s}", "kind", "checkpoint",
	    "device", device, "time", when, "reason", reason);
	if (o == NULL)
		return NULL;
	for (i = 0; i < STORE_STREAMS; i++) {
		chain_hex(heads[i].head, hex);
		h = json_pack("{s:I, s:s}", "seq", (json_int_t)heads[i].seq,
		    "head", hex);
		json_object_set_new(o, store_stream_name((enum store_stream)i),
		    h);
	}
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return txt;
}

int
checkpoint_parse(const char *body, size_t len, struct checkpoint_info *out,
    char *why, size_t whylen)
{
	json_error_t	 err;
	json_t		*o, *h;
	const char	*kind, *device, *when, *reason, *hex;
	json_int_t	 seq;
	unsigned char	 head[CHAIN_HASH_LEN];
	int		 i, ret = -1;

	memset(out, 0, sizeof(*out));
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL) {
		snprintf(why, whylen, "not JSON: %s", err.text);
		return -1;
	}
	if (json_unpack_ex(o, &err, 0, "{s:s, s:s, s:s, s:s}", "kind", &kind,
	    "device", &device, "time", &when, "reason", &reason) == -1) {
		snprintf(why, whylen, "%s", err.text);
		goto out;
	}
	if (strcmp(kind, "checkpoint") != 0) {
		snprintf(why, whylen, "kind is \"%s\", not \"checkpoint\"",
		    kind);
		goto out;
	}
	if (strlen(device) > CHECKPOINT_DEVICE_MAX ||
	    strlen(when) >= sizeof(out->time) ||
	    strlen(reason) >= sizeof(out->reason)) {
		snprintf(why, whylen, "device, time or reason too long");
		goto out;
	}
	util_strlcpy(out->device, device, sizeof(out->device));
	util_strlcpy(out->time, when, sizeof(out->time));
	util_strlcpy(out->reason, reason, sizeof(out->reason));
	for (i = 0; i < STORE_STREAMS; i++) {
		h = json_object_get(o, store_stream_name((enum store_stream)i));
		if (json_unpack_ex(h, &err, 0, "{s:I, s:s}", "seq", &seq,
		    "head", &hex) == -1) {
			snprintf(why, whylen, "%s: %s",
			    store_stream_name((enum store_stream)i), err.text);
			goto out;
		}
		if (seq < 0 || chain_unhex(hex, head) == -1) {
			snprintf(why, whylen, "%s: bad seq or head",
			    store_stream_name((enum store_stream)i));
			goto out;
		}
		chain_resume(&out->heads[i], (uint64_t)seq, head);
	}
	ret = 0;
 out:
	json_decref(o);
	return ret;
}

static bool
heads_equal(const struct chain a[STORE_STREAMS],
    const struct chain b[STORE_STREAMS])
{
	int	i;

	for (i = 0; i < STORE_STREAMS; i++)
		if (a[i].seq != b[i].seq ||
		    memcmp(a[i].head, b[i].head, CHAIN_HASH_LEN) != 0)
			return false;
	return true;
}

int
checkpoint_make(struct store *st, const struct sign_key *key,
    const char *device, int64_t t_utc_ms, const char *reason, bool force,
    struct chain last[STORE_STREAMS])
{
	struct store_checkpoint	 cp;
	struct chain		 heads[STORE_STREAMS];
	unsigned char		 sig[SIGN_SIG_LEN];
	char			*body;
	int			 i, rc;

	/* The pending records first: they are chained as they commit. */
	if (store_commit(st) == -1)
		return -1;
	for (i = 0; i < STORE_STREAMS; i++)
		if (store_chain_head(st, (enum store_stream)i, &heads[i]) ==
		    -1)
			return -1;
	if (!force && heads_equal(heads, last))
		return 0;
	body = checkpoint_body(device, t_utc_ms, store_chain_timezone(st),
	    reason, heads);
	if (body == NULL) {
		log_warnx("checkpoint: cannot format time %" PRId64,
		    t_utc_ms);
		return -1;
	}
	if (sign_raw(key, body, strlen(body), sig) == -1) {
		log_warnx("checkpoint: signing failed");
		free(body);
		return -1;
	}
	memset(&cp, 0, sizeof(cp));
	cp.t_utc_ms = t_utc_ms;
	for (i = 0; i < STORE_STREAMS; i++)
		cp.seq[i] = heads[i].seq;
	cp.body = body;
	cp.sig = sig;
	cp.siglen = sizeof(sig);
	rc = store_checkpoint_put(st, &cp);
	free(body);
	if (rc == -1)
		return -1;
	memcpy(last, heads, sizeof(heads));
	log_debug("checkpoint: %" PRId64 " (%s): events %" PRIu64
	    ", positions %" PRIu64, cp.id, reason,
	    heads[STORE_STREAM_EVENTS].seq, heads[STORE_STREAM_POSITIONS].seq);
	return 1;
}

struct cp_last {
	char	*body;
};

static int
cp_keep_last(const struct store_checkpoint *cp, void *arg)
{
	struct cp_last	*l = arg;

	free(l->body);
	l->body = xstrdup(cp->body);
	return 0;
}

int
checkpoint_last(struct store *st, struct chain last[STORE_STREAMS])
{
	struct checkpoint_info	 ci;
	struct cp_last		 l = { NULL };
	char			 why[128];
	int			 i;

	for (i = 0; i < STORE_STREAMS; i++)
		chain_init(&last[i]);
	if (store_checkpoint_query(st, 0, cp_keep_last, &l) == -1)
		return -1;
	if (l.body == NULL)
		return 0;
	if (checkpoint_parse(l.body, strlen(l.body), &ci, why,
	    sizeof(why)) == -1)
		log_warnx("checkpoint: the newest stored checkpoint is "
		    "unreadable (%s); a new one will be made", why);
	else
		memcpy(last, ci.heads, sizeof(ci.heads));
	free(l.body);
	return 0;
}
