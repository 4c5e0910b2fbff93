/* SPDX-License-Identifier: MIT */
/*
 * bench_sync.c - upload throughput of the sync module (daemon/sync.c) to
 * the fake platform (tests/platform/fakeplatform.py) over loopback TLS.
 * Prints "BENCH name value unit" lines; reports, never asserts (the goal
 * is >= 20,000 records/s).  Run it through tests/bench/bench_sync.sh,
 * which makes the test PKI, starts the platform and passes its port and
 * the certificate paths:
 *
 *	bench_sync --url https://127.0.0.1:PORT --ca CA.pem --cert CLIENT.pem
 *	    --key CLIENT.key --signing-key SIGNING.key [--control-port PORT]
 *	    [--device ID] [-n RECORDS] [--batch-records N] [--batch-bytes N]
 *	    [--deadline-s S]
 *
 * 1. A store in a temporary directory ($TMPDIR, else /var/tmp), opened as
 *    the daemon opens it with a platform (acks on), gets RECORDS
 *    positions (default 100,000) of the day of daygen.h, with their OBD
 *    values, through store_put_position_obd() and store_commit() (timed
 *    apart: sync_store_fill_rows_per_s).
 * 2. sync_new() on an ev loop, as the daemon starts it (start delay 0,
 *    backoff base 0.05 s, cap 1 s, no command polling so that only
 *    uploads run), and the loop runs until the positions stream's
 *    durable cursor (meta.acked_positions, read every 5 ms) reaches
 *    RECORDS.  That time, from sync_new() on, is the upload time: it
 *    includes the TLS handshake, reading the batches from the store,
 *    building the records, gzip, the Ed25519 signatures, the platform's
 *    work (gunzip, signature check, validation, SQLite) and the durable
 *    acknowledgements (one transaction, fsync'ed, per batch).
 *
 * sync_records_per_s is RECORDS over that time; sync_gzip_mb_per_s is
 * the bytes of the gzip bodies the platform received for record uploads
 * (its request log, control API), in 10^6 bytes per second, over the
 * same time.  With --control-port the platform's side is reported too:
 * the share of the upload time it spent inside requests
 * (sync_platform_busy_share: its per-request durations, from the first
 * body byte read to the reply written, summed) and its mean signature
 * check.  sync_client_cpu_us_per_record is this process's user + system
 * CPU time during the upload (the gateway's side: store reads, JSON,
 * gzip, signing, TLS) per record.
 *
 * The exit status is non-zero only when the upload cannot be measured:
 * bad arguments, the store or the key cannot be opened, or the records
 * are not all acknowledged before --deadline-s (default 600 s).
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "daygen.h"
#include "ev.h"
#include "log.h"
#include "sign.h"
#include "store.h"
#include "sync.h"

#define CHECK_MS	5

struct bench {
	struct ev_loop	*loop;
	struct store	*store;
	sqlite3_stmt	*acked_q;
	struct ev_timer	 check;
	struct ev_timer	 deadline;
	uint64_t	 n;
	uint64_t	 acked;
	double		 t0, t_first, t_done;
	bool		 done, timed_out, interrupted;
};

static char	 dir[4096];

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The positions stream's durable cursor, as store_stream_ack() wrote it. */
static uint64_t
acked_now(struct bench *b)
{
	int64_t	v = 0;

	if (sqlite3_step(b->acked_q) == SQLITE_ROW)
		v = sqlite3_column_int64(b->acked_q, 0);
	sqlite3_reset(b->acked_q);
	return v > 0 ? (uint64_t)v : 0;
}

static void
on_check(void *arg)
{
	struct bench	*b = arg;
	uint64_t	 a = acked_now(b);

	if (a > 0 && b->acked == 0)
		b->t_first = now_s();
	b->acked = a;
	if (a >= b->n) {
		b->t_done = now_s();
		b->done = true;
		ev_break(b->loop);
		return;
	}
	ev_timer_set(b->loop, &b->check, CHECK_MS);
}

static void
on_deadline(void *arg)
{
	struct bench	*b = arg;

	b->timed_out = true;
	ev_break(b->loop);
}

static void
on_signal(int signo, void *arg)
{
	struct bench	*b = arg;

	(void)signo;
	b->interrupted = true;
	ev_break(b->loop);
}

/* Fill the store with n positions of the generated day. 0 or -1. */
static int
fill(struct store *st, uint64_t n, double *rows_per_s)
{
	struct daygen_opts	 go;
	struct daygen		 g;
	struct daygen_sample	 s;
	uint64_t		 i;
	double			 t0;

	memset(&go, 0, sizeof(go));
	go.seed = 1;
	daygen_init(&g, &go);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		daygen_next(&g, &s);
		s.pos.fix.t_mono_ms = i * 1000;
		if (store_put_position_obd(st, &s.pos.fix, &s.pos.obd,
		    i * 1000) == -1)
			return -1;
		if ((i + 1) % 2048 == 0 && store_commit(st) == -1)
			return -1;
	}
	if (store_commit(st) == -1)
		return -1;
	*rows_per_s = (double)n / (now_s() - t0);
	return 0;
}

/* ---- the platform's side, from its control API --------------------- */

struct buf {
	char	*p;
	size_t	 len;
};

static size_t
buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf	*b = arg;
	size_t		 n = size * nmemb;
	char		*p;

	if ((p = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = p;
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* GET http://127.0.0.1:port/path as JSON, or NULL. */
static json_t *
control_get(int port, const char *path)
{
	CURL		*e;
	struct buf	 b = { NULL, 0 };
	char		 url[256];
	json_t		*j = NULL;
	json_error_t	 jerr;
	long		 code = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if ((e = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(e) == CURLE_OK &&
	    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
	    code == 200 && b.p != NULL)
		j = json_loads(b.p, 0, &jerr);
	curl_easy_cleanup(e);
	free(b.p);
	if (j == NULL)
		fprintf(stderr, "bench_sync: control API %s: no JSON\n", url);
	return j;
}

struct plat {
	bool		ok;
	uint64_t	requests;	/* record uploads, any status */
	uint64_t	failed;		/* of which not 200 */
	uint64_t	bytes;		/* gzip bodies received */
	double		busy_s;		/* sum of durations */
	double		sig_ms;		/* mean signature check */
	uint64_t	records;	/* the platform holds */
	uint64_t	duplicates;
};

static void
platform_side(int port, const char *device, struct plat *p)
{
	json_t	*reqs, *state, *r, *v;
	size_t	 i;

	memset(p, 0, sizeof(*p));
	p->sig_ms = NAN;
	reqs = control_get(port, "/requests?limit=10000000");
	state = control_get(port, "/state");
	if (reqs == NULL || state == NULL)
		goto out;
	json_array_foreach(json_object_get(reqs, "requests"), i, r) {
		v = json_object_get(r, "path_kind");
		if (!json_is_string(v) || strcmp(json_string_value(v),
		    "records") != 0)
			continue;
		p->requests++;
		v = json_object_get(r, "status");
		if (!json_is_integer(v) || json_integer_value(v) != 200)
			p->failed++;
		v = json_object_get(r, "bytes");
		if (json_is_integer(v))
			p->bytes += (uint64_t)json_integer_value(v);
		v = json_object_get(r, "duration_s");
		if (json_is_number(v))
			p->busy_s += json_number_value(v);
	}
	v = json_object_get(json_object_get(state, "signature"), "mean_ms");
	if (json_is_number(v))
		p->sig_ms = json_number_value(v);
	v = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(state, "devices"), device), "streams"),
	    "positions"), "records");
	if (json_is_integer(v))
		p->records = (uint64_t)json_integer_value(v);
	v = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(state, "devices"), device), "streams"),
	    "positions"), "duplicates");
	if (json_is_integer(v))
		p->duplicates = (uint64_t)json_integer_value(v);
	p->ok = true;
out:
	json_decref(reqs);
	json_decref(state);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_sync --url URL --ca CA --cert CERT "
	    "--key KEY --signing-key KEY\n"
	    "           [--control-port PORT] [--device ID] [-n RECORDS]\n"
	    "           [--batch-records N] [--batch-bytes N] "
	    "[--deadline-s S]\n"
	    "  (run it through tests/bench/bench_sync.sh)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "signing-key", required_argument, NULL, 's' },
		{ "control-port", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'D' },
		{ "batch-records", required_argument, NULL, 'b' },
		{ "batch-bytes", required_argument, NULL, 'B' },
		{ "deadline-s", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench		 b;
	struct store_opts	 so;
	struct sync_opts	 o;
	struct sync		*sy = NULL;
	struct sign_key		*key = NULL;
	struct store_stream_state ss;
	struct plat		 pl;
	const char		*url = NULL, *ca = NULL, *cert = NULL;
	const char		*ckey = NULL, *skey = NULL, *device = "SC-0001";
	const char		*base;
	char			 path[4200], err[512];
	double			 fill_rate = 0, deadline_s = 600, el, cpu0;
	double			 cpu = 0;
	uint64_t		 n = 100000;
	int			 ch, cport = 0, batch_records = 500;
	int			 batch_bytes = 262144, rc = 1;
	json_t			*status = NULL;

	while ((ch = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'a': ca = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': ckey = optarg; break;
		case 's': skey = optarg; break;
		case 'p': cport = atoi(optarg); break;
		case 'D': device = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'b': batch_records = atoi(optarg); break;
		case 'B': batch_bytes = atoi(optarg); break;
		case 't': deadline_s = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (optind != argc || url == NULL || ca == NULL || cert == NULL ||
	    ckey == NULL || skey == NULL || n < 1 || batch_records < 1 ||
	    batch_records > 10000 || batch_bytes < 1024 || !(deadline_s > 0))
		usage();
	log_init("bench_sync", LOG_TARGET_QUIET);

	if ((key = sign_key_load(skey, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_sync: %s\n", err);
		return 1;
	}
	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/var/tmp";
	snprintf(dir, sizeof(dir), "%s/bench_sync.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_sync: mkdtemp %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	memset(&b, 0, sizeof(b));
	b.n = n;
	snprintf(path, sizeof(path), "%s/fleetgw.db", dir);
	memset(&so, 0, sizeof(so));
	so.path = path;
	so.max_size_mb = 4096;
	so.keep_days = 3650;
	so.commit_interval_ms = 10000;
	so.commit_rows = 256;
	so.device_id = device;
	so.timezone = "Asia/Shanghai";
	so.acks = true;
	if ((b.store = store_open(&so)) == NULL)
		goto out;
	if (fill(b.store, n, &fill_rate) == -1) {
		fprintf(stderr, "bench_sync: filling the store failed\n");
		goto out;
	}
	if (sqlite3_prepare_v2(store_db(b.store), "SELECT value FROM meta "
	    "WHERE key = 'acked_positions'", -1, &b.acked_q, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "bench_sync: %s\n",
		    sqlite3_errmsg(store_db(b.store)));
		goto out;
	}

	b.loop = ev_new();
	ev_signal_set(b.loop, on_signal, &b);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = ckey;
	o.device_id = device;
	o.timezone = "Asia/Shanghai";
	o.connect_timeout_s = 15;
	o.timeout_s = 120;
	o.stall_timeout_s = 30;
	o.batch_records = batch_records;
	o.batch_bytes = batch_bytes;
	o.backoff_base_s = 0.05;
	o.backoff_cap_s = 1.0;
	o.retry_after_max_s = 5;
	o.auth_backoff_s = 1.0;
	o.poll_wait_s = 0;
	o.start_delay_max_s = 0;

	ev_timer_init(&b.check, on_check, &b);
	ev_timer_init(&b.deadline, on_deadline, &b);
	ev_timer_set(b.loop, &b.check, CHECK_MS);
	ev_timer_set(b.loop, &b.deadline, (uint64_t)(deadline_s * 1000));
	cpu0 = cpu_s();
	b.t0 = now_s();
	if ((sy = sync_new(b.loop, b.store, key, &o, NULL)) == NULL) {
		fprintf(stderr, "bench_sync: sync_new failed\n");
		goto out;
	}
	if (ev_run(b.loop) == -1) {
		fprintf(stderr, "bench_sync: ev_run failed\n");
		goto out;
	}
	cpu = cpu_s() - cpu0;
	status = sync_status_json(sy);
	if (!b.done) {
		char *s = status != NULL ? json_dumps(status, JSON_INDENT(2)) :
		    NULL;

		fprintf(stderr, "bench_sync: %s: %" PRIu64 " of %" PRIu64
		    " records acknowledged; sync status:\n%s\n",
		    b.interrupted ? "interrupted" : "deadline passed",
		    b.acked, n, s != NULL ? s : "?");
		free(s);
		goto out;
	}
	if (store_stream_state(b.store, STORE_STREAM_POSITIONS, &ss) == -1 ||
	    ss.acked_through != n || ss.pending != 0) {
		fprintf(stderr, "bench_sync: the store says acked_through %"
		    PRIu64 ", pending %" PRIu64 "\n", ss.acked_through,
		    ss.pending);
		goto out;
	}
	el = b.t_done - b.t0;
	if (cport > 0)
		platform_side(cport, device, &pl);
	else
		memset(&pl, 0, sizeof(pl));

	printf("BENCH sync_records %" PRIu64 " records\n", n);
	printf("BENCH sync_store_fill_rows_per_s %.0f rows/s\n", fill_rate);
	printf("BENCH sync_upload_s %.3f s\n", el);
	printf("BENCH sync_first_ack_ms %.1f ms\n", (b.t_first - b.t0) * 1e3);
	printf("BENCH sync_records_per_s %.0f records/s\n", (double)n / el);
	printf("BENCH sync_client_cpu_us_per_record %.2f us\n",
	    cpu / (double)n * 1e6);
	if (pl.ok) {
		printf("BENCH sync_gzip_mb_per_s %.3f MB/s\n",
		    (double)pl.bytes / el / 1e6);
		printf("BENCH sync_gzip_bytes_per_record %.2f bytes\n",
		    (double)pl.bytes / (double)n);
		printf("BENCH sync_requests %" PRIu64 " requests\n",
		    pl.requests);
		printf("BENCH sync_requests_failed %" PRIu64 " requests\n",
		    pl.failed);
		printf("BENCH sync_platform_busy_share %.3f ratio\n",
		    pl.busy_s / el);
		printf("BENCH sync_platform_ms_per_request %.1f ms\n",
		    pl.requests ? pl.busy_s / (double)pl.requests * 1e3 : 0);
		if (isfinite(pl.sig_ms))
			printf("BENCH sync_platform_sig_check_ms %.3f ms\n",
			    pl.sig_ms);
		printf("BENCH sync_platform_records %" PRIu64 " records\n",
		    pl.records);
		if (pl.records != n)
			fprintf(stderr, "bench_sync: the platform holds %"
			    PRIu64 " records, not %" PRIu64 "\n", pl.records,
			    n);
	}
	rc = 0;
out:
	json_decref(status);
	sync_free(sy);
	if (b.acked_q != NULL)
		sqlite3_finalize(b.acked_q);
	store_close(b.store);
	ev_free(b.loop);
	sign_key_free(key);
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
