/* SPDX-License-Identifier: MIT */
/*
 * elm327_parse.h - parse one complete ELM327 reply (the bytes before the
 * '>' prompt) into a status and per-ECU messages.
 *
 * Pure: no I/O, no clock, no logging.  CAN frames printed with headers
 * on (ATH1, spaces on or off, 11-bit "7E8 .." or 29-bit "18DAF110 ..")
 * go through isotp; headers off, each line is one message and the ELM's
 * own "014" / "0: .." multi-frame format is reassembled.  Legacy
 * (J1850/ISO 9141/KWP) headers-on framing is not decoded.
 */
#ifndef ELM327_PARSE_H
#define ELM327_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "isotp.h"

#define ELM327_MAX_REPLY	16384	/* bytes; longer is GARBAGE */
#define ELM327_MAX_LINE		128	/* chars after cleaning */
#define ELM327_MAX_MSGS		16
#define ELM327_POOL		4096	/* payload bytes of all messages */
#define ELM327_MAX_TEXT		64

enum elm327_status {
	ELM327_EMPTY = 0,		/* nothing but echo/blank lines */
	ELM327_OK,			/* "OK" */
	ELM327_DATA,			/* data lines; nmsg may be 0 when
					   every frame was broken (nerr,
					   incomplete say why) */
	ELM327_TEXT,			/* other text (ATI, ATRV, ATDPN, ATDP) */
	ELM327_NO_DATA,
	ELM327_CAN_ERROR,
	ELM327_BUS_INIT_ERROR,		/* "BUS INIT: ...ERROR" */
	ELM327_STOPPED,
	ELM327_UNKNOWN_COMMAND,		/* line starting with '?' */
	ELM327_ERROR,			/* bare "ERROR" (clones), "ERRnn" */
	ELM327_UNABLE_TO_CONNECT,
	ELM327_BUFFER_FULL,
	ELM327_DATA_ERROR,		/* "DATA ERROR" or "<DATA ERROR" */
	ELM327_RX_ERROR,		/* "<RX ERROR" */
	ELM327_BUS_BUSY,
	ELM327_BUS_ERROR,
	ELM327_FB_ERROR,
	ELM327_ACT_ALERT,
	ELM327_LV_RESET,
	ELM327_LP_ALERT,
	ELM327_GARBAGE			/* oversize, binary or unparsable */
};

#define ELM327_F_HEADERS	0x01	/* ATH1 in effect */

struct elm327_msg {
	int		 has_id;	/* 0 with headers off */
	uint32_t	 id;		/* ISOTP_ID_EFF set for 29-bit */
	const uint8_t	*data;		/* points into the reply's pool */
	size_t		 len;
};

/* Caller-owned (~40 KB): embed or allocate.  Pointers inside point into
 * the same struct: do not copy it. */
struct elm327_reply {
	enum elm327_status status;
	int		 echo;		/* first line was the command echo */
	int		 ok;		/* an "OK" line */
	int		 searching;	/* "SEARCHING..." seen */
	int		 bus_init_ok;	/* "BUS INIT: ...OK" seen */
	size_t		 nmsg;
	struct elm327_msg msg[ELM327_MAX_MSGS];
	size_t		 nerr;		/* frames/segments dropped */
	enum isotp_result last_err;	/* last isotp error, if any */
	size_t		 incomplete;	/* multi-frame messages cut short */
	size_t		 nunknown;	/* lines not understood */
	char		 text[ELM327_MAX_TEXT]; /* first text line */
	uint8_t		 pool[ELM327_POOL];
	size_t		 pool_used;
	uint8_t		 seg[ISOTP_MAX_LEN]; /* workspace */
	struct isotp_rx	 rx;		/* workspace */
};

/*
 * Parse buf[0..len) (the reply before '>').  cmd is the command sent
 * (for echo detection; NULL to skip), flags ELM327_F_*.  Returns 0, or
 * -1 with status ELM327_GARBAGE.  Adapter errors are a status, not -1.
 */
int	elm327_parse(const char *buf, size_t len, const char *cmd, int flags,
	    struct elm327_reply *r);

/* The first message from id (ISOTP_ID_EFF for 29-bit), or NULL. */
const struct elm327_msg *elm327_find(const struct elm327_reply *,
	    uint32_t id);

const char *elm327_status_str(enum elm327_status);

/* ATDPN "A6" -> *proto 6, *automatic 1; "0"/"A0" -> 0.  0 or -1. */
int	elm327_parse_dpn(const char *text, int *proto, int *automatic);

/* ATRV "12.6V" (or "12.6") -> 12600.  0 or -1. */
int	elm327_parse_voltage(const char *text, int *voltage_mv);

/* ATI "ELM327 v1.5" -> 1, 5.  0 or -1. */
int	elm327_parse_version(const char *text, int *major, int *minor);

#endif /* ELM327_PARSE_H */
