/* SPDX-License-Identifier: MIT */
/*
 * socketcan.h - what the SocketCAN OBD driver offers beyond obd_drv.h:
 * a start over a descriptor the caller opened (the test seam), and its
 * counters.  The driver itself is obd_drv_socketcan (obd_drv.h).
 */
#ifndef SOCKETCAN_H
#define SOCKETCAN_H

#include <stdint.h>

#include "ev.h"
#include "obd.h"

struct obd;

/*
 * Like obd_drv_socketcan.start(), but over fd instead of a raw CAN socket
 * bound to opts->interface.  fd carries one struct can_frame per record,
 * exactly as a CAN_RAW socket reads and writes them (a SOCK_SEQPACKET
 * socketpair in the tests).  The driver owns fd from this call on: it
 * makes it non-blocking, uses it again for every reopen after a problem
 * and closes it in stop().  opts->interface only names it in logs and in
 * the adapter string.  Never NULL; stop with obd_drv_socketcan.stop().
 */
void	*socketcan_start_fd(struct ev_loop *, const struct obd_opts *,
	    struct obd *, int fd);

struct socketcan_stats {
	uint64_t	attempts;	/* opens tried, the first one included */
	uint32_t	retry_ms;	/* delay of the scheduled reopen, 0 none */
	uint64_t	requests;	/* request frames written */
	uint64_t	frames_rx;	/* records read */
	uint64_t	frames_ignored;	/* wrong size, bad DLC, RTR, no OBD
					   response id, or no request on */
	uint64_t	isotp_errors;	/* frames the reassembler refused */
	uint64_t	ncr_timeouts;	/* partial messages dropped (N_Cr) */
	uint64_t	fc_sent;	/* flow control frames written */
	uint64_t	nrc_pending;	/* 7F xx 78 "response pending" seen */
	int		eff;		/* 1: requests use 29-bit ids */
	int		locked;		/* 1: an ECU answered, eff is final */
};

/* drv from start() or socketcan_start_fd(). */
void	 socketcan_get_stats(const void *drv, struct socketcan_stats *);

#endif /* SOCKETCAN_H */
