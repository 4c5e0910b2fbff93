/* SPDX-License-Identifier: MIT */
/*
 * test_elm327_parse.c - ELM327 replies: status lines, echo, headers on
 * and off, 11/29-bit, multi-frame, multi-ECU, garbage, and every exchange
 * of elm327-transcripts.txt.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "elm327_parse.h"
#include "isotp.h"
#include "obd_testdata.h"

#define TMO	10
#define H	ELM327_F_HEADERS
#define ID29(x)	((uint32_t)(x) | ISOTP_ID_EFF)

static struct elm327_reply	r;

static int
parse(const char *s, const char *cmd, int flags)
{
	return elm327_parse(s, strlen(s), cmd, flags, &r);
}

static void
assert_msg(const struct elm327_msg *m, const uint8_t *want, size_t n)
{
	cr_assert_not_null(m);
	cr_assert_eq(m->len, n, "len %zu, want %zu", m->len, n);
	cr_assert_arr_eq(m->data, want, n);
}

TestSuite(elm327, .timeout = TMO);

Test(elm327, status_lines)
{
	static const struct {
		const char		*text;
		enum elm327_status	 st;
	} t[] = {
		{ "OK\r\r", ELM327_OK },
		{ "NO DATA\r\r", ELM327_NO_DATA },
		{ "CAN ERROR\r\r", ELM327_CAN_ERROR },
		{ "BUS INIT: ...ERROR\r\r", ELM327_BUS_INIT_ERROR },
		{ "STOPPED\r\r", ELM327_STOPPED },
		{ "?\r\r", ELM327_UNKNOWN_COMMAND },
		{ "\r?WRONG HEXCHAR COUNT\r", ELM327_UNKNOWN_COMMAND },
		{ "ERROR\r\r", ELM327_ERROR },
		{ "UNABLE TO CONNECT\r\r", ELM327_UNABLE_TO_CONNECT },
		{ "BUFFER FULL\r\r", ELM327_BUFFER_FULL },
		{ "7E8 03 41 0D 32 <DATA ERROR\r\r", ELM327_DATA_ERROR },
		{ "DATA ERROR\r\r", ELM327_DATA_ERROR },
		{ "7E8 03 41 0D <RX ERROR\r\r", ELM327_RX_ERROR },
		{ "BUS BUSY\r\r", ELM327_BUS_BUSY },
		{ "BUS ERROR\r\r", ELM327_BUS_ERROR },
		{ "FB ERROR\r\r", ELM327_FB_ERROR },
		{ "ACT ALERT\r\r", ELM327_ACT_ALERT },
		{ "LV RESET\r\r", ELM327_LV_RESET },
		{ "LP ALERT\r\r", ELM327_LP_ALERT },
		{ "ERR94\r\r", ELM327_ERROR },
		{ "\r\r", ELM327_EMPTY },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		parse(t[i].text, "0100", H);
		cr_expect_eq(r.status, t[i].st, "'%s': %s", t[i].text,
		    elm327_status_str(r.status));
		cr_expect_eq(r.nmsg, 0, "'%s'", t[i].text);
	}
}

Test(elm327, searching_then_data_or_error)
{
	cr_assert_eq(parse("SEARCHING...\r7E8 06 41 00 38 3B 80 13 \r\r",
	    "0100", H), 0);
	cr_assert_eq(r.status, ELM327_DATA);
	cr_assert(r.searching);
	assert_msg(elm327_find(&r, 0x7e8),
	    (uint8_t[]){ 0x41, 0x00, 0x38, 0x3b, 0x80, 0x13 }, 6);
	parse("SEARCHING...\rSTOPPED\r", "0100", H);
	cr_assert_eq(r.status, ELM327_STOPPED);
	cr_assert(r.searching);
	parse("SEARCHING...\rUNABLE TO CONNECT\r\r", "0100", H);
	cr_assert_eq(r.status, ELM327_UNABLE_TO_CONNECT);
	parse("BUS INIT: ...OK\r41 00 BE 1F B8 11\r", "0100", 0);
	cr_assert_eq(r.status, ELM327_DATA);
	cr_assert(r.bus_init_ok);
}

Test(elm327, echo_and_line_endings)
{
	parse("010D\r41 0D 04 \r\n41 0D 04 \r\n\r\n", "010D", 0);
	cr_assert(r.echo);
	cr_assert_eq(r.status, ELM327_DATA);
	cr_assert_eq(r.nmsg, 2);
	cr_assert(!r.msg[0].has_id);
	assert_msg(&r.msg[1], (uint8_t[]){ 0x41, 0x0d, 0x04 }, 3);
	/* Echo comparison ignores spaces and case, like the ELM. */
	parse("at rv\r12.6V\r\r", "AT RV", 0);
	cr_assert(r.echo);
	cr_assert_eq(r.status, ELM327_TEXT);
	cr_assert_str_eq(r.text, "12.6V");
	parse("ATE0\rOK\r\r", "ATE0", 0);
	cr_assert(r.echo);
	cr_assert_eq(r.status, ELM327_OK);
}

Test(elm327, nul_and_stray_bytes)
{
	static const char	s[] = "\xfc\r\0\rELM327 v1.5\0\r\r";
	int			ma, mi;

	cr_assert_eq(elm327_parse(s, sizeof(s) - 1, "ATZ", 0, &r), 0);
	cr_assert_eq(r.status, ELM327_TEXT);
	cr_assert_str_eq(r.text, "ELM327 v1.5");
	cr_assert_eq(elm327_parse_version(r.text, &ma, &mi), 0);
	cr_assert_eq(ma, 1);
	cr_assert_eq(mi, 5);
	parse("\x7f\x7f\r?\r\r", "\x7f\x7f", 0);
	cr_assert_eq(r.status, ELM327_UNKNOWN_COMMAND);
}

Test(elm327, headers_spaces_and_no_spaces_11bit)
{
	parse("7E8 03 41 0D 32 \r\r", "010D", H);
	assert_msg(elm327_find(&r, 0x7e8), (uint8_t[]){ 0x41, 0x0d, 0x32 }, 3);
	parse("7E803410D32\r\r", "010D", H);
	assert_msg(elm327_find(&r, 0x7e8), (uint8_t[]){ 0x41, 0x0d, 0x32 }, 3);
	/* Padding after the SF length is dropped. */
	parse("7E8 03 41 0D 32 AA AA AA AA\r\r", "010D", H);
	assert_msg(elm327_find(&r, 0x7e8), (uint8_t[]){ 0x41, 0x0d, 0x32 }, 3);
}

Test(elm327, headers_29bit)
{
	parse("18 DA F1 10 03 41 0D 3C\r\r", "010D", H);
	assert_msg(elm327_find(&r, ID29(0x18daf110)),
	    (uint8_t[]){ 0x41, 0x0d, 0x3c }, 3);
	parse("18DAF11003410D3C\r\r", "010D", H);
	assert_msg(elm327_find(&r, ID29(0x18daf110)),
	    (uint8_t[]){ 0x41, 0x0d, 0x3c }, 3);
	parse("18DAF110 03 41 0D 3C\r\r", "010D", H);
	assert_msg(elm327_find(&r, ID29(0x18daf110)),
	    (uint8_t[]){ 0x41, 0x0d, 0x3c }, 3);
	cr_assert_null(elm327_find(&r, 0x18daf110));
}

static const uint8_t vin_payload[] = { 0x49, 0x02, 0x01, 0x31, 0x46, 0x54,
	0x53, 0x59, 0x4e, 0x54, 0x48, 0x45, 0x54, 0x31, 0x43, 0x30, 0x30, 0x30,
	0x30, 0x30 };

Test(elm327, vin_headers_on)
{
	parse("7E8 10 14 49 02 01 31 46 54 \r7E8 21 53 59 4E 54 48 45 54 \r"
	    "7E8 22 31 43 30 30 30 30 30 \r\r", "0902", H);
	cr_assert_eq(r.status, ELM327_DATA);
	cr_assert_eq(r.nmsg, 1);
	assert_msg(elm327_find(&r, 0x7e8), vin_payload, sizeof(vin_payload));
	parse("18DAF1101014490201314654\r18DAF1102153594E54484554\r"
	    "18DAF1102231433030303030\r\r", "0902", H);
	assert_msg(elm327_find(&r, ID29(0x18daf110)), vin_payload,
	    sizeof(vin_payload));
}

Test(elm327, vin_headers_off)
{
	parse("014\r0: 49 02 01 31 46 54 \r1: 53 59 4E 54 48 45 54 \r"
	    "2: 31 43 30 30 30 30 30 \r\r", "0902", 0);
	cr_assert_eq(r.nmsg, 1);
	assert_msg(&r.msg[0], vin_payload, sizeof(vin_payload));
	parse("014\r0:490201314654\r1:53594E54484554\r2:31433030303030\r\r",
	    "0902", 0);
	assert_msg(&r.msg[0], vin_payload, sizeof(vin_payload));
	/* Segment 1 missing: nothing. */
	parse("014\r0: 49 02 01 31 46 54 \r2: 31 43 30 30 30 30 30 \r\r",
	    "0902", 0);
	cr_assert_eq(r.nmsg, 0);
	cr_assert_gt(r.nerr, 0);
	/* Cut short. */
	parse("014\r0: 49 02 01 31 46 54 \r1: 53 59 4E 54 48 45 54 \r\r",
	    "0902", 0);
	cr_assert_eq(r.nmsg, 0);
	cr_assert_eq(r.incomplete, 1);
}

Test(elm327, multi_ecu)
{
	parse("7E8 10 0C 43 05 01 71 03 00\r7E9 04 43 01 07 00 00 00 00\r"
	    "7E8 21 04 20 C1 00 01 04 00\r\r", "03", H);
	cr_assert_eq(r.nmsg, 2);
	assert_msg(elm327_find(&r, 0x7e9), (uint8_t[]){ 0x43, 0x01, 0x07, 0 },
	    4);
	assert_msg(elm327_find(&r, 0x7e8), (uint8_t[]){ 0x43, 0x05, 0x01,
	    0x71, 0x03, 0x00, 0x04, 0x20, 0xc1, 0x00, 0x01, 0x04 }, 12);
	parse("7E804410C0A50\r7EA04410C0A50\r\r", "010C", H);
	cr_assert_eq(r.nmsg, 2);
	cr_assert_not_null(elm327_find(&r, 0x7ea));
}

Test(elm327, wrong_cf_sequence)
{
	parse("7E8 10 14 49 02 01 31 46 54\r7E8 21 53 59 4E 54 48 45 54\r"
	    "7E8 23 31 43 30 30 30 30 30\r\r", "0902", H);
	cr_assert_eq(r.status, ELM327_DATA);
	cr_assert_eq(r.nmsg, 0);
	cr_assert_eq(r.last_err, ISOTP_ERR_SEQUENCE);
}

Test(elm327, truncated_lines)
{
	/* Line cut inside a byte, inside the header, FF without CFs. */
	parse("7E8 03 41 0\r\r", "010D", H);
	cr_assert_eq(r.nmsg, 0);
	parse("FFF 03 41 0D 32\r\r", "010D", H);	/* not an 11-bit id */
	cr_assert_eq(r.nmsg, 0);
	parse("7E\r\r", "010D", H);
	cr_assert_eq(r.nmsg, 0);
	parse("7E8 03 41\r\r", "010D", H);
	cr_assert_eq(r.nmsg, 0);
	cr_assert_eq(r.last_err, ISOTP_ERR_LENGTH);
	parse("7E8 10 14 49 02 01 31 46 54\r\r", "0902", H);
	cr_assert_eq(r.nmsg, 0);
	cr_assert_eq(r.incomplete, 1);
	parse("7E8 10 14 49 02 01\r\r", "0902", H);
	cr_assert_eq(r.last_err, ISOTP_ERR_SHORT);
	parse("41 0D 0\r\r", "010D", 0);
	cr_assert_eq(r.nmsg, 0);
}

Test(elm327, oversize_and_long_lines)
{
	static char	big[ELM327_MAX_REPLY + 2];
	char		line[300];

	memset(big, 'A', sizeof(big) - 1);
	cr_assert_eq(elm327_parse(big, sizeof(big) - 1, "0100", H, &r), -1);
	cr_assert_eq(r.status, ELM327_GARBAGE);
	memset(line, '4', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	cr_assert_eq(parse(line, "0100", 0), -1);
	cr_assert_eq(r.status, ELM327_GARBAGE);
	cr_assert_eq(elm327_parse(NULL, 0, NULL, 0, &r), -1);
}

Test(elm327, random_bytes_never_crash)
{
	static char	buf[4096];
	unsigned	seed = 20260302;
	int		round, garbage = 0;
	size_t		i, n;

	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (char)(rand_r(&seed) & 0xff);
		n = (size_t)rand_r(&seed) % (sizeof(buf) + 1);
		if (elm327_parse(buf, n, "0100", round & 1 ? H : 0, &r) != 0) {
			garbage++;
			cr_assert_eq(r.status, ELM327_GARBAGE);
			cr_assert_eq(r.nmsg, 0);
		}
		cr_assert_leq(r.nmsg, ELM327_MAX_MSGS);
		cr_assert_leq(r.pool_used, ELM327_POOL);
	}
	cr_assert_gt(garbage, 150);
	/* Random hex-ish text: frames of every shape. */
	for (round = 0; round < 200; round++) {
		static const char	alpha[] = "0123456789ABCDEF :\r\n?";

		n = (size_t)rand_r(&seed) % sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		elm327_parse(buf, n, "0902", round & 1 ? H : 0, &r);
		cr_assert_leq(r.nmsg, ELM327_MAX_MSGS);
	}
}

Test(elm327, at_replies)
{
	int	p, a, mv, ma, mi;

	cr_assert_eq(parse("A6\r\r", "ATDPN", 0), 0);
	cr_assert_eq(r.status, ELM327_TEXT);
	cr_assert_eq(elm327_parse_dpn(r.text, &p, &a), 0);
	cr_assert_eq(p, 6);
	cr_assert_eq(a, 1);
	cr_assert_eq(elm327_parse_dpn("7", &p, &a), 0);
	cr_assert_eq(p, 7);
	cr_assert_eq(a, 0);
	cr_assert_eq(elm327_parse_dpn("A0", &p, &a), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(elm327_parse_dpn("AA", &p, &a), 0);
	cr_assert_eq(p, 10);
	cr_assert_eq(elm327_parse_dpn("A", &p, &a), 0);	/* protocol A */
	cr_assert_eq(p, 10);
	cr_assert_eq(elm327_parse_dpn("X6", &p, &a), -1);
	cr_assert_eq(elm327_parse_dpn("", &p, &a), -1);
	cr_assert_eq(elm327_parse_dpn("A66", &p, &a), -1);
	cr_assert_eq(elm327_parse_voltage("12.6V", &mv), 0);
	cr_assert_eq(mv, 12600);
	cr_assert_eq(elm327_parse_voltage("9V", &mv), 0);
	cr_assert_eq(mv, 9000);
	cr_assert_eq(elm327_parse_voltage("14.25V", &mv), 0);
	cr_assert_eq(mv, 14250);
	cr_assert_eq(elm327_parse_voltage("12.6", &mv), 0);
	cr_assert_eq(elm327_parse_voltage("12ABCD", &mv), -1);
	cr_assert_eq(elm327_parse_voltage("12.6VV", &mv), -1);
	cr_assert_eq(elm327_parse_voltage("V", &mv), -1);
	cr_assert_eq(elm327_parse_voltage("12345V", &mv), -1);
	cr_assert_eq(elm327_parse_version("ELM327 v2.1", &ma, &mi), 0);
	cr_assert_eq(ma * 10 + mi, 21);
	cr_assert_eq(elm327_parse_version("OBDII v1.5", &ma, &mi), -1);
	cr_assert_eq(elm327_parse_version("ELM327 v", &ma, &mi), -1);
}

/* ---- elm327-transcripts.txt ---- */

/* \xHH, \\, and (C string mode) \r \n \"; returns the length. */
static size_t
unescape(const char *s, size_t n, char *out, size_t outsz)
{
	size_t		i, o = 0;
	unsigned	v;

	for (i = 0; i < n && o + 1 < outsz; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			out[o++] = s[i];
			continue;
		}
		i++;
		switch (s[i]) {
		case 'r':	out[o++] = '\r'; break;
		case 'n':	out[o++] = '\n'; break;
		case 'x':
			cr_assert(sscanf(s + i + 1, "%2x", &v) == 1);
			out[o++] = (char)v;
			i += 2;
			break;
		default:	out[o++] = s[i]; break;
		}
	}
	out[o] = '\0';
	return o;
}

struct xchg {
	char	block[64];
	int	headers;
	int	legacy;
	char	req[128];
	char	resp[8192];
	size_t	resp_len;
	char	raw[8192];
	size_t	raw_len;
	int	has_raw;
	char	exp[48][512];
	size_t	nexp;
};

struct tally {
	size_t	exchanges;
	size_t	checked;
	size_t	skipped;
	size_t	failed;
};

static uint32_t
ecu_id(const char *s)
{
	uint32_t	id = (uint32_t)strtoul(s, NULL, 16);

	return strlen(s) == 8 ? ID29(id) : id;
}

static size_t
hex_bytes(const char *s, uint8_t *out, size_t max)
{
	size_t		n = 0;
	unsigned	v;

	while (n < max) {
		while (*s == ' ')
			s++;
		if (sscanf(s, "%2x", &v) != 1 || s[1] == '\0' || s[2] > ' ')
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static const struct elm327_msg *
find_any(uint32_t id, int has_id, size_t skip)
{
	size_t	i;

	for (i = 0; i < r.nmsg; i++)
		if ((!has_id || (r.msg[i].has_id && r.msg[i].id == id)) &&
		    skip-- == 0)
			return &r.msg[i];
	return NULL;
}

static int
has_payload(uint32_t id, int has_id, const uint8_t *p, size_t n, int tail)
{
	const struct elm327_msg	*m;
	size_t			 i;

	for (i = 0; (m = find_any(id, has_id, i)) != NULL; i++) {
		if (!tail && m->len == n && memcmp(m->data, p, n) == 0)
			return 1;
		if (tail && m->len >= n &&
		    memcmp(m->data + m->len - n, p, n) == 0)
			return 1;
	}
	return 0;
}

static const struct {
	const char		*key;
	enum elm327_status	 st;
} error_keys[] = {
	{ "NO_DATA",		ELM327_NO_DATA },
	{ "UNABLE_TO_CONNECT",	ELM327_UNABLE_TO_CONNECT },
	{ "BUS_INIT",		ELM327_BUS_INIT_ERROR },
	{ "CAN_ERROR",		ELM327_CAN_ERROR },
	{ "BUFFER_FULL",	ELM327_BUFFER_FULL },
	{ "STOPPED",		ELM327_STOPPED },
	{ "UNKNOWN_COMMAND",	ELM327_UNKNOWN_COMMAND },
	{ "ERROR",		ELM327_ERROR },
};

/* 1 checked and passed, 0 failed, -1 not checked here. */
static int
check_one(const struct xchg *x, const char *e)
{
	char		 key[64], ecu[16] = "", word[64] = "", *at;
	const char	*val;
	uint8_t		 want[512];
	uint32_t	 id = 0;
	int		 has_id = 0, p, a, mv;
	size_t		 n, i;
	unsigned	 d, g, sid, nrc;

	if (sscanf(e, "= %63s", key) != 1)
		return -1;
	val = e + 2 + strlen(key);
	while (*val == ' ')
		val++;
	sscanf(val, "%63s", word);
	if ((at = strchr(key, '@')) != NULL) {
		*at = '\0';
		snprintf(ecu, sizeof(ecu), "%s", at + 1);
		id = ecu_id(ecu);
		has_id = 1;
	}
	if (x->legacy && strcmp(key, "ERROR") != 0 && strcmp(key, "OK") != 0 &&
	    strcmp(key, "ECHO") != 0 && strcmp(key, "STATUS") != 0)
		return -1;	/* legacy framing is not decoded */
	if (strcmp(key, "ECHO") == 0) {
		if (strcmp(word, "(DEL") == 0)
			return -1;	/* non-printable echo is dropped */
		return r.echo;
	}
	if (strcmp(key, "OK") == 0)
		return r.ok && r.status == ELM327_OK;
	if (strcmp(key, "ERROR") == 0) {
		for (i = 0; i < sizeof(error_keys) / sizeof(error_keys[0]); i++)
			if (strcmp(word, error_keys[i].key) == 0)
				return r.status == error_keys[i].st;
		return -1;
	}
	if (strcmp(key, "STATUS") == 0) {
		if (strcmp(word, "SEARCHING") == 0)
			return r.searching;
		if (strcmp(word, "BUS_INIT_OK") == 0)
			return r.bus_init_ok;
		return -1;
	}
	if (strcmp(key, "ADAPTER_ID") == 0 || strcmp(key, "PROTOCOL_NAME") == 0)
		return strcmp(r.text, val) == 0;
	if (strcmp(key, "VOLTAGE") == 0 && strcmp(word, "invalid") == 0)
		return elm327_parse_voltage(r.text, &mv) == -1;
	if (strcmp(key, "VOLTAGE") == 0)
		return elm327_parse_voltage(r.text, &mv) == 0 &&
		    mv == (int)(strtod(val, NULL) * 1000 + 0.5);
	if (strcmp(key, "PROTOCOL_NUMBER") == 0)
		return elm327_parse_dpn(r.text, &p, &a) == 0 &&
		    p == (int)strtol(word, NULL, 16) &&
		    a == (strstr(val, "(auto)") != NULL);
	if (strcmp(key, "PAYLOAD") == 0) {
		n = hex_bytes(val, want, sizeof(want));
		return has_payload(id, has_id, want, n, 0);
	}
	if (strcmp(key, "VIN") == 0)
		return has_payload(id, has_id, (const uint8_t *)word,
		    strlen(word), 1);
	if (strcmp(key, "RESPONSES") == 0)
		return r.nmsg == strtoul(word, NULL, 10);
	if (strcmp(key, "MESSAGES") == 0)
		return r.nmsg == strtoul(word, NULL, 10);
	if (strcmp(key, "ISOTP") == 0) {
		if (sscanf(val, "declared=%u received=%u", &d, &g) != 2)
			return -1;
		if (g >= d)
			return find_any(id, has_id, 0) != NULL &&
			    find_any(id, has_id, 0)->len == d;
		return find_any(id, has_id, 0) == NULL && r.incomplete > 0;
	}
	if (strcmp(key, "NEGATIVE_RESPONSE") == 0) {
		if (sscanf(val, "SID %x NRC %x", &sid, &nrc) != 2)
			return -1;
		want[0] = 0x7f;
		want[1] = (uint8_t)sid;
		want[2] = (uint8_t)nrc;
		return has_payload(id, has_id, want, 3, 0);
	}
	return -1;
}

static void
run_xchg(const struct xchg *x, struct tally *t)
{
	char	req[128];
	size_t	i;
	int	ok;

	unescape(x->req, strlen(x->req), req, sizeof(req));
	if (x->has_raw)
		elm327_parse(x->raw, x->raw_len, req,
		    x->headers ? H : 0, &r);
	else
		elm327_parse(x->resp, x->resp_len, req,
		    x->headers ? H : 0, &r);
	t->exchanges++;
	for (i = 0; i < x->nexp; i++) {
		if ((ok = check_one(x, x->exp[i])) < 0) {
			t->skipped++;
			continue;
		}
		t->checked++;
		if (!ok) {
			t->failed++;
			cr_log_error("%s > %s: %s (status %s, %zu msgs, "
			    "text '%s')", x->block, x->req, x->exp[i],
			    elm327_status_str(r.status), r.nmsg, r.text);
		}
	}
}

static void
strip_nl(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

Test(elm327, transcripts)
{
	static struct xchg	 x;
	static char		 line[8192];
	struct tally		 t = { 0 };
	int			 in_x = 0, headers = 0, legacy = 0;
	char			 block[64] = "", *q;
	char			 nreq[128];
	size_t			 i, o;
	FILE			*fp;

	if ((fp = obd_testdata_open("elm327-transcripts.txt")) == NULL)
		cr_skip_test("elm327-transcripts.txt not found (set "
		    "FLEETGW_OBD_TESTDATA to its directory)");
	for (;;) {
		int	eof = fgets(line, sizeof(line), fp) == NULL;

		if (!eof)
			strip_nl(line);
		if (eof || line[0] == '\0' || strncmp(line, "@@ ", 3) == 0 ||
		    (in_x && strncmp(line, "> ", 2) == 0)) {
			if (in_x) {
				run_xchg(&x, &t);
				/* Track ATH0/ATH1 and resets. */
				for (i = o = 0; x.req[i] != '\0' &&
				    o + 1 < sizeof(nreq); i++)
					if (x.req[i] != ' ')
						nreq[o++] = x.req[i];
				nreq[o] = '\0';
				if (strcmp(nreq, "ATH1") == 0)
					headers = 1;
				else if (strcmp(nreq, "ATH0") == 0 ||
				    strcmp(nreq, "ATZ") == 0 ||
				    strcmp(nreq, "ATD") == 0 ||
				    strcmp(nreq, "ATWS") == 0)
					headers = 0;
				in_x = 0;
			}
			if (eof)
				break;
		}
		if (strncmp(line, "@@ ", 3) == 0) {
			sscanf(line + 3, "%63s", block);
			headers = strstr(line, " h=1") != NULL;
			legacy = strstr(line, " legacy=1") != NULL ||
			    strstr(line, " proto=1") != NULL ||
			    strstr(line, " proto=2") != NULL ||
			    strstr(line, " proto=3") != NULL ||
			    strstr(line, " proto=4") != NULL ||
			    strstr(line, " proto=5") != NULL;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "> ", 2) == 0) {
			memset(&x, 0, sizeof(x));
			snprintf(x.block, sizeof(x.block), "%s", block);
			snprintf(x.req, sizeof(x.req), "%.127s", line + 2);
			x.headers = headers;
			x.legacy = legacy;
			in_x = 1;
			continue;
		}
		if (!in_x)
			continue;
		if (strncmp(line, "~ \"", 3) == 0) {
			q = strrchr(line, '"');
			cr_assert(q != NULL && q > line + 2);
			x.raw_len = unescape(line + 3, (size_t)(q - line - 3),
			    x.raw, sizeof(x.raw));
			/* Everything up to the prompt. */
			if ((q = memchr(x.raw, '>', x.raw_len)) != NULL)
				x.raw_len = (size_t)(q - x.raw);
			x.has_raw = 1;
		} else if (strncmp(line, "= ", 2) == 0) {
			cr_assert(x.nexp < 48);
			snprintf(x.exp[x.nexp++], sizeof(x.exp[0]), "%s", line);
		} else {
			o = x.resp_len;
			o += unescape(line, strlen(line), x.resp + o,
			    sizeof(x.resp) - o - 1);
			x.resp[o++] = '\r';
			x.resp_len = o;
		}
	}
	fclose(fp);
	cr_log_info("transcripts: %zu exchanges, %zu expectations checked, "
	    "%zu skipped (decoder-level or legacy), %zu failed", t.exchanges,
	    t.checked, t.skipped, t.failed);
	cr_assert_eq(t.exchanges, 258, "exchanges: %zu", t.exchanges);
	cr_assert_eq(t.failed, 0, "%zu transcript expectations failed",
	    t.failed);
}
