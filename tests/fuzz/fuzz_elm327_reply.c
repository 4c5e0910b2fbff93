/* SPDX-License-Identifier: MIT */
/*
 * fuzz_elm327_reply.c - libFuzzer target: what an ELM327 adapter (or a
 * clone, or line noise on a Bluetooth serial link) prints before its '>'
 * prompt, through elm327_parse() (status lines, headers on/off, the ELM's
 * own multi-frame format, ISO-TP reassembly) and every J1979 decoder the
 * OBD reader applies to the messages.
 *
 * Input: byte 0 selects the parse flags (bit 0: headers on) and the
 * command echoed (bits 1-3, from a table); the rest is the reply.
 *
 * Checked besides the sanitizers (a violation aborts):
 *  - a -1 return goes with status GARBAGE, and GARBAGE with no messages;
 *  - at most ELM327_MAX_MSGS messages (DATA may have none when every
 *    frame was broken; an adapter error next to data lines keeps them),
 *    each inside the reply's pool, with a length in 1..ISOTP_MAX_LEN;
 *  - a message carries a CAN id only when headers are on;
 *  - every decoder that says OK gives finite values, DTC codes of five
 *    characters from "PCBU" and hex digits, and a 17-character VIN.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elm327_parse.h"
#include "isotp.h"
#include "obd_pid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const cmds[] = {
	NULL, "0100", "010C", "0902", "03", "ATZ", "ATDPN", "ATRV"
};

static struct elm327_reply reply;	/* ~40 KB: not on the stack */

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static int
dtc_ok(const char *code)
{
	size_t	i;

	if (strlen(code) != OBD_PID_DTC_LEN || strchr("PCBU", code[0]) == NULL)
		return 0;
	for (i = 1; i < OBD_PID_DTC_LEN; i++)
		if (strchr("0123456789ABCDEF", code[i]) == NULL)
			return 0;
	return 1;
}

static void
decode_all(const uint8_t *p, size_t len)
{
	struct obd_pid_value	v;
	struct obd_pid_support	set;
	struct obd_pid_dtc	dtc[32];
	struct obd_pid_vin	vin;
	size_t			n, i;
	int			can, next;
	uint8_t			mode;

	if (len >= 2 && obd_pid_decode(p, len, p[1], &v) == OBD_PID_OK)
		CHECK(isfinite(v.value));
	obd_pid_support_init(&set);
	if (len >= 2 && obd_pid_support_parse(&set, p, len, p[1]) ==
	    OBD_PID_OK) {
		next = obd_pid_support_next(&set, p[1]);
		CHECK(next == -1 || (next > p[1] && next <= 0xe0));
	}
	for (can = 0; can <= 1; can++) {
		if (len >= 1 && (p[0] == 0x43 || p[0] == 0x47 ||
		    p[0] == 0x4a)) {
			mode = (uint8_t)(p[0] - 0x40);
			if (obd_pid_dtc_decode(p, len, mode, can, dtc,
			    sizeof(dtc) / sizeof(dtc[0]), &n) == OBD_PID_OK) {
				CHECK(n <= sizeof(dtc) / sizeof(dtc[0]));
				for (i = 0; i < n; i++)
					CHECK(dtc_ok(dtc[i].code));
			}
		}
		if (obd_pid_vin_decode(p, len, can, &vin) == OBD_PID_OK)
			CHECK(strlen(vin.vin) == OBD_PID_VIN_LEN);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct elm327_msg	*m;
	const char		*cmd;
	size_t			 i;
	int			 flags, rc;

	if (size < 1)
		return 0;
	flags = data[0] & 1 ? ELM327_F_HEADERS : 0;
	cmd = cmds[(data[0] >> 1) & 7];
	rc = elm327_parse((const char *)data + 1, size - 1, cmd, flags,
	    &reply);
	CHECK(rc == 0 || reply.status == ELM327_GARBAGE);
	CHECK(elm327_status_str(reply.status) != NULL);
	if (reply.status == ELM327_GARBAGE)
		CHECK(reply.nmsg == 0);
	CHECK(reply.nmsg <= ELM327_MAX_MSGS);
	for (i = 0; i < reply.nmsg; i++) {
		m = &reply.msg[i];
		CHECK(m->len >= 1 && m->len <= ISOTP_MAX_LEN);
		CHECK(m->data >= reply.pool &&
		    m->data + m->len <= reply.pool + sizeof(reply.pool));
		if (m->has_id)
			CHECK(flags & ELM327_F_HEADERS);
		decode_all(m->data, m->len);
	}
	return 0;
}
