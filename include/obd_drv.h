/* SPDX-License-Identifier: MIT */
/*
 * obd_drv.h - the interface between the OBD reader (obd.c) and its
 * drivers (elm327.c, socketcan.c).  Not for other modules.
 *
 * A driver owns its file descriptor(s) on the event loop, opens and
 * initialises the adapter, and recovers from unplug, reset and silence by
 * itself (capped backoff retry_min_ms .. retry_max_ms, each distinct
 * problem logged once).  It tells the reader where it is with
 * obd_drv_state(): OBD_DOWN, OBD_INIT, or OBD_NO_ECU meaning "ready for
 * requests" (the reader alone decides OBD_UP).
 *
 * The reader sends one request at a time with ops->request(); while the
 * driver is ready, every accepted request is answered by exactly one
 * obd_drv_reply() call, made from the loop (never from inside request()).
 * If the driver goes down instead, it calls obd_drv_state(OBD_DOWN) and
 * the request is forgotten.
 */
#ifndef OBD_DRV_H
#define OBD_DRV_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "isotp.h"
#include "obd.h"

enum obd_drv_result {
	OBD_DRV_OK,		/* nmsg >= 1 messages */
	OBD_DRV_NO_DATA,	/* NO DATA, UNABLE TO CONNECT, no ECU answered
				   within the timeout (CAN) */
	OBD_DRV_TIMEOUT,	/* the adapter itself did not finish (no '>') */
	OBD_DRV_ERROR,		/* adapter or bus error: CAN ERROR, BUS INIT
				   ERROR, STOPPED, BUFFER FULL, '?', ... */
	OBD_DRV_GARBAGE		/* unparsable, oversize or binary */
};

#define OBD_DRV_MAX_MSGS	16

struct obd_drv_msg {
	uint32_t	 id;	/* response CAN id (ISOTP_ID_EFF for 29-bit),
				   0 when unknown (ELM327 headers off) */
	const uint8_t	*data;	/* payload from the response SID on */
	size_t		 len;
};

/* Valid during the obd_drv_reply() call only. */
struct obd_drv_reply {
	enum obd_drv_result	result;
	size_t			nmsg;
	struct obd_drv_msg	msg[OBD_DRV_MAX_MSGS];
	const char		*text;	/* adapter status for logs, or NULL */
};

struct obd;

struct obd_drv_ops {
	const char	*name;	/* "elm327", "socketcan" */
	/* Start (non-blocking: connect on the loop).  NULL only on
	 * allocation-class failure. */
	void		*(*start)(struct ev_loop *, const struct obd_opts *,
			    struct obd *);
	void		 (*stop)(void *drv);
	/* req = mode [pid ...], 1..7 bytes.  0 accepted; -1 not ready or a
	 * request is already outstanding. */
	int		 (*request)(void *drv, const uint8_t *req, size_t len);
	/* Fill adapter, protocol_num and protocol (and battery_v below). */
	void		 (*info)(void *drv, struct obd_status *);
	/* Adapter supply voltage in volts (ELM327 ATRV), NaN if none. */
	double		 (*voltage)(void *drv);
	/* Periods and timeouts changed (same device). */
	void		 (*reconfigure)(void *drv, const struct obd_opts *);
};

extern const struct obd_drv_ops obd_drv_elm327;
extern const struct obd_drv_ops obd_drv_socketcan;

/*
 * obd_new() with an explicit driver (tests plug a fake one here).  ops
 * is borrowed for the life of the reader and must outlive it; NULL gives
 * a reader that stays OBD_OFF.  opts->driver still selects the table
 * driver if a later obd_reconfigure() changes it.
 */
struct obd	*obd_new_with_driver(struct ev_loop *, const struct obd_opts *,
		    const struct obd_drv_ops *, obd_cb *, void *arg);

/* Called by drivers.  why: "" or a reason for the log and last_error. */
void	obd_drv_state(struct obd *, enum obd_state, const char *why);
void	obd_drv_reply(struct obd *, const struct obd_drv_reply *);

#endif /* OBD_DRV_H */
