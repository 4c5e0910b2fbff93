/* SPDX-License-Identifier: MIT */
/*
 * isotp.h - ISO 15765-2 (ISO-TP) reassembly of CAN frames and the two
 * frames an OBD tester sends (single-frame request, flow control).
 *
 * Pure: no I/O, no clock, no logging.  Timeouts (N_Cr) belong to the
 * caller, which drops a stalled sender with isotp_rx_drop().
 *
 * CAN ids follow SocketCAN: a 29-bit id carries ISOTP_ID_EFF, an 11-bit
 * id does not.
 */
#ifndef ISOTP_H
#define ISOTP_H

#include <stddef.h>
#include <stdint.h>

#define ISOTP_ID_EFF		0x80000000u	/* 29-bit id (CAN_EFF_FLAG) */
#define ISOTP_ID_MASK		0x1fffffffu
#define ISOTP_FRAME_LEN		8		/* classic CAN payload */
#define ISOTP_MAX_LEN		4095		/* hard cap: 12-bit FF length */
#define ISOTP_MAX_SENDERS	8		/* ISO 15765-4: at most 8 ECUs */

enum isotp_result {
	ISOTP_NONE = 0,		/* frame consumed, nothing to report */
	ISOTP_MESSAGE,		/* a message is complete: see *msg */
	ISOTP_FIRST_FRAME,	/* FF accepted: send a flow control now */
	ISOTP_FLOW_CONTROL,	/* FC frame (0x3x) seen and ignored */
	ISOTP_ERR_SEQUENCE,	/* CF with a wrong sequence number */
	ISOTP_ERR_UNEXPECTED_CF, /* CF without a FF from this sender */
	ISOTP_ERR_LENGTH,	/* SF/FF length invalid for the frame */
	ISOTP_ERR_SHORT,	/* DLC too short for the PCI / a middle CF */
	ISOTP_ERR_TOO_LONG,	/* FF length over the cap (incl. escape) */
	ISOTP_ERR_BAD_PCI,	/* PCI type 4..F */
	ISOTP_ERR_NO_SLOT	/* already ISOTP_MAX_SENDERS in progress */
};

/* A completed message; data is borrowed from the reassembler and valid
 * until the next isotp_rx_feed() or isotp_rx_reset() on it. */
struct isotp_msg {
	uint32_t	 id;
	const uint8_t	*data;
	size_t		 len;
};

struct isotp_slot {
	int		 busy;
	uint32_t	 id;
	size_t		 want;		/* FF declared length */
	size_t		 have;
	uint8_t		 next_sn;	/* expected CF sequence number */
	uint8_t		 buf[ISOTP_MAX_LEN];
};

/* Caller-owned; ~33 KB, so embed it or allocate it, avoid the stack. */
struct isotp_rx {
	size_t		 max_len;	/* <= ISOTP_MAX_LEN */
	struct isotp_slot slot[ISOTP_MAX_SENDERS];
	uint8_t		 sf[ISOTP_FRAME_LEN];
	size_t		 done;		/* slot to free on the next feed */
};

/* max_len 0 or > ISOTP_MAX_LEN means ISOTP_MAX_LEN. */
void	isotp_rx_reset(struct isotp_rx *, size_t max_len);

/*
 * Feed one received frame (dlc 0..8 bytes of data).  On ISOTP_MESSAGE
 * *msg is set; on any ISOTP_ERR_* the sender's partial message (if any)
 * is dropped.  A SF or FF from a sender with a message in progress
 * replaces it (ISO 15765-2 9.8.3).
 */
enum isotp_result isotp_rx_feed(struct isotp_rx *, uint32_t id,
	    const uint8_t *data, size_t dlc, struct isotp_msg *msg);

/* Number of senders with a message in progress. */
size_t	isotp_rx_pending(const struct isotp_rx *);

/* Drop the partial message of id (N_Cr timeout); 0, or -1 if none. */
int	isotp_rx_drop(struct isotp_rx *, uint32_t id);

const char *isotp_result_str(enum isotp_result);

/* 1 if id is an OBD response id: 7E8-7EF or 29-bit 18DAF1xx. */
int	isotp_is_obd_response(uint32_t id);

/*
 * Single-frame request: payload of 1..7 bytes, padded with pad to 8
 * bytes in frame.  0, or -1 if len is out of range.
 */
int	isotp_encode_sf(const uint8_t *payload, size_t len, uint8_t pad,
	    uint8_t frame[ISOTP_FRAME_LEN]);

/* Flow control "continue, no block limit, STmin 0": 30 00 00 + pad. */
void	isotp_encode_fc(uint8_t pad, uint8_t frame[ISOTP_FRAME_LEN]);

/*
 * Id to send the flow control to for a response id: 11-bit id - 8,
 * 29-bit 18DAF1xx -> 18DAxxF1.  0, or -1 if id is no OBD response id.
 */
int	isotp_fc_id(uint32_t rx_id, uint32_t *tx_id);

#endif /* ISOTP_H */
