/* SPDX-License-Identifier: MIT */
/*
 * test_isotp.c - ISO 15765-2 reassembly, encoders, and every scenario of
 * socketcan-candump.txt.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "isotp.h"
#include "obd_testdata.h"

#define TMO	10
#define ID29(x)	((uint32_t)(x) | ISOTP_ID_EFF)

static struct isotp_rx	rx;

static void
setup(void)
{
	isotp_rx_reset(&rx, 0);
}

static enum isotp_result
feed(uint32_t id, const char *hex, struct isotp_msg *m)
{
	uint8_t	b[16];
	size_t	n = 0;
	unsigned v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		cr_assert(sscanf(hex, "%2x", &v) == 1);
		cr_assert(n < sizeof(b));
		b[n++] = (uint8_t)v;
		hex += 2;
	}
	return isotp_rx_feed(&rx, id, b, n, m);
}

TestSuite(isotp, .init = setup, .timeout = TMO);

Test(isotp, single_frame_with_padding)
{
	struct isotp_msg	m;

	cr_assert_eq(feed(0x7e8, "03 41 0D 32 00 00 00 00", &m), ISOTP_MESSAGE);
	cr_assert_eq(m.id, 0x7e8);
	cr_assert_eq(m.len, 3);
	cr_assert_arr_eq(m.data, ((uint8_t[]){ 0x41, 0x0d, 0x32 }), 3);
}

Test(isotp, single_frame_short_dlc)
{
	struct isotp_msg	m;

	cr_assert_eq(feed(0x7e8, "03 41 0D 3C", &m), ISOTP_MESSAGE);
	cr_assert_eq(m.len, 3);
	cr_assert_eq(feed(0x7e8, "03 41 0D", &m), ISOTP_ERR_LENGTH);
	cr_assert_eq(feed(0x7e8, "00 41 0D", &m), ISOTP_ERR_LENGTH);
}

Test(isotp, seven_byte_single_frame)
{
	struct isotp_msg	m;

	cr_assert_eq(feed(0x7e8, "07 01 02 03 04 05 06 07", &m),
	    ISOTP_MESSAGE);
	cr_assert_eq(m.len, 7);
	cr_assert_eq(m.data[6], 7);
	cr_assert_eq(feed(0x7e8, "08 01 02 03 04 05 06 07", &m),
	    ISOTP_ERR_LENGTH);
}

Test(isotp, eight_bytes_need_first_frame)
{
	struct isotp_msg	m;

	cr_assert_eq(feed(0x7e8, "10 08 01 02 03 04 05 06", &m),
	    ISOTP_FIRST_FRAME);
	cr_assert_eq(isotp_rx_pending(&rx), 1);
	cr_assert_eq(feed(0x7e8, "21 07 08 AA AA AA AA AA", &m),
	    ISOTP_MESSAGE);
	cr_assert_eq(m.len, 8);
	cr_assert_arr_eq(m.data, ((uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }), 8);
	cr_assert_eq(isotp_rx_pending(&rx), 0);
	/* A FF declaring what fits in a SF is malformed. */
	cr_assert_eq(feed(0x7e8, "10 07 01 02 03 04 05 06", &m),
	    ISOTP_ERR_LENGTH);
	cr_assert_eq(feed(0x7e8, "10 14 49 02 01 31", &m), ISOTP_ERR_SHORT);
}

Test(isotp, sequence_wraps_after_fifteen_cfs)
{
	struct isotp_msg	m;
	char			 f[32];
	int			 i;

	/* 6 + 17 * 7 = 125 bytes: CFs 21..2F, 20, 21. */
	cr_assert_eq(feed(0x7e8, "10 7D 00 01 02 03 04 05", &m),
	    ISOTP_FIRST_FRAME);
	for (i = 1; i <= 17; i++) {
		snprintf(f, sizeof(f), "2%X %02X %02X %02X %02X %02X %02X %02X",
		    i & 0xf, (6 + (i - 1) * 7) & 0xff, (7 + (i - 1) * 7) & 0xff,
		    (8 + (i - 1) * 7) & 0xff, (9 + (i - 1) * 7) & 0xff,
		    (10 + (i - 1) * 7) & 0xff, (11 + (i - 1) * 7) & 0xff,
		    (12 + (i - 1) * 7) & 0xff);
		cr_assert_eq(feed(0x7e8, f, &m),
		    i == 17 ? ISOTP_MESSAGE : ISOTP_NONE, "cf %d", i);
	}
	cr_assert_eq(m.len, 125);
	for (i = 0; i < 125; i++)
		cr_assert_eq(m.data[i], i);
}

Test(isotp, wrong_sequence_drops_message)
{
	struct isotp_msg	m;

	feed(0x7e8, "10 14 49 02 01 4C 53 59", &m);
	cr_assert_eq(feed(0x7e8, "21 4E 54 48 56 42 31 4E", &m), ISOTP_NONE);
	cr_assert_eq(feed(0x7e8, "23 41 30 30 30 30 30 31", &m),
	    ISOTP_ERR_SEQUENCE);
	cr_assert_eq(isotp_rx_pending(&rx), 0);
	cr_assert_eq(feed(0x7e8, "22 41 30 30 30 30 30 31", &m),
	    ISOTP_ERR_UNEXPECTED_CF);
}

Test(isotp, unexpected_cf_and_flow_control)
{
	struct isotp_msg	m;

	cr_assert_eq(feed(0x7e8, "21 53 59 4E 54 48 45 54", &m),
	    ISOTP_ERR_UNEXPECTED_CF);
	cr_assert_eq(feed(0x7e0, "30 00 00 00 00 00 00 00", &m),
	    ISOTP_FLOW_CONTROL);
	cr_assert_eq(feed(0x7e8, "40 00", &m), ISOTP_ERR_BAD_PCI);
}

Test(isotp, short_middle_cf_is_an_error)
{
	struct isotp_msg	m;

	feed(0x7e8, "10 14 49 02 01 4C 53 59", &m);
	cr_assert_eq(feed(0x7e8, "21 4E 54", &m), ISOTP_ERR_SHORT);
	cr_assert_eq(isotp_rx_pending(&rx), 0);
}

Test(isotp, max_length_and_over)
{
	struct isotp_msg	m;
	uint8_t			 f[8] = { 0x2f, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
				    0xaa, 0xaa };
	int			 i, n;

	cr_assert_eq(feed(0x7e8, "1F FF 01 02 03 04 05 06", &m),
	    ISOTP_FIRST_FRAME);
	n = (4095 - 6 + 6) / 7;
	for (i = 1; i <= n; i++) {
		f[0] = (uint8_t)(0x20 | (i & 0xf));
		cr_assert_eq(isotp_rx_feed(&rx, 0x7e8, f, 8, &m),
		    i == n ? ISOTP_MESSAGE : ISOTP_NONE);
	}
	cr_assert_eq(m.len, 4095);
	/* The escape (length 0 + 32-bit length) is always over the cap. */
	cr_assert_eq(feed(0x7e8, "10 00 00 00 10 00 01 02", &m),
	    ISOTP_ERR_TOO_LONG);
	isotp_rx_reset(&rx, 100);
	cr_assert_eq(feed(0x7e8, "10 65 01 02 03 04 05 06", &m),
	    ISOTP_ERR_TOO_LONG);
	cr_assert_eq(feed(0x7e8, "10 64 01 02 03 04 05 06", &m),
	    ISOTP_FIRST_FRAME);
}

Test(isotp, eight_senders_then_no_slot)
{
	struct isotp_msg	m;
	uint32_t		 id;

	for (id = 0x7e8; id <= 0x7ef; id++)
		cr_assert_eq(feed(id, "10 14 49 02 01 4C 53 59", &m),
		    ISOTP_FIRST_FRAME);
	cr_assert_eq(feed(ID29(0x18daf110), "10 14 49 02 01 4C 53 59", &m),
	    ISOTP_ERR_NO_SLOT);
	cr_assert_eq(isotp_rx_drop(&rx, 0x7ea), 0);
	cr_assert_eq(isotp_rx_drop(&rx, 0x7ea), -1);
	cr_assert_eq(feed(ID29(0x18daf110), "10 14 49 02 01 4C 53 59", &m),
	    ISOTP_FIRST_FRAME);
	/* 11-bit 0x10 and 29-bit 0x10 are different senders. */
	cr_assert_eq(feed(0x7e9, "21 4E 54 48 56 42 31 4E", &m), ISOTP_NONE);
}

Test(isotp, interleaved_senders)
{
	struct isotp_msg	m;

	feed(0x7e8, "10 0C 43 05 01 71 03 00", &m);
	cr_assert_eq(feed(0x7e9, "04 43 01 07 00 00 00 00", &m),
	    ISOTP_MESSAGE);
	cr_assert_eq(m.id, 0x7e9);
	cr_assert_eq(feed(0x7e8, "21 04 20 C1 00 01 04 00", &m),
	    ISOTP_MESSAGE);
	cr_assert_eq(m.id, 0x7e8);
	cr_assert_eq(m.len, 12);
}

Test(isotp, new_first_frame_restarts)
{
	struct isotp_msg	m;

	feed(0x7e8, "10 0A 01 02 03 04 05 06", &m);
	cr_assert_eq(feed(0x7e8, "10 09 11 12 13 14 15 16", &m),
	    ISOTP_FIRST_FRAME);
	cr_assert_eq(feed(0x7e8, "21 17 18 19", &m), ISOTP_MESSAGE);
	cr_assert_eq(m.len, 9);
	cr_assert_eq(m.data[0], 0x11);
}

Test(isotp, encoders)
{
	uint8_t		f[8];
	uint32_t	id;

	cr_assert_eq(isotp_encode_sf((const uint8_t *)"\x01\x0c", 2, 0x00, f),
	    0);
	cr_assert_arr_eq(f, ((uint8_t[]){ 0x02, 0x01, 0x0c, 0, 0, 0, 0, 0 }),
	    8);
	cr_assert_eq(isotp_encode_sf((const uint8_t *)"\x01\x0c", 2, 0x55, f),
	    0);
	cr_assert_arr_eq(f, ((uint8_t[]){ 0x02, 0x01, 0x0c, 0x55, 0x55, 0x55,
	    0x55, 0x55 }), 8);
	cr_assert_eq(isotp_encode_sf(f, 8, 0, f), -1);
	cr_assert_eq(isotp_encode_sf(f, 0, 0, f), -1);
	isotp_encode_fc(0x00, f);
	cr_assert_arr_eq(f, ((uint8_t[]){ 0x30, 0, 0, 0, 0, 0, 0, 0 }), 8);
	cr_assert_eq(isotp_fc_id(0x7e8, &id), 0);
	cr_assert_eq(id, 0x7e0);
	cr_assert_eq(isotp_fc_id(ID29(0x18daf110), &id), 0);
	cr_assert_eq(id, ID29(0x18da10f1));
	cr_assert_eq(isotp_fc_id(0x316, &id), -1);
	cr_assert(isotp_is_obd_response(0x7ef));
	cr_assert(!isotp_is_obd_response(0x7df));
	cr_assert(!isotp_is_obd_response(0x18daf110));	/* no EFF flag */
}

/* ---- socketcan-candump.txt ---- */

static void
parse_hex(const char *s, uint8_t *out, size_t *n, size_t max)
{
	unsigned	v;

	*n = 0;
	while (*s != '\0' && *s != '\n' && *s != ' ' && *s != '#') {
		cr_assert(sscanf(s, "%2x", &v) == 1, "bad hex '%s'", s);
		cr_assert(*n < max);
		out[(*n)++] = (uint8_t)v;
		s += 2;
	}
}

struct cd_msg {
	uint32_t	id;
	uint8_t		data[64];
	size_t		len;
};

struct cd_scn {
	char		name[64];
	struct cd_msg	msg[8];
	size_t		nmsg;
	uint32_t	fc_id[8];
	size_t		nfc;
	size_t		nerr;
	enum isotp_result err;
	size_t		pending;
	int		checked;
};

static uint32_t
cd_id(const char *s, size_t n)
{
	uint32_t	id = (uint32_t)strtoul(s, NULL, 16);

	return n == 8 ? ID29(id) : id;
}

static const struct cd_msg *
cd_find(const struct cd_scn *sc, uint32_t id, size_t skip)
{
	size_t	i;

	for (i = 0; i < sc->nmsg; i++)
		if (sc->msg[i].id == id && skip-- == 0)
			return &sc->msg[i];
	return NULL;
}

static void
cd_check(struct cd_scn *sc, const char *line)
{
	char		 key[32], ecu[16] = "", *at;
	const char	*val;
	uint32_t	 id = 0;
	const struct cd_msg *m;
	uint8_t		 want[64];
	size_t		 n, i;

	if (sscanf(line, "= %31s", key) != 1)
		return;
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
		sc->checked++;
	} else if (strcmp(key, "PAYLOAD") == 0) {
		n = 0;
		while (*val != '\0' && *val != '\n') {
			unsigned v;

			if (sscanf(val, "%2x", &v) != 1)
				break;
			want[n++] = (uint8_t)v;
			val += 2;
			while (*val == ' ')
				val++;
		}
		m = cd_find(sc, id, 0);
		cr_expect(m != NULL && m->len == n &&
		    memcmp(m->data, want, n) == 0, "%s: payload %s", sc->name,
		    ecu);
		sc->checked++;
	} else if (strcmp(key, "RESPONSES") == 0) {
		cr_expect_eq(sc->nmsg, strtoul(val, NULL, 10), "%s", sc->name);
		sc->checked++;
	} else if (strcmp(key, "ERROR") == 0) {
		if (strncmp(val, "ISOTP_SEQUENCE", 14) == 0) {
			cr_expect(sc->nerr > 0 && sc->err == ISOTP_ERR_SEQUENCE,
			    "%s", sc->name);
			cr_expect_eq(sc->nmsg, 0, "%s", sc->name);
		} else if (strncmp(val, "ISOTP_TIMEOUT", 13) == 0) {
			/* The caller's N_Cr timer drops it. */
			cr_expect_eq(sc->pending, 1, "%s", sc->name);
			cr_expect_eq(sc->nmsg, 0, "%s", sc->name);
		} else if (strncmp(val, "NO_RESPONSE", 11) == 0)
			cr_expect_eq(sc->nmsg, 0, "%s", sc->name);
		sc->checked++;
	} else if (strcmp(key, "IGNORED") == 0) {
		if (!isotp_is_obd_response(id))
			cr_expect_eq(cd_find(sc, id, 0), NULL, "%s", sc->name);
		else
			cr_expect(sc->nerr > 0 &&
			    sc->err == ISOTP_ERR_UNEXPECTED_CF, "%s", sc->name);
		sc->checked++;
	} else if (strcmp(key, "VIN") == 0) {
		m = cd_find(sc, id, 0);
		n = strcspn(val, " \n");
		/* Mode 09 PID 02: 49 02 <count> then 17 characters. */
		for (i = 0; m != NULL && m->data[0] == 0x7f; )
			m = cd_find(sc, id, ++i);
		cr_expect(m != NULL && m->len == 3 + n &&
		    memcmp(m->data + 3, val, n) == 0, "%s: vin", sc->name);
		sc->checked++;
	} else if (strcmp(key, "NEGATIVE_RESPONSE") == 0) {
		unsigned sid, nrc;

		cr_assert(sscanf(val, "SID %x NRC %x", &sid, &nrc) == 2);
		m = cd_find(sc, id, 0);
		cr_expect(m != NULL && m->len == 3 && m->data[0] == 0x7f &&
		    m->data[1] == sid && m->data[2] == nrc, "%s", sc->name);
		sc->checked++;
	} else if (id != 0) {
		/* Decoded values (RPM, DTC_STORED...): a message is there. */
		cr_expect_neq(cd_find(sc, id, 0), NULL, "%s: %s", sc->name,
		    key);
		sc->checked++;
	}
}

Test(isotp, candump_scenarios)
{
	struct cd_scn	 sc;
	struct isotp_msg m;
	enum isotp_result res;
	char		 line[512], ids[16], *hash, *p;
	uint8_t		 frame[16], fc[8];
	size_t		 dlc, nscn = 0, nchecked = 0, idlen;
	uint32_t	 id, fcid;
	FILE		*fp;

	if ((fp = obd_testdata_open("socketcan-candump.txt")) == NULL)
		cr_skip_test("socketcan-candump.txt not found (set "
		    "FLEETGW_OBD_TESTDATA to its directory)");
	memset(&sc, 0, sizeof(sc));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "@@ ", 3) == 0) {
			memset(&sc, 0, sizeof(sc));
			sscanf(line + 3, "%63s", sc.name);
			isotp_rx_reset(&rx, 0);
			nscn++;
		} else if (line[0] == '(') {
			p = strchr(line, ')');
			cr_assert_not_null(p);
			cr_assert(sscanf(p + 1, " %*s %15[0-9A-Fa-f]#", ids) ==
			    1, "%s", line);
			idlen = strlen(ids);
			id = cd_id(ids, idlen);
			hash = strchr(p, '#');
			if (strstr(hash + 1, "# tx") != NULL) {
				/* Our own FC: check it is what we encode. */
				parse_hex(hash + 1, frame, &dlc, sizeof(frame));
				if (frame[0] == 0x30) {
					isotp_encode_fc(0x00, fc);
					cr_expect_arr_eq(frame, fc, 8, "%s",
					    sc.name);
				}
				continue;
			}
			parse_hex(hash + 1, frame, &dlc, sizeof(frame));
			if (!isotp_is_obd_response(id))
				continue;	/* the CAN_RAW filter drops it */
			res = isotp_rx_feed(&rx, id, frame, dlc, &m);
			if (res == ISOTP_MESSAGE) {
				cr_assert(sc.nmsg < 8 && m.len <= 64);
				sc.msg[sc.nmsg].id = m.id;
				memcpy(sc.msg[sc.nmsg].data, m.data, m.len);
				sc.msg[sc.nmsg++].len = m.len;
			} else if (res == ISOTP_FIRST_FRAME) {
				cr_assert_eq(isotp_fc_id(id, &fcid), 0);
				sc.fc_id[sc.nfc++] = fcid;
			} else if (res != ISOTP_NONE) {
				sc.nerr++;
				sc.err = res;
			}
			sc.pending = isotp_rx_pending(&rx);
		} else if (line[0] == '=') {
			cd_check(&sc, line);
			nchecked += (size_t)sc.checked;
			sc.checked = 0;
		}
	}
	fclose(fp);
	cr_assert_eq(nscn, 12, "scenarios: %zu", nscn);
	cr_log_info("candump: %zu scenarios, %zu expectations checked", nscn,
	    nchecked);
	cr_assert_geq(nchecked, 20);
}
