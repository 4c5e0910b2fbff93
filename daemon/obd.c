/* SPDX-License-Identifier: MIT */
/*
 * obd.c - the OBD-II reader core: driver table, supported-PID discovery,
 * the poll scheduler, VIN and DTC scans, the latest values.  See obd.h
 * and obd_drv.h for the contracts.
 *
 * Life cycle, driven by the driver's obd_drv_state() and by replies:
 *
 *   INIT/DOWN --driver ready--> NO_ECU: 01 00, 01 20 ... (union over the
 *   ECUs) --answered--> UP: VIN once per connection, DTC scan (03 07 0A)
 *   at connect and every dtc_interval_ms, mode 01 polling
 *   UP --3 answering PIDs fail in a row--> NO_ECU (retry 01 00 every
 *   retry_min_ms, at least 100 ms)
 *   any --driver down--> DOWN (values go stale)
 *
 * One request is outstanding at a time.  The next one is always sent
 * from the step timer, never from inside obd_drv_reply() or
 * obd_drv_state(), so a driver is never re-entered while it reports.
 *
 * A sleeping ECU.  Three polls in a row (NO DATA, timeout or adapter
 * error, no decoded answer in between) of PIDs that have answered since
 * UP mean the ignition went off.  Only PIDs seen answering count: an ECU
 * that announces PIDs it never serves must not look asleep (those PIDs
 * are dropped after three NO DATA while others answer).  The burst of
 * fast PIDs makes the ignition-off known within about one fast period,
 * and trips end at that moment.  On the way to NO_ECU the values only a
 * running engine gives (load, throttle, MAF, fuel rate, the ECU's module
 * voltage) are forgotten, so battery_v comes from the adapter, once the
 * adapter has read it anew (see obd_read_adapter_voltage()).
 *
 * DTC scans.  A mode answered NO DATA or '?' has no codes of that kind
 * (modes not served; some ECUs answer nothing when they have no codes).
 * But the ignition may go off during a scan and turn every later mode
 * into NO DATA; so a scan with such a mode is held until the next poll
 * gets an answer, and dropped if the reader leaves UP first.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "log.h"
#include "obd.h"
#include "obd_drv.h"
#include "obd_pid.h"
#include "record.h"
#include "util.h"

#define MODE_CURRENT		0x01	/* mode 01: current data */
#define MODE_DTC_STORED		0x03
#define MODE_DTC_PENDING	0x07
#define MODE_VEHICLE_INFO	0x09
#define MODE_DTC_PERMANENT	0x0a
#define PID_SUPPORT_BASE	0x00	/* 01 00: supported 01..20 */
#define PID_VIN			0x02	/* 09 02 */
#define SID_NEGATIVE		0x7f	/* 7F SID NRC */
#define NPIDS			256

/* ISO 15765-4 CAN protocol numbers are 6..9 (and A..C); 1..5 are J1850,
 * ISO 9141-2 and KWP, whose DTC and VIN replies carry no count byte. */
#define PROTO_LEGACY_MIN	1
#define PROTO_LEGACY_MAX	5

#define NO_ECU_RETRY_MIN_MS	100	/* 01 00 at most this often */
#define ECU_LOST_POLLS		3	/* answering PIDs failing in a row */
#define DROP_NO_DATA		3	/* NO DATA in a row, others answering */
#define REQUEST_RETRY_MS	250	/* driver refused a request */
#define DEFAULT_FAST_MS		1000	/* poll_fast_ms 0 */
#define DEFAULT_SLOW_MS		10000	/* poll_slow_ms 0 */
#define DTC_LOG_MAX		200	/* chars of codes in the log line */

enum obd_req {
	REQ_NONE,	/* nothing outstanding */
	REQ_STALE,	/* outstanding, but asked in an earlier state */
	REQ_SUPPORT,	/* 01 base during discovery */
	REQ_PID,	/* 01 pid while UP (pid 00: keep-alive probe) */
	REQ_VIN,	/* 09 02 */
	REQ_DTC		/* 03, 07, 0A */
};

/* Engine PIDs (every poll_fast_ms); PID 10 joins them without 5E. */
static const uint8_t fast_pids[] = {
	OBD_PID_RPM, OBD_PID_SPEED, OBD_PID_MODULE_VOLTAGE, OBD_PID_FUEL_RATE,
	OBD_PID_ENGINE_LOAD, OBD_PID_THROTTLE
};

/* The rest (every poll_slow_ms). */
static const uint8_t slow_pids[] = {
	OBD_PID_MONITOR_STATUS, OBD_PID_COOLANT_TEMP, OBD_PID_INTAKE_TEMP,
	OBD_PID_AMBIENT_TEMP, OBD_PID_FUEL_LEVEL, OBD_PID_ODOMETER,
	OBD_PID_RUN_TIME, OBD_PID_DIST_MIL, OBD_PID_DIST_CLEARED,
	OBD_PID_HYBRID_BATTERY
};

/* Values only a running engine gives: forgotten when the ECU sleeps. */
static const uint8_t engine_pids[] = {
	OBD_PID_ENGINE_LOAD, OBD_PID_THROTTLE, OBD_PID_MAF, OBD_PID_FUEL_RATE,
	OBD_PID_MODULE_VOLTAGE
};

/* Sample fields filled straight from one PID. */
static const struct {
	uint8_t		pid;
	size_t		off;
} sample_fields[] = {
	{ OBD_PID_RPM, offsetof(struct obd_sample, rpm) },
	{ OBD_PID_SPEED, offsetof(struct obd_sample, speed_kmh) },
	{ OBD_PID_COOLANT_TEMP, offsetof(struct obd_sample, coolant_c) },
	{ OBD_PID_INTAKE_TEMP, offsetof(struct obd_sample, intake_c) },
	{ OBD_PID_AMBIENT_TEMP, offsetof(struct obd_sample, ambient_c) },
	{ OBD_PID_ENGINE_LOAD, offsetof(struct obd_sample, load_pct) },
	{ OBD_PID_THROTTLE, offsetof(struct obd_sample, throttle_pct) },
	{ OBD_PID_MAF, offsetof(struct obd_sample, maf_gps) },
	{ OBD_PID_FUEL_LEVEL, offsetof(struct obd_sample, fuel_level_pct) },
	{ OBD_PID_ODOMETER, offsetof(struct obd_sample, odometer_km) },
	{ OBD_PID_RUN_TIME, offsetof(struct obd_sample, run_time_s) }
};

static const struct obd_drv_ops *const drivers[] = {
	[OBD_DRIVER_NONE] = NULL,
	[OBD_DRIVER_ELM327] = &obd_drv_elm327,
	[OBD_DRIVER_SOCKETCAN] = &obd_drv_socketcan
};

struct obd {
	struct ev_loop		*loop;
	struct obd_opts		 opts;		/* strings owned */
	const struct obd_drv_ops *ops;		/* NULL: driver none */
	void			*drv;
	obd_cb			*cb;
	void			*cb_arg;
	char			*name;		/* "elm327 /dev/ttyUSB0" */
	bool			 stopping;	/* inside ops->stop() */

	enum obd_state		 state;
	bool			 session_ready;	/* reached NO_ECU since DOWN */
	enum obd_state		 logged_state;	/* last state logged at info */
	char			 logged_why[160];

	struct ev_timer		 step_timer;

	enum obd_req		 pending;
	uint8_t			 req_mode;
	uint8_t			 req_pid;
	char			 req_text[8];	/* "01 0C", "03" for logs */

	/* Discovery (NO_ECU). */
	uint8_t			 disc_base;
	struct obd_pid_support	 disc;

	/* Polling (UP). */
	struct obd_pid_support	 support;	/* announced, all ECUs */
	struct obd_pid_support	 pollset;	/* support - dropped (+ 00) */
	struct obd_pid_sched	 sched;
	unsigned int		 nsched;	/* PIDs in the schedule */
	uint8_t			 nodata[NPIDS];	/* NO DATA in a row */
	uint64_t		 nodata_mark[NPIDS]; /* replies at the first */
	struct obd_pid_support	 answered;	/* PIDs answered since UP */
	unsigned int		 lost_polls;	/* of those, failed in a row */

	/* VIN and DTCs. */
	bool			 vin_done;	/* this connection */
	bool			 vin_asked;	/* since UP */
	uint8_t			 dtc_mode;	/* scan running: mode asked */
	bool			 dtc_scanned;	/* since UP */
	bool			 scan_unsure;	/* a mode went unanswered */
	bool			 scan_held;	/* done, awaiting a live ECU */
	uint64_t		 dtc_last_ms;
	size_t			 scan_n;
	size_t			 scan_lost;	/* codes beyond OBD_MAX_DTCS */
	struct obd_dtc		 scan[OBD_MAX_DTCS];
	struct obd_pid_dtc	 dtc_tmp[NPIDS];

	/* Values by PID; read time 0 = never. */
	double			 val[NPIDS];
	uint64_t		 val_ms[NPIDS];
	int			 mil_on;
	double			 adapter_v;
	uint64_t		 adapter_v_ms;
	bool			 adapter_v_held; /* reading from before
						   the ECU slept */
	double			 adapter_v_old;	/* that reading */

	struct obd_status	 st;	/* counters, VIN, DTCs, last_error */
};

static void	obd_step(void *);
static void	obd_dtc_commit(struct obd *);

const char *
obd_state_name(enum obd_state s)
{
	switch (s) {
	case OBD_OFF:
		return "off";
	case OBD_DOWN:
		return "down";
	case OBD_INIT:
		return "init";
	case OBD_NO_ECU:
		return "no_ecu";
	case OBD_UP:
		return "up";
	}
	return "unknown";
}

const char *
obd_dtc_kind(uint8_t mode)
{
	switch (mode) {
	case MODE_DTC_STORED:
		return "stored";
	case MODE_DTC_PENDING:
		return "pending";
	case MODE_DTC_PERMANENT:
		return "permanent";
	}
	return "unknown";
}

static const char *
pid_status_str(enum obd_pid_status s)
{
	switch (s) {
	case OBD_PID_OK:
		return "ok";
	case OBD_PID_E_ARG:
		return "bad argument";
	case OBD_PID_E_SHORT:
		return "too short";
	case OBD_PID_E_LONG:
		return "too long";
	case OBD_PID_E_LENGTH:
		return "bad length";
	case OBD_PID_E_SID:
		return "wrong SID";
	case OBD_PID_E_PID:
		return "wrong PID";
	case OBD_PID_E_UNKNOWN:
		return "unknown PID";
	case OBD_PID_E_DATA:
		return "bad data";
	case OBD_PID_E_SPACE:
		return "too many codes";
	}
	return "?";
}

static const char *
opt_str(const char *s)
{
	return s != NULL ? s : "";
}

static bool
str_eq(const char *a, const char *b)
{
	return strcmp(opt_str(a), opt_str(b)) == 0;
}

/* The device or interface the reader talks to. */
static const char *
obd_device(const struct obd *o)
{
	return o->opts.driver == OBD_DRIVER_SOCKETCAN ?
	    opt_str(o->opts.interface) : opt_str(o->opts.device);
}

static void
obd_emit(struct obd *o, enum obd_event ev)
{
	if (o->cb != NULL)
		o->cb(o, ev, o->cb_arg);
}

static void
obd_schedule(struct obd *o, uint64_t delay_ms)
{
	ev_timer_set(o->loop, &o->step_timer, delay_ms);
}

/* Adapter, protocol_num and protocol from the driver, "" when none. */
static void
obd_info(const struct obd *o, struct obd_status *out)
{
	struct obd_status	tmp;

	out->adapter[0] = '\0';
	out->protocol[0] = '\0';
	out->protocol_num = 0;
	if (o->drv == NULL || o->ops->info == NULL)
		return;
	memset(&tmp, 0, sizeof(tmp));
	o->ops->info(o->drv, &tmp);
	(void)util_strlcpy(out->adapter, tmp.adapter, sizeof(out->adapter));
	(void)util_strlcpy(out->protocol, tmp.protocol, sizeof(out->protocol));
	out->protocol_num = tmp.protocol_num;
}

/*
 * Whether DTC and VIN replies carry the CAN count byte: every message
 * with a CAN id does; without ids (ELM327 headers off) the protocol
 * decides, and an unknown protocol is taken for CAN, which every car
 * sold in China under China 5/6 uses.
 */
static int
obd_can_count_byte(const struct obd *o, uint32_t id)
{
	struct obd_status	tmp;

	if (id != 0 || o->ops == &obd_drv_socketcan)
		return 1;
	obd_info(o, &tmp);
	return !(tmp.protocol_num >= PROTO_LEGACY_MIN &&
	    tmp.protocol_num <= PROTO_LEGACY_MAX);
}

static unsigned int
support_count(const struct obd_pid_support *set)
{
	unsigned int	pid, n = 0;

	for (pid = 1; pid < NPIDS; pid++)
		n += obd_pid_support_has(set, (uint8_t)pid) != 0;
	return n;
}

static void
support_del(struct obd_pid_support *set, uint8_t pid)
{
	set->bits[pid / 8] &= (uint8_t)~(1u << (pid % 8));
}

static void
obd_set_error(struct obd *o, const char *why)
{
	if (why != NULL && why[0] != '\0')
		(void)util_strlcpy(o->st.last_error, why,
		    sizeof(o->st.last_error));
}

/*
 * Logs a state change at info, once: a driver that cycles DOWN -> INIT
 * -> DOWN for the same reason on every retry is logged on the first.
 * INIT is only a debug line.
 */
static void
obd_log_state(struct obd *o, const char *why)
{
	struct obd_status	inf;

	if (o->state == OBD_INIT) {
		log_debug("obd: %s: initialising the adapter", o->name);
		return;
	}
	if (o->state == o->logged_state &&
	    (o->state != OBD_DOWN || strcmp(o->logged_why, why) == 0))
		return;
	switch (o->state) {
	case OBD_DOWN:
		log_info("obd: %s: down (%s)", o->name,
		    why[0] != '\0' ? why : "adapter lost");
		break;
	case OBD_NO_ECU:
		if (why[0] != '\0')
			log_info("obd: %s: %s", o->name, why);
		else {
			obd_info(o, &inf);
			log_info("obd: %s: adapter ready%s%s%s, no ECU "
			    "answering", o->name, inf.adapter[0] != '\0' ?
			    " (" : "", inf.adapter, inf.adapter[0] != '\0' ?
			    ")" : "");
		}
		break;
	case OBD_UP:
		obd_info(o, &inf);
		log_info("obd: %s: up, protocol %s, %u PIDs supported",
		    o->name, inf.protocol[0] != '\0' ? inf.protocol :
		    "unknown", o->st.supported_pids);
		break;
	case OBD_OFF:
	case OBD_INIT:
		break;
	}
	o->logged_state = o->state;
	(void)util_strlcpy(o->logged_why, why, sizeof(o->logged_why));
}

static void
obd_set_state(struct obd *o, enum obd_state s, const char *why)
{
	if (why == NULL)
		why = "";
	obd_set_error(o, why);
	if (s == o->state)
		return;
	o->state = s;
	obd_log_state(o, why);
	obd_emit(o, OBD_EV_STATE);
}

static void
obd_set_value(struct obd *o, uint8_t pid, double v, uint64_t now)
{
	o->val[pid] = v;
	o->val_ms[pid] = now;
	o->st.values_mono_ms = now;
}

static double
obd_adapter_voltage(const struct obd *o)
{
	if (o->drv == NULL || o->ops->voltage == NULL)
		return NAN;
	return o->ops->voltage(o->drv);
}

/*
 * The adapter's own supply voltage (ATRV), kept with its read time.  The
 * driver refreshes it on its own schedule (every few seconds), so when
 * the ECU has just gone to sleep its reading may still be the charging
 * voltage of the running engine, which would say the engine still runs:
 * that reading is not taken again until the driver has a new one.
 */
static void
obd_read_adapter_voltage(struct obd *o, uint64_t now)
{
	double	v = obd_adapter_voltage(o);

	if (!isfinite(v))
		return;
	if (o->adapter_v_held) {
		if (v == o->adapter_v_old)
			return;
		o->adapter_v_held = false;
	}
	o->adapter_v = v;
	o->adapter_v_ms = now;
}

/*
 * No ECU answers 01 00: an ECU that sleeps says the engine is off, so
 * rpm and speed are 0 as of now; the adapter still reads the battery.
 */
static void
obd_report_no_ecu(struct obd *o, uint64_t now)
{
	obd_set_value(o, OBD_PID_RPM, 0.0, now);
	obd_set_value(o, OBD_PID_SPEED, 0.0, now);
	obd_read_adapter_voltage(o, now);
	obd_emit(o, OBD_EV_VALUES);
}

static uint64_t
obd_no_ecu_retry_ms(const struct obd *o)
{
	return o->opts.retry_min_ms > NO_ECU_RETRY_MIN_MS ?
	    o->opts.retry_min_ms : NO_ECU_RETRY_MIN_MS;
}

static void
obd_bad_reply(struct obd *o, uint32_t id, enum obd_pid_status s)
{
	o->st.bad_replies++;
	log_debug("obd: %s: bad reply to %s from %X: %s, ignored", o->name,
	    o->req_text, (unsigned int)id, pid_status_str(s));
}

static bool
msg_negative(const struct obd_drv_msg *m)
{
	return m->len >= 1 && m->data[0] == SID_NEGATIVE;
}

/*
 * The result as the reader sees it: a reply made only of negative
 * responses (7F SID NRC: "not supported") is no data.
 */
static enum obd_drv_result
reply_result(const struct obd_drv_reply *r)
{
	size_t	i, n;

	if (r->result != OBD_DRV_OK)
		return r->result;
	n = r->nmsg < OBD_DRV_MAX_MSGS ? r->nmsg : OBD_DRV_MAX_MSGS;
	for (i = 0; i < n; i++)
		if (!msg_negative(&r->msg[i]))
			return OBD_DRV_OK;
	return OBD_DRV_NO_DATA;
}

static size_t
reply_nmsg(const struct obd_drv_reply *r)
{
	return r->nmsg < OBD_DRV_MAX_MSGS ? r->nmsg : OBD_DRV_MAX_MSGS;
}

/* ---- scheduling ------------------------------------------------------ */

/*
 * Periods per PID from the options and the poll set.  MAF is read fast
 * only for the fuel estimate, when 5E is not served.  With none of our
 * PIDs served, 01 00 itself is the slow keep-alive, so a sleeping ECU is
 * still noticed.
 */
static void
obd_setup_sched(struct obd *o)
{
	uint32_t	fast, slow;
	unsigned int	pid;
	size_t		i;

	fast = o->opts.poll_fast_ms != 0 ? o->opts.poll_fast_ms :
	    DEFAULT_FAST_MS;
	slow = o->opts.poll_slow_ms != 0 ? o->opts.poll_slow_ms :
	    DEFAULT_SLOW_MS;
	for (pid = 0; pid < NPIDS; pid++)
		obd_pid_sched_set_period(&o->sched, (uint8_t)pid, 0);
	for (i = 0; i < NELEM(fast_pids); i++)
		obd_pid_sched_set_period(&o->sched, fast_pids[i], fast);
	for (i = 0; i < NELEM(slow_pids); i++)
		obd_pid_sched_set_period(&o->sched, slow_pids[i], slow);
	if (!obd_pid_support_has(&o->pollset, OBD_PID_FUEL_RATE))
		obd_pid_sched_set_period(&o->sched, OBD_PID_MAF, fast);

	support_del(&o->pollset, PID_SUPPORT_BASE);
	o->nsched = 0;
	for (pid = 1; pid < NPIDS; pid++)
		if (o->sched.period_ms[pid] != 0 &&
		    obd_pid_support_has(&o->pollset, (uint8_t)pid))
			o->nsched++;
	if (o->nsched == 0) {
		obd_pid_support_add(&o->pollset, PID_SUPPORT_BASE);
		obd_pid_sched_set_period(&o->sched, PID_SUPPORT_BASE, slow);
		o->nsched = 1;
	}
}

static int
obd_send(struct obd *o, enum obd_req kind, uint8_t mode, uint8_t pid,
    size_t len)
{
	uint8_t	req[2];
	char	text[sizeof(o->req_text)];

	req[0] = mode;
	req[1] = pid;
	if (len > 1)
		(void)snprintf(text, sizeof(text), "%02X %02X", mode, pid);
	else
		(void)snprintf(text, sizeof(text), "%02X", mode);
	if (o->ops->request(o->drv, req, len) == -1) {
		log_debug("obd: %s: driver refused %s, retrying", o->name,
		    text);
		obd_schedule(o, REQUEST_RETRY_MS);
		return -1;
	}
	o->st.requests++;
	o->pending = kind;
	o->req_mode = mode;
	o->req_pid = len > 1 ? pid : 0;
	memcpy(o->req_text, text, sizeof(o->req_text));
	return 0;
}

/* The ECU went to sleep while UP. */
static void
obd_enter_no_ecu(struct obd *o, const char *why, uint64_t now)
{
	size_t	i;

	o->disc_base = PID_SUPPORT_BASE;
	o->dtc_mode = 0;
	o->scan_held = false;
	for (i = 0; i < NELEM(engine_pids); i++)
		o->val_ms[engine_pids[i]] = 0;
	o->adapter_v_ms = 0;
	o->adapter_v_old = obd_adapter_voltage(o);
	o->adapter_v_held = isfinite(o->adapter_v_old);
	obd_set_state(o, OBD_NO_ECU, why);
	obd_report_no_ecu(o, now);
	if (o->state == OBD_NO_ECU && o->pending == REQ_NONE)
		obd_schedule(o, obd_no_ecu_retry_ms(o));
}

static void
obd_enter_up(struct obd *o)
{
	o->support = o->disc;
	o->pollset = o->disc;
	obd_pid_sched_init(&o->sched);
	obd_setup_sched(o);
	memset(o->nodata, 0, sizeof(o->nodata));
	/* 01 00 just answered: the keep-alive probe counts as answering. */
	obd_pid_support_init(&o->answered);
	obd_pid_support_add(&o->answered, PID_SUPPORT_BASE);
	o->lost_polls = 0;
	o->adapter_v_held = false;
	o->vin_asked = false;
	o->dtc_mode = 0;
	o->dtc_scanned = false;
	o->scan_held = false;
	o->st.supported_pids = support_count(&o->support);
	obd_set_state(o, OBD_UP, "");
	if (o->state == OBD_UP)
		obd_schedule(o, 0);
}

static uint64_t
obd_dtc_due_ms(const struct obd *o)
{
	if (!o->dtc_scanned)
		return 0;
	if (o->opts.dtc_interval_ms == 0)
		return UINT64_MAX;
	return o->dtc_last_ms + o->opts.dtc_interval_ms;
}

static void
obd_step_up(struct obd *o, uint64_t now)
{
	uint64_t	due, wait = UINT64_MAX;
	int64_t		w;
	uint8_t		pid;

	if (o->dtc_mode != 0) {
		(void)obd_send(o, REQ_DTC, o->dtc_mode, 0, 1);
		return;
	}
	if (!o->vin_done && !o->vin_asked) {
		if (obd_send(o, REQ_VIN, MODE_VEHICLE_INFO, PID_VIN, 2) == 0)
			o->vin_asked = true;
		return;
	}
	if (now >= obd_dtc_due_ms(o)) {
		o->dtc_mode = MODE_DTC_STORED;
		o->scan_n = 0;
		o->scan_lost = 0;
		o->scan_unsure = false;
		o->scan_held = false;
		(void)obd_send(o, REQ_DTC, o->dtc_mode, 0, 1);
		return;
	}
	if (obd_pid_sched_next(&o->sched, &o->pollset, now, &pid) == 0) {
		(void)obd_send(o, REQ_PID, MODE_CURRENT, pid, 2);
		return;
	}

	/* Idle: sleep until a PID or the next scan is due. */
	if ((w = obd_pid_sched_wait_ms(&o->sched, &o->pollset, now)) >= 0)
		wait = (uint64_t)w;
	due = obd_dtc_due_ms(o);
	if (due != UINT64_MAX && due - now < wait)
		wait = due - now;
	if (wait != UINT64_MAX)
		obd_schedule(o, wait);
}

static void
obd_step(void *arg)
{
	struct obd	*o = arg;
	uint64_t	 now = ev_now_ms(o->loop);

	if (o->drv == NULL || o->pending != REQ_NONE)
		return;
	switch (o->state) {
	case OBD_NO_ECU:
		if (o->disc_base == PID_SUPPORT_BASE)
			obd_pid_support_init(&o->disc);
		(void)obd_send(o, REQ_SUPPORT, MODE_CURRENT, o->disc_base, 2);
		break;
	case OBD_UP:
		obd_step_up(o, now);
		break;
	case OBD_OFF:
	case OBD_DOWN:
	case OBD_INIT:
		break;
	}
}

/* ---- replies --------------------------------------------------------- */

static void
obd_on_support(struct obd *o, const struct obd_drv_reply *r,
    enum obd_drv_result res, uint64_t now)
{
	const struct obd_drv_msg	*m;
	enum obd_pid_status		 s;
	size_t				 i, nok = 0;
	int				 next;

	if (res == OBD_DRV_OK) {
		for (i = 0; i < reply_nmsg(r); i++) {
			m = &r->msg[i];
			if (msg_negative(m))
				continue;
			s = obd_pid_support_parse(&o->disc, m->data, m->len,
			    o->disc_base);
			if (s == OBD_PID_OK) {
				log_debug("obd: %s: %X supports range %02X",
				    o->name, (unsigned int)m->id, o->disc_base);
				nok++;
			} else
				obd_bad_reply(o, m->id, s);
		}
	}
	if (nok == 0 && o->disc_base == PID_SUPPORT_BASE) {
		/* Still asleep: engine off; ask again later. */
		obd_report_no_ecu(o, now);
		if (o->state == OBD_NO_ECU && o->pending == REQ_NONE)
			obd_schedule(o, obd_no_ecu_retry_ms(o));
		return;
	}
	if (nok > 0) {
		o->st.replies++;
		if ((next = obd_pid_support_next(&o->disc, o->disc_base)) >= 0) {
			o->disc_base = (uint8_t)next;
			obd_schedule(o, 0);
			return;
		}
	}
	/* Done, or an announced range went unanswered: use what we have. */
	o->disc_base = PID_SUPPORT_BASE;
	obd_enter_up(o);
}

/* An announced PID that answers NO DATA while others answer is dropped
 * from the schedule until the next discovery. */
static void
obd_pid_no_data(struct obd *o, uint8_t pid)
{
	if (pid == PID_SUPPORT_BASE)
		return;
	if (o->nodata[pid] == 0)
		o->nodata_mark[pid] = o->st.replies;
	if (o->nodata[pid] < UINT8_MAX)
		o->nodata[pid]++;
	if (o->nodata[pid] < DROP_NO_DATA ||
	    o->st.replies <= o->nodata_mark[pid])
		return;
	log_debug("obd: %s: PID %02X announced but answers NO DATA, "
	    "no longer polled", o->name, pid);
	support_del(&o->pollset, pid);
	o->nodata[pid] = 0;
	obd_setup_sched(o);
}

static void
obd_on_pid(struct obd *o, const struct obd_drv_reply *r,
    enum obd_drv_result res, uint64_t now)
{
	const struct obd_drv_msg	*m;
	struct obd_pid_support		 scratch;
	struct obd_pid_value		 v, best;
	enum obd_pid_status		 s;
	uint8_t				 pid = o->req_pid;
	uint32_t			 best_id = 0;
	bool				 found = false;
	size_t				 i;

	memset(&best, 0, sizeof(best));
	if (res == OBD_DRV_OK) {
		for (i = 0; i < reply_nmsg(r); i++) {
			m = &r->msg[i];
			if (msg_negative(m))
				continue;
			if (pid == PID_SUPPORT_BASE) {
				obd_pid_support_init(&scratch);
				s = obd_pid_support_parse(&scratch, m->data,
				    m->len, PID_SUPPORT_BASE);
				memset(&v, 0, sizeof(v));
			} else
				s = obd_pid_decode(m->data, m->len, pid, &v);
			if (s != OBD_PID_OK) {
				obd_bad_reply(o, m->id, s);
				continue;
			}
			/* Several ECUs: the lowest id is the engine. */
			if (!found || m->id < best_id) {
				best = v;
				best_id = m->id;
				found = true;
			}
		}
	}
	if (found) {
		o->st.replies++;
		o->nodata[pid] = 0;
		obd_pid_support_add(&o->answered, pid);
		o->lost_polls = 0;
		/* The ECU is awake after the scan: it stands. */
		if (o->scan_held)
			obd_dtc_commit(o);
		if (pid != PID_SUPPORT_BASE) {
			obd_set_value(o, pid, best.value, now);
			if (pid == OBD_PID_MONITOR_STATUS)
				o->mil_on = best.mil_on;
			obd_read_adapter_voltage(o, now);
			obd_emit(o, OBD_EV_VALUES);
		}
	} else if (res == OBD_DRV_NO_DATA || res == OBD_DRV_TIMEOUT ||
	    res == OBD_DRV_ERROR) {
		if (res == OBD_DRV_NO_DATA)
			obd_pid_no_data(o, pid);
		if (obd_pid_support_has(&o->answered, pid) &&
		    ++o->lost_polls >= ECU_LOST_POLLS &&
		    o->state == OBD_UP && o->pending == REQ_NONE) {
			obd_enter_no_ecu(o, "ECU stopped answering", now);
			return;
		}
	}

	if (o->state == OBD_UP && o->pending == REQ_NONE)
		obd_schedule(o, 0);
}

static void
obd_on_vin(struct obd *o, const struct obd_drv_reply *r,
    enum obd_drv_result res)
{
	const struct obd_drv_msg	*m;
	struct obd_pid_vin		 v, best;
	enum obd_pid_status		 s;
	uint32_t			 best_id = 0;
	bool				 found = false;
	size_t				 i;

	memset(&best, 0, sizeof(best));
	if (res == OBD_DRV_OK) {
		for (i = 0; i < reply_nmsg(r); i++) {
			m = &r->msg[i];
			if (msg_negative(m))
				continue;
			s = obd_pid_vin_decode(m->data, m->len,
			    obd_can_count_byte(o, m->id), &v);
			if (s != OBD_PID_OK) {
				obd_bad_reply(o, m->id, s);
				continue;
			}
			if (!found || m->id < best_id) {
				best = v;
				best_id = m->id;
				found = true;
			}
		}
	}
	/* A timeout or an adapter error may pass: ask at the next UP. */
	if (res == OBD_DRV_OK || res == OBD_DRV_NO_DATA)
		o->vin_done = true;
	if (found) {
		o->st.replies++;
		(void)util_strlcpy(o->st.vin, best.vin, sizeof(o->st.vin));
		o->st.vin_check_ok = best.check_ok != 0;
		if (best.check_ok)
			log_info("obd: %s: VIN %s, check digit ok", o->name,
			    best.vin);
		else
			log_info("obd: %s: VIN %s, check digit mismatch "
			    "(computed %c)", o->name, best.vin,
			    best.check_digit);
		obd_emit(o, OBD_EV_VIN);
	} else if (res == OBD_DRV_NO_DATA)
		log_debug("obd: %s: no VIN (09 02 not answered)", o->name);
	if (o->state == OBD_UP && o->pending == REQ_NONE)
		obd_schedule(o, 0);
}

static bool
dtc_lists_equal(const struct obd_dtc *a, size_t na, const struct obd_dtc *b,
    size_t nb)
{
	size_t	i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (a[i].mode == b[j].mode &&
			    strcmp(a[i].code, b[j].code) == 0)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

static void
obd_dtc_add(struct obd *o, const char *code, uint8_t mode)
{
	size_t	i;

	for (i = 0; i < o->scan_n; i++)
		if (o->scan[i].mode == mode &&
		    strcmp(o->scan[i].code, code) == 0)
			return;		/* the same code from another ECU */
	if (o->scan_n == OBD_MAX_DTCS) {
		o->scan_lost++;
		return;
	}
	(void)util_strlcpy(o->scan[o->scan_n].code, code,
	    sizeof(o->scan[o->scan_n].code));
	o->scan[o->scan_n].mode = mode;
	o->scan_n++;
}

/* The scan is complete: replace the list in one go. */
static void
obd_dtc_commit(struct obd *o)
{
	char	buf[DTC_LOG_MAX + 1];
	size_t	i, len = 0;
	int	n;

	if (!dtc_lists_equal(o->scan, o->scan_n, o->st.dtc, o->st.ndtc)) {
		buf[0] = '\0';
		for (i = 0; i < o->scan_n && len < sizeof(buf); i++) {
			n = snprintf(buf + len, sizeof(buf) - len, "%s%s (%s)",
			    i > 0 ? ", " : "", o->scan[i].code,
			    obd_dtc_kind(o->scan[i].mode));
			if (n < 0)
				break;
			len += (size_t)n;
		}
		if (o->scan_n == 0)
			log_info("obd: %s: no DTCs", o->name);
		else
			log_info("obd: %s: %zu DTC%s: %s%s", o->name,
			    o->scan_n, o->scan_n == 1 ? "" : "s", buf,
			    len >= sizeof(buf) ? "..." : "");
	}
	if (o->scan_lost > 0)
		log_debug("obd: %s: %zu DTCs beyond %d not kept", o->name,
		    o->scan_lost, OBD_MAX_DTCS);
	memcpy(o->st.dtc, o->scan, o->scan_n * sizeof(o->scan[0]));
	o->st.ndtc = o->scan_n;
	o->st.dtcs_read = true;
	o->scan_held = false;
	obd_emit(o, OBD_EV_DTCS);
}

static void
obd_on_dtc(struct obd *o, const struct obd_drv_reply *r,
    enum obd_drv_result res, uint64_t now)
{
	const struct obd_drv_msg	*m;
	enum obd_pid_status		 s;
	uint8_t				 mode = o->dtc_mode;
	size_t				 i, k, n;
	bool				 decoded = false;

	switch (res) {
	case OBD_DRV_OK:
		for (i = 0; i < reply_nmsg(r); i++) {
			m = &r->msg[i];
			if (msg_negative(m))
				continue;
			s = obd_pid_dtc_decode(m->data, m->len, mode,
			    obd_can_count_byte(o, m->id), o->dtc_tmp,
			    NELEM(o->dtc_tmp), &n);
			if (s != OBD_PID_OK) {
				obd_bad_reply(o, m->id, s);
				continue;
			}
			decoded = true;
			for (k = 0; k < n; k++)
				obd_dtc_add(o, o->dtc_tmp[k].code, mode);
		}
		if (decoded)
			o->st.replies++;
		break;
	case OBD_DRV_NO_DATA:
	case OBD_DRV_ERROR:
		/* Mode not served ('?', NO DATA): no codes of this kind,
		 * unless the ECU just went to sleep (see the top). */
		o->scan_unsure = true;
		break;
	case OBD_DRV_TIMEOUT:
	case OBD_DRV_GARBAGE:
		/* Unknown is not "no codes": keep the last list. */
		log_debug("obd: %s: DTC scan interrupted at mode %02X",
		    o->name, mode);
		o->dtc_mode = 0;
		o->dtc_scanned = true;
		o->dtc_last_ms = now;
		if (o->state == OBD_UP && o->pending == REQ_NONE)
			obd_schedule(o, 0);
		return;
	}
	switch (mode) {
	case MODE_DTC_STORED:
		o->dtc_mode = MODE_DTC_PENDING;
		break;
	case MODE_DTC_PENDING:
		o->dtc_mode = MODE_DTC_PERMANENT;
		break;
	default:
		o->dtc_mode = 0;
		o->dtc_scanned = true;
		o->dtc_last_ms = now;
		if (o->scan_unsure)
			o->scan_held = true;
		else
			obd_dtc_commit(o);
		break;
	}
	if (o->state == OBD_UP && o->pending == REQ_NONE)
		obd_schedule(o, 0);
}

void
obd_drv_reply(struct obd *o, const struct obd_drv_reply *r)
{
	enum obd_drv_result	 res;
	enum obd_req		 kind;
	uint64_t		 now;
	char			 why[sizeof(o->st.last_error)];

	if (o == NULL || r == NULL || o->stopping)
		return;
	if ((kind = o->pending) == REQ_NONE) {
		log_debug("obd: %s: reply without a request, ignored",
		    o->name);
		return;
	}
	o->pending = REQ_NONE;
	now = ev_now_ms(o->loop);
	res = reply_result(r);
	switch (res) {
	case OBD_DRV_OK:
		break;
	case OBD_DRV_NO_DATA:
		o->st.no_data++;
		break;
	case OBD_DRV_TIMEOUT:
		o->st.timeouts++;
		(void)snprintf(why, sizeof(why), "no reply to %s in time",
		    o->req_text);
		obd_set_error(o, why);
		log_debug("obd: %s: %s", o->name, why);
		break;
	case OBD_DRV_ERROR:
		o->st.errors++;
		(void)snprintf(why, sizeof(why), "%s", r->text != NULL &&
		    r->text[0] != '\0' ? r->text : "adapter error");
		obd_set_error(o, why);
		log_debug("obd: %s: %s: %s", o->name, o->req_text, why);
		break;
	case OBD_DRV_GARBAGE:
		o->st.bad_replies++;
		(void)snprintf(why, sizeof(why), "unreadable reply to %s",
		    o->req_text);
		obd_set_error(o, why);
		log_debug("obd: %s: %s", o->name, why);
		break;
	}

	switch (kind) {
	case REQ_SUPPORT:
		obd_on_support(o, r, res, now);
		break;
	case REQ_PID:
		obd_on_pid(o, r, res, now);
		break;
	case REQ_VIN:
		obd_on_vin(o, r, res);
		break;
	case REQ_DTC:
		obd_on_dtc(o, r, res, now);
		break;
	case REQ_STALE:
		/* Asked before a state change; the step starts afresh. */
		if (o->state == OBD_NO_ECU || o->state == OBD_UP)
			obd_schedule(o, 0);
		break;
	case REQ_NONE:
		break;
	}
}

void
obd_drv_state(struct obd *o, enum obd_state s, const char *why)
{
	if (o == NULL || o->stopping)
		return;
	if (why == NULL)
		why = "";
	switch (s) {
	case OBD_DOWN:
	case OBD_INIT:
		/* Not ready: the driver forgets the request, so do we. */
		o->pending = REQ_NONE;
		ev_timer_stop(o->loop, &o->step_timer);
		o->dtc_mode = 0;
		o->scan_held = false;
		o->adapter_v_held = false;	/* init reads it anew */
		if (s == OBD_DOWN) {
			if (o->session_ready)
				o->st.reconnects++;
			o->session_ready = false;
			/* The next connection may be another car. */
			o->vin_done = false;
			o->st.vin[0] = '\0';
			o->st.vin_check_ok = false;
		}
		obd_set_state(o, s, why);
		break;
	case OBD_NO_ECU:
		if (o->state == OBD_NO_ECU) {
			obd_set_error(o, why);
			break;
		}
		/* Still ready: an outstanding request will be answered. */
		if (o->pending != REQ_NONE)
			o->pending = REQ_STALE;
		o->session_ready = true;
		o->disc_base = PID_SUPPORT_BASE;
		o->dtc_mode = 0;
		o->scan_held = false;
		obd_set_state(o, OBD_NO_ECU, why);
		if (o->state == OBD_NO_ECU && o->pending == REQ_NONE)
			obd_schedule(o, 0);
		break;
	case OBD_OFF:
	case OBD_UP:
		log_debug("obd: %s: driver reported state %s, ignored",
		    o->name, obd_state_name(s));
		break;
	}
}

/* ---- life cycle ------------------------------------------------------ */

static void
obd_copy_opts(struct obd_opts *dst, const struct obd_opts *src)
{
	*dst = *src;
	dst->device = src->device != NULL ? xstrdup(src->device) : NULL;
	dst->interface = src->interface != NULL ?
	    xstrdup(src->interface) : NULL;
}

static void
obd_free_opts(struct obd_opts *o)
{
	free((char *)o->device);
	free((char *)o->interface);
	o->device = o->interface = NULL;
}

static void
obd_stop_driver(struct obd *o)
{
	ev_timer_stop(o->loop, &o->step_timer);
	if (o->drv != NULL) {
		o->stopping = true;
		o->ops->stop(o->drv);
		o->stopping = false;
		o->drv = NULL;
	}
	o->pending = REQ_NONE;
	o->dtc_mode = 0;
	o->scan_held = false;
	o->session_ready = false;
	o->vin_done = false;
	o->st.vin[0] = '\0';
	o->st.vin_check_ok = false;
}

/* notify: emit the state change (not from obd_new: it hasn't returned). */
static void
obd_start_driver(struct obd *o, bool notify)
{
	const char	*dev = obd_device(o);
	enum obd_state	 s = o->ops != NULL ? OBD_INIT : OBD_OFF;

	free(o->name);
	if (o->ops == NULL)
		o->name = xstrdup("none");
	else
		o->name = dev[0] != '\0' ? xasprintf("%s %s", o->ops->name,
		    dev) : xstrdup(o->ops->name);
	o->logged_state = OBD_OFF;
	o->logged_why[0] = '\0';
	if (notify)
		obd_set_state(o, s, "");
	else
		o->state = s;
	if (o->ops == NULL) {
		log_debug("obd: no driver configured, not reading");
		return;
	}
	o->drv = o->ops->start(o->loop, &o->opts, o);
	if (o->drv == NULL)
		obd_set_state(o, OBD_DOWN, "cannot start the driver");
}

struct obd *
obd_new_with_driver(struct ev_loop *loop, const struct obd_opts *opts,
    const struct obd_drv_ops *ops, obd_cb *cb, void *arg)
{
	struct obd	*o;

	o = xcalloc(1, sizeof(*o));
	o->loop = loop;
	o->cb = cb;
	o->cb_arg = arg;
	o->ops = ops;
	obd_copy_opts(&o->opts, opts);
	o->mil_on = -1;
	o->pending = REQ_NONE;
	ev_timer_init(&o->step_timer, obd_step, o);
	obd_start_driver(o, false);
	return o;
}

struct obd *
obd_new(struct ev_loop *loop, const struct obd_opts *opts, obd_cb *cb,
    void *arg)
{
	const struct obd_drv_ops	*ops = NULL;

	if ((size_t)opts->driver < NELEM(drivers))
		ops = drivers[opts->driver];
	return obd_new_with_driver(loop, opts, ops, cb, arg);
}

void
obd_free(struct obd *o)
{
	if (o == NULL)
		return;
	obd_stop_driver(o);
	obd_free_opts(&o->opts);
	free(o->name);
	free(o);
}

void
obd_reconfigure(struct obd *o, const struct obd_opts *opts)
{
	struct obd_opts	keep;

	if (opts->driver != o->opts.driver ||
	    !str_eq(opts->device, o->opts.device) ||
	    opts->baud != o->opts.baud ||
	    !str_eq(opts->interface, o->opts.interface)) {
		log_info("obd: %s: adapter settings changed, restarting",
		    o->name);
		obd_stop_driver(o);
		if (opts->driver != o->opts.driver)
			o->ops = (size_t)opts->driver < NELEM(drivers) ?
			    drivers[opts->driver] : NULL;
		obd_free_opts(&o->opts);
		obd_copy_opts(&o->opts, opts);
		obd_start_driver(o, true);
		return;
	}

	/* Same adapter: the driver may hold our strings, keep them. */
	keep = o->opts;
	o->opts = *opts;
	o->opts.device = keep.device;
	o->opts.interface = keep.interface;
	if (o->drv != NULL && o->ops->reconfigure != NULL)
		o->ops->reconfigure(o->drv, &o->opts);
	if (o->state == OBD_UP) {
		obd_setup_sched(o);
		if (o->pending == REQ_NONE)
			obd_schedule(o, 0);
	}
}

void
obd_get_status(const struct obd *o, struct obd_status *st)
{
	*st = o->st;
	st->state = o->state;
	st->driver = o->ops != NULL ? o->ops->name : "none";
	(void)util_strlcpy(st->device, obd_device(o), sizeof(st->device));
	obd_info(o, st);
}

static bool
fresh(uint64_t t, uint64_t now, uint64_t max_age)
{
	return t != 0 && (now < t || now - t <= max_age);
}

void
obd_get_sample(const struct obd *o, uint64_t now, uint64_t max_age,
    struct obd_sample *s)
{
	struct obd_pid_value	 r5e, maf;
	const struct obd_pid_value *pr5e = NULL, *pmaf = NULL;
	double			 lph;
	int			 est;
	size_t			 i;
	uint8_t			 pid;

	record_obd_clear(s);
	if (o == NULL)
		return;
	for (i = 0; i < NELEM(sample_fields); i++) {
		pid = sample_fields[i].pid;
		if (fresh(o->val_ms[pid], now, max_age))
			*(double *)(void *)((char *)s +
			    sample_fields[i].off) = o->val[pid];
	}
	if (fresh(o->val_ms[OBD_PID_MODULE_VOLTAGE], now, max_age))
		s->battery_v = o->val[OBD_PID_MODULE_VOLTAGE];
	else if (fresh(o->adapter_v_ms, now, max_age))
		s->battery_v = o->adapter_v;
	if (fresh(o->val_ms[OBD_PID_MONITOR_STATUS], now, max_age))
		s->mil_on = o->mil_on;

	memset(&r5e, 0, sizeof(r5e));
	memset(&maf, 0, sizeof(maf));
	if (fresh(o->val_ms[OBD_PID_FUEL_RATE], now, max_age)) {
		r5e.pid = OBD_PID_FUEL_RATE;
		r5e.unit = OBD_PID_UNIT_LPH;
		r5e.value = o->val[OBD_PID_FUEL_RATE];
		pr5e = &r5e;
	}
	if (fresh(o->val_ms[OBD_PID_MAF], now, max_age)) {
		maf.pid = OBD_PID_MAF;
		maf.unit = OBD_PID_UNIT_GPS;
		maf.value = o->val[OBD_PID_MAF];
		pmaf = &maf;
	}
	if (obd_pid_fuel_rate(pr5e, pmaf, o->opts.fuel, &lph, &est) == 0) {
		s->fuel_rate_lph = lph;
		s->fuel_rate_estimated = est;
	}
}
