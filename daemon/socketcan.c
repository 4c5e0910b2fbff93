/* SPDX-License-Identifier: MIT */
/*
 * socketcan.c - the SocketCAN OBD driver: one raw CAN socket, our own
 * ISO-TP reassembly (isotp.c), ISO 15765-4 functional requests.
 *
 * A CAN_RAW socket hears every responder (7E8-7EF, 18DAF1xx) through one
 * descriptor on the loop, works on any kernel, and the same code runs in
 * the unit tests over a socketpair (socketcan_start_fd()).  The kernel's
 * CAN_ISOTP sockets would need one socket per ECU and cannot be tested
 * on a machine without AF_CAN.
 *
 * A request is one single frame to the functional id, 7DF or 18DB33F1,
 * padded to 8 bytes with SC_PAD.  Every OBD ECU that supports the PID
 * answers, so the driver collects: after each complete message it waits
 * SC_P2_MS more for other ECUs, never past timeout_ms; an ECU whose
 * multi-frame message is in progress is waited for as long as its
 * consecutive frames keep coming within N_Cr (and SC_OVERRUN_MS at most).
 * "7F sid 78" (response pending) is no answer: it gives that ECU P2*CAN.
 *
 * Addressing: 11-bit first.  When 01 00 gets no answer, the next request
 * tries the other id length; the first answer fixes it for the life of
 * the driver.
 *
 * Problems (no CAN in the kernel, no interface, interface down, error
 * frames, read and write errors) close the socket and reopen it after a
 * capped exponential backoff.  Each distinct problem is logged once; the
 * recovery is logged when a request has completed again.
 *
 * Every call into the reader (obd_drv_state(), obd_drv_reply()) is the
 * last thing its caller does, from a loop callback: the reader may call
 * request() or stop() from inside it.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "isotp.h"
#include "log.h"
#include "obd.h"
#include "obd_drv.h"
#include "socketcan.h"
#include "util.h"

#define SC_DEFAULT_IF		"can0"
#define SC_SEAM_IF		"socketpair"
#define SC_FUNC_ID_11		0x7dfu		/* functional request, 11-bit */
#define SC_FUNC_ID_29		0x18db33f1u	/* functional request, 29-bit */
#define SC_RESP_ID_11		0x7e8u		/* responses 7E8-7EF */
#define SC_RESP_MASK_11		0x7f8u
#define SC_RESP_ID_29		0x18daf100u	/* responses 18DAF1xx */
#define SC_RESP_MASK_29		0x1fffff00u
/*
 * Pad byte of our frames.  ISO 15765-4 wants tester frames padded to 8
 * bytes and leaves the value open; 0x55 alternates its bits, so it adds
 * no stuff bits.
 */
#define SC_PAD			0x55
#define SC_P2_MS		50	/* P2CAN: other ECUs answer within it */
#define SC_P2STAR_MS		5000	/* P2*CAN after "response pending" */
#define SC_NCR_MS		1000	/* N_Cr: max gap between CFs */
#define SC_OVERRUN_MS		10000	/* hard cap past timeout_ms */
#define SC_TIMEOUT_MS		1000	/* timeout_ms 0 */
#define SC_RETRY_MIN_MS		1000	/* retry_min_ms 0 */
#define SC_RETRY_MAX_MS		60000	/* retry_max_ms 0 */
#define SC_READ_MAX		64	/* frames per wakeup: bounded work */
#define SC_POOL_LEN		(2 * ISOTP_MAX_LEN)	/* answer bytes kept */
#define SC_REQ_MAX		7	/* single frame payload */
#define SC_WHY_LEN		160	/* obd_status.last_error */
#define SC_SID_NEGATIVE		0x7f
#define SC_NRC_PENDING		0x78
#define SC_PROTO_CAN11		6	/* ELM327 ATDPN numbering */
#define SC_PROTO_CAN29		7
#define SC_PROTO_NAME_11	"ISO 15765-4 CAN (11 bit ID)"
#define SC_PROTO_NAME_29	"ISO 15765-4 CAN (29 bit ID)"
/* Error classes we ask the kernel for (CAN_RAW_ERR_FILTER). */
#define SC_ERR_MASK	(CAN_ERR_TX_TIMEOUT | CAN_ERR_CRTL | CAN_ERR_PROT | \
			 CAN_ERR_TRX | CAN_ERR_ACK | CAN_ERR_BUSOFF | \
			 CAN_ERR_BUSERROR | CAN_ERR_RESTARTED)

struct sc_msg {
	uint32_t	 id;
	size_t		 off;		/* in pool */
	size_t		 len;
};

/* A sender with a multi-frame message in progress. */
struct sc_partial {
	bool		 used;
	uint32_t	 id;
	uint64_t	 last_ms;	/* its last frame */
};

struct socketcan {
	struct ev_loop	*loop;
	struct obd	*obd;
	char		 ifname[IFNAMSIZ * 2];	/* checked at open */
	uint32_t	 timeout_ms;
	uint32_t	 retry_min_ms;
	uint32_t	 retry_max_ms;

	int		 fd;		/* -1 closed */
	int		 given_fd;	/* socketcan_start_fd(), else -1 */
	bool		 ready;		/* socket open and watched */
	bool		 ever_ready;
	char		 problem[SC_WHY_LEN];	/* logged, "" none */
	uint64_t	 failures;	/* attempts since the problem began */
	uint32_t	 backoff_ms;	/* delay of the next reopen */
	enum obd_state	 told;		/* last obd_drv_state() */
	char		 told_why[SC_WHY_LEN];

	bool		 eff;		/* 29-bit requests */
	bool		 locked;	/* an ECU answered: eff is final */

	/* The request: queued by request(), on the bus after send_cb. */
	bool		 busy;
	bool		 queued;
	uint8_t		 req[SC_REQ_MAX];
	size_t		 reqlen;
	uint64_t	 deadline_ms;	/* answers: sent + timeout_ms */
	uint64_t	 settle_ms;	/* last message + SC_P2_MS */
	uint64_t	 hard_ms;	/* give up whatever is in progress */
	size_t		 answers;	/* complete messages, 78s excluded */
	uint32_t	 pending[ISOTP_MAX_SENDERS];	/* ECUs that said 78 */
	size_t		 npending;
	struct sc_partial partial[ISOTP_MAX_SENDERS];
	bool		 dropped_partial;
	size_t		 nmsg;
	struct sc_msg	 msg[OBD_DRV_MAX_MSGS];
	size_t		 pool_used;

	struct socketcan_stats st;
	struct ev_timer	 open_timer;
	struct ev_timer	 send_timer;
	struct ev_timer	 wait_timer;
	struct isotp_rx	 rx;
	uint8_t		 pool[SC_POOL_LEN];
};

static void	sc_open_cb(void *);
static void	sc_send_cb(void *);
static void	sc_wait_cb(void *);
static void	sc_fd_cb(int, short, void *);

static void
sc_apply_opts(struct socketcan *sc, const struct obd_opts *o)
{
	sc->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : SC_TIMEOUT_MS;
	sc->retry_min_ms = o->retry_min_ms != 0 ?
	    o->retry_min_ms : SC_RETRY_MIN_MS;
	sc->retry_max_ms = o->retry_max_ms != 0 ?
	    o->retry_max_ms : SC_RETRY_MAX_MS;
	if (sc->retry_max_ms < sc->retry_min_ms)
		sc->retry_max_ms = sc->retry_min_ms;
	if (sc->backoff_ms < sc->retry_min_ms)
		sc->backoff_ms = sc->retry_min_ms;
	if (sc->backoff_ms > sc->retry_max_ms)
		sc->backoff_ms = sc->retry_max_ms;
}

static struct socketcan *
sc_new(struct ev_loop *loop, const struct obd_opts *opts, struct obd *obd,
    const char *defname, int fd)
{
	struct socketcan *sc;
	const char *name = opts->interface != NULL &&
	    opts->interface[0] != '\0' ? opts->interface : defname;

	sc = xcalloc(1, sizeof(*sc));
	sc->loop = loop;
	sc->obd = obd;
	(void)util_strlcpy(sc->ifname, name, sizeof(sc->ifname));
	sc->fd = -1;
	sc->given_fd = fd;
	sc->told = OBD_OFF;
	sc_apply_opts(sc, opts);
	sc->backoff_ms = sc->retry_min_ms;
	isotp_rx_reset(&sc->rx, 0);
	ev_timer_init(&sc->open_timer, sc_open_cb, sc);
	ev_timer_init(&sc->send_timer, sc_send_cb, sc);
	ev_timer_init(&sc->wait_timer, sc_wait_cb, sc);
	/* Open from the loop: the reader hears from us only there. */
	ev_timer_set(loop, &sc->open_timer, 0);
	return sc;
}

static void *
sc_start(struct ev_loop *loop, const struct obd_opts *opts, struct obd *obd)
{
	return sc_new(loop, opts, obd, SC_DEFAULT_IF, -1);
}

void *
socketcan_start_fd(struct ev_loop *loop, const struct obd_opts *opts,
    struct obd *obd, int fd)
{
	int fl;

	if (fd >= 0 && (fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return sc_new(loop, opts, obd, SC_SEAM_IF, fd);
}

/* Tells the reader, once per change of state or reason. */
static void
sc_tell(struct socketcan *sc, enum obd_state st, const char *why)
{
	if (sc->told == st && strcmp(sc->told_why, why) == 0)
		return;
	sc->told = st;
	(void)util_strlcpy(sc->told_why, why, sizeof(sc->told_why));
	obd_drv_state(sc->obd, st, why);
}

/* Forgets the request and whatever was collected for it. */
static void
sc_forget(struct socketcan *sc)
{
	ev_timer_stop(sc->loop, &sc->send_timer);
	ev_timer_stop(sc->loop, &sc->wait_timer);
	sc->busy = false;
	sc->queued = false;
	isotp_rx_reset(&sc->rx, 0);
}

static void
sc_close(struct socketcan *sc)
{
	sc_forget(sc);
	if (sc->fd != -1) {
		ev_fd_del(sc->loop, sc->fd);
		if (sc->fd != sc->given_fd)
			(void)close(sc->fd);
		sc->fd = -1;
	}
	sc->ready = false;
}

/*
 * Something went wrong: close, log the problem if it is a new one,
 * schedule the reopen, tell the reader.  The caller returns at once.
 */
static void
sc_fail(struct socketcan *sc, const char *why)
{
	sc_close(sc);
	sc->failures++;
	if (strcmp(sc->problem, why) != 0) {
		log_warnx("socketcan: %s: %s, retrying", sc->ifname, why);
		(void)util_strlcpy(sc->problem, why, sizeof(sc->problem));
	} else
		log_debug("socketcan: %s: still failing (%s), attempt %llu",
		    sc->ifname, why, (unsigned long long)sc->failures);
	ev_timer_set(sc->loop, &sc->open_timer, sc->backoff_ms);
	sc->st.retry_ms = sc->backoff_ms;
	sc->backoff_ms = sc->backoff_ms > sc->retry_max_ms / 2 ?
	    sc->retry_max_ms : sc->backoff_ms * 2;
	sc_tell(sc, OBD_DOWN, why);
}

/* A request completed: the link works. */
static void
sc_link_ok(struct socketcan *sc)
{
	sc->backoff_ms = sc->retry_min_ms;
	if (sc->problem[0] != '\0') {
		log_info("socketcan: %s: working again after %llu failed "
		    "attempt%s", sc->ifname,
		    (unsigned long long)sc->failures,
		    sc->failures == 1 ? "" : "s");
		sc->problem[0] = '\0';
	}
	sc->failures = 0;
}

/* errno of a socket call as a reason; ENETDOWN always reads the same. */
static void
sc_errno_why(char *why, size_t len, const char *what, int err)
{
	if (err == ENETDOWN)
		(void)snprintf(why, len, "interface is down");
	else if (err == ENODEV || err == ENXIO)
		(void)snprintf(why, len, "no such interface");
	else
		(void)snprintf(why, len, "%s: %s", what, strerror(err));
}

/* A raw CAN socket bound to the interface, or -1 and why. */
static int
sc_open_socket(struct socketcan *sc, char *why, size_t whylen)
{
	static const struct can_filter filters[] = {
		{ SC_RESP_ID_11, SC_RESP_MASK_11 | CAN_EFF_FLAG |
		    CAN_RTR_FLAG },
		{ SC_RESP_ID_29 | CAN_EFF_FLAG, SC_RESP_MASK_29 |
		    CAN_EFF_FLAG | CAN_RTR_FLAG },
	};
	can_err_mask_t errmask = SC_ERR_MASK;
	struct sockaddr_can addr;
	struct ifreq ifr;
	unsigned int ifindex;
	int fd, err;

	if (strlen(sc->ifname) >= IFNAMSIZ) {
		(void)snprintf(why, whylen, "interface name too long");
		return -1;
	}
	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd == -1) {
		if (errno == EAFNOSUPPORT)
			(void)snprintf(why, whylen, "no CAN support in this "
			    "kernel (socket(PF_CAN): %s)", strerror(errno));
		else
			(void)snprintf(why, whylen, "socket(PF_CAN): %s",
			    strerror(errno));
		return -1;
	}
	if ((ifindex = if_nametoindex(sc->ifname)) == 0) {
		sc_errno_why(why, whylen, "if_nametoindex", errno);
		goto fail;
	}
	/* bind() accepts an interface that is down; writes then fail. */
	memset(&ifr, 0, sizeof(ifr));
	(void)util_strlcpy(ifr.ifr_name, sc->ifname, sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		(void)snprintf(why, whylen, "interface is down");
		goto fail;
	}
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, filters,
	    sizeof(filters)) == -1 ||
	    setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errmask,
	    sizeof(errmask)) == -1) {
		sc_errno_why(why, whylen, "setsockopt(CAN_RAW)", errno);
		goto fail;
	}
	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		if (errno == ENODEV)
			(void)snprintf(why, whylen, "not a CAN interface");
		else
			sc_errno_why(why, whylen, "bind", errno);
		goto fail;
	}
	return fd;
fail:
	err = errno;
	(void)close(fd);
	errno = err;
	return -1;
}

static void
sc_open_cb(void *arg)
{
	struct socketcan *sc = arg;
	char why[SC_WHY_LEN];
	int fd;

	if (sc->ready)
		return;
	sc->st.attempts++;
	sc->st.retry_ms = 0;
	if (sc->given_fd >= 0)
		fd = sc->given_fd;
	else if ((fd = sc_open_socket(sc, why, sizeof(why))) == -1) {
		sc_fail(sc, why);
		return;
	}
	if (ev_fd_add(sc->loop, fd, POLLIN, sc_fd_cb, sc) == -1) {
		if (fd != sc->given_fd)
			(void)close(fd);
		sc_fail(sc, "cannot watch the socket");
		return;
	}
	sc->fd = fd;
	sc->ready = true;
	isotp_rx_reset(&sc->rx, 0);
	if (!sc->ever_ready)
		log_info("socketcan: %s: open, %s ids first", sc->ifname,
		    sc->eff ? "29-bit" : "11-bit");
	else
		log_debug("socketcan: %s: open", sc->ifname);
	sc->ever_ready = true;
	sc_tell(sc, OBD_NO_ECU, "");
}

/* Writes one frame; on failure the driver is down (caller returns). */
static int
sc_write(struct socketcan *sc, const struct can_frame *cf)
{
	char why[SC_WHY_LEN];
	ssize_t n;

	n = send(sc->fd, cf, sizeof(*cf), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(*cf))
		return 0;
	if (n >= 0)
		(void)snprintf(why, sizeof(why), "short write");
	else if (errno == ENOBUFS || errno == EAGAIN || errno == EWOULDBLOCK)
		(void)snprintf(why, sizeof(why), "transmit queue full");
	else
		sc_errno_why(why, sizeof(why), "write", errno);
	sc_fail(sc, why);
	return -1;
}

static void
sc_frame_out(struct can_frame *cf, uint32_t id)
{
	memset(cf, 0, sizeof(*cf));
	if (id & ISOTP_ID_EFF)
		cf->can_id = (id & CAN_EFF_MASK) | CAN_EFF_FLAG;
	else
		cf->can_id = id & CAN_SFF_MASK;
	cf->can_dlc = ISOTP_FRAME_LEN;
}

/*
 * When to look again (*wake), or true when the request is finished.
 * Drops the partial messages whose sender stayed silent for N_Cr.
 */
static bool
sc_evaluate(struct socketcan *sc, uint64_t now, uint64_t *wake)
{
	struct sc_partial *p;
	uint64_t next = sc->hard_ms;
	bool waiting = false;
	size_t i;

	if (now >= sc->hard_ms)
		return true;
	for (i = 0; i < ISOTP_MAX_SENDERS; i++) {
		p = &sc->partial[i];
		if (!p->used)
			continue;
		if (now - p->last_ms >= SC_NCR_MS) {
			(void)isotp_rx_drop(&sc->rx, p->id);
			p->used = false;
			sc->st.ncr_timeouts++;
			sc->dropped_partial = true;
			log_debug("socketcan: %s: %x: no consecutive frame "
			    "within %d ms, partial message dropped",
			    sc->ifname, p->id & ISOTP_ID_MASK, SC_NCR_MS);
			continue;
		}
		waiting = true;
		if (p->last_ms + SC_NCR_MS < next)
			next = p->last_ms + SC_NCR_MS;
	}
	if (!waiting) {
		if (now >= sc->deadline_ms)
			return true;
		if (sc->answers > 0 && sc->npending == 0) {
			if (now >= sc->settle_ms)
				return true;
			if (sc->settle_ms < next)
				next = sc->settle_ms;
		}
		if (sc->deadline_ms < next)
			next = sc->deadline_ms;
	}
	*wake = next;
	return false;
}

/* (Re)arms wait_timer; a finished request is delivered from it. */
static void
sc_arm_wait(struct socketcan *sc)
{
	uint64_t now = ev_now_ms(sc->loop), wake;

	if (sc_evaluate(sc, now, &wake))
		wake = now;
	ev_timer_set(sc->loop, &sc->wait_timer, wake - now);
}

static void
sc_send_cb(void *arg)
{
	struct socketcan *sc = arg;
	struct can_frame cf;
	uint64_t now = ev_now_ms(sc->loop);

	if (!sc->ready || !sc->queued)
		return;
	sc_frame_out(&cf, sc->eff ? (SC_FUNC_ID_29 | ISOTP_ID_EFF) :
	    SC_FUNC_ID_11);
	if (isotp_encode_sf(sc->req, sc->reqlen, SC_PAD, cf.data) == -1) {
		sc_fail(sc, "invalid request");	/* request() checked it */
		return;
	}
	/* Whatever arrived before this request is no answer to it. */
	isotp_rx_reset(&sc->rx, 0);
	memset(sc->partial, 0, sizeof(sc->partial));
	sc->dropped_partial = false;
	sc->answers = 0;
	sc->npending = 0;
	sc->nmsg = 0;
	sc->pool_used = 0;
	if (sc_write(sc, &cf) == -1)
		return;
	sc->st.requests++;
	sc->queued = false;
	sc->deadline_ms = now + sc->timeout_ms;
	sc->settle_ms = UINT64_MAX;
	sc->hard_ms = sc->deadline_ms + SC_OVERRUN_MS;
	sc_arm_wait(sc);
}

static const char *
sc_proto_name(bool eff)
{
	return eff ? SC_PROTO_NAME_29 : SC_PROTO_NAME_11;
}

static void
sc_wait_cb(void *arg)
{
	struct socketcan *sc = arg;
	struct obd_drv_reply r;
	uint64_t now = ev_now_ms(sc->loop), wake;
	size_t i;

	if (!sc->busy || sc->queued)
		return;
	if (!sc_evaluate(sc, now, &wake)) {
		/* never 0 here: a 0 ms timer would fire in this same turn */
		ev_timer_set(sc->loop, &sc->wait_timer,
		    wake > now ? wake - now : 1);
		return;
	}
	if (isotp_rx_pending(&sc->rx) > 0) {
		log_debug("socketcan: %s: gave up on a multi-frame answer",
		    sc->ifname);
		sc->dropped_partial = true;
	}
	memset(&r, 0, sizeof(r));
	r.nmsg = sc->nmsg;
	for (i = 0; i < sc->nmsg; i++) {
		r.msg[i].id = sc->msg[i].id;
		r.msg[i].data = sc->pool + sc->msg[i].off;
		r.msg[i].len = sc->msg[i].len;
	}
	if (sc->nmsg > 0)
		r.result = OBD_DRV_OK;
	else {
		r.result = OBD_DRV_NO_DATA;
		r.text = sc->dropped_partial ? "incomplete answer dropped" :
		    sc->npending > 0 ? "response pending, then nothing" :
		    "no answer";
	}
	if (!sc->locked) {
		if (sc->nmsg > 0) {
			sc->locked = true;
			sc->eff = (sc->msg[0].id & ISOTP_ID_EFF) != 0;
			log_info("socketcan: %s: ECUs answer, %s", sc->ifname,
			    sc_proto_name(sc->eff));
		} else if (sc->reqlen == 2 && sc->req[0] == 0x01 &&
		    sc->req[1] == 0x00) {
			sc->eff = !sc->eff;
			log_debug("socketcan: %s: no answer to 01 00, trying "
			    "%s ids", sc->ifname, sc->eff ? "29-bit" : "11-bit");
		}
	}
	sc->busy = false;
	isotp_rx_reset(&sc->rx, 0);
	sc_link_ok(sc);
	obd_drv_reply(sc->obd, &r);
}

static void
sc_partial_touch(struct socketcan *sc, uint32_t id, uint64_t now)
{
	struct sc_partial *p, *freep = NULL;
	size_t i;

	for (i = 0; i < ISOTP_MAX_SENDERS; i++) {
		p = &sc->partial[i];
		if (p->used && p->id == id) {
			p->last_ms = now;
			return;
		}
		if (!p->used && freep == NULL)
			freep = p;
	}
	/* isotp has the same number of slots: never NULL in practice */
	if (freep != NULL) {
		freep->used = true;
		freep->id = id;
		freep->last_ms = now;
	}
}

static void
sc_partial_forget(struct socketcan *sc, uint32_t id)
{
	size_t i;

	for (i = 0; i < ISOTP_MAX_SENDERS; i++)
		if (sc->partial[i].used && sc->partial[i].id == id)
			sc->partial[i].used = false;
}

static void
sc_pending_remove(struct socketcan *sc, uint32_t id)
{
	size_t i;

	for (i = 0; i < sc->npending; i++)
		if (sc->pending[i] == id) {
			sc->pending[i] = sc->pending[--sc->npending];
			return;
		}
}

/* A complete message from an ECU. */
static void
sc_message(struct socketcan *sc, const struct isotp_msg *m, uint64_t now)
{
	struct sc_msg *out;
	uint64_t until;

	sc_pending_remove(sc, m->id);
	if (m->len == 3 && m->data[0] == SC_SID_NEGATIVE &&
	    m->data[1] == sc->req[0] && m->data[2] == SC_NRC_PENDING) {
		/* The ECU needs longer: wait P2*CAN for it, not for all. */
		sc->st.nrc_pending++;
		if (sc->npending < ISOTP_MAX_SENDERS)
			sc->pending[sc->npending++] = m->id;
		until = now + SC_P2STAR_MS;
		if (until > sc->deadline_ms)
			sc->deadline_ms = until;
		if (sc->deadline_ms > sc->hard_ms)
			sc->deadline_ms = sc->hard_ms;
		log_debug("socketcan: %s: %x: response pending",
		    sc->ifname, m->id & ISOTP_ID_MASK);
		return;
	}
	sc->answers++;
	sc->settle_ms = now + SC_P2_MS;
	if (sc->nmsg == OBD_DRV_MAX_MSGS ||
	    m->len > SC_POOL_LEN - sc->pool_used) {
		log_debug("socketcan: %s: %x: answer dropped, %zu messages "
		    "and %zu bytes kept already", sc->ifname,
		    m->id & ISOTP_ID_MASK, sc->nmsg, sc->pool_used);
		return;
	}
	out = &sc->msg[sc->nmsg++];
	out->id = m->id;
	out->off = sc->pool_used;
	out->len = m->len;
	memcpy(sc->pool + sc->pool_used, m->data, m->len);
	sc->pool_used += m->len;
}

/* Sends the flow control for a First Frame from rx_id. */
static int
sc_flow_control(struct socketcan *sc, uint32_t rx_id)
{
	struct can_frame cf;
	uint32_t tx_id;

	if (isotp_fc_id(rx_id, &tx_id) == -1)
		return 0;	/* unreachable: only OBD ids get here */
	sc_frame_out(&cf, tx_id);
	isotp_encode_fc(SC_PAD, cf.data);
	if (sc_write(sc, &cf) == -1)
		return -1;
	sc->st.fc_sent++;
	return 0;
}

/*
 * Why an error frame puts us down, or NULL if it is harmless.  With the
 * ignition off every ECU sleeps and nobody acknowledges our request: the
 * controller reports no-ACK and goes error passive.  That is what an
 * unanswered request looks like on a quiet bus, so it only makes the
 * request end as NO_DATA (the reader then says "no ECU"), it does not
 * take the driver down; bus off still does.
 */
static const char *
sc_error_frame_why(const struct can_frame *cf)
{
	canid_t cls = cf->can_id & CAN_ERR_MASK;

	if (cls & CAN_ERR_BUSOFF)
		return "error frame: bus off";
	if (cls & CAN_ERR_TX_TIMEOUT)
		return "error frame: transmit timeout";
	if (cls & CAN_ERR_PROT)
		return "error frame: protocol violation (wrong bit rate?)";
	if (cls & CAN_ERR_TRX)
		return "error frame: transceiver problem (wiring?)";
	if (cls & CAN_ERR_BUSERROR)
		return "error frame: bus error";
	if (cls & CAN_ERR_CRTL) {
		if (cf->data[1] & (CAN_ERR_CRTL_RX_OVERFLOW |
		    CAN_ERR_CRTL_TX_OVERFLOW))
			return "error frame: controller buffer overflow";
	}
	/* no-ACK, error passive, restarted, back to error active, warning
	 * levels */
	return NULL;
}

/* One frame read.  -1: the driver went down (caller returns). */
static int
sc_frame_in(struct socketcan *sc, const struct can_frame *cf)
{
	struct isotp_msg m;
	enum isotp_result res;
	const char *why;
	uint64_t now = ev_now_ms(sc->loop);
	uint32_t id;

	if (cf->can_id & CAN_ERR_FLAG) {
		if ((why = sc_error_frame_why(cf)) == NULL) {
			log_debug("socketcan: %s: error frame %x ignored",
			    sc->ifname, cf->can_id & CAN_ERR_MASK);
			return 0;
		}
		sc_fail(sc, why);
		return -1;
	}
	if (cf->can_id & CAN_EFF_FLAG)
		id = (cf->can_id & CAN_EFF_MASK) | ISOTP_ID_EFF;
	else
		id = cf->can_id & CAN_SFF_MASK;
	if ((cf->can_id & CAN_RTR_FLAG) || cf->can_dlc > CAN_MAX_DLEN ||
	    !isotp_is_obd_response(id) || !sc->busy || sc->queued) {
		sc->st.frames_ignored++;
		return 0;
	}
	res = isotp_rx_feed(&sc->rx, id, cf->data, cf->can_dlc, &m);
	switch (res) {
	case ISOTP_MESSAGE:
		sc_partial_forget(sc, id);
		sc_message(sc, &m, now);
		break;
	case ISOTP_FIRST_FRAME:
		sc_partial_touch(sc, id, now);
		return sc_flow_control(sc, id);
	case ISOTP_NONE:
		sc_partial_touch(sc, id, now);
		break;
	case ISOTP_FLOW_CONTROL:
		sc->st.frames_ignored++;
		break;
	case ISOTP_ERR_SEQUENCE:
	case ISOTP_ERR_UNEXPECTED_CF:
	case ISOTP_ERR_LENGTH:
	case ISOTP_ERR_SHORT:
	case ISOTP_ERR_TOO_LONG:
	case ISOTP_ERR_BAD_PCI:
	case ISOTP_ERR_NO_SLOT:
		sc_partial_forget(sc, id);
		sc->st.isotp_errors++;
		log_debug("socketcan: %s: %x: %s, frame dropped", sc->ifname,
		    id & ISOTP_ID_MASK, isotp_result_str(res));
		break;
	}
	return 0;
}

static void
sc_fd_cb(int fd, short revents, void *arg)
{
	struct socketcan *sc = arg;
	union {
		struct can_frame	cf;
		struct canfd_frame	cfd;	/* room to see oversize */
	} u;
	char why[SC_WHY_LEN];
	ssize_t n;
	int i;

	(void)revents;
	for (i = 0; i < SC_READ_MAX; i++) {
		n = recv(fd, &u, sizeof(u), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			sc_errno_why(why, sizeof(why), "read", errno);
			sc_fail(sc, why);
			return;
		}
		if (n == 0) {
			sc_fail(sc, "socket closed");
			return;
		}
		sc->st.frames_rx++;
		if (n != (ssize_t)sizeof(struct can_frame)) {
			sc->st.frames_ignored++;
			log_debug("socketcan: %s: %zd-byte record ignored",
			    sc->ifname, n);
			continue;
		}
		if (sc_frame_in(sc, &u.cf) == -1)
			return;
	}
	/* The rest, if any, keeps POLLIN set for the next turn. */
	if (sc->busy && !sc->queued)
		sc_arm_wait(sc);
}

static void
sc_stop(void *drv)
{
	struct socketcan *sc = drv;

	if (sc == NULL)
		return;
	ev_timer_stop(sc->loop, &sc->open_timer);
	sc_close(sc);
	if (sc->given_fd >= 0)
		(void)close(sc->given_fd);
	free(sc);
}

static int
sc_request(void *drv, const uint8_t *req, size_t len)
{
	struct socketcan *sc = drv;

	if (!sc->ready || sc->busy || req == NULL || len == 0 ||
	    len > SC_REQ_MAX)
		return -1;
	memcpy(sc->req, req, len);
	sc->reqlen = len;
	sc->busy = true;
	sc->queued = true;
	/* Sent from the loop, so that errors reach the reader from there. */
	ev_timer_set(sc->loop, &sc->send_timer, 0);
	return 0;
}

static void
sc_info(void *drv, struct obd_status *st)
{
	struct socketcan *sc = drv;

	(void)snprintf(st->adapter, sizeof(st->adapter), "socketcan %s",
	    sc->ifname);
	if (sc->locked) {
		st->protocol_num = sc->eff ? SC_PROTO_CAN29 : SC_PROTO_CAN11;
		(void)util_strlcpy(st->protocol, sc_proto_name(sc->eff),
		    sizeof(st->protocol));
	} else {
		st->protocol_num = 0;
		st->protocol[0] = '\0';
	}
}

static double
sc_voltage(void *drv)
{
	(void)drv;
	return NAN;	/* a CAN interface has no supply-voltage pin */
}

static void
sc_reconfigure(void *drv, const struct obd_opts *opts)
{
	sc_apply_opts(drv, opts);
}

void
socketcan_get_stats(const void *drv, struct socketcan_stats *out)
{
	const struct socketcan *sc = drv;

	*out = sc->st;
	out->eff = sc->eff;
	out->locked = sc->locked;
}

const struct obd_drv_ops obd_drv_socketcan = {
	.name = "socketcan",
	.start = sc_start,
	.stop = sc_stop,
	.request = sc_request,
	.info = sc_info,
	.voltage = sc_voltage,
	.reconfigure = sc_reconfigure,
};
