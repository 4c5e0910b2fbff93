/* SPDX-License-Identifier: MIT */
/*
 * test_obd.c - the OBD reader core against a fake driver.
 *
 * The fake driver answers each request from a table of canned payloads
 * (per ECU id), from a zero-delay timer on the loop, never from inside
 * request().  The reader runs in a real ev loop; every wait is on a
 * condition with a deadline.  The standard car has an engine ECU (7E8)
 * and a transmission ECU (7E9) that both answer functional requests.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ev.h"
#include "log.h"
#include "obd.h"
#include "obd_drv.h"
#include "obd_pid.h"
#include "record.h"
#include "util.h"

#define MAX_MSGS	4
#define MAX_LEN		32
#define MAX_EVENTS	8192
#define MAX_T0100	32
#define WAIT_MS		5000
#define ECU_ENGINE	0x7e8
#define ECU_GEARBOX	0x7e9
#define DEVICE		"/dev/ttyFAKE"
#define VIN_CN		"LFV3B28R8A3025310"	/* valid check digit */
#define VIN_EU		"WP0ZZZ99ZTS390000"	/* no check digit */
#define FAST_MS		20
#define SLOW_MS		200

struct answer {
	bool			 set;
	enum obd_drv_result	 result;
	size_t			 nmsg;
	uint32_t		 id[MAX_MSGS];
	uint8_t			 data[MAX_MSGS][MAX_LEN];
	size_t			 len[MAX_MSGS];
	const char		*text;
};

static struct {
	struct ev_loop	*loop;
	struct obd	*obd;
	struct obd_opts	 opts;

	/* fake driver */
	struct obd	*drv_obd;	/* as given to start() */
	struct ev_timer	 reply_t;
	struct ev_timer	 ready_t;
	int		 nstart, nstop, nreconf;
	bool		 ready;
	bool		 outstanding;
	uint8_t		 req[8];
	size_t		 reqlen;
	bool		 awake;		/* the ECUs answer */
	bool		 sleep_after_03; /* ignition off right after 03 */
	double		 volts;
	int		 protocol_num;
	struct answer	 mode01[256];
	struct answer	 vin, dtc03, dtc07, dtc0a;
	unsigned int	 nreq01[256];
	unsigned int	 nreq_vin, nreq03, nreq07, nreq0a;
	uint64_t	 t0100[MAX_T0100];
	size_t		 nt0100;

	/* reader events */
	enum obd_event	 ev[MAX_EVENTS];
	enum obd_state	 ev_state[MAX_EVENTS];
	size_t		 nev;
	size_t		 nvalues, ndtcs, nvin;

	/* harness */
	bool		 (*cond)(void);
	uint64_t	 want;
	struct ev_timer	 deadline;
	int		 log_fd;
	int		 saved_stderr;
} h;

/* ---- fake driver ----------------------------------------------------- */

static const struct answer *
fake_lookup(void)
{
	if (h.reqlen == 2 && h.req[0] == 0x01)
		return &h.mode01[h.req[1]];
	if (h.reqlen == 2 && h.req[0] == 0x09 && h.req[1] == 0x02)
		return &h.vin;
	if (h.reqlen == 1 && h.req[0] == 0x03)
		return &h.dtc03;
	if (h.reqlen == 1 && h.req[0] == 0x07)
		return &h.dtc07;
	if (h.reqlen == 1 && h.req[0] == 0x0a)
		return &h.dtc0a;
	return NULL;
}

static void
fake_reply_cb(void *arg)
{
	const struct answer	*a = fake_lookup();
	struct obd_drv_reply	 r;
	size_t			 i;

	(void)arg;
	memset(&r, 0, sizeof(r));
	if (!h.awake || a == NULL || !a->set)
		r.result = OBD_DRV_NO_DATA;
	else {
		r.result = a->result;
		r.nmsg = a->nmsg;
		for (i = 0; i < a->nmsg; i++) {
			r.msg[i].id = a->id[i];
			r.msg[i].data = a->data[i];
			r.msg[i].len = a->len[i];
		}
		r.text = a->text;
	}
	h.outstanding = false;
	if (h.sleep_after_03 && h.reqlen == 1 && h.req[0] == 0x03) {
		h.sleep_after_03 = false;
		h.awake = false;
	}
	obd_drv_reply(h.drv_obd, &r);
}

static void
fake_ready_cb(void *arg)
{
	(void)arg;
	h.ready = true;
	obd_drv_state(h.drv_obd, OBD_INIT, "");
	obd_drv_state(h.drv_obd, OBD_NO_ECU, "");
}

static void *
fake_start(struct ev_loop *loop, const struct obd_opts *opts, struct obd *o)
{
	(void)opts;
	h.nstart++;
	h.drv_obd = o;
	h.ready = false;
	h.outstanding = false;
	ev_timer_init(&h.reply_t, fake_reply_cb, NULL);
	ev_timer_init(&h.ready_t, fake_ready_cb, NULL);
	ev_timer_set(loop, &h.ready_t, 0);
	return &h;
}

static void
fake_stop(void *drv)
{
	cr_assert_eq(drv, &h);
	h.nstop++;
	ev_timer_stop(h.loop, &h.reply_t);
	ev_timer_stop(h.loop, &h.ready_t);
	h.ready = false;
	h.outstanding = false;
}

static int
fake_request(void *drv, const uint8_t *req, size_t len)
{
	cr_assert_eq(drv, &h);
	cr_assert(len >= 1 && len <= 7, "request of %zu bytes", len);
	if (!h.ready || h.outstanding)
		return -1;
	memcpy(h.req, req, len);
	h.reqlen = len;
	if (len == 2 && req[0] == 0x01) {
		h.nreq01[req[1]]++;
		if (req[1] == 0x00 && h.nt0100 < MAX_T0100)
			h.t0100[h.nt0100++] = ev_now_ms(h.loop);
	} else if (len == 2 && req[0] == 0x09)
		h.nreq_vin++;
	else if (len == 1 && req[0] == 0x03)
		h.nreq03++;
	else if (len == 1 && req[0] == 0x07)
		h.nreq07++;
	else if (len == 1 && req[0] == 0x0a)
		h.nreq0a++;
	h.outstanding = true;
	ev_timer_set(h.loop, &h.reply_t, 0);
	return 0;
}

static void
fake_info(void *drv, struct obd_status *st)
{
	(void)drv;
	(void)util_strlcpy(st->adapter, "FAKE v1.0", sizeof(st->adapter));
	st->protocol_num = h.protocol_num;
	(void)util_strlcpy(st->protocol, "ISO 15765-4 CAN (11 bit, 500 kbaud)",
	    sizeof(st->protocol));
}

static double
fake_voltage(void *drv)
{
	(void)drv;
	return h.volts;
}

static void
fake_reconfigure(void *drv, const struct obd_opts *opts)
{
	(void)drv;
	(void)opts;
	h.nreconf++;
}

static const struct obd_drv_ops fake_ops = {
	.name = "fake",
	.start = fake_start,
	.stop = fake_stop,
	.request = fake_request,
	.info = fake_info,
	.voltage = fake_voltage,
	.reconfigure = fake_reconfigure
};

/* The adapter loses the link: the request in flight is forgotten. */
static void
fake_down(const char *why)
{
	ev_timer_stop(h.loop, &h.reply_t);
	h.ready = false;
	h.outstanding = false;
	obd_drv_state(h.drv_obd, OBD_DOWN, why);
}

static void
fake_back(void)
{
	ev_timer_set(h.loop, &h.ready_t, 0);
}

/* ---- canned answers -------------------------------------------------- */

/* Appends one message of n bytes (ints) from id. */
static void
ans(struct answer *a, uint32_t id, size_t n, ...)
{
	va_list	ap;
	size_t	i;

	cr_assert_lt(a->nmsg, MAX_MSGS);
	cr_assert_leq(n, MAX_LEN);
	a->set = true;
	a->result = OBD_DRV_OK;
	a->id[a->nmsg] = id;
	va_start(ap, n);
	for (i = 0; i < n; i++)
		a->data[a->nmsg][i] = (uint8_t)va_arg(ap, int);
	va_end(ap);
	a->len[a->nmsg] = n;
	a->nmsg++;
}

static void
ans_bytes(struct answer *a, uint32_t id, const uint8_t *b, size_t n)
{
	cr_assert_lt(a->nmsg, MAX_MSGS);
	cr_assert_leq(n, MAX_LEN);
	a->set = true;
	a->result = OBD_DRV_OK;
	a->id[a->nmsg] = id;
	memcpy(a->data[a->nmsg], b, n);
	a->len[a->nmsg] = n;
	a->nmsg++;
}

static void
ans_result(struct answer *a, enum obd_drv_result r, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->set = true;
	a->result = r;
	a->text = text;
}

static void
ans_clear(struct answer *a)
{
	memset(a, 0, sizeof(*a));
}

/* 41 base A B C D from id, announcing the PIDs listed (0-terminated). */
static void
ans_support(uint32_t id, uint8_t base, ...)
{
	uint8_t	msg[6] = { 0x41, base, 0, 0, 0, 0 };
	va_list	ap;
	int	pid, bit;

	va_start(ap, base);
	while ((pid = va_arg(ap, int)) != 0) {
		bit = pid - base - 1;
		cr_assert(bit >= 0 && bit < 32, "PID %02X not in %02X", pid,
		    base);
		msg[2 + bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
	va_end(ap);
	ans_bytes(&h.mode01[base], id, msg, sizeof(msg));
}

static void
ans_vin(struct answer *a, uint32_t id, const char *vin)
{
	uint8_t	msg[3 + OBD_PID_VIN_LEN] = { 0x49, 0x02, 0x01 };

	memcpy(msg + 3, vin, OBD_PID_VIN_LEN);
	ans_clear(a);
	ans_bytes(a, id, msg, sizeof(msg));
}

/*
 * The standard car.  Engine 7E8 and gearbox 7E9 both answer 01 00 and
 * 01 20; only the gearbox announces 01 40 (so the chain to 40 needs the
 * union), which the engine answers too.  18 PIDs in all.
 */
static void
car_standard(void)
{
	ans_support(ECU_ENGINE, 0x00, 0x01, 0x04, 0x05, 0x0c, 0x0d, 0x0f,
	    0x10, 0x1f, 0x20, 0);
	ans_support(ECU_GEARBOX, 0x00, 0x01, 0x0d, 0x11, 0x20, 0);
	ans_support(ECU_ENGINE, 0x20, 0x21, 0x2f, 0x31, 0);
	ans_support(ECU_GEARBOX, 0x20, 0x40, 0);
	ans_support(ECU_ENGINE, 0x40, 0x42, 0x46, 0x5e, 0);
	ans_support(ECU_GEARBOX, 0x40, 0x49, 0);

	ans(&h.mode01[0x01], ECU_ENGINE, 6, 0x41, 0x01, 0x82, 0x07, 0x65,
	    0x04);
	ans(&h.mode01[0x04], ECU_ENGINE, 3, 0x41, 0x04, 0x80);
	ans(&h.mode01[0x05], ECU_ENGINE, 3, 0x41, 0x05, 0x7b);
	/* the gearbox answers first: values come from the lowest id */
	ans(&h.mode01[0x0c], ECU_GEARBOX, 4, 0x41, 0x0c, 0x1f, 0x40);
	ans(&h.mode01[0x0c], ECU_ENGINE, 4, 0x41, 0x0c, 0x1a, 0xf8);
	ans(&h.mode01[0x0d], ECU_GEARBOX, 3, 0x41, 0x0d, 0x3d);
	ans(&h.mode01[0x0d], ECU_ENGINE, 3, 0x41, 0x0d, 0x3c);
	ans(&h.mode01[0x0f], ECU_ENGINE, 3, 0x41, 0x0f, 0x46);
	ans(&h.mode01[0x10], ECU_ENGINE, 4, 0x41, 0x10, 0x18, 0x1f);
	ans(&h.mode01[0x11], ECU_GEARBOX, 3, 0x41, 0x11, 0x33);
	ans(&h.mode01[0x1f], ECU_ENGINE, 4, 0x41, 0x1f, 0x01, 0x2c);
	ans(&h.mode01[0x21], ECU_ENGINE, 4, 0x41, 0x21, 0x00, 0x00);
	ans(&h.mode01[0x2f], ECU_ENGINE, 3, 0x41, 0x2f, 0x80);
	ans(&h.mode01[0x31], ECU_ENGINE, 4, 0x41, 0x31, 0xc8, 0x1f);
	ans(&h.mode01[0x42], ECU_ENGINE, 4, 0x41, 0x42, 0x39, 0x4b);
	ans(&h.mode01[0x46], ECU_ENGINE, 3, 0x41, 0x46, 0x3c);
	ans(&h.mode01[0x5e], ECU_ENGINE, 4, 0x41, 0x5e, 0x00, 0x64);

	ans_vin(&h.vin, ECU_ENGINE, VIN_CN);
	/* P0104 from both ECUs is one code */
	ans(&h.dtc03, ECU_ENGINE, 6, 0x43, 0x02, 0x01, 0x04, 0xc1, 0x00);
	ans(&h.dtc03, ECU_GEARBOX, 6, 0x43, 0x02, 0x01, 0x04, 0x41, 0x23);
	ans(&h.dtc07, ECU_ENGINE, 4, 0x47, 0x01, 0x03, 0x01);
	/* mode 0A not understood by this ECU */
	ans_result(&h.dtc0a, OBD_DRV_ERROR, "?");
}

/* ---- harness --------------------------------------------------------- */

static void
on_obd(struct obd *o, enum obd_event ev, void *arg)
{
	struct obd_status	st;

	(void)arg;
	obd_get_status(o, &st);
	if (h.nev < MAX_EVENTS) {
		h.ev[h.nev] = ev;
		h.ev_state[h.nev] = st.state;
		h.nev++;
	}
	if (ev == OBD_EV_VALUES)
		h.nvalues++;
	else if (ev == OBD_EV_DTCS)
		h.ndtcs++;
	else if (ev == OBD_EV_VIN)
		h.nvin++;
}

static void
on_prepare(void *arg)
{
	(void)arg;
	if (h.cond != NULL && h.cond())
		ev_break(h.loop);
}

static void
on_deadline(void *arg)
{
	(void)arg;
	ev_break(h.loop);
}

/* Runs the loop until cond() holds or timeout_ms passed; returns cond(). */
static bool
wait_for(bool (*cond)(void), uint64_t want, uint64_t timeout_ms)
{
	h.want = want;
	if (cond())
		return true;
	h.cond = cond;
	ev_timer_set(h.loop, &h.deadline, timeout_ms);
	(void)ev_run(h.loop);
	ev_timer_stop(h.loop, &h.deadline);
	h.cond = NULL;
	return cond();
}

/* Runs the loop for ms; returns the time that really passed. */
static uint64_t
run_for(uint64_t ms)
{
	uint64_t	t0 = ev_now_ms(h.loop);

	h.cond = NULL;
	ev_timer_set(h.loop, &h.deadline, ms);
	(void)ev_run(h.loop);
	return ev_now_ms(h.loop) - t0;
}

static struct obd_status
status(void)
{
	struct obd_status	st;

	obd_get_status(h.obd, &st);
	return st;
}

static struct obd_sample
sample(uint64_t max_age_ms)
{
	struct obd_sample	s;

	obd_get_sample(h.obd, ev_now_ms(h.loop), max_age_ms, &s);
	return s;
}

static bool
cond_state(void)
{
	return status().state == (enum obd_state)h.want;
}

static bool
cond_values(void)
{
	return h.nvalues >= h.want;
}

static bool
cond_dtcs(void)
{
	return h.ndtcs >= h.want;
}

static bool
cond_0100(void)
{
	return h.nreq01[0x00] >= h.want;
}

static uint8_t	cond_pid;

static bool
cond_pid_polled(void)
{
	return h.nreq01[cond_pid] >= h.want;
}

static void
opts_default(void)
{
	memset(&h.opts, 0, sizeof(h.opts));
	h.opts.driver = OBD_DRIVER_ELM327;
	h.opts.device = DEVICE;
	h.opts.baud = 38400;
	h.opts.interface = "can0";
	h.opts.timeout_ms = 1000;
	h.opts.poll_fast_ms = FAST_MS;
	h.opts.poll_slow_ms = SLOW_MS;
	h.opts.dtc_interval_ms = 300000;
	h.opts.retry_min_ms = 50;
	h.opts.retry_max_ms = 1000;
	h.opts.fuel = OBD_PID_FUEL_GASOLINE;
}

static void
start(void)
{
	h.obd = obd_new_with_driver(h.loop, &h.opts, &fake_ops, on_obd, NULL);
	cr_assert_not_null(h.obd);
	cr_assert_eq(h.drv_obd, h.obd);
}

static void
start_up(void)
{
	start();
	cr_assert(wait_for(cond_state, OBD_UP, WAIT_MS), "never reached up");
}

static void
setup(void)
{
	char	path[] = "/tmp/test_obd.XXXXXX";

	memset(&h, 0, sizeof(h));
	h.saved_stderr = -1;
	h.awake = true;
	h.volts = NAN;
	h.protocol_num = 6;
	/* capture the log to count lines; unlinked at once */
	h.log_fd = mkstemp(path);
	cr_assert_geq(h.log_fd, 0);
	(void)unlink(path);
	fflush(stderr);
	h.saved_stderr = dup(STDERR_FILENO);
	(void)dup2(h.log_fd, STDERR_FILENO);
	log_init("fleetgwd", LOG_TARGET_QUIET);
	log_setverbose(1);
	h.loop = ev_new();
	ev_prepare_add(h.loop, on_prepare, NULL);
	ev_timer_init(&h.deadline, on_deadline, NULL);
	opts_default();
}

static void
teardown(void)
{
	char	buf[4096];
	ssize_t	n;
	off_t	off = 0;

	obd_free(h.obd);
	h.obd = NULL;
	ev_free(h.loop);
	h.loop = NULL;
	fflush(stderr);
	/* TEST_OBD_LOG=1 shows the reader's log of each test */
	if (getenv("TEST_OBD_LOG") != NULL && h.saved_stderr >= 0)
		while ((n = pread(h.log_fd, buf, sizeof(buf), off)) > 0) {
			(void)write(h.saved_stderr, buf, (size_t)n);
			off += n;
		}
	if (h.saved_stderr >= 0) {
		(void)dup2(h.saved_stderr, STDERR_FILENO);
		(void)close(h.saved_stderr);
	}
	(void)close(h.log_fd);
}

/* Occurrences of needle in the captured log. */
static int
log_count(const char *needle)
{
	static char	 buf[1 << 18];
	ssize_t		 n;
	const char	*p;
	int		 count = 0;

	fflush(stderr);
	if ((n = pread(h.log_fd, buf, sizeof(buf) - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		count++;
	return count;
}

static bool
has_dtc(const struct obd_status *st, const char *code, uint8_t mode)
{
	size_t	i;

	for (i = 0; i < st->ndtc; i++)
		if (strcmp(st->dtc[i].code, code) == 0 &&
		    st->dtc[i].mode == mode)
			return true;
	return false;
}

TestSuite(obd, .init = setup, .fini = teardown, .timeout = 20);

/* ---- tests ----------------------------------------------------------- */

Test(obd, discovery_merges_two_ecus_and_chains_ranges, .timeout = 20)
{
	struct obd_status	st;
	struct obd_sample	s;

	car_standard();
	start_up();
	cr_assert_eq(h.nreq01[0x00], 1);
	cr_assert_eq(h.nreq01[0x20], 1);
	cr_assert_eq(h.nreq01[0x40], 1, "01 40 is announced by 7E9 only");
	cr_assert_eq(h.nreq01[0x60], 0);
	st = status();
	cr_assert_eq(st.supported_pids, 18);
	cr_assert_str_eq(st.driver, "fake");
	cr_assert_str_eq(st.device, DEVICE);
	cr_assert_str_eq(st.adapter, "FAKE v1.0");
	cr_assert_eq(st.protocol_num, 6);
	cr_assert_eq(log_count("obd: fake " DEVICE ": up, protocol ISO "
	    "15765-4 CAN (11 bit, 500 kbaud), 18 PIDs supported"), 1);

	/* 11 is announced by the gearbox only, and polled */
	cond_pid = 0x11;
	cr_assert(wait_for(cond_pid_polled, 1, WAIT_MS));
	cr_assert(wait_for(cond_values, 8, WAIT_MS));
	cr_assert_eq(h.nreq01[0x49], 0, "49 is announced but not ours");
	s = sample(60000);
	cr_assert_float_eq(s.rpm, 1726.0, 1e-9, "rpm from 7E8, not 7E9");
	cr_assert_float_eq(s.speed_kmh, 60.0, 1e-9);
	cr_assert_float_eq(s.throttle_pct, 20.0, 1e-9);
	cr_assert_eq(status().bad_replies, 0);
}

Test(obd, up_is_reached_and_callbacks_come_in_order, .timeout = 20)
{
	car_standard();
	start();
	cr_assert_eq(status().state, OBD_INIT);
	cr_assert(wait_for(cond_values, 1, WAIT_MS));
	cr_assert_geq(h.nev, 5);
	cr_assert_eq(h.ev[0], OBD_EV_STATE);
	cr_assert_eq(h.ev_state[0], OBD_NO_ECU);
	cr_assert_eq(h.ev[1], OBD_EV_STATE);
	cr_assert_eq(h.ev_state[1], OBD_UP);
	cr_assert_eq(h.ev[2], OBD_EV_VIN);
	cr_assert_eq(h.ev[3], OBD_EV_DTCS);
	cr_assert_eq(h.ev[4], OBD_EV_VALUES);
	/* one request at a time, in this order: VIN, 03, 07, 0A, polls */
	cr_assert_eq(h.nreq_vin, 1);
	cr_assert_eq(h.nreq03, 1);
	cr_assert_eq(h.nreq07, 1);
	cr_assert_eq(h.nreq0a, 1);
	cr_assert_eq(status().state, OBD_UP);
}

Test(obd, fast_and_slow_periods_are_respected, .timeout = 20)
{
	unsigned int	c0c, c0d, c05, c46, c10;
	uint64_t	span;

	car_standard();
	start_up();
	cr_assert(wait_for(cond_values, 1, WAIT_MS));
	c0c = h.nreq01[0x0c];
	c0d = h.nreq01[0x0d];
	c05 = h.nreq01[0x05];
	c46 = h.nreq01[0x46];
	c10 = h.nreq01[0x10];
	span = run_for(1000);
	c0c = h.nreq01[0x0c] - c0c;
	c0d = h.nreq01[0x0d] - c0d;
	c05 = h.nreq01[0x05] - c05;
	c46 = h.nreq01[0x46] - c46;
	c10 = h.nreq01[0x10] - c10;
	/* never more often than the period; a loaded machine may be late */
	cr_assert_leq(c0c, span / FAST_MS + 1, "0C %u in %llu ms", c0c,
	    (unsigned long long)span);
	cr_assert_leq(c0d, span / FAST_MS + 1);
	cr_assert_leq(c05, span / SLOW_MS + 1, "05 %u in %llu ms", c05,
	    (unsigned long long)span);
	cr_assert_leq(c46, span / SLOW_MS + 1);
	cr_assert_geq(c0c, 10, "0C polled %u times", c0c);
	cr_assert_geq(c05, 2, "05 polled %u times", c05);
	cr_assert_geq(c0c, 3 * c05, "fast %u vs slow %u", c0c, c05);
	cr_assert_eq(c10, 0, "MAF is not polled when 5E is served");
	cr_assert_eq(h.nreq01[0x10], 0);
}

Test(obd, vin_is_read_once_per_connection, .timeout = 20)
{
	struct obd_status	st;

	car_standard();
	start_up();
	cr_assert(wait_for(cond_values, 1, WAIT_MS));
	(void)run_for(100);
	st = status();
	cr_assert_str_eq(st.vin, VIN_CN);
	cr_assert(st.vin_check_ok);
	cr_assert_eq(h.nreq_vin, 1);
	cr_assert_eq(h.nvin, 1);
	cr_assert_eq(log_count("VIN " VIN_CN ", check digit ok"), 1);

	/* the ECU sleeps and wakes: same connection, no second 09 02 */
	h.awake = false;
	cr_assert(wait_for(cond_state, OBD_NO_ECU, WAIT_MS));
	h.awake = true;
	cr_assert(wait_for(cond_state, OBD_UP, WAIT_MS));
	cr_assert(wait_for(cond_dtcs, 2, WAIT_MS));
	cr_assert_eq(h.nreq_vin, 1);
	cr_assert_eq(h.nreq03, 2, "DTCs are read at every connect");
	cr_assert_str_eq(status().vin, VIN_CN);

	/* a new connection of the adapter reads it again */
	fake_down("unplugged");
	cr_assert_str_eq(status().vin, "");
	fake_back();
	cr_assert(wait_for(cond_dtcs, 3, WAIT_MS));
	cr_assert_eq(h.nreq_vin, 2);
	cr_assert_str_eq(status().vin, VIN_CN);
}

Test(obd, vin_without_check_digit_is_kept_and_flagged, .timeout = 20)
{
	struct obd_status	st;

	car_standard();
	ans_vin(&h.vin, ECU_ENGINE, VIN_EU);
	start_up();
	cr_assert(wait_for(cond_values, 1, WAIT_MS));
	st = status();
	cr_assert_str_eq(st.vin, VIN_EU);
	cr_assert(!st.vin_check_ok);
	cr_assert_eq(log_count("VIN " VIN_EU ", check digit mismatch"), 1);
}

Test(obd, dtcs_are_the_union_over_ecus_and_modes, .timeout = 20)
{
	struct obd_status	st;

	car_standard();
	h.opts.dtc_interval_ms = 100;
	start_up();
	cr_assert(wait_for(cond_dtcs, 1, WAIT_MS));
	st = status();
	cr_assert(st.dtcs_read);
	cr_assert_eq(st.ndtc, 4);
	cr_assert(has_dtc(&st, "P0104", 0x03));
	cr_assert(has_dtc(&st, "U0100", 0x03));
	cr_assert(has_dtc(&st, "C0123", 0x03));
	cr_assert(has_dtc(&st, "P0301", 0x07));
	cr_assert_geq(st.errors, 1, "0A answered '?'");
	cr_assert_eq(st.bad_replies, 0);
	cr_assert_str_eq(obd_dtc_kind(0x03), "stored");
	cr_assert_str_eq(obd_dtc_kind(0x07), "pending");
	cr_assert_str_eq(obd_dtc_kind(0x0a), "permanent");

	/* the next scan replaces the list: 07 now answers NO DATA, and the
	 * permanent code appears */
	ans_clear(&h.dtc07);
	ans_clear(&h.dtc0a);
	ans(&h.dtc0a, ECU_ENGINE, 4, 0x4a, 0x01, 0x01, 0x04);
	cr_assert(wait_for(cond_dtcs, 2, WAIT_MS));
	st = status();
	cr_assert_eq(st.ndtc, 4);
	cr_assert(!has_dtc(&st, "P0301", 0x07));
	cr_assert(has_dtc(&st, "P0104", 0x0a));
	cr_assert_geq(h.nreq03, 2);
}

Test(obd, dtc_scan_cut_by_ignition_off_is_dropped, .timeout = 20)
{
	struct obd_status	st;

	car_standard();
	h.opts.dtc_interval_ms = 100;
	start_up();
	cr_assert(wait_for(cond_dtcs, 1, WAIT_MS));
	cr_assert_eq(status().ndtc, 4);
	/* the next scan: 03 answers, then the ECU sleeps (07, 0A: NO DATA) */
	h.sleep_after_03 = true;
	cr_assert(wait_for(cond_state, OBD_NO_ECU, WAIT_MS));
	cr_assert_geq(h.nreq03, 2);
	st = status();
	cr_assert_eq(h.ndtcs, 1, "the cut scan is not reported");
	cr_assert_eq(st.ndtc, 4);
	cr_assert(has_dtc(&st, "P0301", 0x07), "pending code kept");
}

Test(obd, mismatched_short_and_long_replies_are_counted_not_applied,
    .timeout = 20)
{
	struct obd_status	st;
	struct obd_sample	s;

	car_standard();
	ans_clear(&h.mode01[0x0d]);
	ans(&h.mode01[0x0d], ECU_ENGINE, 4, 0x41, 0x0c, 0x00, 0x10);
	ans_clear(&h.mode01[0x05]);
	ans(&h.mode01[0x05], ECU_ENGINE, 2, 0x41, 0x05);
	ans_clear(&h.mode01[0x0f]);
	ans(&h.mode01[0x0f], ECU_ENGINE, 4, 0x41, 0x0f, 0x46, 0x00);
	ans_clear(&h.mode01[0x04]);
	ans(&h.mode01[0x04], ECU_ENGINE, 3, 0x42, 0x04, 0x80);
	start_up();
	cond_pid = 0x0f;
	cr_assert(wait_for(cond_pid_polled, 1, WAIT_MS));
	cond_pid = 0x0d;
	cr_assert(wait_for(cond_pid_polled, 2, WAIT_MS));
	st = status();
	cr_assert_geq(st.bad_replies, 4, "bad_replies %llu",
	    (unsigned long long)st.bad_replies);
	s = sample(60000);
	cr_assert(isnan(s.speed_kmh), "41 0C to 01 0D must not be speed");
	cr_assert_float_eq(s.rpm, 1726.0, 1e-9,
	    "41 0C to 01 0D must not be rpm either");
	cr_assert(isnan(s.coolant_c), "short 41 05 is never zero-padded");
	cr_assert(isnan(s.intake_c), "long reply rejected");
	cr_assert(isnan(s.load_pct), "wrong SID rejected");
	cr_assert_float_eq(s.ambient_c, 20.0, 1e-9);
	cr_assert_eq(st.state, OBD_UP);
}

Test(obd, no_ecu_reports_engine_off_and_adapter_voltage, .timeout = 20)
{
	struct obd_status	st;
	struct obd_sample	s;
	size_t			n0;

	car_standard();
	h.awake = false;
	h.volts = 12.4;
	start();
	cr_assert(wait_for(cond_state, OBD_NO_ECU, WAIT_MS));
	cr_assert(wait_for(cond_values, 1, WAIT_MS));
	n0 = h.nvalues;
	cr_assert(wait_for(cond_0100, 3, WAIT_MS));
	cr_assert(wait_for(cond_values, n0 + 2, WAIT_MS),
	    "one report per retry");
	/* retry_min_ms (50) is below the floor: at least 100 ms apart */
	cr_assert_geq(h.t0100[1] - h.t0100[0], 100);
	cr_assert_geq(h.t0100[2] - h.t0100[1], 100);
	cr_assert_lt(h.t0100[2] - h.t0100[0], 1000, "not the old 1 s floor");
	st = status();
	cr_assert_eq(st.state, OBD_NO_ECU);
	cr_assert_eq(h.nreq01[0x20], 0);
	cr_assert_eq(h.nreq_vin, 0);
	cr_assert_geq(st.no_data, 3);
	s = sample(5000);
	cr_assert_float_eq(s.rpm, 0.0, 1e-9);
	cr_assert_float_eq(s.speed_kmh, 0.0, 1e-9);
	cr_assert_float_eq(s.battery_v, 12.4, 1e-9);
	cr_assert(isnan(s.coolant_c));
	cr_assert(isnan(s.fuel_rate_lph));
	cr_assert_eq(s.mil_on, -1);
	cr_assert_eq(log_count("adapter ready (FAKE v1.0), no ECU answering"),
	    1);

	/* the ignition comes on */
	h.awake = true;
	cr_assert(wait_for(cond_state, OBD_UP, WAIT_MS));
}

Test(obd, down_reports_nothing_and_values_go_stale, .timeout = 20)
{
	struct obd_status	st;
	struct obd_sample	s;
	size_t			nvalues;
	uint64_t		requests, last;

	car_standard();
	h.volts = 12.6;
	start_up();
	cond_pid = 0x42;
	cr_assert(wait_for(cond_pid_polled, 2, WAIT_MS));
	s = sample(100);
	cr_assert_float_eq(s.rpm, 1726.0, 1e-9);
	cr_assert_float_eq(s.battery_v, 14.667, 1e-9, "PID 42 before ATRV");
	cr_assert_eq(s.mil_on, 1);

	fake_down("unplugged");
	st = status();
	cr_assert_eq(st.state, OBD_DOWN);
	cr_assert_str_eq(st.last_error, "unplugged");
	cr_assert_eq(st.reconnects, 1);
	nvalues = h.nvalues;
	requests = st.requests;
	last = st.values_mono_ms;
	(void)run_for(200);
	st = status();
	cr_assert_eq(h.nvalues, nvalues, "nothing reported while down");
	cr_assert_eq(st.requests, requests);
	cr_assert_eq(st.values_mono_ms, last);
	s = sample(100);
	cr_assert(isnan(s.rpm));
	cr_assert(isnan(s.speed_kmh));
	cr_assert(isnan(s.battery_v));
	cr_assert_eq(s.mil_on, -1);
	cr_assert(!record_obd_any(&s));
	/* still there for a longer limit */
	s = sample(60000);
	cr_assert_float_eq(s.rpm, 1726.0, 1e-9);

	/* a driver retrying for the same reason is logged once */
	obd_drv_state(h.obd, OBD_INIT, "");
	obd_drv_state(h.obd, OBD_DOWN, "unplugged");
	obd_drv_state(h.obd, OBD_INIT, "");
	obd_drv_state(h.obd, OBD_DOWN, "unplugged");
	cr_assert_eq(log_count("obd: fake " DEVICE ": down (unplugged)"), 1);
	cr_assert_eq(status().reconnects, 1);
	cr_assert_str_eq(obd_state_name(OBD_DOWN), "down");
}

Test(obd, ecu_that_stops_answering_sends_the_reader_back_to_no_ecu,
    .timeout = 20)
{
	struct obd_sample	s;
	unsigned int		n0;

	uint64_t		requests;

	car_standard();
	h.volts = 14.2;		/* ATRV while the alternator charges */
	start_up();
	cond_pid = 0x42;
	cr_assert(wait_for(cond_pid_polled, 2, WAIT_MS));
	s = sample(1000);
	cr_assert_float_eq(s.battery_v, 14.667, 1e-9);
	cr_assert_float_eq(s.fuel_rate_lph, 5.0, 1e-9);
	requests = status().requests;
	h.awake = false;
	cr_assert(wait_for(cond_state, OBD_NO_ECU, WAIT_MS));
	/* three answering PIDs failing in a row: the ignition is off */
	cr_assert_eq(status().requests - requests, 3);
	cr_assert_eq(log_count("ECU stopped answering"), 1);
	cr_assert_str_eq(status().last_error, "ECU stopped answering");
	s = sample(1000);
	cr_assert_float_eq(s.rpm, 0.0, 1e-9, "a sleeping ECU: engine off");
	cr_assert_float_eq(s.speed_kmh, 0.0, 1e-9);
	/* running-engine values are gone, and so is the adapter's reading
	 * from before: 14.2 V would say the engine still runs */
	cr_assert(isnan(s.battery_v), "battery_v %f", s.battery_v);
	cr_assert(isnan(s.fuel_rate_lph));
	cr_assert(isnan(s.load_pct));
	cr_assert(isnan(s.throttle_pct));
	cr_assert_float_eq(s.coolant_c, 83.0, 1e-9, "still true when parked");
	cr_assert_eq(log_count("no longer polled"), 0,
	    "a silent ECU drops no PID");

	/* retries are not logged; the driver's next ATRV is taken */
	h.volts = 12.3;
	n0 = h.nreq01[0x00];
	cr_assert(wait_for(cond_0100, n0 + 2, WAIT_MS));
	cr_assert_eq(log_count("ECU stopped answering"), 1);
	cr_assert_eq(status().state, OBD_NO_ECU);
	s = sample(1500);
	cr_assert_float_eq(s.battery_v, 12.3, 1e-9);
	cr_assert_float_eq(s.rpm, 0.0, 1e-9);

	h.awake = true;
	cr_assert(wait_for(cond_state, OBD_UP, WAIT_MS));
	n0 = h.nreq01[0x2f];
	cond_pid = 0x2f;
	cr_assert(wait_for(cond_pid_polled, n0 + 1, WAIT_MS));
	cr_assert(wait_for(cond_values, h.nvalues + 1, WAIT_MS));
	s = sample(1000);
	cr_assert_float_eq(s.rpm, 1726.0, 1e-9);
}

Test(obd, pid_answering_no_data_is_dropped, .timeout = 20)
{
	struct obd_sample	s;
	unsigned int		n46, n10;

	car_standard();
	/* announced, never served: 1F 21 2F 31 (in a row in the poll
	 * order) and the fuel rate 5E */
	ans_clear(&h.mode01[0x1f]);
	ans_clear(&h.mode01[0x21]);
	ans_clear(&h.mode01[0x2f]);
	ans_clear(&h.mode01[0x31]);
	ans_clear(&h.mode01[0x5e]);
	h.opts.poll_slow_ms = 40;
	start_up();
	cond_pid = 0x2f;
	cr_assert(wait_for(cond_pid_polled, 3, WAIT_MS));
	cond_pid = 0x5e;
	cr_assert(wait_for(cond_pid_polled, 3, WAIT_MS));
	n46 = h.nreq01[0x46];
	(void)run_for(400);
	cr_assert_eq(h.nreq01[0x1f], 3);
	cr_assert_eq(h.nreq01[0x21], 3);
	cr_assert_eq(h.nreq01[0x2f], 3);
	cr_assert_eq(h.nreq01[0x31], 3);
	cr_assert_eq(h.nreq01[0x5e], 3);
	cr_assert_gt(h.nreq01[0x46], n46, "the others are still polled");
	cr_assert_eq(log_count("PID 2F announced but answers NO DATA"), 1);
	cr_assert_eq(log_count("PID 5E announced but answers NO DATA"), 1);
	cr_assert_eq(log_count("ECU stopped answering"), 0,
	    "PIDs that never answered do not make the ECU look asleep");
	cr_assert_eq(status().state, OBD_UP);

	/* without 5E the fuel rate comes from MAF, polled fast */
	n10 = h.nreq01[0x10];
	cr_assert_gt(n10, 0);
	(void)run_for(300);
	cr_assert_geq(h.nreq01[0x10] - n10, 5);
	s = sample(1000);
	cr_assert_eq(s.fuel_rate_estimated, 1);
	cr_assert(isfinite(s.fuel_rate_lph));
}

Test(obd, fuel_rate_from_5e, .timeout = 20)
{
	struct obd_sample	s;

	car_standard();
	start_up();
	cond_pid = 0x5e;
	cr_assert(wait_for(cond_pid_polled, 2, WAIT_MS));
	s = sample(1000);
	cr_assert_float_eq(s.fuel_rate_lph, 5.0, 1e-9);
	cr_assert_eq(s.fuel_rate_estimated, 0);
	cr_assert(isnan(s.maf_gps));
	cr_assert_eq(h.nreq01[0x10], 0);
}

Test(obd, fuel_rate_estimated_from_maf_without_5e, .timeout = 20)
{
	struct obd_sample	s;
	double			want;

	car_standard();
	ans_clear(&h.mode01[0x40]);
	ans_support(ECU_ENGINE, 0x40, 0x42, 0x46, 0);
	ans_support(ECU_GEARBOX, 0x40, 0x49, 0);
	h.opts.fuel = OBD_PID_FUEL_DIESEL;
	start_up();
	cond_pid = 0x10;
	cr_assert(wait_for(cond_pid_polled, 2, WAIT_MS));
	cr_assert_eq(h.nreq01[0x5e], 0);
	s = sample(1000);
	cr_assert_float_eq(s.maf_gps, 61.75, 1e-9);
	cr_assert_eq(obd_pid_fuel_from_maf(61.75, OBD_PID_FUEL_DIESEL, &want),
	    0);
	cr_assert_float_eq(s.fuel_rate_lph, want, 1e-9);
	cr_assert_eq(s.fuel_rate_estimated, 1);
}

Test(obd, reconfigure_without_restart_applies_periods, .timeout = 20)
{
	struct obd_opts	opts;
	char		dev[32], ifname[16];
	unsigned int	c0c;
	uint64_t	span;

	car_standard();
	start_up();
	cr_assert(wait_for(cond_values, 5, WAIT_MS));

	/* same adapter, slower polling: no restart */
	opts = h.opts;
	(void)snprintf(dev, sizeof(dev), "%s", DEVICE);
	(void)snprintf(ifname, sizeof(ifname), "can0");
	opts.device = dev;
	opts.interface = ifname;
	opts.poll_fast_ms = 400;
	opts.poll_slow_ms = 2000;
	opts.timeout_ms = 2000;
	obd_reconfigure(h.obd, &opts);
	memset(dev, 'x', sizeof(dev) - 1);	/* the reader copied it */
	cr_assert_eq(h.nstart, 1);
	cr_assert_eq(h.nstop, 0);
	cr_assert_eq(h.nreconf, 1);
	cr_assert_eq(status().state, OBD_UP);
	cr_assert_str_eq(status().device, DEVICE);
	c0c = h.nreq01[0x0c];
	span = run_for(1000);
	c0c = h.nreq01[0x0c] - c0c;
	cr_assert_leq(c0c, span / 400 + 1, "0C %u in %llu ms", c0c,
	    (unsigned long long)span);
	cr_assert_geq(c0c, 1);
	cr_assert_eq(status().state, OBD_UP);

	/* a new device restarts the driver */
	(void)snprintf(dev, sizeof(dev), "%s1", DEVICE);
	obd_reconfigure(h.obd, &opts);
	(void)snprintf(dev, sizeof(dev), "gone");
	cr_assert_eq(h.nstop, 1);
	cr_assert_eq(h.nstart, 2);
	cr_assert_str_eq(status().device, DEVICE "1");
	cr_assert_str_eq(status().vin, "");
	cr_assert(wait_for(cond_dtcs, 2, WAIT_MS));
	cr_assert_eq(h.nreq_vin, 2);
	cr_assert_eq(status().state, OBD_UP);
}

Test(obd, driver_none_stays_off, .timeout = 20)
{
	struct obd_status	st;
	struct obd_sample	s;

	h.opts.driver = OBD_DRIVER_NONE;
	h.obd = obd_new(h.loop, &h.opts, on_obd, NULL);
	cr_assert_not_null(h.obd);
	(void)run_for(50);
	st = status();
	cr_assert_eq(st.state, OBD_OFF);
	cr_assert_str_eq(st.driver, "none");
	cr_assert_eq(st.requests, 0);
	cr_assert_eq(h.nev, 0);
	s = sample(60000);
	cr_assert(!record_obd_any(&s));
	cr_assert_str_eq(obd_state_name(OBD_OFF), "off");
	cr_assert_str_eq(obd_state_name(OBD_NO_ECU), "no_ecu");
}
