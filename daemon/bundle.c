/* SPDX-License-Identifier: MIT */
/*
 * bundle.c - export bundles: writer and verifier (bundle.h,
 * docs/bundle.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "chain.h"
#include "checkpoint.h"
#include "timefmt.h"
#include "util.h"
#include "wirerec.h"

/* ------------------------------------------------------------- writer */

/* A checkpoint kept in memory while the writer picks the ones it needs. */
struct bw_cp {
	uint64_t	 seq[STORE_STREAMS];
	char		*body;
	unsigned char	 sig[SIGN_SIG_LEN];
	size_t		 siglen;
};

struct bw {
	struct store		*st;
	const struct bundle_opts *o;
	FILE			*out;
	EVP_MD_CTX		*md;
	struct bundle_summary	*sum;
	char			*err;
	size_t			 errlen;
	bool			 failed;
	/* range scan */
	uint64_t		 lo, hi;	/* seqs in the period, 0: none */
	/* checkpoints */
	struct bw_cp		*cps;
	size_t			 ncps;
	size_t			 capcps;
	enum store_stream	 stream;	/* being written */
};

static void	bw_fail(struct bw *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
bw_fail(struct bw *w, const char *fmt, ...)
{
	va_list	ap;

	if (w->failed)
		return;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
}

/* Write one line (o, taken over) and hash it. */
static void
bw_line(struct bw *w, json_t *o)
{
	char	*txt;
	size_t	 len;

	if (o == NULL) {
		bw_fail(w, "out of memory");
		return;
	}
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (txt == NULL) {
		bw_fail(w, "cannot encode a line");
		return;
	}
	len = strlen(txt);
	txt[len] = '\n';
	if (!w->failed) {
		if (fwrite(txt, 1, len + 1, w->out) != len + 1)
			bw_fail(w, "write: %s", strerror(errno));
		else if (EVP_DigestUpdate(w->md, txt, len + 1) != 1)
			bw_fail(w, "SHA-256 failed");
		else
			w->sum->lines++;
	}
	free(txt);
}

/* A record's time, as wirerec puts it in "time". */
static int64_t
bw_record_time(const struct store_record *r)
{
	switch (r->kind) {
	case STORE_REC_POSITION:
		return r->u.pos.fix.t_utc_ms;
	case STORE_REC_TRIP:
		return r->u.trip.trip.end_utc_ms;
	case STORE_REC_EVENT_START:
		return r->u.ev.start_utc_ms;
	case STORE_REC_EVENT_END:
	case STORE_REC_EVENT_COMPLETE:
		return r->u.ev.end_utc_ms;
	case STORE_REC_COMMAND_RESULT:
		return r->u.cmd.done_utc_ms;
	}
	return 0;
}

static void
bw_in_range(struct bw *w, uint64_t seq, int64_t t)
{
	if (t < w->o->from_utc_ms || t >= w->o->to_utc_ms)
		return;
	if (w->lo == 0 || seq < w->lo)
		w->lo = seq;
	if (seq > w->hi)
		w->hi = seq;
}

static int
bw_scan_record(const struct store_record *r, void *arg)
{
	bw_in_range(arg, r->seq, bw_record_time(r));
	return 0;
}

static int
bw_scan_position(const struct store_position *p, void *arg)
{
	bw_in_range(arg, p->seq, p->fix.t_utc_ms);
	return 0;
}

static int
bw_keep_cp(const struct store_checkpoint *cp, void *arg)
{
	struct bw	*w = arg;
	struct bw_cp	*c;

	if (cp->siglen > SIGN_SIG_LEN)
		return 0;	/* not ours: verify would refuse it anyway */
	if (w->ncps == w->capcps) {
		w->capcps = w->capcps ? w->capcps * 2 : 64;
		w->cps = xreallocarray(w->cps, w->capcps, sizeof(*w->cps));
	}
	c = &w->cps[w->ncps++];
	memcpy(c->seq, cp->seq, sizeof(c->seq));
	c->body = xstrdup(cp->body);
	memcpy(c->sig, cp->sig, cp->siglen);
	c->siglen = cp->siglen;
	return 0;
}

/* The seq range of stream in the period: first/last in the summary. */
static int
bw_range(struct bw *w, enum store_stream stream)
{
	struct store_stream_state ss;
	int			  rc;

	w->lo = w->hi = 0;
	if (stream == STORE_STREAM_POSITIONS)
		rc = store_query_positions(w->st, w->o->from_utc_ms,
		    w->o->to_utc_ms, 0, bw_scan_position, w);
	else
		rc = store_stream_read(w->st, stream, 1, UINT64_MAX, 0,
		    bw_scan_record, w);
	if (rc == -1)
		return -1;
	if (w->o->unsynced && w->lo != 0) {
		if (store_stream_state(w->st, stream, &ss) == -1)
			return -1;
		if (w->lo <= ss.acked_through)
			w->lo = ss.acked_through + 1;
		if (w->lo > w->hi)
			w->lo = w->hi = 0;
	}
	w->sum->first[stream] = w->lo;
	w->sum->last[stream] = w->hi;
	return 0;
}

/*
 * Extend each stream's last to the first checkpoint at or after it (its
 * signed head covers every record up to there).
 */
static void
bw_cover(struct bw *w)
{
	size_t	 i;
	int	 k;

	for (k = 0; k < STORE_STREAMS; k++) {
		if (w->sum->first[k] == 0)
			continue;
		for (i = 0; i < w->ncps; i++)
			if (w->cps[i].seq[k] >= w->sum->last[k]) {
				w->sum->last[k] = w->cps[i].seq[k];
				w->sum->covered[k] = true;
				break;
			}
	}
}

/* Does checkpoint c vouch for a link in the bundle (anchor included)? */
static bool
bw_cp_wanted(const struct bw *w, const struct bw_cp *c)
{
	int	k;

	for (k = 0; k < STORE_STREAMS; k++)
		if (w->sum->first[k] != 0 && c->seq[k] + 1 >= w->sum->first[k] &&
		    c->seq[k] <= w->sum->last[k])
			return true;
	return false;
}

static json_t *
bw_time(int64_t t, const char *tz)
{
	char	buf[40];

	if (t == INT64_MIN || t == INT64_MAX ||
	    timefmt_format(t, tz, buf, sizeof(buf)) == -1)
		return json_null();
	return json_string(buf);
}

static const char *
bw_str(const char *s)
{
	return s != NULL ? s : "";
}

static void
bw_header(struct bw *w)
{
	const struct bundle_opts *o = w->o;
	const char	*tz = o->tz != NULL && *o->tz != '\0' ? o->tz :
			    store_chain_timezone(w->st);
	json_t		*h, *streams, *s;
	unsigned char	 anchor[CHAIN_HASH_LEN];
	char		 hex[CHAIN_HEX_LEN], *pem;
	const char	*id;
	int		 k, rc;

	id = o->device_id != NULL && *o->device_id != '\0' ? o->device_id :
	    store_device_id(w->st);
	streams = json_object();
	for (k = 0; k < STORE_STREAMS; k++) {
		s = json_pack("{s:I, s:I}", "first",
		    (json_int_t)w->sum->first[k], "last",
		    (json_int_t)w->sum->last[k]);
		if (w->sum->first[k] <= 1) {
			memset(anchor, 0, sizeof(anchor));
			rc = 1;
		} else
			rc = store_chain_link(w->st, (enum store_stream)k,
			    w->sum->first[k] - 1, anchor);
		if (rc == -1)
			bw_fail(w, "cannot read the %s chain",
			    store_stream_name((enum store_stream)k));
		if (rc == 1) {
			chain_hex(anchor, hex);
			json_object_set_new(s, "anchor", json_string(hex));
		} else
			json_object_set_new(s, "anchor", json_null());
		json_object_set_new(streams,
		    store_stream_name((enum store_stream)k), s);
	}
	pem = o->key != NULL ? sign_pubkey_pem(o->key) : NULL;
	h = json_pack("{s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:o, "
	    "s:s, s:{s:I, s:s}, s:{s:o, s:o, s:b}, s:o, s:o}",
	    "format", BUNDLE_FORMAT, "version", BUNDLE_VERSION,
	    "device", "id", id, "plate", bw_str(o->plate), "unit",
	    bw_str(o->unit), "class", bw_str(o->vclass), "vin",
	    store_vin(w->st),
	    "timezone", store_chain_timezone(w->st),
	    "exported", bw_time(o->exported_utc_ms, tz),
	    "via", bw_str(o->via),
	    "by", "uid", (json_int_t)o->uid, "user", bw_str(o->user),
	    "range", "from", bw_time(o->from_utc_ms, tz), "to",
	    bw_time(o->to_utc_ms, tz), "unsynced", o->unsynced,
	    "pubkey", pem != NULL ? json_string(pem) : json_null(),
	    "streams", streams);
	free(pem);
	bw_line(w, h);
}

static void
bw_checkpoints(struct bw *w)
{
	char	 b64[SIGN_B64_LEN];
	size_t	 i;

	for (i = 0; i < w->ncps; i++) {
		if (!bw_cp_wanted(w, &w->cps[i]))
			continue;
		if (EVP_EncodeBlock((unsigned char *)b64, w->cps[i].sig,
		    (int)w->cps[i].siglen) <= 0) {
			bw_fail(w, "base64 failed");
			return;
		}
		bw_line(w, json_pack("{s:s, s:s}", "checkpoint",
		    w->cps[i].body, "sig", b64));
		w->sum->checkpoints++;
	}
}

static int
bw_record(const struct store_record *r, void *arg)
{
	struct bw	*w = arg;
	unsigned char	 h[CHAIN_HASH_LEN];
	char		 hex[CHAIN_HEX_LEN], *txt;
	size_t		 len;
	int		 rc;

	txt = wirerec_canonical(r, store_chain_timezone(w->st), &len);
	if (txt == NULL) {
		bw_fail(w, "%s record %" PRIu64 " cannot be formatted",
		    store_stream_name(w->stream), r->seq);
		return 1;
	}
	rc = store_chain_link(w->st, w->stream, r->seq, h);
	if (rc == -1) {
		free(txt);
		bw_fail(w, "cannot read the link of %s record %" PRIu64,
		    store_stream_name(w->stream), r->seq);
		return 1;
	}
	if (rc == 1)
		chain_hex(h, hex);
	bw_line(w, json_pack("{s:s, s:I, s:o, s:s%}", "stream",
	    store_stream_name(w->stream), "seq", (json_int_t)r->seq,
	    "h", rc == 1 ? json_string(hex) : json_null(), "record", txt,
	    len));
	free(txt);
	w->sum->records[w->stream]++;
	return w->failed;
}

static void
bw_end(struct bw *w)
{
	unsigned char	 d[EVP_MAX_MD_SIZE], sig[SIGN_SIG_LEN];
	char		 hex[CHAIN_HEX_LEN], b64[SIGN_B64_LEN];
	unsigned int	 n;
	json_t		*sigj = json_null();
	json_int_t	 lines = (json_int_t)w->sum->lines;

	if (EVP_DigestFinal_ex(w->md, d, &n) != 1 || n != CHAIN_HASH_LEN) {
		bw_fail(w, "SHA-256 failed");
		return;
	}
	chain_hex(d, hex);
	if (w->o->key != NULL) {
		if (sign_raw(w->o->key, d, n, sig) == -1 ||
		    EVP_EncodeBlock((unsigned char *)b64, sig,
		    (int)sizeof(sig)) <= 0) {
			bw_fail(w, "signing the end line failed");
			return;
		}
		sigj = json_string(b64);
	}
	bw_line(w, json_pack("{s:{s:I, s:{s:I, s:I}, s:s, s:o}}", "end",
	    "lines", lines, "records", "events",
	    (json_int_t)w->sum->records[STORE_STREAM_EVENTS], "positions",
	    (json_int_t)w->sum->records[STORE_STREAM_POSITIONS],
	    "sha256", hex, "sig", sigj));
}

int
bundle_write(struct store *st, const struct bundle_opts *o, FILE *out,
    struct bundle_summary *sum, char *err, size_t errlen)
{
	struct bw	 w;
	size_t		 i;
	int		 k;

	memset(sum, 0, sizeof(*sum));
	memset(&w, 0, sizeof(w));
	w.st = st;
	w.o = o;
	w.out = out;
	w.sum = sum;
	w.err = err;
	w.errlen = errlen;
	if (errlen > 0)
		*err = '\0';
	if ((w.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(w.md);
		snprintf(err, errlen, "SHA-256 unavailable");
		return -1;
	}
	if (store_snapshot_begin(st) == -1) {
		EVP_MD_CTX_free(w.md);
		snprintf(err, errlen, "cannot read the database");
		return -1;
	}
	for (k = 0; k < STORE_STREAMS && !w.failed; k++)
		if (bw_range(&w, (enum store_stream)k) == -1)
			bw_fail(&w, "cannot read the %s stream",
			    store_stream_name((enum store_stream)k));
	if (!w.failed && store_checkpoint_query(st, 0, bw_keep_cp, &w) == -1)
		bw_fail(&w, "cannot read the checkpoints (a database older "
		    "than schema 6?)");
	if (!w.failed) {
		bw_cover(&w);
		bw_header(&w);
		bw_checkpoints(&w);
	}
	for (k = 0; k < STORE_STREAMS && !w.failed; k++) {
		if (sum->first[k] == 0)
			continue;
		w.stream = (enum store_stream)k;
		if (store_stream_read(st, w.stream, sum->first[k],
		    sum->last[k], 0, bw_record, &w) == -1)
			bw_fail(&w, "cannot read the %s stream",
			    store_stream_name(w.stream));
	}
	if (!w.failed)
		bw_end(&w);
	(void)store_snapshot_end(st);
	if (!w.failed && fflush(out) == EOF)
		bw_fail(&w, "write: %s", strerror(errno));
	for (i = 0; i < w.ncps; i++)
		free(w.cps[i].body);
	free(w.cps);
	EVP_MD_CTX_free(w.md);
	return w.failed ? -1 : 0;
}

/* ----------------------------------------------------------- verifier */

/* A checkpoint seq to compare with the recomputed chain. */
struct bv_target {
	uint64_t	 seq;
	unsigned char	 head[CHAIN_HASH_LEN];
	size_t		 cp;		/* its number, 1.. */
	char		 time[40];
	bool		 good;		/* signature valid */
};

struct bv_stream {
	uint64_t	 first, last;	/* declared */
	bool		 has_anchor;
	unsigned char	 anchor[CHAIN_HASH_LEN];
	uint64_t	 next;		/* expected seq */
	bool		 started;
	unsigned char	 comp[CHAIN_HASH_LEN];	/* recomputed link */
	bool		 comp_ok;
	unsigned char	 stored[CHAIN_HASH_LEN];	/* stored link */
	bool		 stored_ok;
	uint64_t	 last_seen;
	uint64_t	 damage_lo;	/* lowest seq reported damaged since */
	uint64_t	 good_from;	/* the last matching checkpoint + 1 */
	struct bv_target *t;
	size_t		 nt, capt, it;
	uint64_t	 covered;	/* highest good checkpoint seq */
	bool		 any_cover;
};

struct bv {
	struct bundle_result	*r;
	const struct sign_pub	*key;		/* trusted, or the header's */
	struct sign_pub		*header_key;
	struct bv_stream	 s[STORE_STREAMS];
	bool			 have_header;
	bool			 in_records;
	int			 stream_at;	/* last stream seen, -1 */
	bool			 wrong_device;
	char			 device[72];
};

static void	bv_problem(struct bv *, const char *, int, uint64_t,
		    uint64_t, const char *, ...)
		    __attribute__((format(printf, 6, 7)));

static void
bv_problem(struct bv *v, const char *kind, int stream, uint64_t from,
    uint64_t to, const char *fmt, ...)
{
	struct bundle_result	*r = v->r;
	struct bundle_problem	*p;
	va_list			 ap;

	r->ok = false;
	r->nproblems++;
	if (r->np >= BUNDLE_PROBLEMS_MAX)
		return;
	p = &r->p[r->np++];
	util_strlcpy(p->kind, kind, sizeof(p->kind));
	util_strlcpy(p->stream, stream >= 0 ?
	    store_stream_name((enum store_stream)stream) : "",
	    sizeof(p->stream));
	p->from_seq = from;
	p->to_seq = to;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

/* "record 5" or "records 5..9". */
static const char *
bv_recs(uint64_t a, uint64_t b, char *buf, size_t len)
{
	if (a == b)
		snprintf(buf, len, "record %" PRIu64, a);
	else
		snprintf(buf, len, "records %" PRIu64 "..%" PRIu64, a, b);
	return buf;
}

static void
bv_damage(struct bv_stream *s, uint64_t seq)
{
	if (s->damage_lo == 0 || seq < s->damage_lo)
		s->damage_lo = seq;
}

static int
bv_stream_index(const char *name)
{
	enum store_stream	k;

	if (name == NULL || store_stream_parse(name, &k) == -1)
		return -1;
	return (int)k;
}

static void
bv_header(struct bv *v, json_t *o, uint64_t line)
{
	struct bundle_result	*r = v->r;
	const char		*fmt = NULL, *id = "", *plate = "", *exp = "";
	const char		*via = "", *pem = NULL, *hex;
	json_t			*st;
	json_int_t		 ver = 0, first, last;
	json_error_t		 err;
	int			 k;

	if (json_unpack_ex(o, &err, 0, "{s:s, s:I}", "format", &fmt,
	    "version", &ver) == -1 || strcmp(fmt, BUNDLE_FORMAT) != 0) {
		bv_problem(v, "malformed", -1, 0, 0, "line %" PRIu64 ": not a "
		    "fleetgw bundle header", line);
		return;
	}
	if (ver != BUNDLE_VERSION) {
		bv_problem(v, "malformed", -1, 0, 0, "bundle version %lld: "
		    "this program reads version %d", (long long)ver,
		    BUNDLE_VERSION);
		return;
	}
	(void)json_unpack(o, "{s?{s?s, s?s}, s?s, s?s}", "device",
	    "id", &id, "plate", &plate, "exported", &exp, "via", &via);
	pem = json_string_value(json_object_get(o, "pubkey"));
	util_strlcpy(r->device, id, sizeof(r->device));
	util_strlcpy(v->device, id, sizeof(v->device));
	util_strlcpy(r->plate, plate, sizeof(r->plate));
	util_strlcpy(r->exported, exp, sizeof(r->exported));
	util_strlcpy(r->via, via, sizeof(r->via));
	if (v->key == NULL && pem != NULL)
		v->key = v->header_key = sign_pub_from_pem(pem, strlen(pem));
	for (k = 0; k < STORE_STREAMS; k++) {
		st = json_object_get(json_object_get(o, "streams"),
		    store_stream_name((enum store_stream)k));
		if (json_unpack_ex(st, &err, 0, "{s:I, s:I}", "first",
		    &first, "last", &last) == -1 ||
		    first < 0 || last < first || (first == 0 && last != 0)) {
			bv_problem(v, "malformed", k, 0, 0, "header: %s: bad "
			    "range", store_stream_name((enum store_stream)k));
			continue;
		}
		v->s[k].first = (uint64_t)first;
		v->s[k].last = (uint64_t)last;
		r->s[k].first = (uint64_t)first;
		r->s[k].last = (uint64_t)last;
		v->s[k].next = (uint64_t)first;
		hex = json_string_value(json_object_get(st, "anchor"));
		if (hex != NULL && chain_unhex(hex, v->s[k].anchor) == 0)
			v->s[k].has_anchor = true;
		else if (first > 0)
			bv_problem(v, "anchor", k, first, first, "%s: the link "
			    "below record %lld is not in the bundle: its "
			    "chain cannot be checked", store_stream_name(
			    (enum store_stream)k), (long long)first);
		if (v->s[k].has_anchor) {
			memcpy(v->s[k].comp, v->s[k].anchor, CHAIN_HASH_LEN);
			memcpy(v->s[k].stored, v->s[k].anchor, CHAIN_HASH_LEN);
			v->s[k].comp_ok = v->s[k].stored_ok = true;
		}
		v->s[k].good_from = (uint64_t)first;
	}
	v->have_header = true;
}

static void
bv_add_target(struct bv_stream *s, const struct bv_target *t)
{
	if (s->nt == s->capt) {
		s->capt = s->capt ? s->capt * 2 : 16;
		s->t = xreallocarray(s->t, s->capt, sizeof(*s->t));
	}
	s->t[s->nt++] = *t;
}

static int
bv_target_cmp(const void *a, const void *b)
{
	const struct bv_target *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The checkpoints in seq order per stream, once they are all read. */
static void
bv_sort_targets(struct bv *v)
{
	int	k;

	for (k = 0; k < STORE_STREAMS; k++)
		if (v->s[k].nt > 1)
			qsort(v->s[k].t, v->s[k].nt, sizeof(*v->s[k].t),
			    bv_target_cmp);
}

static void
bv_checkpoint(struct bv *v, json_t *o, uint64_t line)
{
	struct bundle_result	*r = v->r;
	struct checkpoint_info	 ci;
	struct bv_target	 t;
	const char		*body, *sig;
	size_t			 blen, n = (size_t)++r->checkpoints;
	char			 why[160];
	bool			 good;
	int			 k, vr;

	if (json_unpack(o, "{s:s, s:s}", "checkpoint", &body, "sig",
	    &sig) == -1) {
		bv_problem(v, "malformed", -1, 0, 0, "line %" PRIu64 ": a "
		    "checkpoint line without checkpoint and sig", line);
		return;
	}
	blen = json_string_length(json_object_get(o, "checkpoint"));
	if (checkpoint_parse(body, blen, &ci, why, sizeof(why)) == -1) {
		bv_problem(v, "malformed", -1, 0, 0, "line %" PRIu64 ": "
		    "checkpoint %zu: %s", line, n, why);
		return;
	}
	vr = v->key != NULL ? sign_verify_base64(v->key, body, blen, sig) : 0;
	good = vr == 1;
	if (v->key != NULL && !good)
		bv_problem(v, "bad_signature", -1, 0, 0, "checkpoint %zu "
		    "(%s, %s): bad signature (not made by the %s key)", n,
		    ci.time, ci.reason, r->trusted_key ? "trusted" :
		    "bundle's");
	if (strcmp(ci.device, v->device) != 0) {
		if (!v->wrong_device)
			bv_problem(v, "wrong_device", -1, 0, 0, "checkpoint "
			    "%zu was signed for device %s, the bundle says "
			    "%s (a different device)", n, ci.device,
			    v->device);
		v->wrong_device = true;
		good = false;
	}
	if (good)
		r->checkpoints_good++;
	for (k = 0; k < STORE_STREAMS; k++) {
		struct bv_stream *s = &v->s[k];

		if (s->first == 0 || ci.heads[k].seq + 1 < s->first ||
		    ci.heads[k].seq > s->last)
			continue;
		memset(&t, 0, sizeof(t));
		t.seq = ci.heads[k].seq;
		memcpy(t.head, ci.heads[k].head, CHAIN_HASH_LEN);
		t.cp = n;
		util_strlcpy(t.time, ci.time, sizeof(t.time));
		t.good = good;
		bv_add_target(s, &t);
	}
}

/* Compare the recomputed chain at seq with the checkpoints there. */
static void
bv_check_targets(struct bv *v, int k, uint64_t seq, bool at_anchor)
{
	struct bv_stream	*s = &v->s[k];
	struct bv_target	*t;
	const unsigned char	*link = at_anchor ? s->anchor : s->comp;
	uint64_t		 lo;
	char			 a[64];

	for (; s->it < s->nt && s->t[s->it].seq <= seq; s->it++) {
		t = &s->t[s->it];
		lo = s->good_from < seq ? s->good_from : seq;
		if (t->seq < seq || !t->good)
			continue;
		if (!(at_anchor ? s->has_anchor : s->comp_ok))
			continue;	/* a gap was reported */
		if (memcmp(link, t->head, CHAIN_HASH_LEN) == 0) {
			if (!s->any_cover || t->seq > s->covered)
				s->covered = t->seq;
			s->any_cover = true;
			s->good_from = seq + 1;
			s->damage_lo = 0;
			continue;
		}
		if (at_anchor)
			bv_problem(v, "edited", k, seq, seq, "%s: the anchor "
			    "(link of record %" PRIu64 ") does not match "
			    "checkpoint %zu (%s)", store_stream_name(
			    (enum store_stream)k), seq, t->cp, t->time);
		else if (s->damage_lo == 0)
			bv_problem(v, "rewritten", k, lo, seq,
			    "%s %s: do not match checkpoint %zu signed at "
			    "seq %" PRIu64 " (%s): edited and links "
			    "rewritten", store_stream_name((enum store_stream)k),
			    bv_recs(lo, seq, a, sizeof(a)), t->cp, seq,
			    t->time);
		/* Said once: go on from what the checkpoint vouches for. */
		if (!at_anchor)
			memcpy(s->comp, t->head, CHAIN_HASH_LEN);
		s->good_from = seq + 1;
		s->damage_lo = 0;
	}
}

static void
bv_record(struct bv *v, json_t *o, uint64_t line)
{
	struct bundle_result	*r = v->r;
	struct bv_stream	*s;
	struct chain		 c;
	json_t			*rec;
	json_error_t		 err;
	const char		*name = NULL, *hex = NULL, *txt, *t;
	json_int_t		 seq = 0, inner;
	unsigned char		 h[CHAIN_HASH_LEN];
	size_t			 len;
	char			 a[64];
	bool			 has_h, edited;
	int			 k;

	hex = json_string_value(json_object_get(o, "h"));
	if (json_unpack_ex(o, &err, 0, "{s:s, s:I, s:s}", "stream",
	    &name, "seq", &seq, "record", &txt) == -1 ||
	    (k = bv_stream_index(name)) == -1 || seq <= 0) {
		bv_problem(v, "malformed", -1, 0, 0, "line %" PRIu64 ": not a "
		    "record line", line);
		return;
	}
	s = &v->s[k];
	if (k < v->stream_at) {
		bv_problem(v, "reordered", k, (uint64_t)seq, (uint64_t)seq,
		    "line %" PRIu64 ": %s record %lld after the %s records",
		    line, name, (long long)seq,
		    store_stream_name((enum store_stream)v->stream_at));
		return;
	}
	v->stream_at = k;
	r->s[k].records++;
	if (s->first == 0 || (uint64_t)seq > s->last) {
		bv_problem(v, "malformed", k, (uint64_t)seq, (uint64_t)seq,
		    "%s record %lld is outside the range the header "
		    "declares", name, (long long)seq);
		return;
	}
	if (!s->started) {
		s->started = true;
		bv_check_targets(v, k, s->first - 1, true);
	}
	if ((uint64_t)seq < s->next) {
		bv_problem(v, (uint64_t)seq == s->last_seen ? "duplicated" :
		    "reordered", k, (uint64_t)seq, (uint64_t)seq, "%s record "
		    "%lld comes after record %" PRIu64 " (%s)", name,
		    (long long)seq, s->last_seen, (uint64_t)seq ==
		    s->last_seen ? "duplicated" : "out of order");
		return;
	}
	if ((uint64_t)seq > s->next) {
		bv_problem(v, "missing", k, s->next, (uint64_t)seq - 1,
		    "%s %s: missing", name, bv_recs(s->next,
		    (uint64_t)seq - 1, a, sizeof(a)));
		s->comp_ok = s->stored_ok = false;
		bv_damage(s, s->next);
		/* The checkpoints inside the hole cannot be compared. */
		bv_check_targets(v, k, (uint64_t)seq - 1, false);
	}
	len = json_string_length(json_object_get(o, "record"));
	/* The record's own seq must be its place. */
	rec = json_loadb(txt, len, 0, &err);
	if (rec == NULL || json_unpack(rec, "{s:I}", "seq", &inner) == -1) {
		bv_problem(v, "malformed", k, (uint64_t)seq, (uint64_t)seq,
		    "%s record %lld: its content is not a record", name,
		    (long long)seq);
		bv_damage(s, (uint64_t)seq);
	} else if (inner != seq) {
		bv_problem(v, "reordered", k, (uint64_t)seq, (uint64_t)seq,
		    "%s record %lld holds record %lld (moved)", name,
		    (long long)seq, (long long)inner);
		bv_damage(s, (uint64_t)seq);
	}
	t = json_string_value(json_object_get(rec, "time"));
	if (t != NULL) {
		if (r->s[k].records == 1)
			util_strlcpy(r->s[k].t_first, t,
			    sizeof(r->s[k].t_first));
		util_strlcpy(r->s[k].t_last, t, sizeof(r->s[k].t_last));
	}
	json_decref(rec);
	has_h = hex != NULL && chain_unhex(hex, h) == 0;
	if (hex == NULL && !json_is_null(json_object_get(o, "h")))
		bv_problem(v, "malformed", k, (uint64_t)seq, (uint64_t)seq,
		    "%s record %lld: its link is not a string", name,
		    (long long)seq);
	else if (hex != NULL && !has_h)
		bv_problem(v, "malformed", k, (uint64_t)seq, (uint64_t)seq,
		    "%s record %lld: its link is not 64 hex digits", name,
		    (long long)seq);
	else if (hex == NULL)
		bv_problem(v, "unlinked", k, (uint64_t)seq, (uint64_t)seq,
		    "%s record %lld has no link (it was never chained)",
		    name, (long long)seq);
	/* Local check: the stored link below and this record's content. */
	edited = false;
	if (s->stored_ok && has_h) {
		chain_resume(&c, (uint64_t)seq - 1, s->stored);
		if (chain_add(&c, (uint64_t)seq, txt, len) == 0 &&
		    memcmp(c.head, h, CHAIN_HASH_LEN) != 0) {
			bv_problem(v, "edited", k, (uint64_t)seq,
			    (uint64_t)seq, "%s record %lld: edited (its "
			    "content does not match its link)", name,
			    (long long)seq);
			bv_damage(s, (uint64_t)seq);
			edited = true;
		}
	}
	/*
	 * The chain recomputed from the anchor.  After an edit named above,
	 * it follows the stored links: the checkpoints then judge the rest
	 * of the chain, not the same edit again.
	 */
	if (s->comp_ok && edited)
		memcpy(s->comp, h, CHAIN_HASH_LEN);
	else if (s->comp_ok) {
		chain_resume(&c, (uint64_t)seq - 1, s->comp);
		if (chain_add(&c, (uint64_t)seq, txt, len) == 0)
			memcpy(s->comp, c.head, CHAIN_HASH_LEN);
		else
			s->comp_ok = false;
	} else if (has_h) {
		/* After a hole: go on from the stored link. */
		memcpy(s->comp, h, CHAIN_HASH_LEN);
		s->comp_ok = true;
	}
	if (has_h) {
		memcpy(s->stored, h, CHAIN_HASH_LEN);
		s->stored_ok = true;
	} else if (s->comp_ok)
		memcpy(s->stored, s->comp, CHAIN_HASH_LEN);
	s->next = (uint64_t)seq + 1;
	s->last_seen = (uint64_t)seq;
	bv_check_targets(v, k, (uint64_t)seq, false);
}

static void
bv_end(struct bv *v, json_t *o, uint64_t lines, const unsigned char *d)
{
	struct bundle_result	*r = v->r;
	json_int_t		 n = -1;
	const char		*hex = NULL, *sig = NULL;
	unsigned char		 want[CHAIN_HASH_LEN];
	int			 vr;

	sig = json_string_value(json_object_get(json_object_get(o, "end"),
	    "sig"));
	if (json_unpack(o, "{s:{s:I, s:s}}", "end", "lines", &n,
	    "sha256", &hex) == -1) {
		bv_problem(v, "malformed", -1, 0, 0, "line %" PRIu64 ": a "
		    "malformed end line", lines + 1);
		return;
	}
	if (n != (json_int_t)lines)
		bv_problem(v, "truncated", -1, 0, 0, "the end line counts "
		    "%lld lines before it, the file has %" PRIu64 " (lines "
		    "removed or added)", (long long)n, lines);
	if (chain_unhex(hex, want) == -1) {
		bv_problem(v, "malformed", -1, 0, 0, "the end line's sha256 is "
		    "not 64 hex digits");
		return;
	}
	if (memcmp(want, d, CHAIN_HASH_LEN) != 0)
		bv_problem(v, "altered", -1, 0, 0, "the file was altered "
		    "after export (its SHA-256 does not match the end line)");
	if (sig == NULL || v->key == NULL)
		return;
	/* The signature vouches for the end line's digest as written. */
	vr = sign_verify_base64(v->key, want, CHAIN_HASH_LEN, sig);
	if (vr == 1)
		r->end_signed = true;
	else
		bv_problem(v, "bad_signature", -1, 0, 0, "the end line's "
		    "signature is bad (not made by the %s key)",
		    r->trusted_key ? "trusted" : "bundle's");
}

static void
bv_finish(struct bv *v, bool ended)
{
	struct bundle_result	*r = v->r;
	struct bv_stream	*s;
	char			 a[64];
	int			 k;

	if (!ended)
		bv_problem(v, "truncated", -1, 0, 0, "the bundle is cut short: "
		    "no end line after line %" PRIu64, r->lines);
	for (k = 0; k < STORE_STREAMS; k++) {
		s = &v->s[k];
		if (s->first == 0)
			continue;
		if (!s->started) {
			s->started = true;
			bv_check_targets(v, k, s->first - 1, true);
		}
		if (s->next <= s->last) {
			bv_problem(v, "missing", k, s->next, s->last,
			    "%s %s: missing (the newest records)",
			    store_stream_name((enum store_stream)k),
			    bv_recs(s->next, s->last, a, sizeof(a)));
			s->next = s->last + 1;
		}
		if (!s->any_cover || s->covered < s->last) {
			uint64_t lo = s->any_cover ? s->covered + 1 : s->first;

			if (lo < s->first)
				lo = s->first;
			bv_problem(v, "uncovered", k, lo, s->last, "%s %s: not "
			    "covered by a signed checkpoint",
			    store_stream_name((enum store_stream)k),
			    bv_recs(lo, s->last, a, sizeof(a)));
		}
	}
	if (v->key == NULL)
		bv_problem(v, "no_key", -1, 0, 0, "no key to check the "
		    "signatures with (give --pubkey)");
	else if (!r->trusted_key)
		bv_problem(v, "untrusted", -1, 0, 0, "signatures checked "
		    "with the key the bundle carries, not a trusted one: "
		    "who made it is not proven (give --pubkey)");
}

int
bundle_verify(FILE *in, const struct sign_pub *trusted,
    struct bundle_result *r)
{
	struct bv	 v;
	EVP_MD_CTX	*md, *tmp;
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 dn;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	json_t		*o;
	json_error_t	 err;
	bool		 ended = false;
	int		 k, ret = 0;

	memset(r, 0, sizeof(*r));
	memset(&v, 0, sizeof(v));
	r->ok = true;
	r->trusted_key = trusted != NULL;
	v.r = r;
	v.key = trusted;
	v.stream_at = -1;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		errno = ENOMEM;
		return -1;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		if (ended) {
			bv_problem(&v, "altered", -1, 0, 0, "line %" PRIu64
			    ": data after the end line", r->lines + 1);
			break;
		}
		o = line[n - 1] == '\n' ? json_loadb(line, (size_t)n - 1, 0,
		    &err) : NULL;
		if (o == NULL || !json_is_object(o)) {
			bv_problem(&v, line[n - 1] != '\n' ? "truncated" :
			    "malformed", -1, 0, 0, "line %" PRIu64 ": %s",
			    r->lines + 1, line[n - 1] != '\n' ?
			    "cut short in the middle" : o == NULL ? err.text :
			    "not a JSON object");
			json_decref(o);
			if (line[n - 1] != '\n')
				break;
			r->lines++;
			(void)EVP_DigestUpdate(md, line, (size_t)n);
			continue;
		}
		if (!v.have_header) {
			if (r->lines == 0)
				bv_header(&v, o, r->lines + 1);
			if (!v.have_header) {
				json_decref(o);
				break;	/* nothing else can be judged */
			}
		} else if (json_object_get(o, "end") != NULL) {
			if ((tmp = EVP_MD_CTX_new()) != NULL &&
			    EVP_MD_CTX_copy_ex(tmp, md) == 1 &&
			    EVP_DigestFinal_ex(tmp, d, &dn) == 1)
				bv_end(&v, o, r->lines, d);
			EVP_MD_CTX_free(tmp);
			ended = true;
		} else if (json_object_get(o, "checkpoint") != NULL) {
			if (v.in_records)
				bv_problem(&v, "malformed", -1, 0, 0, "line %"
				    PRIu64 ": a checkpoint after the records",
				    r->lines + 1);
			else
				bv_checkpoint(&v, o, r->lines + 1);
		} else if (json_object_get(o, "stream") != NULL) {
			if (!v.in_records) {
				v.in_records = true;
				bv_sort_targets(&v);
			}
			bv_record(&v, o, r->lines + 1);
		} else
			bv_problem(&v, "malformed", -1, 0, 0, "line %" PRIu64
			    ": not a line of a bundle", r->lines + 1);
		json_decref(o);
		r->lines++;
		(void)EVP_DigestUpdate(md, line, (size_t)n);
	}
	if (ferror(in))
		ret = -1;
	else if (!v.have_header) {
		if (r->nproblems == 0)
			bv_problem(&v, "malformed", -1, 0, 0, "not a fleetgw "
			    "bundle (no header)");
	} else {
		if (!v.in_records)
			bv_sort_targets(&v);
		bv_finish(&v, ended);
	}
	free(line);
	for (k = 0; k < STORE_STREAMS; k++)
		free(v.s[k].t);
	sign_pub_free(v.header_key);
	EVP_MD_CTX_free(md);
	return ret;
}
