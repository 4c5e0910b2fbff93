/* SPDX-License-Identifier: MIT */
/*
 * jtt808.c - JT/T 808-2019 frames for the wire benchmark (jtt808.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jtt808.h"

#define GMT8_MS		(8 * 3600 * INT64_C(1000))

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint8_t
bcd2(int v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

int
jtt808_bcd_time(int64_t t_utc_ms, uint8_t out[6])
{
	time_t		t;
	struct tm	tm;
	int64_t		ms = t_utc_ms + GMT8_MS;

	/* Floor division: the second the instant falls in. */
	t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 100 ||
	    tm.tm_year > 199)
		return -1;
	out[0] = bcd2(tm.tm_year - 100);
	out[1] = bcd2(tm.tm_mon + 1);
	out[2] = bcd2(tm.tm_mday);
	out[3] = bcd2(tm.tm_hour);
	out[4] = bcd2(tm.tm_min);
	out[5] = bcd2(tm.tm_sec);
	return 0;
}

size_t
jtt808_loc_body(const struct jtt808_loc *l, uint8_t *out)
{
	uint8_t	*p = out;

	p = put32(p, l->alarm);
	p = put32(p, l->status);
	p = put32(p, l->lat_1e6);
	p = put32(p, l->lon_1e6);
	p = put16(p, l->alt_m);
	p = put16(p, l->speed_01kmh);
	p = put16(p, l->dir_deg);
	memcpy(p, l->time_bcd, 6);
	p += 6;
	if (l->has_mileage) {
		*p++ = JTT808_ITEM_MILEAGE;
		*p++ = 4;
		p = put32(p, l->mileage_01km);
	}
	if (l->has_fuel) {
		*p++ = JTT808_ITEM_FUEL;
		*p++ = 2;
		p = put16(p, l->fuel_01l);
	}
	return (size_t)(p - out);
}

size_t
jtt808_escape(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == JTT808_FLAG) {
			out[o++] = JTT808_ESC;
			out[o++] = 0x02;
		} else if (in[i] == JTT808_ESC) {
			out[o++] = JTT808_ESC;
			out[o++] = 0x01;
		} else
			out[o++] = in[i];
	}
	return o;
}

size_t
jtt808_frame(const struct jtt808_hdr *h, const uint8_t *body,
    size_t body_len, uint8_t *out)
{
	uint8_t		 raw[JTT808_HDR_SUB_LEN + JTT808_BODY_MAX + 1];
	uint8_t		*p = raw;
	uint16_t	 props;
	char		 digits[21];
	size_t		 plen, i, n, o;
	uint8_t		 check = 0;

	plen = strlen(h->phone);
	if (body_len > JTT808_BODY_MAX || plen == 0 || plen > 20)
		return 0;
	for (i = 0; i < plen; i++)
		if (h->phone[i] < '0' || h->phone[i] > '9')
			return 0;
	memset(digits, '0', 20);
	memcpy(digits + 20 - plen, h->phone, plen);
	props = (uint16_t)(body_len | (h->encryption & 7u) << 10 |
	    (h->pkt_total != 0 ? 1u << 13 : 0) | 1u << 14);
	p = put16(p, h->msg_id);
	p = put16(p, props);
	*p++ = h->version;
	for (i = 0; i < 20; i += 2)
		*p++ = (uint8_t)((digits[i] - '0') << 4 | (digits[i + 1] - '0'));
	p = put16(p, h->serial);
	if (h->pkt_total != 0) {
		p = put16(p, h->pkt_total);
		p = put16(p, h->pkt_no);
	}
	if (body_len > 0)
		memcpy(p, body, body_len);
	p += body_len;
	n = (size_t)(p - raw);
	for (i = 0; i < n; i++)
		check ^= raw[i];
	raw[n++] = check;
	o = 0;
	out[o++] = JTT808_FLAG;
	o += jtt808_escape(raw, n, out + o);
	out[o++] = JTT808_FLAG;
	return o;
}

int
jtt808_unframe(const uint8_t *frame, size_t len, struct jtt808_hdr *h,
    uint8_t *body, size_t *body_len, char *err, size_t errlen)
{
	uint8_t		 raw[JTT808_HDR_SUB_LEN + JTT808_BODY_MAX + 1];
	size_t		 i, n = 0, hl, bl;
	uint16_t	 props;
	uint8_t		 check = 0;

	if (len < 2 + JTT808_HDR_LEN + 1 || frame[0] != JTT808_FLAG ||
	    frame[len - 1] != JTT808_FLAG) {
		snprintf(err, errlen, "no flags or too short (%zu bytes)", len);
		return -1;
	}
	for (i = 1; i < len - 1; i++) {
		if (n >= sizeof(raw)) {
			snprintf(err, errlen, "frame too long");
			return -1;
		}
		if (frame[i] == JTT808_FLAG) {
			snprintf(err, errlen, "flag 0x7e inside at %zu", i);
			return -1;
		}
		if (frame[i] == JTT808_ESC) {
			if (i + 1 >= len - 1 || (frame[i + 1] != 0x01 &&
			    frame[i + 1] != 0x02)) {
				snprintf(err, errlen, "bad escape at %zu", i);
				return -1;
			}
			raw[n++] = frame[i + 1] == 0x02 ? JTT808_FLAG :
			    JTT808_ESC;
			i++;
		} else
			raw[n++] = frame[i];
	}
	for (i = 0; i + 1 < n; i++)
		check ^= raw[i];
	if (check != raw[n - 1]) {
		snprintf(err, errlen, "check code 0x%02x, computed 0x%02x",
		    raw[n - 1], check);
		return -1;
	}
	memset(h, 0, sizeof(*h));
	h->msg_id = get16(raw);
	props = get16(raw + 2);
	if (!(props & 1u << 14)) {
		snprintf(err, errlen, "version flag (bit 14) not set");
		return -1;
	}
	h->encryption = (uint8_t)(props >> 10 & 7u);
	h->version = raw[4];
	for (i = 0; i < 10; i++) {
		h->phone[2 * i] = (char)('0' + (raw[5 + i] >> 4));
		h->phone[2 * i + 1] = (char)('0' + (raw[5 + i] & 15));
	}
	h->phone[20] = '\0';
	h->serial = get16(raw + 15);
	hl = JTT808_HDR_LEN;
	if (props & 1u << 13) {
		hl = JTT808_HDR_SUB_LEN;
		if (n < hl + 1) {
			snprintf(err, errlen, "short subpackage header");
			return -1;
		}
		h->pkt_total = get16(raw + 17);
		h->pkt_no = get16(raw + 19);
	}
	bl = props & 0x3ffu;
	if (hl + bl + 1 != n) {
		snprintf(err, errlen, "body length field %zu, frame holds %zu",
		    bl, n > hl + 1 ? n - hl - 1 : 0);
		return -1;
	}
	memcpy(body, raw + hl, bl);
	*body_len = bl;
	return 0;
}

int
jtt808_loc_parse(const uint8_t *b, size_t len, struct jtt808_loc *l)
{
	size_t	i;

	memset(l, 0, sizeof(*l));
	if (len < JTT808_LOC_BASIC_LEN)
		return -1;
	l->alarm = get32(b);
	l->status = get32(b + 4);
	l->lat_1e6 = get32(b + 8);
	l->lon_1e6 = get32(b + 12);
	l->alt_m = get16(b + 16);
	l->speed_01kmh = get16(b + 18);
	l->dir_deg = get16(b + 20);
	memcpy(l->time_bcd, b + 22, 6);
	for (i = JTT808_LOC_BASIC_LEN; i < len; ) {
		if (i + 2 > len || i + 2 + b[i + 1] > len)
			return -1;
		if (b[i] == JTT808_ITEM_MILEAGE && b[i + 1] == 4) {
			l->has_mileage = true;
			l->mileage_01km = get32(b + i + 2);
		} else if (b[i] == JTT808_ITEM_FUEL && b[i + 1] == 2) {
			l->has_fuel = true;
			l->fuel_01l = get16(b + i + 2);
		}
		i += 2 + (size_t)b[i + 1];
	}
	return 0;
}
