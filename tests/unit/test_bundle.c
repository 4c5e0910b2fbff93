/* SPDX-License-Identifier: MIT */
/*
 * test_bundle.c - export bundles (bundle.h, docs/bundle.md) and signed
 * checkpoints (checkpoint.h) on a real store: a bundle written from a
 * store verifies with the gateway's key and names what is wrong
 * otherwise; the period and --unsynced pick the seq ranges; records after
 * the newest checkpoint are reported as not covered; malformed files
 * (empty, no end line, another version, data after the end) are judged,
 * not crashed on.  The key is made with the openssl CLI.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bundle.h"
#include "checkpoint.h"
#include "log.h"
#include "rules.h"
#include "sign.h"
#include "store.h"

#define POS		STORE_STREAM_POSITIONS
#define EVS		STORE_STREAM_EVENTS
#define T0_MS		INT64_C(1772409600000)	/* 2026-03-02 00:00Z */

static char		 tmpdir[PATH_MAX / 2];
static char		 dbpath[PATH_MAX];
static char		 keypath[PATH_MAX];
static struct sign_key	*key;
static struct sign_pub	*pub;
static struct store	*st;
static struct chain	 last[STORE_STREAMS];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct fix
mkfix(int i)
{
	struct fix	 f;

	memset(&f, 0, sizeof(f));
	f.t_utc_ms = T0_MS + (int64_t)i * 1000;
	f.t_mono_ms = (uint64_t)i * 1000;
	f.lat_deg = 30.5723 + i * 1e-5;
	f.lon_deg = 104.0665 + i * 1e-5;
	f.alt_m = 500.0;
	f.speed_mps = 10.0;
	f.heading_deg = 90.0;
	f.hdop = 0.9;
	f.eph_m = 3.5;
	f.mode = 3;
	f.sats_used = 14;
	f.sats_visible = 24;
	return f;
}

static void
put(int from, int n)
{
	struct fix	 f;
	int		 i;

	for (i = from; i < from + n; i++) {
		f = mkfix(i);
		cr_assert_eq(store_put_position(st, &f, 0), 0);
	}
	cr_assert_eq(store_commit(st), 0);
}

static void
put_event(int at)
{
	struct rules_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = (uint64_t)at + 1;
	ev.phase = RULES_EV_INSTANT;
	ev.type = RULES_INSPECTION;
	ev.severity = RULES_INFO;
	ev.start_utc_ms = ev.end_utc_ms = mkfix(at).t_utc_ms;
	ev.lat_deg = ev.lon_deg = NAN;
	ev.details = json_pack("{s:s}", "result", "pass");
	(void)store_event_put(st, &ev);
	json_decref(ev.details);
	cr_assert_eq(store_commit(st), 0);
}

static void
setup(void)
{
	struct store_opts	 o;
	char			 cmd[PATH_MAX * 3], why[256], *pem;
	const char		*base;
	int			 i;

	log_init("test_bundle", LOG_TARGET_QUIET);
	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_bundle.XXXXXX", base);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s/fleetgw.db", tmpdir);
	snprintf(keypath, sizeof(keypath), "%s/signing.key", tmpdir);
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 "
	    "-out %s 2>/dev/null && chmod 600 %s", keypath, keypath);
	cr_assert_eq(system(cmd), 0, "openssl genpkey failed");
	key = sign_key_load(keypath, why, sizeof(why));
	cr_assert_not_null(key, "%s", why);
	pem = sign_pubkey_pem(key);
	pub = sign_pub_from_pem(pem, strlen(pem));
	free(pem);
	cr_assert_not_null(pub);
	memset(&o, 0, sizeof(o));
	o.path = dbpath;
	o.max_size_mb = 512;
	o.keep_days = 180;
	o.commit_interval_ms = 5000;
	o.commit_rows = 256;
	o.device_id = "SC-0001";
	o.timezone = "Asia/Shanghai";
	st = store_open(&o);
	cr_assert_not_null(st);
	for (i = 0; i < STORE_STREAMS; i++)
		chain_init(&last[i]);
}

static void
teardown(void)
{
	store_close(st);
	sign_key_free(key);
	sign_pub_free(pub);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(bundle, .init = setup, .fini = teardown, .timeout = 60);

static void
checkpoint(const char *reason)
{
	cr_assert_eq(checkpoint_make(st, key, "SC-0001", T0_MS, reason, true,
	    last), 1);
}

/* Write a bundle of [from, to) into memory; its text (to free). */
static char *
write_bundle(int64_t from, int64_t to, bool unsynced,
    const struct sign_key *k, struct bundle_summary *sum, size_t *len)
{
	struct bundle_opts	 o;
	char			*buf = NULL, err[256];
	FILE			*fp;

	memset(&o, 0, sizeof(o));
	o.from_utc_ms = from;
	o.to_utc_ms = to;
	o.unsynced = unsynced;
	o.via = "db";
	o.exported_utc_ms = T0_MS;
	o.uid = 0;
	o.user = "root";
	o.key = k;
	fp = open_memstream(&buf, len);
	cr_assert_not_null(fp);
	cr_assert_eq(bundle_write(st, &o, fp, sum, err, sizeof(err)), 0,
	    "%s", err);
	fclose(fp);
	return buf;
}

static void
verify_text(const char *text, size_t len, const struct sign_pub *k,
    struct bundle_result *r)
{
	FILE	*fp;

	fp = fmemopen((void *)text, len, "r");
	cr_assert_not_null(fp);
	cr_assert_eq(bundle_verify(fp, k, r), 0);
	fclose(fp);
}

static const struct bundle_problem *
find(const struct bundle_result *r, const char *kind)
{
	size_t	i;

	for (i = 0; i < r->np; i++)
		if (strcmp(r->p[i].kind, kind) == 0)
			return &r->p[i];
	return NULL;
}

static const char *
problems(const struct bundle_result *r)
{
	static char	buf[4096];
	size_t		i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->np && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "\n  %s",
		    r->p[i].msg);
	return buf;
}

static struct bundle_result	r;

Test(bundle, round_trip)
{
	struct bundle_summary	 sum;
	char			*text;
	size_t			 len;

	put(0, 30);
	put_event(10);
	checkpoint("interval");
	text = write_bundle(INT64_MIN, INT64_MAX, false, key, &sum, &len);
	cr_assert_eq(sum.first[POS], 1);
	cr_assert_eq(sum.last[POS], 30);
	cr_assert_eq(sum.records[POS], 30);
	cr_assert_eq(sum.records[EVS], 1);
	cr_assert(sum.covered[POS] && sum.covered[EVS]);
	cr_assert_eq(sum.checkpoints, 1);
	verify_text(text, len, pub, &r);
	cr_assert(r.ok, "%s", problems(&r));
	cr_assert(r.trusted_key && r.end_signed);
	cr_assert_str_eq(r.device, "SC-0001");
	cr_assert_eq(r.s[POS].records, 30);
	cr_assert_eq(r.checkpoints_good, 1);
	cr_assert_str_eq(r.s[POS].t_first, "2026-03-02T08:00:00+08:00");
	/* Without a trusted key: checked with the bundle's, not ok. */
	verify_text(text, len, NULL, &r);
	cr_assert_not(r.ok);
	cr_assert_not_null(find(&r, "untrusted"), "%s", problems(&r));
	cr_assert_eq(r.nproblems, 1, "%s", problems(&r));
	free(text);
	/* Written without the key (--db): the end line is not signed. */
	text = write_bundle(INT64_MIN, INT64_MAX, false, NULL, &sum, &len);
	verify_text(text, len, pub, &r);
	cr_assert(r.ok, "%s", problems(&r));
	cr_assert_not(r.end_signed);
	free(text);
}

/* The period picks seqs; the range runs on to the covering checkpoint. */
Test(bundle, period_and_unsynced)
{
	struct bundle_summary	 sum;
	char			*text;
	size_t			 len;

	put(0, 20);
	checkpoint("interval");
	put(20, 20);
	checkpoint("interval");
	text = write_bundle(mkfix(5).t_utc_ms, mkfix(10).t_utc_ms, false, key,
	    &sum, &len);
	cr_assert_eq(sum.first[POS], 6);
	cr_assert_eq(sum.last[POS], 20, "extended to the checkpoint");
	cr_assert_eq(sum.first[EVS], 0);
	verify_text(text, len, pub, &r);
	cr_assert(r.ok, "%s", problems(&r));
	cr_assert_eq(r.s[POS].records, 15);
	free(text);
	cr_assert_eq(store_stream_ack(st, POS, 25), 0);
	text = write_bundle(INT64_MIN, INT64_MAX, true, key, &sum, &len);
	cr_assert_eq(sum.first[POS], 26);
	cr_assert_eq(sum.last[POS], 40);
	verify_text(text, len, pub, &r);
	cr_assert(r.ok, "%s", problems(&r));
	free(text);
}

/* Records after the newest checkpoint: exported, not vouched for. */
Test(bundle, uncovered_tail)
{
	struct bundle_summary	 sum;
	const struct bundle_problem *p;
	char			*text;
	size_t			 len;

	put(0, 10);
	checkpoint("interval");
	put(10, 5);
	text = write_bundle(INT64_MIN, INT64_MAX, false, key, &sum, &len);
	cr_assert_not(sum.covered[POS]);
	cr_assert_eq(sum.last[POS], 15);
	verify_text(text, len, pub, &r);
	cr_assert_not(r.ok);
	p = find(&r, "uncovered");
	cr_assert_not_null(p, "%s", problems(&r));
	cr_assert_eq(p->from_seq, 11);
	cr_assert_eq(p->to_seq, 15);
	free(text);
}

/* A checkpoint of another key: bad signature, nothing covered. */
Test(bundle, other_key)
{
	struct bundle_summary	 sum;
	struct sign_key		*k2;
	char			 cmd[PATH_MAX * 3], why[256], p2[PATH_MAX];
	char			*text;
	size_t			 len;

	snprintf(p2, sizeof(p2), "%s/other.key", tmpdir);
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 "
	    "-out %s 2>/dev/null && chmod 600 %s", p2, p2);
	cr_assert_eq(system(cmd), 0);
	k2 = sign_key_load(p2, why, sizeof(why));
	cr_assert_not_null(k2, "%s", why);
	put(0, 10);
	cr_assert_eq(checkpoint_make(st, k2, "SC-0001", T0_MS, "interval",
	    true, last), 1);
	text = write_bundle(INT64_MIN, INT64_MAX, false, k2, &sum, &len);
	verify_text(text, len, pub, &r);
	cr_assert_not(r.ok);
	cr_assert_not_null(find(&r, "bad_signature"), "%s", problems(&r));
	cr_assert_not_null(find(&r, "uncovered"), "%s", problems(&r));
	cr_assert_eq(r.checkpoints_good, 0);
	free(text);
	sign_key_free(k2);
}

static void
verify_str(const char *s)
{
	verify_text(s, strlen(s), pub, &r);
}

/* Files that are not bundles, or not whole ones. */
Test(bundle, malformed_files)
{
	struct bundle_summary	 sum;
	char			*text, *cut, *more;
	size_t			 len;

	verify_str("");
	cr_assert_not(r.ok);
	cr_assert_not_null(find(&r, "malformed"), "%s", problems(&r));
	verify_str("{\"format\":\"fleetgw-bundle\",\"version\":2}\n");
	cr_assert_not(r.ok);
	cr_assert(strstr(problems(&r), "version 2") != NULL, "%s",
	    problems(&r));
	verify_str("not json\n");
	cr_assert_not(r.ok);

	put(0, 10);
	checkpoint("interval");
	text = write_bundle(INT64_MIN, INT64_MAX, false, key, &sum, &len);
	/* Only the header line: cut short. */
	cut = strndup(text, (size_t)(strchr(text, '\n') - text) + 1);
	verify_str(cut);
	cr_assert_not_null(find(&r, "truncated"), "%s", problems(&r));
	cr_assert_not_null(find(&r, "missing"), "%s", problems(&r));
	free(cut);
	/* Cut in the middle of a line. */
	cut = strndup(text, len - 10);
	verify_str(cut);
	cr_assert_not_null(find(&r, "truncated"), "%s", problems(&r));
	free(cut);
	/* Something after the end line. */
	cr_assert_neq(asprintf(&more, "%s{\"x\":1}\n", text), -1);
	verify_str(more);
	cr_assert_not(r.ok);
	cr_assert_not_null(find(&r, "altered"), "%s", problems(&r));
	free(more);
	free(text);
}

/* The signed text parses back; a malformed one says why. */
Test(bundle, checkpoint_body_round_trip)
{
	struct chain		 heads[STORE_STREAMS];
	struct checkpoint_info	 ci;
	unsigned char		 h[CHAIN_HASH_LEN];
	char			*body, why[160];

	memset(h, 0x5a, sizeof(h));
	chain_resume(&heads[EVS], 7, h);
	chain_init(&heads[POS]);
	body = checkpoint_body("SC-0001", T0_MS, "Asia/Shanghai", "stop",
	    heads);
	cr_assert_not_null(body);
	cr_assert_eq(checkpoint_parse(body, strlen(body), &ci, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_str_eq(ci.device, "SC-0001");
	cr_assert_str_eq(ci.reason, "stop");
	cr_assert_str_eq(ci.time, "2026-03-02T08:00:00+08:00");
	cr_assert_eq(ci.heads[EVS].seq, 7);
	cr_assert_eq(memcmp(ci.heads[EVS].head, h, sizeof(h)), 0);
	cr_assert_eq(ci.heads[POS].seq, 0);
	free(body);
	cr_assert_eq(checkpoint_parse("{\"kind\":\"trip\"}", 15, &ci, why,
	    sizeof(why)), -1);
	cr_assert_eq(checkpoint_parse("{\"kind\":\"checkpoint\",\"device\":\"a\","
	    "\"time\":\"t\",\"reason\":\"r\",\"events\":{\"seq\":1,\"head\":"
	    "\"zz\"},\"positions\":{\"seq\":0,\"head\":\"00\"}}", 110, &ci,
	    why, sizeof(why)), -1);
}

/* Nothing new: no checkpoint unless forced. */
Test(bundle, checkpoint_only_when_heads_move)
{
	struct chain	 l[STORE_STREAMS];

	put(0, 3);
	cr_assert_eq(checkpoint_last(st, l), 0);
	cr_assert_eq(l[POS].seq, 0);
	cr_assert_eq(checkpoint_make(st, key, "SC-0001", T0_MS, "interval",
	    false, l), 1);
	cr_assert_eq(checkpoint_make(st, key, "SC-0001", T0_MS, "interval",
	    false, l), 0);
	cr_assert_eq(checkpoint_make(st, key, "SC-0001", T0_MS, "export",
	    true, l), 1);
	put(3, 1);
	cr_assert_eq(checkpoint_make(st, key, "SC-0001", T0_MS, "interval",
	    false, l), 1);
	cr_assert_eq(checkpoint_last(st, last), 0);
	cr_assert_eq(last[POS].seq, 4);
}

/*
 * One record edited in the file, several checkpoints after it: that
 * record is named once, and the checkpoints (whose heads the stored
 * links still reach) add nothing but the file's checksum.
 */
Test(bundle, one_edit_one_problem)
{
	struct bundle_summary	 sum;
	const struct bundle_problem *p;
	char			*text, *at;
	size_t			 len, i, nedited = 0;

	put(0, 10);
	checkpoint("interval");
	put(10, 10);
	checkpoint("interval");
	put(20, 10);
	checkpoint("interval");
	text = write_bundle(INT64_MIN, INT64_MAX, false, key, &sum, &len);
	/* Record 5's own bytes: "seq":5, becomes "seq":5 , (same JSON). */
	text = realloc(text, len + 2);
	cr_assert_not_null(text);
	at = strstr(text, "\"record\":\"{\\\"seq\\\":5,");
	cr_assert_not_null(at);
	at += strlen("\"record\":\"{\\\"seq\\\":5");
	memmove(at + 1, at, len - (size_t)(at - text) + 1);
	*at = ' ';
	len++;
	verify_text(text, len, pub, &r);
	cr_assert_not(r.ok);
	for (i = 0; i < r.np; i++)
		if (strcmp(r.p[i].kind, "edited") == 0)
			nedited++;
	p = find(&r, "edited");
	cr_assert_not_null(p, "%s", problems(&r));
	cr_assert_eq(p->from_seq, 5);
	cr_assert_eq(nedited, 1, "%s", problems(&r));
	cr_assert_null(find(&r, "rewritten"), "%s", problems(&r));
	cr_assert_not_null(find(&r, "altered"), "%s", problems(&r));
	cr_assert_eq(r.nproblems, 2, "%s", problems(&r));
	free(text);
}
