/* SPDX-License-Identifier: MIT */
/*
 * obd.h - the OBD-II reader: one driver (ELM327 over a tty or TCP,
 * SocketCAN) behind a small table, supported-PID discovery, the poll
 * scheduler, decoding, VIN and DTCs.  Runs on the event loop; never
 * blocks.
 *
 * States.  OBD_DOWN: the device is missing, unreachable or stopped
 * answering; the driver retries with a capped exponential backoff
 * (retry_min_ms .. retry_max_ms) and logs the problem once, not on every
 * attempt.  OBD_INIT: the adapter is being set up (ELM327 ATZ ... ATDPN).
 * OBD_NO_ECU: the adapter works but no ECU answers 01 00 (ignition off,
 * UNABLE TO CONNECT, NO DATA); 01 00 is retried every retry_min_ms
 * (at least 100 ms).  OBD_UP: the ECU answered; PIDs are polled.
 *
 * In OBD_NO_ECU the reader reports rpm = 0 and speed = 0 with each retry
 * (an ECU that sleeps says the engine is off), and battery_v from the
 * adapter (ATRV) when it has one; in OBD_DOWN it reports nothing, so the
 * values go stale and trip detection falls back to GNSS.
 *
 * Polling in OBD_UP: supported PIDs are read from 01 00, 01 20, ...
 * (union over the ECUs that answer); every poll_fast_ms the engine PIDs
 * (0C rpm, 0D speed, 42 voltage, 5E fuel rate or 10 MAF, 04 load, 11
 * throttle); every poll_slow_ms the rest (01 MIL, 05, 0F, 46, 2F, A6, 1F,
 * 21, 31, 5B); VIN (09 02) once per connection; DTCs (03, 07, 0A) at
 * connect and every dtc_interval_ms.  One request is outstanding at a
 * time.  With several ECUs the values come from the lowest response id
 * (the engine ECU, 7E8); DTCs are the union.  A reply whose SID or PID
 * does not match the request, or whose length is wrong, is counted in
 * bad_replies and ignored (never zero-padded).
 */
#ifndef OBD_H
#define OBD_H

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"
#include "obd_pid.h"
#include "record.h"

#define OBD_MAX_DTCS	32

enum obd_driver_kind {
	OBD_DRIVER_NONE = 0,
	OBD_DRIVER_ELM327,
	OBD_DRIVER_SOCKETCAN
};

struct obd_opts {
	enum obd_driver_kind driver;
	const char	*device;	/* elm327: tty path or "tcp:HOST:PORT" */
	int		 baud;		/* elm327 tty */
	const char	*interface;	/* socketcan: "can0" */
	uint32_t	 timeout_ms;	/* one command; the first request after
					   ATSP0 (protocol search) gets 10x */
	uint32_t	 poll_fast_ms;
	uint32_t	 poll_slow_ms;
	uint32_t	 dtc_interval_ms;
	uint32_t	 retry_min_ms;
	uint32_t	 retry_max_ms;
	enum obd_pid_fuel fuel;		/* for the MAF fuel-rate estimate */
};

enum obd_state {
	OBD_OFF = 0,	/* driver "none" */
	OBD_DOWN,
	OBD_INIT,
	OBD_NO_ECU,
	OBD_UP
};

/* What a callback is told about. */
enum obd_event {
	OBD_EV_STATE,	/* state changed: obd_get_status() */
	OBD_EV_VALUES,	/* at least one value was (re)read */
	OBD_EV_DTCS,	/* a DTC scan (03, 07, 0A) completed */
	OBD_EV_VIN	/* VIN read */
};

struct obd_status {
	enum obd_state	 state;
	const char	*driver;	/* "elm327", "socketcan", "none" */
	char		 device[128];	/* device or interface */
	char		 adapter[64];	/* "ELM327 v1.5", "socketcan can0" */
	int		 protocol_num;	/* ELM327 ATDPN number, 0 unknown;
					   socketcan: 6 (11-bit) or 7 (29) */
	char		 protocol[64];	/* "ISO 15765-4 CAN (11 bit, 500 kbaud)" */
	char		 vin[OBD_PID_VIN_LEN + 1];	/* "" unknown */
	bool		 vin_check_ok;
	char		 last_error[160]; /* latest problem, "" none */
	size_t		 ndtc;
	struct obd_dtc	 dtc[OBD_MAX_DTCS];	/* as of the last scan */
	bool		 dtcs_read;	/* at least one scan completed */
	uint64_t	 values_mono_ms; /* last value read, 0 never */
	unsigned int	 supported_pids; /* mode 01 PIDs supported */
	uint64_t	 requests;	/* sent */
	uint64_t	 replies;	/* data replies decoded */
	uint64_t	 no_data;	/* NO DATA and other "no answer" */
	uint64_t	 errors;	/* adapter/bus error statuses */
	uint64_t	 timeouts;	/* no complete reply in time */
	uint64_t	 bad_replies;	/* garbage, short, long, mismatched */
	uint64_t	 reconnects;	/* times the driver went down */
};

struct obd;
typedef void	obd_cb(struct obd *, enum obd_event, void *arg);

/*
 * Start reading (returns at once; connecting happens on the loop).  Never
 * NULL: a bad device is reported through the state.  driver NONE gives a
 * reader that stays OBD_OFF.  Strings in opts are copied.
 */
struct obd	*obd_new(struct ev_loop *, const struct obd_opts *, obd_cb *,
		    void *arg);
void		 obd_free(struct obd *);		/* NULL ok */
/* SIGHUP: restart the driver only if driver, device, baud or interface
 * changed; periods and timeouts apply at once. */
void		 obd_reconfigure(struct obd *, const struct obd_opts *);

void		 obd_get_status(const struct obd *, struct obd_status *);
/*
 * The latest values; those read more than max_age_ms before now_mono_ms
 * are NaN.  fuel_rate_lph is PID 5E when supported, else estimated from
 * MAF (fuel_rate_estimated = 1).
 */
void		 obd_get_sample(const struct obd *, uint64_t now_mono_ms,
		    uint64_t max_age_ms, struct obd_sample *);
/* "off", "down", "init", "no_ecu", "up". */
const char	*obd_state_name(enum obd_state);
/* "stored", "pending", "permanent" for 0x03, 0x07, 0x0a. */
const char	*obd_dtc_kind(uint8_t mode);

#endif /* OBD_H */
