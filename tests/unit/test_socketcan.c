/* SPDX-License-Identifier: MIT */
/*
 * test_socketcan.c - the SocketCAN OBD driver.
 *
 * The driver runs in a real ev loop over one end of a SOCK_SEQPACKET
 * socketpair (socketcan_start_fd()); the test plays the ECUs on the other
 * end, one struct can_frame per record, as a raw CAN socket carries
 * them.  obd.c is not linked: obd_drv_state() and obd_drv_reply() below
 * record what the driver tells the reader.  Every wait runs the loop
 * until a condition holds or a deadline timer fires.
 *
 * The frames are the project's own, plus every scenario of the shared
 * socketcan-candump.txt (skipped when ../shared is absent).  The real
 * socket path is checked on this machine's kernel (no AF_CAN: the driver
 * must stay down, log once and back off), and against vcan0 where there
 * is one.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ev.h"
#include "isotp.h"
#include "log.h"
#include "obd.h"
#include "obd_drv.h"
#include "obd_testdata.h"
#include "socketcan.h"

#define TMO		30	/* the one Criterion timeout of this binary */
#define WAIT_MS		4000	/* generous: ASan, loaded machines */
#define QUIET_MS	300	/* "nothing happens" windows */
#define REQ_TIMEOUT_MS	100
#define RETRY_MIN_MS	20
#define RETRY_MAX_MS	80
#define PAD		0x55
#define NCR_MS		1000
#define MAX_STATES	256
#define MAX_REPLIES	16
#define MAX_DATA	64
#define IFNAME		"vcan-test"
#define ID29(x)		((uint32_t)(x) | ISOTP_ID_EFF)

struct rec_reply {
	enum obd_drv_result	result;
	size_t			nmsg;
	uint32_t		id[OBD_DRV_MAX_MSGS];
	uint8_t			data[OBD_DRV_MAX_MSGS][MAX_DATA];
	size_t			len[OBD_DRV_MAX_MSGS];
	char			text[64];
	uint64_t		at_ms;
};

static struct {
	struct ev_loop	*loop;
	struct ev_timer	 deadline;
	bool		(*cond)(void);
	uint64_t	 want;
	void		*drv;
	int		 ecu;		/* the ECUs' end of the pair, -1 */
	struct obd_opts	 opts;
	struct {
		enum obd_state	st;
		char		why[160];
	}		 states[MAX_STATES];
	size_t		 nstates;
	struct rec_reply replies[MAX_REPLIES];
	size_t		 nreplies;
	bool		 in_request;
	int		 log_fd;
	int		 saved_stderr;
} h;

/* The reader is opaque to drivers: any unique address will do. */
static int	obd_token;
#define OBD_TOKEN	((struct obd *)&obd_token)

/* ---- the reader's side, recorded ------------------------------------- */

void
obd_drv_state(struct obd *o, enum obd_state st, const char *why)
{
	cr_assert_eq(o, OBD_TOKEN);
	cr_assert_not_null(why);
	cr_assert(!h.in_request, "state change from inside request()");
	cr_assert_lt(h.nstates, MAX_STATES);
	h.states[h.nstates].st = st;
	snprintf(h.states[h.nstates].why, sizeof(h.states[0].why), "%s", why);
	h.nstates++;
}

void
obd_drv_reply(struct obd *o, const struct obd_drv_reply *r)
{
	struct rec_reply *rr;
	size_t i;

	cr_assert_eq(o, OBD_TOKEN);
	cr_assert(!h.in_request, "reply from inside request()");
	cr_assert_lt(h.nreplies, MAX_REPLIES);
	cr_assert_leq(r->nmsg, OBD_DRV_MAX_MSGS);
	rr = &h.replies[h.nreplies++];
	memset(rr, 0, sizeof(*rr));
	rr->result = r->result;
	rr->nmsg = r->nmsg;
	rr->at_ms = ev_now_ms(h.loop);
	if (r->text != NULL)
		snprintf(rr->text, sizeof(rr->text), "%s", r->text);
	for (i = 0; i < r->nmsg; i++) {
		cr_assert_leq(r->msg[i].len, MAX_DATA);
		cr_assert_geq(r->msg[i].len, 1);
		rr->id[i] = r->msg[i].id;
		rr->len[i] = r->msg[i].len;
		memcpy(rr->data[i], r->msg[i].data, r->msg[i].len);
	}
}

/* ---- loop driving ------------------------------------------------------ */

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

static bool
cond_states(void)
{
	return h.nstates >= h.want;
}

static bool
cond_replies(void)
{
	return h.nreplies >= h.want;
}

static bool
cond_state_is(void)
{
	return h.nstates > 0 &&
	    h.states[h.nstates - 1].st == (enum obd_state)h.want;
}

static bool
cond_ecu_readable(void)
{
	struct pollfd pfd = { .fd = h.ecu, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static struct socketcan_stats
stats(void)
{
	struct socketcan_stats st;

	socketcan_get_stats(h.drv, &st);
	return st;
}

static bool
cond_attempts(void)
{
	return stats().attempts >= h.want;
}

/* ---- set-up ------------------------------------------------------------ */

static void
setup(void)
{
	char path[] = "/tmp/test_socketcan.XXXXXX";

	memset(&h, 0, sizeof(h));
	h.ecu = -1;
	h.saved_stderr = -1;
	/* the log is captured to count lines; unlinked at once */
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
}

static void
drv_stop(void)
{
	obd_drv_socketcan.stop(h.drv);
	h.drv = NULL;
	if (h.ecu != -1)
		(void)close(h.ecu);
	h.ecu = -1;
}

static void
teardown(void)
{
	drv_stop();
	ev_free(h.loop);
	h.loop = NULL;
	fflush(stderr);
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
	static char buf[1 << 17];
	const char *p;
	ssize_t n;
	int count = 0;

	fflush(stderr);
	if ((n = pread(h.log_fd, buf, sizeof(buf) - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		count++;
	return count;
}

static void
set_opts(uint32_t timeout_ms)
{
	memset(&h.opts, 0, sizeof(h.opts));
	h.opts.driver = OBD_DRIVER_SOCKETCAN;
	h.opts.interface = IFNAME;
	h.opts.timeout_ms = timeout_ms;
	h.opts.retry_min_ms = RETRY_MIN_MS;
	h.opts.retry_max_ms = RETRY_MAX_MS;
}

/* The driver over a fresh socketpair, ready (OBD_NO_ECU). */
static void
drv_start(uint32_t timeout_ms)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0, "socketpair: %s", strerror(errno));
	h.ecu = sv[1];
	set_opts(timeout_ms);
	h.nstates = 0;
	h.nreplies = 0;
	h.drv = socketcan_start_fd(h.loop, &h.opts, OBD_TOKEN, sv[0]);
	cr_assert_not_null(h.drv);
	/* the driver opens from the loop, never inside start() */
	cr_assert_eq(h.nstates, 0);
	cr_assert(wait_for(cond_states, 1, WAIT_MS), "never ready");
	cr_assert_eq(h.states[0].st, OBD_NO_ECU);
	cr_assert_str_eq(h.states[0].why, "");
}

/* ---- frames ------------------------------------------------------------ */

static size_t
parse_hex(const char *s, uint8_t *out, size_t max)
{
	unsigned v;
	size_t n = 0;

	for (;;) {
		while (*s == ' ')
			s++;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F')))
			break;
		cr_assert(sscanf(s, "%2x", &v) == 1, "bad hex '%s'", s);
		cr_assert_lt(n, max);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* One frame from the ECU side; id carries ISOTP_ID_EFF for 29-bit. */
static void
ecu_send(uint32_t id, const char *hex)
{
	struct can_frame cf;

	memset(&cf, 0, sizeof(cf));
	if (id & ISOTP_ID_EFF)
		cf.can_id = (id & CAN_EFF_MASK) | CAN_EFF_FLAG;
	else
		cf.can_id = id;
	cf.can_dlc = (uint8_t)parse_hex(hex, cf.data, sizeof(cf.data));
	cr_assert_eq(send(h.ecu, &cf, sizeof(cf), MSG_NOSIGNAL),
	    (ssize_t)sizeof(cf));
}

static void
ecu_send_frame(const struct can_frame *cf)
{
	cr_assert_eq(send(h.ecu, cf, sizeof(*cf), MSG_NOSIGNAL),
	    (ssize_t)sizeof(*cf));
}

/* The next frame the driver writes (waits for it). */
static void
ecu_recv(struct can_frame *cf)
{
	ssize_t n;

	cr_assert(wait_for(cond_ecu_readable, 0, WAIT_MS),
	    "the driver sent no frame");
	n = recv(h.ecu, cf, sizeof(*cf), 0);
	cr_assert_eq(n, (ssize_t)sizeof(*cf), "record of %zd bytes", n);
}

/*
 * Checks a frame the driver sent: id (with CAN_EFF_FLAG for 29-bit), DLC
 * 8, the leading bytes as given, SC_PAD after them.
 */
static void
expect_frame(const struct can_frame *cf, canid_t id, const char *hex)
{
	uint8_t want[8];
	size_t n, i;

	n = parse_hex(hex, want, sizeof(want));
	cr_assert_eq(cf->can_id, id, "id %x, want %x", cf->can_id, id);
	cr_assert_eq(cf->can_dlc, 8, "dlc %u", cf->can_dlc);
	for (i = 0; i < 8; i++)
		cr_assert_eq(cf->data[i], i < n ? want[i] : PAD,
		    "byte %zu: %02x", i, cf->data[i]);
}

static void
request(const char *hex)
{
	uint8_t b[8];
	size_t n, before = h.nreplies;
	int rc;

	n = parse_hex(hex, b, sizeof(b));
	h.in_request = true;
	rc = obd_drv_socketcan.request(h.drv, b, n);
	h.in_request = false;
	cr_assert_eq(rc, 0, "request %s refused", hex);
	cr_assert_eq(h.nreplies, before);
}

/* Waits for the next reply and returns it. */
static const struct rec_reply *
next_reply(void)
{
	size_t want = h.nreplies + 1;

	cr_assert(wait_for(cond_replies, want, WAIT_MS), "no reply");
	cr_assert_eq(h.nreplies, want, "more than one reply");
	return &h.replies[want - 1];
}

static void
expect_msg(const struct rec_reply *r, size_t i, uint32_t id, const char *hex)
{
	uint8_t want[MAX_DATA];
	size_t n;

	n = parse_hex(hex, want, sizeof(want));
	cr_assert_lt(i, r->nmsg);
	cr_assert_eq(r->id[i], id, "msg %zu id %x, want %x", i, r->id[i], id);
	cr_assert_eq(r->len[i], n, "msg %zu len %zu, want %zu", i, r->len[i],
	    n);
	cr_assert_arr_eq(r->data[i], want, n);
}

#define VIN_FF		"10 14 49 02 01 4C 53 59"
#define VIN_CF1		"21 4E 54 48 56 42 31 4E"
#define VIN_CF2		"22 41 30 30 30 30 30 31"
#define VIN_MSG		"49 02 01 4C 53 59 4E 54 48 56 42 31 4E 41 30 30 30 " \
			"30 30 31"

TestSuite(socketcan, .init = setup, .fini = teardown, .timeout = TMO);

/* ---- own frames -------------------------------------------------------- */

Test(socketcan, ready_info_and_refusals)
{
	struct obd_status st;
	uint8_t req[8] = { 0x01, 0x00 };

	drv_start(REQ_TIMEOUT_MS);
	memset(&st, 0, sizeof(st));
	obd_drv_socketcan.info(h.drv, &st);
	cr_assert_str_eq(st.adapter, "socketcan " IFNAME);
	cr_assert_eq(st.protocol_num, 0, "unknown before an ECU answered");
	cr_assert_str_eq(st.protocol, "");
	cr_assert(isnan(obd_drv_socketcan.voltage(h.drv)));
	cr_assert_str_eq(obd_drv_socketcan.name, "socketcan");
	cr_assert_eq(obd_drv_socketcan.request(h.drv, req, 0), -1);
	cr_assert_eq(obd_drv_socketcan.request(h.drv, req, 8), -1);
	cr_assert_eq(obd_drv_socketcan.request(h.drv, NULL, 2), -1);
	request("01 00");
	/* one request outstanding at a time */
	cr_assert_eq(obd_drv_socketcan.request(h.drv, req, 2), -1);
	cr_assert_eq(log_count("socketcan: " IFNAME ": open, 11-bit ids "
	    "first"), 1);
}

Test(socketcan, request_frame_and_single_frame_answer)
{
	struct can_frame cf;
	const struct rec_reply *r;
	struct obd_status st;

	drv_start(REQ_TIMEOUT_MS);
	request("01 0C");
	ecu_recv(&cf);
	/* functional 7DF, SF PCI 02, padded to 8 with 0x55 */
	expect_frame(&cf, 0x7df, "02 01 0C");
	cr_assert_eq(h.nreplies, 0);
	ecu_send(0x7e8, "04 41 0C 1A F8 AA AA AA");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1);
	expect_msg(r, 0, 0x7e8, "41 0C 1A F8");
	memset(&st, 0, sizeof(st));
	obd_drv_socketcan.info(h.drv, &st);
	cr_assert_eq(st.protocol_num, 6);
	cr_assert_str_eq(st.protocol, "ISO 15765-4 CAN (11 bit ID)");
	cr_assert_eq(stats().requests, 1);
	/* the next request goes out the same way */
	request("01 0D");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 0D");
	ecu_send(0x7e8, "03 41 0D 3C");		/* DLC 4: no padding */
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	expect_msg(r, 0, 0x7e8, "41 0D 3C");
	cr_assert_eq(log_count(", retrying"), 0);
	cr_assert_eq(h.nstates, 1);
}

Test(socketcan, two_ecus_answer)
{
	struct can_frame cf;
	const struct rec_reply *r;

	drv_start(REQ_TIMEOUT_MS);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	ecu_send(0x7e8, "06 41 00 BE 3E B8 11 00");
	ecu_send(0x7e9, "06 41 00 80 18 00 01 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 2);
	expect_msg(r, 0, 0x7e8, "41 00 BE 3E B8 11");
	expect_msg(r, 1, 0x7e9, "41 00 80 18 00 01");
	cr_assert_eq(stats().locked, 1);
	cr_assert_eq(stats().eff, 0);
}

Test(socketcan, multi_frame_vin_with_flow_control)
{
	struct can_frame cf;
	const struct rec_reply *r;

	drv_start(REQ_TIMEOUT_MS);
	request("09 02");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 09 02");
	ecu_send(0x7e8, VIN_FF);
	ecu_recv(&cf);
	/* flow control to 7E8 - 8: continue, no block limit, STmin 0 */
	expect_frame(&cf, 0x7e0, "30 00 00");
	cr_assert_eq(stats().fc_sent, 1);
	ecu_send(0x7e8, VIN_CF1);
	ecu_send(0x7e8, VIN_CF2);
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1);
	expect_msg(r, 0, 0x7e8, VIN_MSG);
}

Test(socketcan, multi_frame_in_progress_outlives_the_timeout)
{
	struct can_frame cf;
	const struct rec_reply *r;

	drv_start(REQ_TIMEOUT_MS);
	request("03");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "01 03");
	ecu_send(0x7e8, "10 0C 43 05 01 71 03 00");
	ecu_send(0x7e9, "04 43 01 07 00 00 00 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7e0, "30 00 00");
	/* past timeout_ms and the P2 window: 7E8 is still sending */
	cr_assert(!wait_for(cond_replies, 1, QUIET_MS),
	    "delivered with a multi-frame answer in progress");
	ecu_send(0x7e8, "21 04 20 C1 00 01 04 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 2);
	expect_msg(r, 0, 0x7e9, "43 01 07 00");
	expect_msg(r, 1, 0x7e8, "43 05 01 71 03 00 04 20 C1 00 01 04");
}

Test(socketcan, fallback_to_29_bit_and_stick)
{
	struct can_frame cf;
	const struct rec_reply *r;
	struct obd_status st;
	uint64_t t0;

	drv_start(REQ_TIMEOUT_MS);
	t0 = ev_now_ms(h.loop);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	cr_assert_eq(r->nmsg, 0);
	cr_assert_geq(r->at_ms - t0, REQ_TIMEOUT_MS);
	cr_assert_eq(stats().eff, 1);
	/* no answer on 11-bit: the next request tries 29-bit */
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x18db33f1 | CAN_EFF_FLAG, "02 01 00");
	ecu_send(ID29(0x18daf110), "06 41 00 BE 3E B8 11 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	expect_msg(r, 0, ID29(0x18daf110), "41 00 BE 3E B8 11");
	memset(&st, 0, sizeof(st));
	obd_drv_socketcan.info(h.drv, &st);
	cr_assert_eq(st.protocol_num, 7);
	cr_assert_str_eq(st.protocol, "ISO 15765-4 CAN (29 bit ID)");
	cr_assert_eq(log_count("ECUs answer, ISO 15765-4 CAN (29 bit ID)"),
	    1);
	/* 29-bit VIN: FC to 18DA10F1 */
	request("09 02");
	ecu_recv(&cf);
	expect_frame(&cf, 0x18db33f1 | CAN_EFF_FLAG, "02 09 02");
	ecu_send(ID29(0x18daf110), VIN_FF);
	ecu_recv(&cf);
	expect_frame(&cf, 0x18da10f1 | CAN_EFF_FLAG, "30 00 00");
	ecu_send(ID29(0x18daf110), VIN_CF1);
	ecu_send(ID29(0x18daf110), VIN_CF2);
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	expect_msg(r, 0, ID29(0x18daf110), VIN_MSG);
	/* ignition off: 01 00 unanswered, still 29-bit (it answered) */
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x18db33f1 | CAN_EFF_FLAG, "02 01 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x18db33f1 | CAN_EFF_FLAG, "02 01 00");
	cr_assert_eq(next_reply()->result, OBD_DRV_NO_DATA);
}

Test(socketcan, eleven_bit_sticks_and_only_01_00_switches)
{
	struct can_frame cf;

	drv_start(REQ_TIMEOUT_MS);
	/* an unanswered PID other than 01 00 does not switch */
	request("01 0C");
	ecu_recv(&cf);
	cr_assert_eq(next_reply()->result, OBD_DRV_NO_DATA);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	ecu_send(0x7e8, "06 41 00 BE 3E B8 11 00");
	cr_assert_eq(next_reply()->result, OBD_DRV_OK);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	cr_assert_eq(next_reply()->result, OBD_DRV_NO_DATA);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	cr_assert_eq(next_reply()->result, OBD_DRV_NO_DATA);
}

Test(socketcan, no_answer_is_no_data_after_the_timeout)
{
	struct can_frame cf;
	const struct rec_reply *r;
	uint64_t t0;

	drv_start(REQ_TIMEOUT_MS);
	t0 = ev_now_ms(h.loop);
	request("01 05");
	ecu_recv(&cf);
	cr_assert(!wait_for(cond_replies, 1, REQ_TIMEOUT_MS / 2));
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	cr_assert_eq(r->nmsg, 0);
	cr_assert_str_eq(r->text, "no answer");
	cr_assert_geq(r->at_ms - t0, REQ_TIMEOUT_MS);
	/* still ready: the link worked, the ECUs were silent */
	cr_assert_eq(h.states[h.nstates - 1].st, OBD_NO_ECU);
	/* a shorter timeout applies at once */
	h.opts.timeout_ms = 40;
	obd_drv_socketcan.reconfigure(h.drv, &h.opts);
	t0 = ev_now_ms(h.loop);
	request("01 05");
	ecu_recv(&cf);
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	cr_assert_geq(r->at_ms - t0, 40);
}

Test(socketcan, garbage_is_ignored)
{
	struct can_frame cf, bad;
	const struct rec_reply *r;
	uint8_t junk[24];
	struct socketcan_stats st;

	drv_start(REQ_TIMEOUT_MS);
	/* an answer without a request is stale, whatever comes next */
	ecu_send(0x7e8, "03 41 05 7B");
	ecu_send(0x7e8, VIN_FF);
	cr_assert(!wait_for(cond_ecu_readable, 0, QUIET_MS),
	    "flow control sent with no request outstanding");
	request("01 05");
	ecu_recv(&cf);
	memset(junk, 0xa5, sizeof(junk));
	cr_assert_eq(send(h.ecu, junk, 5, 0), 5);		/* short */
	cr_assert_eq(send(h.ecu, junk, 24, 0), 24);		/* oversize */
	cr_assert_eq(send(h.ecu, junk, 1, 0), 1);
	memset(&bad, 0, sizeof(bad));
	bad.can_id = 0x7e8;
	bad.can_dlc = 9;					/* bad DLC */
	ecu_send_frame(&bad);
	bad.can_id = 0x7e8 | CAN_RTR_FLAG;			/* RTR */
	bad.can_dlc = 0;
	ecu_send_frame(&bad);
	ecu_send(0x316, "05 20 7A 18 00 00 00 00");		/* foreign */
	ecu_send(ID29(0x18daf200), "03 41 05 7B");		/* foreign */
	ecu_send(0x7e8, "21 53 59 4E 54 48 45 54");	/* CF, no FF */
	ecu_send(0x7e8, "40 00");				/* bad PCI */
	ecu_send(0x7e8, "00 41 05");				/* SF len 0 */
	ecu_send(0x7e8, "07 41 05");			/* SF longer than DLC */
	ecu_send(0x7e8, "");					/* DLC 0 */
	ecu_send(0x7e8, "30 00 00 00 00 00 00 00");		/* FC */
	ecu_send(0x7e8, "03 41 05 7B 00 00 00 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1);
	expect_msg(r, 0, 0x7e8, "41 05 7B");
	st = stats();
	cr_assert_geq(st.frames_ignored, 2 + 3 + 4 + 1, "ignored %llu",
	    (unsigned long long)st.frames_ignored);
	cr_assert_eq(st.isotp_errors, 5, "isotp errors %llu",
	    (unsigned long long)st.isotp_errors);
	/* nothing of it was a problem */
	cr_assert_eq(h.nstates, 1);
	cr_assert_eq(log_count(", retrying"), 0);
	cr_assert_eq(stats().fc_sent, 0);
}

Test(socketcan, wrong_sequence_number_drops_that_message)
{
	struct can_frame cf;
	const struct rec_reply *r;

	drv_start(REQ_TIMEOUT_MS);
	request("09 02");
	ecu_recv(&cf);
	ecu_send(0x7e8, VIN_FF);
	ecu_recv(&cf);
	expect_frame(&cf, 0x7e0, "30 00 00");
	ecu_send(0x7e8, VIN_CF1);
	ecu_send(0x7e8, "23 41 30 30 30 30 30 31");	/* SN 3, want 2 */
	ecu_send(0x7e8, VIN_CF2);			/* now unexpected */
	ecu_send(0x7e9, "04 49 02 01 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1);
	expect_msg(r, 0, 0x7e9, "49 02 01 00");
	cr_assert_eq(stats().isotp_errors, 2);
	/* alone, the broken message gives no data */
	request("09 02");
	ecu_recv(&cf);
	ecu_send(0x7e8, VIN_FF);
	ecu_recv(&cf);
	ecu_send(0x7e8, "22 41 30 30 30 30 30 31");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
}

Test(socketcan, stalled_multi_frame_dropped_after_n_cr)
{
	struct can_frame cf;
	const struct rec_reply *r;
	uint64_t t0;

	drv_start(REQ_TIMEOUT_MS);
	request("09 02");
	ecu_recv(&cf);
	ecu_send(0x7e8, VIN_FF);
	ecu_recv(&cf);
	expect_frame(&cf, 0x7e0, "30 00 00");
	t0 = ev_now_ms(h.loop);
	ecu_send(0x7e8, VIN_CF1);
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	cr_assert_str_eq(r->text, "incomplete answer dropped");
	cr_assert_geq(r->at_ms - t0, NCR_MS);
	cr_assert_eq(stats().ncr_timeouts, 1);
	/* the next request starts clean */
	request("01 0C");
	ecu_recv(&cf);
	ecu_send(0x7e8, "22 41 30 30 30 30 30 31");
	ecu_send(0x7e8, "04 41 0C 1A F8");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1);
}

Test(socketcan, response_pending_waits_for_the_real_answer)
{
	struct can_frame cf;
	const struct rec_reply *r;

	drv_start(REQ_TIMEOUT_MS);
	request("09 02");
	ecu_recv(&cf);
	ecu_send(0x7e8, "03 7F 09 78 00 00 00 00");
	/* past timeout_ms: the ECU asked for P2*CAN */
	cr_assert(!wait_for(cond_replies, 1, QUIET_MS),
	    "gave up on a pending ECU");
	ecu_send(0x7e8, VIN_FF);
	ecu_recv(&cf);
	expect_frame(&cf, 0x7e0, "30 00 00");
	ecu_send(0x7e8, VIN_CF1);
	ecu_send(0x7e8, VIN_CF2);
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1, "the 7F 09 78 is no answer");
	expect_msg(r, 0, 0x7e8, VIN_MSG);
	cr_assert_eq(stats().nrc_pending, 1);
	/* other negative responses are answers for the reader */
	request("02 01");
	ecu_recv(&cf);
	ecu_send(0x7e8, "03 7F 02 12");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	expect_msg(r, 0, 0x7e8, "7F 02 12");
}

Test(socketcan, error_frame_takes_it_down_and_it_recovers)
{
	struct can_frame cf, ef;
	const struct rec_reply *r;
	size_t n;

	drv_start(REQ_TIMEOUT_MS);
	/* harmless error frames: restarted, lost arbitration */
	memset(&ef, 0, sizeof(ef));
	ef.can_id = CAN_ERR_FLAG | CAN_ERR_RESTARTED | CAN_ERR_LOSTARB;
	ef.can_dlc = CAN_ERR_DLC;
	ecu_send_frame(&ef);
	request("01 00");
	ecu_recv(&cf);
	ef.can_id = CAN_ERR_FLAG | CAN_ERR_BUSOFF;
	ecu_send_frame(&ef);
	cr_assert(wait_for(cond_state_is, OBD_DOWN, WAIT_MS));
	cr_assert_str_eq(h.states[h.nstates - 1].why, "error frame: bus off");
	cr_assert_eq(log_count("socketcan: " IFNAME ": error frame: bus off, "
	    "retrying"), 1);
	/* the request is forgotten, and the driver refuses new ones */
	cr_assert_eq(obd_drv_socketcan.request(h.drv,
	    (const uint8_t *)"\x01\x00", 2), -1);
	/* reopened after retry_min_ms */
	n = h.nstates;
	cr_assert(wait_for(cond_states, n + 1, WAIT_MS));
	cr_assert_eq(h.states[n].st, OBD_NO_ECU);
	cr_assert_eq(h.nreplies, 0);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	ecu_send(0x7e8, "06 41 00 BE 3E B8 11 00");
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(log_count("working again after 1 failed attempt"), 1);
	/*
	 * No acknowledgement and error passive are what a sleeping bus
	 * (ignition off) looks like: the request goes unanswered, the driver
	 * stays up.
	 */
	n = h.nstates;
	request("01 0C");
	ecu_recv(&cf);
	memset(&ef, 0, sizeof(ef));
	ef.can_id = CAN_ERR_FLAG | CAN_ERR_ACK | CAN_ERR_CRTL;
	ef.can_dlc = CAN_ERR_DLC;
	ef.data[1] = CAN_ERR_CRTL_TX_PASSIVE;
	ecu_send_frame(&ef);
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	cr_assert_eq(h.nstates, n, "no state change on a quiet bus");
}

Test(socketcan, peer_gone_logged_once_with_capped_backoff)
{
	struct can_frame cf;
	struct socketcan_stats st;

	drv_start(REQ_TIMEOUT_MS);
	request("01 00");
	ecu_recv(&cf);
	(void)close(h.ecu);
	h.ecu = -1;
	cr_assert(wait_for(cond_state_is, OBD_DOWN, WAIT_MS));
	cr_assert_str_eq(h.states[h.nstates - 1].why, "socket closed");
	/* 20, 40, 80, 80 ... ms */
	cr_assert(wait_for(cond_attempts, 6, WAIT_MS));
	/* the reused descriptor opens, then reads the EOF again */
	cr_assert(wait_for(cond_state_is, OBD_DOWN, WAIT_MS));
	st = stats();
	cr_assert_eq(st.retry_ms, RETRY_MAX_MS, "retry in %u ms",
	    st.retry_ms);
	cr_assert_eq(log_count("socket closed, retrying"), 1);
	cr_assert_geq(log_count("still failing (socket closed)"), 4);
	cr_assert_eq(h.nreplies, 0, "a forgotten request was answered");
}

/* ---- the real socket path ---------------------------------------------- */

/* errno of socket(PF_CAN, SOCK_RAW, CAN_RAW), 0 when it works. */
static int
can_socket_errno(void)
{
	int fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);

	if (fd == -1)
		return errno;
	(void)close(fd);
	return 0;
}

Test(socketcan, real_driver_without_can_stays_down_and_backs_off)
{
	struct socketcan_stats st;
	const char *why;
	uint8_t req[2] = { 0x01, 0x00 };
	int err = can_socket_errno();

	set_opts(REQ_TIMEOUT_MS);
	h.opts.interface = "fgwnosuch0";
	h.drv = obd_drv_socketcan.start(h.loop, &h.opts, OBD_TOKEN);
	cr_assert_not_null(h.drv);
	cr_assert(wait_for(cond_states, 1, WAIT_MS));
	cr_assert_eq(h.states[0].st, OBD_DOWN);
	why = h.states[0].why;
	if (err == EAFNOSUPPORT)
		cr_assert(strstr(why, "no CAN support in this kernel") !=
		    NULL, "reason: %s", why);
	else if (err == 0)
		cr_assert_str_eq(why, "no such interface");
	else
		cr_assert(strstr(why, "socket(PF_CAN)") != NULL, "reason: %s",
		    why);
	cr_log_info("real driver on this machine: %s", why);
	cr_assert(wait_for(cond_attempts, 5, WAIT_MS));
	st = stats();
	cr_assert_eq(st.retry_ms, RETRY_MAX_MS, "retry in %u ms",
	    st.retry_ms);
	cr_assert_eq(obd_drv_socketcan.request(h.drv, req, 2), -1);
	/* one warning, one state change: not one per attempt */
	cr_assert_eq(log_count(", retrying"), 1);
	cr_assert_eq(h.nstates, 1);
	cr_assert_eq(h.nreplies, 0);
}

Test(socketcan, vcan0_round_trip)
{
	struct sockaddr_can addr;
	struct can_frame cf;
	const struct rec_reply *r;
	unsigned int ifindex;
	int err = can_socket_errno();

	if (err == EAFNOSUPPORT)
		cr_skip_test("no AF_CAN in this kernel (socket(PF_CAN): "
		    "EAFNOSUPPORT): vcan test skipped");
	if (err != 0)
		cr_skip_test("socket(PF_CAN) fails (%s): vcan test skipped",
		    strerror(err));
	if ((ifindex = if_nametoindex("vcan0")) == 0)
		cr_skip_test("no vcan0 (modprobe vcan; ip link add vcan0 type "
		    "vcan; ip link set vcan0 up): vcan test skipped");
	/* the ECU: a second raw socket on vcan0 */
	h.ecu = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
	cr_assert_geq(h.ecu, 0);
	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)ifindex;
	cr_assert_eq(bind(h.ecu, (struct sockaddr *)&addr, sizeof(addr)), 0,
	    "bind: %s", strerror(errno));
	set_opts(REQ_TIMEOUT_MS);
	h.opts.interface = "vcan0";
	h.drv = obd_drv_socketcan.start(h.loop, &h.opts, OBD_TOKEN);
	cr_assert(wait_for(cond_states, 1, WAIT_MS));
	if (h.states[0].st == OBD_DOWN &&
	    strcmp(h.states[0].why, "interface is down") == 0)
		cr_skip_test("vcan0 is down (ip link set vcan0 up): vcan "
		    "test skipped");
	cr_assert_eq(h.states[0].st, OBD_NO_ECU, "%s", h.states[0].why);
	request("01 00");
	ecu_recv(&cf);
	expect_frame(&cf, 0x7df, "02 01 00");
	ecu_send(0x7e8, "06 41 00 BE 3E B8 11 00");
	ecu_send(0x316, "05 20 7A 18 00 00 00 00");	/* filtered out */
	r = next_reply();
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 1);
	expect_msg(r, 0, 0x7e8, "41 00 BE 3E B8 11");
	cr_assert_eq(stats().frames_ignored, 0, "the filter let 316 in");
}

/* ---- socketcan-candump.txt ---------------------------------------------- */

struct cd_scn {
	char		 name[64];
	bool		 active;
	bool		 requested;
	bool		 replied;
	uint8_t		 sid;
	uint32_t	 fc_id[8];
	size_t		 nfc;
	const struct rec_reply *r;
	int		 checked;
};

static uint32_t
cd_id(const char *s, size_t n)
{
	uint32_t id = (uint32_t)strtoul(s, NULL, 16);

	return n == 8 ? ID29(id) : id;
}

static canid_t
cd_canid(uint32_t id)
{
	return id & ISOTP_ID_EFF ? (id & CAN_EFF_MASK) | CAN_EFF_FLAG : id;
}

static void
cd_begin(struct cd_scn *sc, const char *line)
{
	memset(sc, 0, sizeof(*sc));
	sscanf(line + 3, "%63s", sc->name);
	sc->active = true;
	drv_start(REQ_TIMEOUT_MS);
}

static void
cd_wait_reply(struct cd_scn *sc)
{
	if (sc->replied)
		return;
	cr_assert(sc->requested, "%s: no request", sc->name);
	sc->r = next_reply();
	sc->replied = true;
}

static void
cd_end(struct cd_scn *sc)
{
	if (!sc->active)
		return;
	cd_wait_reply(sc);
	drv_stop();
	sc->active = false;
}

/* Our request, in place of the file's tx frame. */
static void
cd_request(struct cd_scn *sc, uint32_t id, const uint8_t *f, size_t n)
{
	struct can_frame cf;
	uint8_t req[8];
	char hex[64];
	size_t len, i, o = 0;
	int rc;

	cr_assert(n >= 2 && f[0] >= 1 && f[0] <= 7, "%s: not a SF", sc->name);
	len = f[0];
	memcpy(req, f + 1, len);
	sc->sid = req[0];
	if ((id & ISOTP_ID_EFF) && !stats().eff) {
		/* a fresh driver starts on 11-bit: 01 00 unanswered first */
		request("01 00");
		ecu_recv(&cf);
		cr_assert_eq(next_reply()->result, OBD_DRV_NO_DATA);
		cr_assert(stats().eff, "%s: still 11-bit", sc->name);
	}
	h.in_request = true;
	rc = obd_drv_socketcan.request(h.drv, req, len);
	h.in_request = false;
	cr_assert_eq(rc, 0);
	sc->requested = true;
	ecu_recv(&cf);
	for (i = 0; i <= len && o + 4 < sizeof(hex); i++)
		o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%02X ", f[i]);
	/* the driver only sends functional requests (7DF / 18DB33F1) */
	if (id == 0x7df || id == ID29(0x18db33f1))
		expect_frame(&cf, cd_canid(id), hex);
	else
		expect_frame(&cf, id & ISOTP_ID_EFF ?
		    0x18db33f1 | CAN_EFF_FLAG : 0x7df, hex);
}

static bool
cd_has(const struct rec_reply *r, uint32_t id, size_t *idx)
{
	size_t i;

	for (i = 0; i < r->nmsg; i++)
		if (r->id[i] == id) {
			*idx = i;
			return true;
		}
	return false;
}

static void
cd_check(struct cd_scn *sc, const char *line)
{
	char key[32], ecu[16] = "", *at;
	const char *val;
	const struct rec_reply *r;
	uint8_t want[MAX_DATA];
	uint32_t id = 0;
	size_t n, i, k;

	if (sscanf(line, "= %31s", key) != 1)
		return;
	cd_wait_reply(sc);
	r = sc->r;
	val = line + 2 + strlen(key);
	while (*val == ' ')
		val++;
	if ((at = strchr(key, '@')) != NULL) {
		*at = '\0';
		snprintf(ecu, sizeof(ecu), "%s", at + 1);
		id = cd_id(ecu, strlen(ecu));
	}
	if (strcmp(key, "FC") == 0) {
		for (i = 0; i < sc->nfc; i++)
			if (sc->fc_id[i] == id)
				break;
		cr_expect(i < sc->nfc, "%s: no FC to %s", sc->name, ecu);
	} else if (strcmp(key, "RESPONSES") == 0) {
		cr_expect_eq(r->nmsg, strtoul(val, NULL, 10), "%s", sc->name);
	} else if (strcmp(key, "PAYLOAD") == 0) {
		n = parse_hex(val, want, sizeof(want));
		cr_expect(cd_has(r, id, &i) && r->len[i] == n &&
		    memcmp(r->data[i], want, n) == 0, "%s: payload", sc->name);
	} else if (strcmp(key, "VIN") == 0) {
		n = strcspn(val, " \n");
		cr_expect(cd_has(r, id, &i) && r->len[i] == 3 + n &&
		    memcmp(r->data[i], "\x49\x02\x01", 3) == 0 &&
		    memcmp(r->data[i] + 3, val, n) == 0, "%s: vin", sc->name);
	} else if (strcmp(key, "ERROR") == 0) {
		/* timeout, sequence error, silence: no data */
		cr_expect_eq(r->result, OBD_DRV_NO_DATA, "%s", sc->name);
		cr_expect_eq(r->nmsg, 0, "%s", sc->name);
	} else if (strcmp(key, "NEGATIVE_RESPONSE") == 0) {
		/* 78 (pending) is the driver's business, never delivered */
		for (k = 0; k < r->nmsg; k++)
			cr_expect(r->id[k] != id || r->data[k][0] != 0x7f,
			    "%s: 7F delivered", sc->name);
		cr_expect(cd_has(r, id, &i) && r->data[i][0] == sc->sid + 0x40,
		    "%s: no answer after the 78", sc->name);
	} else if (strcmp(key, "IGNORED") == 0) {
		/* nothing but the positive answers from that id */
		for (k = 0; k < r->nmsg; k++)
			cr_expect(r->id[k] != id ||
			    r->data[k][0] == sc->sid + 0x40, "%s: %s let in",
			    sc->name, ecu);
		if (!isotp_is_obd_response(id))
			cr_expect(!cd_has(r, id, &i), "%s", sc->name);
		else
			cr_expect_geq(stats().isotp_errors, 1, "%s", sc->name);
	} else if (id != 0) {
		/* a decoded value (RPM, DTC_STORED ...): the ECU answered */
		cr_expect(cd_has(r, id, &i) && r->data[i][0] == sc->sid + 0x40,
		    "%s: %s@%s", sc->name, key, ecu);
	} else
		return;
	sc->checked++;
}

Test(socketcan, candump_scenarios)
{
	struct cd_scn sc;
	struct can_frame cf;
	char line[512], ids[16], *p, *hash;
	uint8_t f[16];
	size_t n, nscn = 0, nchecked = 0;
	uint32_t id;
	FILE *fp;

	if ((fp = obd_testdata_open("socketcan-candump.txt")) == NULL)
		cr_skip_test("socketcan-candump.txt not found (../shared "
		    "absent; set FLEETGW_OBD_TESTDATA to its directory)");
	memset(&sc, 0, sizeof(sc));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "@@ ", 3) == 0) {
			cd_end(&sc);
			nchecked += (size_t)sc.checked;
			cd_begin(&sc, line);
			nscn++;
		} else if (line[0] == '(' && sc.active) {
			p = strchr(line, ')');
			cr_assert_not_null(p);
			cr_assert(sscanf(p + 1, " %*s %15[0-9A-Fa-f]#", ids) ==
			    1, "%s", line);
			id = cd_id(ids, strlen(ids));
			hash = strchr(p, '#');
			n = parse_hex(hash + 1, f, sizeof(f));
			if (strstr(hash + 1, "# tx") == NULL)
				ecu_send(id, hash + 1);
			else if (!sc.requested)
				cd_request(&sc, id, f, n);
			else {
				/* our flow control, where the file has it */
				ecu_recv(&cf);
				expect_frame(&cf, cd_canid(id), "30 00 00");
				cr_assert_lt(sc.nfc, 8);
				sc.fc_id[sc.nfc++] = id;
			}
		} else if (line[0] == '=' && sc.active)
			cd_check(&sc, line);
	}
	cd_end(&sc);
	nchecked += (size_t)sc.checked;
	fclose(fp);
	cr_assert_eq(nscn, 12, "scenarios: %zu", nscn);
	cr_log_info("candump: %zu scenarios, %zu expectations checked", nscn,
	    nchecked);
	cr_assert_geq(nchecked, 20);
}
