/* SPDX-License-Identifier: MIT */
/*
 * sync.c - store-and-forward to the supervision platform over HTTPS
 * (docs/platform-api.md), driven by the ev loop through libcurl's multi
 * socket interface.
 *
 * Four channels share one curl multi handle (and so its connection
 * cache): the events upload, the positions upload, the command poll
 * and the command result post.  Each has at most one transfer in flight
 * and its own failure count, backoff timer and last error.  Nothing here
 * marks a record as delivered but a 2xx reply's acked_through, stored
 * with store_stream_ack() before anything else happens.
 */
#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "log.h"
#include "sync.h"
#include "timefmt.h"
#include "util.h"
#include "wirerec.h"

#ifndef FLEETGW_VERSION
#define FLEETGW_VERSION "dev"
#endif

#define SYNC_REPLY_MAX		(1024 * 1024)	/* bytes of a reply kept */
#define SYNC_LOG_EVERY		10	/* repeated failures: log 1 in N */
#define SYNC_ERR_SNIPPET	200	/* bytes of a platform error logged */
#define SYNC_INSECURE_WARN_MS	(3600 * 1000)
#define SYNC_POLL_SLACK_S	30	/* poll timeout beyond wait_s */

enum sync_chan {
	CHAN_EVENTS,		/* = STORE_STREAM_EVENTS */
	CHAN_POSITIONS,		/* = STORE_STREAM_POSITIONS */
	CHAN_POLL,
	CHAN_RESULT,
	CHANS
};

static const char *const sync_chan_names[CHANS] = {
	"events", "positions", "commands", "results"
};

struct sync_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 truncated;
};

/* A built batch: its gzip body and what it holds. */
struct sync_body {
	unsigned char	*gz;		/* NULL: none */
	size_t		 gz_len;
	size_t		 json_len;
	uint64_t	 first;
	uint64_t	 last;
	uint64_t	 n;		/* records */
};

struct sync_xfer {
	struct sync		*s;
	enum sync_chan		 chan;
	CURL			*easy;		/* non-NULL while in flight */
	struct curl_slist	*hdrs;
	unsigned char		*body;		/* gzip, what was signed */
	size_t			 body_len;
	size_t			 json_len;	/* body before gzip */
	struct sync_buf		 reply;
	char			 errbuf[CURL_ERROR_SIZE];
	struct ev_timer		 timer;		/* backoff */
	unsigned		 failures;	/* consecutive */
	uint64_t		 retry_at_ms;	/* mono; 0: not waiting */
	char			 last_error[256];
	int64_t			 last_success_utc_ms;
	uint64_t		 requests;
	uint64_t		 logged_failures;

	/* uploads */
	uint64_t		 cursor;	/* acked_through, as stored */
	uint64_t		 known_last;	/* highest committed seq */
	uint64_t		 sent_first;	/* batch in flight */
	uint64_t		 sent_last;
	uint64_t		 sent_records;
	bool			 sent_resend;
	uint64_t		 limit_records;	/* adaptive (413) */
	uint64_t		 limit_bytes;
	uint64_t		 ceil_records;	/* 3/4 of the smallest 413'd */
	uint64_t		 ceil_bytes;
	uint64_t		 split_limit;	/* 400/422 bisection; 0 none */
	uint64_t		 split_end;
	uint64_t		 skip_through;	/* quarantined, passed */
	uint64_t		 resend_from;	/* 0: no resend asked */
	uint64_t		 resend_to;
	uint64_t		 records_sent;	/* records in acked batches */
	uint64_t		 holds_ignored;	/* last "holds" seq not believed */
	struct sync_body	 next;		/* prebuilt next batch */
	uint64_t		 started_turn;	/* ev_iterations() at start */
	uint64_t		 quarantined;

	/* result post */
	char			 cmd_id[STORE_CMD_ID_MAX + 1];
};

struct sync {
	struct ev_loop		*loop;
	struct store		*store;
	const struct sign_key	*key;
	struct sync_opts	 o;
	char			*strs[8];	/* copies of the opts strings */
	struct sync_hooks	 hooks;
	CURLM			*multi;
	struct ev_timer		 curl_timer;
	struct ev_timer		 start_timer;
	struct ev_timer		 warn_timer;
	bool			 started;
	bool			 in_action;	/* inside socket_action */
	struct sync_xfer	 x[CHANS];
	unsigned short		 rng[3];
	char			*base;		/* url/v1/devices/{id} */
	uint64_t		 commands_run;
	char			 repost_id[STORE_CMD_ID_MAX + 1];
	bool			 results_check;	/* look for results to post */
};

static void	sync_schedule(struct sync *);
static void	sync_check_done(struct sync *);

/* ---- helpers ------------------------------------------------------- */

static double
sync_uniform(struct sync *s)
{
	return erand48(s->rng);
}

static int64_t
sync_now_utc(struct sync *s)
{
	struct timespec	ts;

	if (s->hooks.now_utc_ms != NULL)
		return s->hooks.now_utc_ms(s->hooks.arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
sync_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sync_buf	*b = arg;
	size_t		 n = size * nmemb, keep = n;
	char		*p;

	if (b->len + keep > SYNC_REPLY_MAX) {
		keep = SYNC_REPLY_MAX - b->len;
		b->truncated = true;
	}
	if (b->len + keep + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;

		while (cap < b->len + keep + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return 0;	/* curl aborts the transfer */
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, keep);
	b->len += keep;
	b->p[b->len] = '\0';
	return n;
}

/* gzip (RFC 1952) of in[0..len) into a new buffer. 0 or -1. */
static int
sync_gzip(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream	 z;
	unsigned char	*buf;
	uLong		 bound;
	int		 rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len) + 32;
	if ((buf = malloc(bound)) == NULL) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = bound - z.avail_out;
	return 0;
}

static void
sync_xfer_reset(struct sync_xfer *x)
{
	if (x->easy != NULL) {
		curl_multi_remove_handle(x->s->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	free(x->body);
	x->body = NULL;
	x->body_len = 0;
	free(x->reply.p);
	memset(&x->reply, 0, sizeof(x->reply));
}

/* Record a failure and arm the retry after delay_s. */
static void
sync_fail(struct sync_xfer *x, double delay_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sync_fail(struct sync_xfer *x, double delay_s, const char *fmt, ...)
{
	struct sync	*s = x->s;
	va_list		 ap;
	char		 msg[sizeof(x->last_error)];
	bool		 same;
	uint64_t	 ms;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	same = strcmp(msg, x->last_error) == 0;
	util_strlcpy(x->last_error, msg, sizeof(x->last_error));
	x->failures++;
	if (delay_s < 0)
		delay_s = 0;
	ms = (uint64_t)llround(delay_s * 1000.0);
	x->retry_at_ms = ev_now_ms(s->loop) + ms;
	ev_timer_set(s->loop, &x->timer, ms);
	if (!same || x->logged_failures % SYNC_LOG_EVERY == 0)
		log_warnx("sync: %s: %s; retry %u in %.1f s",
		    sync_chan_names[x->chan], msg, x->failures, delay_s);
	else
		log_debug("sync: %s: %s; retry %u in %.1f s",
		    sync_chan_names[x->chan], msg, x->failures, delay_s);
	x->logged_failures++;
}

/* Full jitter: uniform(0, min(cap, base * 2^n)), at least the floor. */
static double
sync_backoff(struct sync_xfer *x)
{
	struct sync	*s = x->s;
	double		 ceil_s, floor_s;
	unsigned	 n = x->failures < 40 ? x->failures : 40;

	ceil_s = s->o.backoff_base_s * ldexp(1.0, (int)n);
	if (ceil_s > s->o.backoff_cap_s)
		ceil_s = s->o.backoff_cap_s;
	floor_s = s->o.backoff_base_s < 1.0 ? s->o.backoff_base_s : 1.0;
	ceil_s = sync_uniform(s) * ceil_s;
	return ceil_s < floor_s ? floor_s : ceil_s;
}

static void
sync_success(struct sync_xfer *x)
{
	x->failures = 0;
	x->logged_failures = 0;
	x->last_error[0] = '\0';
	x->retry_at_ms = 0;
	x->last_success_utc_ms = sync_now_utc(x->s);
}

/* The platform's {"error": "..."} text, cut for the log. */
static void
sync_reply_error(const struct sync_xfer *x, char *buf, size_t len)
{
	json_t		*r, *e;
	json_error_t	 jerr;

	buf[0] = '\0';
	if (x->reply.p == NULL)
		return;
	r = json_loadb(x->reply.p, x->reply.len, 0, &jerr);
	e = json_object_get(r, "error");
	if (json_is_string(e))
		snprintf(buf, len, ": %.*s", SYNC_ERR_SNIPPET,
		    json_string_value(e));
	json_decref(r);
}

/* ---- curl glue ----------------------------------------------------- */

static void
sync_on_fd(int fd, short revents, void *arg)
{
	struct sync	*s = arg;
	int		 flags = 0, running;

	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	s->in_action = true;
	curl_multi_socket_action(s->multi, fd, flags, &running);
	s->in_action = false;
	sync_check_done(s);
}

static int
sync_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct sync	*s = userp;
	short		 events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL) {
			ev_fd_del(s->loop, fd);
			curl_multi_assign(s->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= POLLIN;
	if (what & CURL_POLL_OUT)
		events |= POLLOUT;
	if (socketp == NULL) {
		if (ev_fd_add(s->loop, fd, events, sync_on_fd, s) == -1) {
			log_warnx("sync: cannot watch socket %d", fd);
			return -1;
		}
		curl_multi_assign(s->multi, fd, s);
	} else
		ev_fd_mod(s->loop, fd, events);
	return 0;
}

static void
sync_on_curl_timer(void *arg)
{
	struct sync	*s = arg;
	int		 running;

	s->in_action = true;
	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	s->in_action = false;
	sync_check_done(s);
}

static int
sync_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sync	*s = userp;

	(void)multi;
	if (timeout_ms < 0)
		ev_timer_stop(s->loop, &s->curl_timer);
	else
		ev_timer_set(s->loop, &s->curl_timer, (uint64_t)timeout_ms);
	return 0;
}

/* A configured easy handle for url with the common TLS settings. */
static CURL *
sync_easy(struct sync_xfer *x, const char *url)
{
	struct sync	*s = x->s;
	CURL		*e;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	x->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    s->o.allow_insecure_http ? "https,http" : "https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->o.ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->o.ca_file);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	if (s->o.cert_file != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, s->o.cert_file);
	if (s->o.key_file != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, s->o.key_file);
	if (s->o.pinned_pubkey != NULL)
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY,
		    s->o.pinned_pubkey);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    (long)s->o.connect_timeout_s);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "fleetgwd/" FLEETGW_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sync_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x->reply);
	return e;
}

/* Headers: device, signature of body[0..len), and extra (may be NULL). */
static int
sync_headers(struct sync_xfer *x, const void *body, size_t len, bool gzip)
{
	struct sync		*s = x->s;
	char			 sig[SIGN_B64_LEN];
	char			 h[sizeof(sig) + 64];
	struct curl_slist	*l = NULL, *n;

	if (sign_base64(s->key, body, len, sig) == -1)
		return -1;
	snprintf(h, sizeof(h), "X-Fleetgw-Signature: ed25519=%s", sig);
	if ((n = curl_slist_append(l, h)) == NULL)
		goto fail;
	l = n;
	snprintf(h, sizeof(h), "X-Fleetgw-Device: %s", s->o.device_id);
	if ((n = curl_slist_append(l, h)) == NULL)
		goto fail;
	l = n;
	if ((n = curl_slist_append(l, "Expect:")) == NULL)
		goto fail;
	l = n;
	if (gzip) {
		if ((n = curl_slist_append(l,
		    "Content-Type: application/json")) == NULL)
			goto fail;
		l = n;
		if ((n = curl_slist_append(l, "Content-Encoding: gzip")) ==
		    NULL)
			goto fail;
		l = n;
	}
	x->hdrs = l;
	return 0;
fail:
	curl_slist_free_all(l);
	return -1;
}

/* POST x->body (set) to url, or GET when x->body is NULL. 0 or -1. */
static int
sync_start(struct sync_xfer *x, const char *url, long timeout_s,
    bool low_speed)
{
	struct sync	*s = x->s;

	if ((x->easy = sync_easy(x, url)) == NULL ||
	    sync_headers(x, x->body != NULL ? (const void *)x->body : "",
	    x->body_len, x->body != NULL) == -1) {
		sync_xfer_reset(x);
		return -1;
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, timeout_s);
	if (low_speed) {
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 100L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME,
		    (long)s->o.stall_timeout_s);
	}
	if (x->body != NULL) {
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)x->body_len);
	}
	if (curl_multi_add_handle(s->multi, x->easy) != CURLM_OK) {
		sync_xfer_reset(x);
		return -1;
	}
	x->requests++;
	return 0;
}

/* Why a transfer failed, for the log and status. */
static const char *
sync_curl_hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (the server certificate is not signed by "
		    "platform.ca_file or does not name the host)";
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return " (the server key does not match "
		    "platform.pinned_pubkey)";
	case CURLE_SSL_CERTPROBLEM:
		return " (client certificate platform.cert_file / key_file)";
	case CURLE_SSL_CACERT_BADFILE:
		return " (platform.ca_file)";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return " (only https:// is allowed)";
	case CURLE_OPERATION_TIMEDOUT:
		return " (timeout)";
	default:
		return "";
	}
}

/* ---- replies (pure; fuzzed) ---------------------------------------- */

int
sync_parse_ack(const char *buf, size_t len, const char *stream,
    struct sync_ack *out, char *why, size_t whylen)
{
	json_t		*r, *acked, *st, *rej, *it, *seq, *hd, *hseq;
	json_error_t	 jerr;
	const char	*reason;
	size_t		 i;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || len == 0) {
		snprintf(why, whylen, "empty reply");
		return -1;
	}
	if ((r = json_loadb(buf, len, 0, &jerr)) == NULL) {
		snprintf(why, whylen, "not JSON: %s", jerr.text);
		return -1;
	}
	acked = json_object_get(r, "acked_through");
	st = json_object_get(r, "stream");
	if (!json_is_object(r) || !json_is_string(st) ||
	    strcmp(json_string_value(st), stream) != 0) {
		snprintf(why, whylen, "not a reply for stream %s", stream);
		json_decref(r);
		return -1;
	}
	if (!json_is_integer(acked) || json_integer_value(acked) < 0) {
		snprintf(why, whylen, "no acked_through integer >= 0");
		json_decref(r);
		return -1;
	}
	out->acked_through = (uint64_t)json_integer_value(acked);
	if ((hd = json_object_get(r, "holds")) != NULL && !json_is_null(hd)) {
		hseq = json_object_get(hd, "seq");
		if (json_is_integer(hseq) && json_integer_value(hseq) >= 1 &&
		    chain_unhex(json_string_value(json_object_get(hd, "h")),
		    out->holds_h) == 0) {
			out->holds = SYNC_HOLDS_OK;
			out->holds_seq = (uint64_t)json_integer_value(hseq);
		} else
			out->holds = SYNC_HOLDS_BAD;
	}
	rej = json_object_get(r, "rejected");
	json_array_foreach(rej, i, it) {
		if (out->nrejected == SYNC_REJECTED_MAX)
			break;
		seq = json_object_get(it, "seq");
		if (!json_is_integer(seq) || json_integer_value(seq) < 1)
			continue;
		reason = json_string_value(json_object_get(it, "reason"));
		out->rejected[out->nrejected].seq =
		    (uint64_t)json_integer_value(seq);
		util_strlcpy(out->rejected[out->nrejected].reason,
		    reason != NULL ? reason : "",
		    sizeof(out->rejected[0].reason));
		out->nrejected++;
	}
	json_decref(r);
	return 0;
}

int
sync_parse_command(const json_t *cmd, const char **id, const char **type,
    const json_t **args, char *why, size_t whylen)
{
	const json_t	*a;

	*id = json_string_value(json_object_get(cmd, "id"));
	*type = json_string_value(json_object_get(cmd, "type"));
	*args = NULL;
	if (!json_is_object(cmd)) {
		snprintf(why, whylen, "a command is not an object");
		return -1;
	}
	if (*id == NULL || (*id)[0] == '\0' ||
	    strlen(*id) > STORE_CMD_ID_MAX) {
		snprintf(why, whylen, "id: a string of 1..%d bytes expected",
		    STORE_CMD_ID_MAX);
		return -1;
	}
	if (*type == NULL || (*type)[0] == '\0' ||
	    strlen(*type) > STORE_CMD_TYPE_MAX) {
		snprintf(why, whylen, "type: a string of 1..%d bytes expected",
		    STORE_CMD_TYPE_MAX);
		return -1;
	}
	a = json_object_get(cmd, "args");
	if (a != NULL && !json_is_object(a) && !json_is_null(a)) {
		snprintf(why, whylen, "args: an object expected");
		return -1;
	}
	*args = json_is_object(a) ? a : NULL;
	return 0;
}

/* ---- uploads ------------------------------------------------------- */

/*
 * A batch body: {"device_id":...,"stream":...,"records":[...],
 * "missing":[...]}.  Each record is dumped by jansson once, into the
 * records text, and its size counts against the byte limit as it is;
 * the body is jansson's dump of the other members with the records
 * text put in as the array's elements (the way posjson streams a
 * listing), so the record bytes sent are exactly wirerec's.
 */
struct sync_batch {
	struct sync_xfer	*x;
	char			*text;		/* "r1,r2,..." */
	size_t			 len;
	size_t			 cap;
	json_t			*missing;
	uint64_t		 expect;	/* next seq expected */
	uint64_t		 first;
	uint64_t		 last;
	uint64_t		 n;
	uint64_t		 max_bytes;
	int			 error;
};

static void
sync_body_free(struct sync_body *b)
{
	free(b->gz);
	memset(b, 0, sizeof(*b));
}

static void
sync_batch_missing(struct sync_batch *b, uint64_t from, uint64_t to)
{
	if (b->missing == NULL)
		b->missing = json_array();
	json_array_append_new(b->missing, json_pack("[I, I]",
	    (json_int_t)from, (json_int_t)to));
	if (b->first == 0)
		b->first = from;
	b->last = to;
}

static int
sync_batch_add(const struct store_record *r, void *arg)
{
	struct sync_batch	*b = arg;
	json_t			*o;
	size_t			 sz, need;
	char			*p;

	if ((o = wirerec_record(r, b->x->s->o.timezone)) == NULL) {
		log_warnx("sync: %s: record seq %" PRIu64 " cannot be "
		    "converted", sync_chan_names[b->x->chan], r->seq);
		b->error = 1;
		return 1;
	}
	sz = json_dumpb(o, NULL, 0, WIREREC_DUMP_FLAGS);
	if (sz == 0 || (b->n > 0 && b->len + 1 + sz > b->max_bytes)) {
		json_decref(o);
		if (sz == 0)
			b->error = 1;
		return 1;
	}
	need = b->len + sz + 2;
	if (need > b->cap) {
		size_t cap = b->cap == 0 ? 16384 : b->cap;

		while (cap < need)
			cap *= 2;
		if ((p = realloc(b->text, cap)) == NULL) {
			json_decref(o);
			b->error = 1;
			return 1;
		}
		b->text = p;
		b->cap = cap;
	}
	if (b->n > 0)
		b->text[b->len++] = ',';
	b->len += json_dumpb(o, b->text + b->len, sz, WIREREC_DUMP_FLAGS);
	json_decref(o);
	if (r->seq > b->expect)
		sync_batch_missing(b, b->expect, r->seq - 1);
	b->n++;
	if (b->first == 0)
		b->first = r->seq;
	b->last = r->seq;
	b->expect = r->seq + 1;
	return 0;
}

/*
 * Build the batch of records from..to (at most limit records and about
 * the byte limit) into out.  0, 1 when there is nothing (to < from), or
 * -1 (logged).
 */
static int
sync_build(struct sync_xfer *x, uint64_t from, uint64_t to, uint64_t limit,
    struct sync_body *out)
{
	struct sync		*s = x->s;
	enum store_stream	 stream = (enum store_stream)x->chan;
	struct sync_batch	 b;
	json_t			*head;
	char			*htext = NULL, *mtext = NULL, *json = NULL;
	size_t			 hlen, jlen;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	if (to < from)
		return 1;
	memset(&b, 0, sizeof(b));
	b.x = x;
	b.expect = from;
	b.max_bytes = x->limit_bytes;
	if (store_stream_read(s->store, stream, from, to, limit,
	    sync_batch_add, &b) == -1 || b.error)
		goto out;
	if (b.n == 0)
		sync_batch_missing(&b, from, to);  /* all of it is gone */
	head = json_pack("{s:s, s:s}", "device_id", s->o.device_id,
	    "stream", store_stream_name(stream));
	htext = head != NULL ? json_dumps(head, WIREREC_DUMP_FLAGS) : NULL;
	json_decref(head);
	if (b.missing != NULL)
		mtext = json_dumps(b.missing, WIREREC_DUMP_FLAGS);
	if (htext == NULL || (b.missing != NULL && mtext == NULL))
		goto out;
	/* htext is {...}: the records (and missing) go before its '}'. */
	hlen = strlen(htext) - 1;
	json = xasprintf("%.*s,\"records\":[%.*s]%s%s}", (int)hlen, htext,
	    (int)b.len, b.text != NULL ? b.text : "",
	    mtext != NULL ? ",\"missing\":" : "", mtext != NULL ? mtext : "");
	jlen = strlen(json);
	if (sync_gzip(json, jlen, &out->gz, &out->gz_len) == -1)
		goto out;
	out->json_len = jlen;
	out->first = b.first;
	out->last = b.last;
	out->n = b.n;
	rc = 0;
out:
	if (rc == -1)
		log_warnx("sync: %s: cannot build the batch %" PRIu64 "..%"
		    PRIu64, sync_chan_names[x->chan], from, to);
	free(b.text);
	json_decref(b.missing);
	free(htext);
	free(mtext);
	free(json);
	return rc;
}

/* Refresh known_last of an upload channel from the store. */
static void
sync_stream_refresh(struct sync_xfer *x)
{
	struct store_stats	ss;

	store_get_stats(x->s->store, &ss);
	x->known_last = ss.next_seq[x->chan] > 0 ?
	    ss.next_seq[x->chan] - 1 : 0;
}

static uint64_t
sync_stream_from(const struct sync_xfer *x)
{
	uint64_t	from = x->cursor;

	if (x->skip_through > from)
		from = x->skip_through;
	return from + 1;
}

static bool
sync_stream_has_work(struct sync_xfer *x)
{
	if (x->resend_from != 0)
		return true;
	return x->known_last >= sync_stream_from(x);
}

static uint64_t
sync_limit(const struct sync_xfer *x)
{
	if (x->split_limit != 0 && x->split_limit < x->limit_records)
		return x->split_limit;
	return x->limit_records;
}

/* Build and start the next batch of an upload channel. */
static void
sync_upload(struct sync_xfer *x)
{
	struct sync	*s = x->s;
	struct sync_body b;
	uint64_t	 from, to;
	char		 url[1024];
	int		 rc;

	x->sent_resend = x->resend_from != 0;
	if (x->sent_resend) {
		from = x->resend_from;
		to = x->resend_to;
	} else {
		from = sync_stream_from(x);
		to = x->known_last;
	}
	/* The batch built while the previous one was on its way. */
	if (!x->sent_resend && x->next.gz != NULL && x->next.first == from &&
	    x->next.n <= sync_limit(x) && x->next.json_len <= x->limit_bytes) {
		b = x->next;
		memset(&x->next, 0, sizeof(x->next));
		rc = 0;
	} else {
		sync_body_free(&x->next);
		rc = sync_build(x, from, to, sync_limit(x), &b);
	}
	if (rc == 1) {
		if (x->sent_resend)
			x->resend_from = x->resend_to = 0;
		return;
	}
	if (rc == -1) {
		sync_fail(x, sync_backoff(x), "cannot read records %" PRIu64
		    "..%" PRIu64 " from the store", from, to);
		return;
	}
	x->body = b.gz;
	x->body_len = b.gz_len;
	x->json_len = b.json_len;
	x->sent_first = b.first;
	x->sent_last = b.last;
	x->sent_records = b.n;
	snprintf(url, sizeof(url), "%s/records", s->base);
	if (sync_start(x, url, s->o.timeout_s, true) == -1) {
		sync_fail(x, sync_backoff(x), "cannot start a request");
		return;
	}
	x->started_turn = ev_iterations(s->loop);
	log_debug("sync: %s: sending %" PRIu64 "..%" PRIu64 " (%" PRIu64
	    " records, %zu bytes, %zu gzip)%s", sync_chan_names[x->chan],
	    b.first, b.last, b.n, b.json_len, b.gz_len,
	    x->sent_resend ? " (resend)" : "");
}

/*
 * While the platform works on the batch in flight, build the next one.
 * Only from the loop turn after the start: curl sends the request when
 * its timer runs, at the top of the next turn, so building now would
 * delay the request instead of overlapping with the platform.
 */
static void
sync_prebuild(struct sync_xfer *x)
{
	if (x->easy == NULL || x->sent_resend || x->next.gz != NULL ||
	    x->known_last <= x->sent_last ||
	    ev_iterations(x->s->loop) <= x->started_turn)
		return;
	if (sync_build(x, x->sent_last + 1, x->known_last, sync_limit(x),
	    &x->next) != 0)
		sync_body_free(&x->next);
}

static void
sync_quarantine(struct sync_xfer *x, uint64_t seq, int status,
    const char *reason)
{
	enum store_stream	stream = (enum store_stream)x->chan;

	log_warnx("sync: %s: the platform refused record seq %" PRIu64
	    " (HTTP %d%s%s); kept in quarantine, going on", sync_chan_names[
	    x->chan], seq, status, reason[0] != '\0' ? ": " : "", reason);
	if (store_stream_quarantine(x->s->store, stream, seq, status,
	    reason) == 0)
		x->quarantined++;
}

/* Double v, but not past ceil (0: none) or max. */
static uint64_t
sync_grow(uint64_t v, uint64_t ceil, uint64_t max)
{
	uint64_t	n = v * 2;

	if (ceil != 0 && n > ceil)
		n = ceil;
	if (n > max)
		n = max;
	return n > v ? n : v;
}

/*
 * The reply's "holds" (docs/platform-api.md §2.1): the platform got
 * records beyond the batch from a bundle an inspector brought it.  The
 * cursor moves there only when we hold that record and our own link for
 * it is the one the platform read in the bundle: then the platform has
 * exactly what we would send, and sending it is a waste of air time.
 * Anything else is the platform's mistake (or someone else's bundle):
 * logged and ignored, the records go up as usual.  0, or -1 when the
 * cursor cannot be stored.
 */
static int
sync_holds(struct sync_xfer *x, const struct sync_ack *ack)
{
	struct sync		*s = x->s;
	enum store_stream	 stream = (enum store_stream)x->chan;
	struct store_stream_state st;
	unsigned char		 h[CHAIN_HASH_LEN];
	uint64_t		 n = ack->holds_seq;
	const char		*name = sync_chan_names[x->chan];
	const char		*why;
	char			 buf[64];

	if (ack->holds == SYNC_HOLDS_NONE || (ack->holds == SYNC_HOLDS_OK &&
	    n <= x->cursor))
		return 0;
	if (ack->holds == SYNC_HOLDS_BAD) {
		n = UINT64_MAX;
		why = "its \"holds\" is malformed";
	} else if (store_stream_state(s->store, stream, &st) == -1) {
		return 0;	/* logged; the records go up as usual */
	} else if (n >= st.next_seq) {
		snprintf(buf, sizeof(buf), "our last record is %" PRIu64,
		    st.next_seq - 1);
		why = buf;
	} else {
		switch (store_chain_link(s->store, stream, n, h)) {
		case 1:
			why = memcmp(h, ack->holds_h, sizeof(h)) == 0 ? NULL :
			    "its link for that record is not ours";
			break;
		case 0:
			why = "we have no link for that record to check it "
			    "against";
			break;
		default:
			return 0;	/* logged */
		}
	}
	if (why != NULL) {
		/* Every reply may say it again: once is enough. */
		if (n != x->holds_ignored && ack->holds == SYNC_HOLDS_BAD)
			log_warnx("sync: %s: the platform says it holds records "
			    "from a bundle, but %s; ignored", name, why);
		else if (n != x->holds_ignored)
			log_warnx("sync: %s: the platform says it holds records "
			    "..%" PRIu64 " from a bundle, but %s; ignored, "
			    "sending them", name, n, why);
		x->holds_ignored = n;
		return 0;
	}
	if (store_stream_ack(s->store, stream, n) == -1)
		return -1;
	log_info("sync: %s: the platform holds records ..%" PRIu64 " from a "
	    "bundle", name, n);
	x->cursor = n;
	return 0;
}

/*
 * Queue from..to of x's stream to be sent again, as far as it is stored
 * (st: the stream's state), merged with a resend queued before.  The
 * first seq queued, or 0 when none of the range is stored.
 */
static uint64_t
sync_resend_queue(struct sync_xfer *x, const struct store_stream_state *st,
    uint64_t from, uint64_t to)
{
	if (to >= st->next_seq)
		to = st->next_seq - 1;
	if (st->first_seq == 0 || from > to || st->first_seq > to)
		return 0;
	if (st->first_seq > from)
		from = st->first_seq;
	if (x->resend_from == 0 || from < x->resend_from)
		x->resend_from = from;
	if (to > x->resend_to)
		x->resend_to = to;
	return from;
}

/*
 * The platform acknowledges only through a, below the cursor old: queue
 * a+1..old (what is still stored of it) to be sent again.
 */
static void
sync_forgotten(struct sync_xfer *x, uint64_t a, uint64_t old)
{
	struct store_stream_state st;
	uint64_t		  from;

	if (store_stream_state(x->s->store, (enum store_stream)x->chan,
	    &st) == -1)
		return;
	if ((from = sync_resend_queue(x, &st, a + 1, old)) == 0) {
		log_warnx("sync: %s: the platform holds only through %" PRIu64
		    ", below the %" PRIu64 " it acknowledged; those records "
		    "are no longer stored here", sync_chan_names[x->chan], a,
		    old);
		return;
	}
	log_warnx("sync: %s: the platform holds only through %" PRIu64
	    ", below the %" PRIu64 " it acknowledged (records lost on its "
	    "side?); sending %" PRIu64 "..%" PRIu64 " again",
	    sync_chan_names[x->chan], a, old, from, old);
}

/* A 2xx reply to an upload. */
static void
sync_upload_ok(struct sync_xfer *x)
{
	struct sync		*s = x->s;
	enum store_stream	 stream = (enum store_stream)x->chan;
	struct sync_ack		 ack;
	char			 why[128];
	uint64_t		 old = x->cursor, a;
	size_t			 i;

	if (sync_parse_ack(x->reply.p, x->reply.len, store_stream_name(stream),
	    &ack, why, sizeof(why)) == -1) {
		sync_fail(x, sync_backoff(x), "malformed reply to records "
		    "%" PRIu64 "..%" PRIu64 " (%s); nothing marked",
		    x->sent_first, x->sent_last, why);
		return;
	}
	a = ack.acked_through;
	if (a > x->sent_last) {
		log_warnx("sync: %s: protocol error: acked_through %" PRIu64
		    " is beyond the last record sent (%" PRIu64 "); counting "
		    "only what was sent", sync_chan_names[x->chan], a,
		    x->sent_last);
		a = x->sent_last;
	}
	for (i = 0; i < ack.nrejected; i++) {
		if (ack.rejected[i].seq < x->sent_first ||
		    ack.rejected[i].seq > x->sent_last)
			continue;
		sync_quarantine(x, ack.rejected[i].seq, 200,
		    ack.rejected[i].reason);
	}
	if (a > x->cursor && !x->sent_resend) {
		if (store_stream_ack(s->store, stream, a) == -1) {
			sync_fail(x, sync_backoff(x), "cannot store the "
			    "acknowledgement through %" PRIu64, a);
			return;
		}
		x->cursor = a;
	}
	if (sync_holds(x, &ack) == -1) {
		sync_fail(x, sync_backoff(x), "cannot store the "
		    "acknowledgement through %" PRIu64, ack.holds_seq);
		return;
	}
	if (x->sent_resend) {
		if (a >= x->resend_to || x->sent_last >= x->resend_to)
			x->resend_from = x->resend_to = 0;
		else
			x->resend_from = x->sent_last + 1;
	}
	if (x->split_limit != 0 && x->cursor >= x->split_end)
		x->split_limit = 0;
	/* Limits cut by a 413 grow back, up to below what was refused. */
	x->limit_records = sync_grow(x->limit_records, x->ceil_records,
	    (uint64_t)s->o.batch_records);
	x->limit_bytes = sync_grow(x->limit_bytes, x->ceil_bytes,
	    (uint64_t)s->o.batch_bytes);
	/*
	 * Below what it acknowledged before: the platform lost records (a
	 * restore from backup).  Cursors never move back, but what is still
	 * stored goes up again, once.
	 */
	if (!x->sent_resend && a < old && x->resend_from == 0)
		sync_forgotten(x, a, old);
	if (!x->sent_resend && a < x->sent_last && x->cursor < x->sent_last) {
		log_info("sync: %s: the platform holds through %" PRIu64
		    " of %" PRIu64 "..%" PRIu64 "; sending again from %"
		    PRIu64, sync_chan_names[x->chan], a, x->sent_first,
		    x->sent_last, a + 1);
		if (a <= old) {
			/* No progress at all: do not loop hot. */
			sync_fail(x, sync_backoff(x), "no progress: acked_"
			    "through %" PRIu64 " for records from %" PRIu64,
			    a, x->sent_first);
			return;
		}
	}
	x->records_sent += x->sent_records;
	if (x->failures > 0)
		log_info("sync: %s: delivered again after %u failures "
		    "(through %" PRIu64 ")", sync_chan_names[x->chan],
		    x->failures, x->cursor);
	sync_success(x);
}

static void
sync_upload_done(struct sync_xfer *x, CURLcode rc)
{
	struct sync	*s = x->s;
	long		 code = 0;
	curl_off_t	 ra = -1;
	double		 d;
	char		 perr[SYNC_ERR_SNIPPET + 8];

	if (rc != CURLE_OK) {
		sync_fail(x, sync_backoff(x), "records %" PRIu64 "..%" PRIu64
		    ": %s%s%s%s", x->sent_first, x->sent_last,
		    curl_easy_strerror(rc), x->errbuf[0] != '\0' ? ": " : "",
		    x->errbuf, sync_curl_hint(rc));
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	sync_reply_error(x, perr, sizeof(perr));
	if (code >= 200 && code < 300) {
		sync_upload_ok(x);
		return;
	}
	switch (code) {
	case 400:
	case 422:
	case 413:
		if (x->sent_records == 0) {
			sync_fail(x, sync_backoff(x), "HTTP %ld for a batch "
			    "without records%s", code, perr);
			return;
		}
		if (x->sent_records == 1) {
			sync_quarantine(x, x->sent_first, (int)code,
			    perr[0] != '\0' ? perr + 2 : "");
			if (!x->sent_resend && x->sent_first > x->skip_through)
				x->skip_through = x->sent_first;
			if (x->sent_resend)
				x->resend_from = x->resend_to = 0;
			/* Found: the rest goes in whole batches again. */
			x->split_limit = 0;
			x->failures = 0;
			return;
		}
		if (code == 413) {
			/*
			 * Never grow back near a size the platform refused
			 * (3/4 of it: one or two more 413s at most, not one
			 * every other batch).
			 */
			x->ceil_records = x->sent_records * 3 / 4 > 0 ?
			    x->sent_records * 3 / 4 : 1;
			x->ceil_bytes = x->json_len * 3 / 4 > 1024 ?
			    x->json_len * 3 / 4 : 1024;
			x->limit_records = x->sent_records / 2;
			x->limit_bytes = x->json_len / 2 > 1024 ?
			    x->json_len / 2 : 1024;
			log_warnx("sync: %s: batch too large (HTTP 413, %"
			    PRIu64 " records, %zu bytes); now at most %" PRIu64
			    " records", sync_chan_names[x->chan],
			    x->sent_records, x->json_len, x->limit_records);
		} else {
			if (x->split_limit == 0)
				x->split_end = x->sent_last;
			x->split_limit = (x->sent_records + 1) / 2;
			log_warnx("sync: %s: HTTP %ld for records %" PRIu64
			    "..%" PRIu64 "%s; splitting to find the bad "
			    "record", sync_chan_names[x->chan], code,
			    x->sent_first, x->sent_last, perr);
		}
		return;
	case 401:
	case 403:
		sync_fail(x, s->o.auth_backoff_s, "HTTP %ld: the platform "
		    "does not accept this device (certificate, signing key or "
		    "device id)%s", code, perr);
		return;
	case 429:
	case 503:
		curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra);
		d = sync_backoff(x);
		if (ra > 0) {
			double r = (double)ra;

			if (r > s->o.retry_after_max_s)
				r = s->o.retry_after_max_s;
			if (r > d)
				d = r;
		}
		sync_fail(x, d, "HTTP %ld (busy; Retry-After %" CURL_FORMAT_CURL_OFF_T
		    ")%s", code, ra, perr);
		return;
	default:
		sync_fail(x, sync_backoff(x), "HTTP %ld for records %" PRIu64
		    "..%" PRIu64 "%s", code, x->sent_first, x->sent_last, perr);
		return;
	}
}

/* ---- commands ------------------------------------------------------ */

static void
sync_poll(struct sync_xfer *x)
{
	struct sync	*s = x->s;
	char		 url[1024];

	snprintf(url, sizeof(url), "%s/commands?wait_s=%d", s->base,
	    s->o.poll_wait_s);
	if (sync_start(x, url, (long)s->o.poll_wait_s + s->o.connect_timeout_s
	    + SYNC_POLL_SLACK_S, false) == -1)
		sync_fail(x, sync_backoff(x), "cannot start a request");
}

/* resend: queue the range on its stream; the result says what is held. */
static json_t *
sync_cmd_resend(struct sync *s, json_t *args, const char **status,
    char *err, size_t errlen)
{
	enum store_stream	 stream;
	json_t			*js = json_object_get(args, "stream");
	json_t			*jf = json_object_get(args, "from_seq");
	json_t			*jt = json_object_get(args, "to_seq");
	struct store_stream_state st;
	uint64_t		 from, to, held_from;
	json_t			*missing;

	*status = "error";
	if (!json_is_string(js) || store_stream_parse(json_string_value(js),
	    &stream) == -1) {
		snprintf(err, errlen, "args.stream: \"events\" or "
		    "\"positions\" expected");
		return NULL;
	}
	if (!json_is_integer(jf) || !json_is_integer(jt) ||
	    json_integer_value(jf) < 1 ||
	    json_integer_value(jt) < json_integer_value(jf)) {
		snprintf(err, errlen, "args.from_seq, to_seq: integers with "
		    "1 <= from_seq <= to_seq expected");
		return NULL;
	}
	if (store_stream_state(s->store, stream, &st) == -1) {
		snprintf(err, errlen, "store error");
		return NULL;
	}
	from = (uint64_t)json_integer_value(jf);
	to = (uint64_t)json_integer_value(jt);
	if (to >= st.next_seq)
		to = st.next_seq - 1;
	missing = json_array();
	if ((held_from = sync_resend_queue(&s->x[stream], &st, from,
	    to)) == 0) {
		if (from <= to)
			json_array_append_new(missing, json_pack("[I, I]",
			    (json_int_t)from, (json_int_t)to));
		*status = "ok";
		return json_pack("{s:s, s:I, s:I, s:I, s:o}", "stream",
		    store_stream_name(stream), "from_seq", (json_int_t)from,
		    "to_seq", (json_int_t)to, "queued", (json_int_t)0,
		    "missing", missing);
	}
	if (held_from > from)
		json_array_append_new(missing, json_pack("[I, I]",
		    (json_int_t)from, (json_int_t)(held_from - 1)));
	*status = "ok";
	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "stream",
	    store_stream_name(stream), "from_seq", (json_int_t)from,
	    "to_seq", (json_int_t)to, "queued",
	    (json_int_t)(to - held_from + 1), "missing", missing);
}

/* Run one command from a poll (once per id) and store its result. */
static void
sync_run_command(struct sync *s, json_t *cmd)
{
	struct store_command	 c, old;
	const char		*id, *type;
	const json_t		*cargs;
	json_t			*args = NULL;
	json_t			*res = NULL;
	const char		*status = "error";
	char			 err[256] = "";
	char			*rtext = NULL;
	int			 bad;

	bad = sync_parse_command(cmd, &id, &type, &cargs, err, sizeof(err));
	if (bad && (id == NULL || id[0] == '\0' ||
	    strlen(id) > STORE_CMD_ID_MAX)) {
		log_warnx("sync: commands: %s; ignored (no result can be "
		    "posted without an id)", err);
		return;
	}
	args = (json_t *)cargs;
	switch (store_command_get(s->store, id, &old)) {
	case 1:
		log_info("sync: commands: %s ran before; posting its result "
		    "again", id);
		util_strlcpy(s->repost_id, id, sizeof(s->repost_id));
		s->results_check = true;
		return;
	case -1:
		return;	/* logged; the platform sends it again */
	default:
		break;
	}
	memset(&c, 0, sizeof(c));
	util_strlcpy(c.id, id, sizeof(c.id));
	util_strlcpy(c.type, type != NULL && strlen(type) <= STORE_CMD_TYPE_MAX
	    ? type : "", sizeof(c.type));
	c.received_utc_ms = sync_now_utc(s);
	if (bad) {
		;	/* err says what is wrong: an error result */
	} else if (strcmp(type, "resend") == 0) {
		res = sync_cmd_resend(s, args, &status, err, sizeof(err));
	} else if (s->hooks.command != NULL) {
		json_t *empty = args == NULL ? json_object() : NULL;

		res = s->hooks.command(type, args != NULL ? args : empty,
		    &status, err, sizeof(err), s->hooks.arg);
		json_decref(empty);
	} else {
		status = "unsupported";
	}
	if (strcmp(status, "unsupported") == 0 && err[0] == '\0')
		snprintf(err, sizeof(err), "unsupported command type \"%s\"",
		    type != NULL ? type : "");
	if (strcmp(status, "ok") != 0)
		status = strcmp(status, "unsupported") == 0 ? "unsupported" :
		    "error";
	c.done_utc_ms = sync_now_utc(s);
	util_strlcpy(c.status, status, sizeof(c.status));
	if (res != NULL)
		rtext = json_dumps(res, WIREREC_DUMP_FLAGS | JSON_ENCODE_ANY);
	json_decref(res);
	c.result = rtext;
	c.error = err[0] != '\0' ? err : NULL;
	if (store_command_put(s->store, &c) == 0) {
		s->commands_run++;
		s->results_check = true;
		log_info("sync: commands: %s (%s): %s%s%s", c.id, c.type,
		    c.status, c.error != NULL ? ": " : "",
		    c.error != NULL ? c.error : "");
	}
	free(rtext);
}

static void
sync_poll_done(struct sync_xfer *x, CURLcode rc)
{
	long		 code = 0;
	json_t		*r, *cmds, *cmd;
	json_error_t	 jerr;
	size_t		 i;
	char		 perr[SYNC_ERR_SNIPPET + 8];

	if (rc != CURLE_OK) {
		sync_fail(x, sync_backoff(x), "poll: %s%s%s%s",
		    curl_easy_strerror(rc), x->errbuf[0] != '\0' ? ": " : "",
		    x->errbuf, sync_curl_hint(rc));
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code == 204) {
		sync_success(x);
		return;
	}
	if (code != 200) {
		sync_reply_error(x, perr, sizeof(perr));
		sync_fail(x, code == 401 || code == 403 ? x->s->o.auth_backoff_s
		    : sync_backoff(x), "poll: HTTP %ld%s", code, perr);
		return;
	}
	r = x->reply.p != NULL ? json_loadb(x->reply.p, x->reply.len, 0,
	    &jerr) : NULL;
	cmds = json_object_get(r, "commands");
	if (!json_is_array(cmds)) {
		json_decref(r);
		sync_fail(x, sync_backoff(x), "poll: malformed reply (no "
		    "commands array)");
		return;
	}
	json_array_foreach(cmds, i, cmd) {
		if (json_is_object(cmd))
			sync_run_command(x->s, cmd);
	}
	json_decref(r);
	sync_success(x);
}

struct sync_pick {
	struct store_command	c;
	bool			found;
	char			*rtext;
	char			*etext;
};

static int
sync_pick_cb(const struct store_command *c, void *arg)
{
	struct sync_pick *p = arg;

	p->c = *c;
	p->rtext = c->result != NULL ? strdup(c->result) : NULL;
	p->etext = c->error != NULL ? strdup(c->error) : NULL;
	p->c.result = p->rtext;
	p->c.error = p->etext;
	p->found = true;
	return 1;
}

/* Post the oldest undelivered command result (or one asked again). */
static void
sync_result(struct sync_xfer *x)
{
	struct sync		*s = x->s;
	struct sync_pick	 p;
	struct store_record	 rec;
	json_t			*o;
	char			*json, *esc, url[1024];
	int			 rc;

	memset(&p, 0, sizeof(p));
	if (s->repost_id[0] != '\0') {
		rc = store_command_get(s->store, s->repost_id, &p.c);
		s->repost_id[0] = '\0';
		if (rc == 1) {
			sync_pick_cb(&p.c, &p);
		}
	}
	if (!p.found && store_query_commands(s->store, true, sync_pick_cb,
	    &p) == -1) {
		sync_fail(x, sync_backoff(x), "cannot read command results");
		return;
	}
	if (!p.found) {
		s->results_check = false;
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.stream = STORE_STREAM_EVENTS;
	rec.seq = p.c.seq;
	rec.kind = STORE_REC_COMMAND_RESULT;
	rec.u.cmd = p.c;
	o = wirerec_record(&rec, s->o.timezone);
	free(p.rtext);
	free(p.etext);
	if (o == NULL) {
		sync_fail(x, sync_backoff(x), "command %s: result cannot be "
		    "converted", p.c.id);
		return;
	}
	json_object_del(o, "kind");
	json = json_dumps(o, WIREREC_DUMP_FLAGS);
	json_decref(o);
	if (json == NULL || sync_gzip(json, strlen(json), &x->body,
	    &x->body_len) == -1) {
		free(json);
		sync_fail(x, sync_backoff(x), "cannot build a result body");
		return;
	}
	x->json_len = strlen(json);
	free(json);
	util_strlcpy(x->cmd_id, p.c.id, sizeof(x->cmd_id));
	esc = curl_easy_escape(NULL, p.c.id, 0);
	snprintf(url, sizeof(url), "%s/commands/%s/result", s->base,
	    esc != NULL ? esc : "");
	curl_free(esc);
	if (sync_start(x, url, s->o.timeout_s, true) == -1)
		sync_fail(x, sync_backoff(x), "cannot start a request");
}

static void
sync_result_done(struct sync_xfer *x, CURLcode rc)
{
	long	code = 0;
	char	perr[SYNC_ERR_SNIPPET + 8];

	if (rc != CURLE_OK) {
		sync_fail(x, sync_backoff(x), "result of %s: %s%s%s%s",
		    x->cmd_id, curl_easy_strerror(rc),
		    x->errbuf[0] != '\0' ? ": " : "", x->errbuf,
		    sync_curl_hint(rc));
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if ((code >= 200 && code < 300) || code == 404) {
		if (code == 404)
			log_warnx("sync: results: the platform does not know "
			    "command %s (HTTP 404); not posting it again",
			    x->cmd_id);
		if (store_command_delivered(x->s->store, x->cmd_id) == -1) {
			sync_fail(x, sync_backoff(x), "cannot mark the result "
			    "of %s delivered", x->cmd_id);
			return;
		}
		sync_success(x);
		return;
	}
	sync_reply_error(x, perr, sizeof(perr));
	sync_fail(x, code == 401 || code == 403 ? x->s->o.auth_backoff_s :
	    sync_backoff(x), "result of %s: HTTP %ld%s", x->cmd_id, code,
	    perr);
}

/* ---- scheduling ---------------------------------------------------- */

static void
sync_check_done(struct sync *s)
{
	CURLMsg		*m;
	int		 left;
	struct sync_xfer *x;
	CURLcode	 rc;
	bool		 any = false;

	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		if (x == NULL)
			continue;
		switch (x->chan) {
		case CHAN_EVENTS:
		case CHAN_POSITIONS:
			sync_upload_done(x, rc);
			break;
		case CHAN_POLL:
			sync_poll_done(x, rc);
			break;
		case CHAN_RESULT:
			sync_result_done(x, rc);
			break;
		default:
			break;
		}
		sync_xfer_reset(x);
		any = true;
	}
	if (any)
		sync_schedule(s);
}

static bool
sync_ready(const struct sync_xfer *x)
{
	return x->easy == NULL && !ev_timer_pending(&x->timer);
}

/* Start what can start: events first, then positions, poll, results. */
static void
sync_schedule(struct sync *s)
{
	struct sync_xfer	*ev = &s->x[CHAN_EVENTS];
	struct sync_xfer	*pos = &s->x[CHAN_POSITIONS];
	bool			 ev_work;

	if (!s->started || s->in_action)
		return;
	sync_stream_refresh(ev);
	sync_stream_refresh(pos);
	ev_work = sync_stream_has_work(ev);
	if (ev_work && sync_ready(ev))
		sync_upload(ev);
	sync_prebuild(ev);
	sync_prebuild(pos);
	/* Positions wait while any event is still to go. */
	if (!ev_work && ev->easy == NULL && sync_ready(pos) &&
	    sync_stream_has_work(pos))
		sync_upload(pos);
	if (s->o.poll_wait_s > 0 && sync_ready(&s->x[CHAN_POLL]))
		sync_poll(&s->x[CHAN_POLL]);
	if (s->results_check && sync_ready(&s->x[CHAN_RESULT]))
		sync_result(&s->x[CHAN_RESULT]);
}

static void
sync_prepare(void *arg)
{
	sync_schedule(arg);
}

static void
sync_on_retry(void *arg)
{
	struct sync_xfer *x = arg;

	x->retry_at_ms = 0;
	sync_schedule(x->s);
}

static void
sync_on_start(void *arg)
{
	struct sync *s = arg;

	s->started = true;
	log_info("sync: uploading to %s", s->o.url);
	sync_schedule(s);
}

static void
sync_on_warn(void *arg)
{
	struct sync *s = arg;

	log_warnx("sync: platform.allow_insecure_http is on: records may go "
	    "to %s unencrypted (tests only)", s->o.url);
	ev_timer_set(s->loop, &s->warn_timer, SYNC_INSECURE_WARN_MS);
}

/* ---- life cycle ---------------------------------------------------- */

static const char *
sync_dup(struct sync *s, size_t i, const char *v)
{
	if (v == NULL)
		return NULL;
	s->strs[i] = strdup(v);
	return s->strs[i];
}

struct sync *
sync_new(struct ev_loop *loop, struct store *store,
    const struct sign_key *key, const struct sync_opts *o,
    const struct sync_hooks *hooks)
{
	static bool		 curl_ready;
	struct sync		*s;
	struct store_stream_state st;
	char			*esc;
	size_t			 i, len;
	double			 delay;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_warnx("sync: libcurl cannot be initialised");
			return NULL;
		}
		curl_ready = true;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->loop = loop;
	s->store = store;
	s->key = key;
	s->o = *o;
	s->o.url = sync_dup(s, 0, o->url);
	s->o.ca_file = sync_dup(s, 1, o->ca_file);
	s->o.cert_file = sync_dup(s, 2, o->cert_file);
	s->o.key_file = sync_dup(s, 3, o->key_file);
	s->o.pinned_pubkey = sync_dup(s, 4, o->pinned_pubkey);
	s->o.device_id = sync_dup(s, 5, o->device_id);
	s->o.timezone = sync_dup(s, 6, o->timezone);
	if (hooks != NULL)
		s->hooks = *hooks;
	if (s->o.url == NULL || s->o.device_id == NULL ||
	    s->o.timezone == NULL)
		goto fail;
	if (getrandom(s->rng, sizeof(s->rng), 0) != (ssize_t)sizeof(s->rng)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		s->rng[0] = (unsigned short)ts.tv_nsec;
		s->rng[1] = (unsigned short)(ts.tv_nsec >> 16);
		s->rng[2] = (unsigned short)getpid();
	}
	esc = curl_easy_escape(NULL, s->o.device_id, 0);
	if (esc == NULL)
		goto fail;
	len = strlen(s->o.url) + strlen(esc) + 32;
	if ((s->base = malloc(len)) == NULL) {
		curl_free(esc);
		goto fail;
	}
	snprintf(s->base, len, "%s/v1/devices/%s", s->o.url, esc);
	curl_free(esc);
	if ((s->multi = curl_multi_init()) == NULL) {
		log_warnx("sync: curl_multi_init failed");
		goto fail;
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, sync_socket_cb);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, sync_timer_cb);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	ev_timer_init(&s->curl_timer, sync_on_curl_timer, s);
	ev_timer_init(&s->start_timer, sync_on_start, s);
	ev_timer_init(&s->warn_timer, sync_on_warn, s);
	for (i = 0; i < CHANS; i++) {
		struct sync_xfer *x = &s->x[i];

		x->s = s;
		x->chan = (enum sync_chan)i;
		x->limit_records = (uint64_t)s->o.batch_records;
		x->limit_bytes = (uint64_t)s->o.batch_bytes;
		ev_timer_init(&x->timer, sync_on_retry, x);
		if (i == CHAN_EVENTS || i == CHAN_POSITIONS) {
			if (store_stream_state(store, (enum store_stream)i,
			    &st) == -1)
				goto fail;
			x->cursor = st.acked_through;
			x->quarantined = st.quarantined;
		}
	}
	s->results_check = true;
	ev_prepare_add(loop, sync_prepare, s);
	if (strncmp(s->o.url, "http://", 7) == 0)
		sync_on_warn(s);
	delay = sync_uniform(s) * s->o.start_delay_max_s;
	log_info("sync: platform %s; first upload in %.1f s", s->o.url,
	    delay);
	ev_timer_set(loop, &s->start_timer, (uint64_t)llround(delay * 1000));
	return s;
fail:
	sync_free(s);
	return NULL;
}

void
sync_free(struct sync *s)
{
	size_t	i;

	if (s == NULL)
		return;
	ev_prepare_del(s->loop, sync_prepare, s);
	for (i = 0; i < CHANS; i++) {
		if (s->x[i].s == NULL)
			continue;
		sync_xfer_reset(&s->x[i]);
		free(s->x[i].next.gz);
		ev_timer_stop(s->loop, &s->x[i].timer);
	}
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	ev_timer_stop(s->loop, &s->curl_timer);
	ev_timer_stop(s->loop, &s->start_timer);
	ev_timer_stop(s->loop, &s->warn_timer);
	for (i = 0; i < NELEM(s->strs); i++)
		free(s->strs[i]);
	free(s->base);
	free(s);
}

/* ---- status -------------------------------------------------------- */

static json_t *
sync_time_json(const struct sync *s, int64_t t)
{
	char	buf[64];

	if (t == 0 || timefmt_format(t, s->o.timezone, buf, sizeof(buf)) == -1)
		return json_null();
	return json_string(buf);
}

static void
sync_chan_status(struct sync *s, struct sync_xfer *x, json_t *o)
{
	uint64_t	now = ev_now_ms(s->loop);

	json_object_set_new(o, "in_flight", json_boolean(x->easy != NULL));
	json_object_set_new(o, "last_success",
	    sync_time_json(s, x->last_success_utc_ms));
	json_object_set_new(o, "last_error", x->last_error[0] != '\0' ?
	    json_string(x->last_error) : json_null());
	json_object_set_new(o, "failures", json_integer(x->failures));
	json_object_set_new(o, "next_retry_s",
	    ev_timer_pending(&x->timer) && x->retry_at_ms > now ?
	    json_real((double)(x->retry_at_ms - now) / 1000.0) : json_null());
	json_object_set_new(o, "requests", json_integer(
	    (json_int_t)x->requests));
}

json_t *
sync_status_json(struct sync *s)
{
	json_t			*root, *streams, *o;
	struct store_stream_state st;
	size_t			 i;

	root = json_pack("{s:b, s:s, s:b}", "enabled", 1, "url", s->o.url,
	    "started", s->started);
	streams = json_object();
	for (i = CHAN_EVENTS; i <= CHAN_POSITIONS; i++) {
		struct sync_xfer *x = &s->x[i];

		if (store_stream_state(s->store, (enum store_stream)i, &st) ==
		    -1)
			continue;
		o = json_pack("{s:I, s:o, s:I, s:I, s:I, s:I}",
		    "pending", (json_int_t)st.pending,
		    "oldest_pending", sync_time_json(s,
		    st.oldest_pending_utc_ms),
		    "acked_through", (json_int_t)st.acked_through,
		    "next_seq", (json_int_t)st.next_seq,
		    "quarantined", (json_int_t)st.quarantined,
		    "records_sent", (json_int_t)x->records_sent);
		sync_chan_status(s, x, o);
		if (x->easy != NULL)
			json_object_set_new(o, "sending", json_pack("[I, I]",
			    (json_int_t)x->sent_first,
			    (json_int_t)x->sent_last));
		json_object_set_new(streams, store_stream_name(
		    (enum store_stream)i), o);
	}
	json_object_set_new(root, "streams", streams);
	o = json_pack("{s:b, s:I}", "polling", s->o.poll_wait_s > 0,
	    "run", (json_int_t)s->commands_run);
	sync_chan_status(s, &s->x[CHAN_POLL], o);
	json_object_set_new(root, "commands", o);
	o = json_object();
	sync_chan_status(s, &s->x[CHAN_RESULT], o);
	json_object_set_new(root, "results", o);
	return root;
}
