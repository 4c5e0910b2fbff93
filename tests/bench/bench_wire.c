/* SPDX-License-Identifier: MIT */
/*
 * bench_wire.c - bytes on the wire per position: the platform upload
 * (docs/platform-api.md, gzip JSON) against JT/T 808-2019 0x0704 batches
 * of the same fixes.  Prints "BENCH name value unit" lines; reports,
 * never asserts (the goal is json_gzip / jtt808 <= 0.5).  The exit
 * status is non-zero only when the JT/T 808 encoder fails its self-test
 * or its own frames do not decode back to what was encoded.
 *
 * Fixes: daygen.h, a working day in Chengdu (default 8 h at 1 Hz, 28,800
 * fixes; drives with lights and turns, idling, parking with the engine
 * off), GNSS values quantised as NMEA and gpsd leave them, OBD rpm,
 * speed, battery every second and coolant, fuel level, odometer, MIL
 * every 10 s, filled into struct store_position as store_stream_read()
 * returns them.
 *
 * JSON: what daemon/sync.c sends for the positions stream: batches of at
 * most batch_records records (default 500) and batch_bytes bytes of
 * records (default 262144, counted as sync.c counts them: each
 * wirerec_record() dumped alone, plus one), each request body
 * {"device_id","stream":"positions","records":[...]} dumped with
 * WIREREC_DUMP_FLAGS and gzip-compressed with zlib exactly as sync.c
 * does (deflateInit2, Z_DEFAULT_COMPRESSION, windowBits 15 + 16, memLevel
 * 8).  json_gzip_bytes_per_position counts the gzip bodies only.
 * json_http_bytes_per_position adds an estimate of the HTTP/1.1 request
 * head libcurl sends with them (request line, Host, User-Agent, Accept,
 * Accept-Encoding, the X-Fleetgw-* headers with an 88-character
 * signature, Content-Type, Content-Encoding, Content-Length; "Expect:" is
 * suppressed by sync.c).  HTTP/2 (HPACK) would send less.
 *
 * JT/T 808-2019 (jtt808.h): one 0x0704 message (position data type 1,
 * 盲区补报) holds as many items as fit its 10-bit body length (1023
 * bytes), each item a 0x0200 body: the 28-byte basic block and the
 * additional items 0x01 mileage and 0x02 fuel: 40 bytes with its length
 * WORD, so 25 items a message.  A batch of batch_records fixes goes as
 * that many independent messages (the last one shorter); each message
 * stands alone (no subpackaging: a lost message loses only its own items
 * and needs no reassembly).  jtt808_bytes_per_position counts every byte
 * of the frames: flags, header (17 bytes), body, check code and the
 * escape bytes.  jtt808_subpkg_bytes_per_position is the alternative:
 * one 0x0704 per batch, split into packets of at most 1023 body bytes
 * with the packet total/number fields (4 more header bytes a packet).
 * The basic block is filled from the same fix: ACC from the engine,
 * positioned, N/E, constellations used (status bits 18-21); latitude and
 * longitude 1e-6 degree, altitude 1 m, speed 0.1 km/h, direction 1
 * degree (0 when unknown), BCD time in GMT+8; mileage from the last OBD
 * odometer (0.1 km), fuel from the last OBD fuel level times a 55 L tank
 * (0.1 L), both carried through engine-off periods as a terminal does.
 * JT/T 808 carries less than a platform record: no HDOP, no satellite
 * counts, no rpm, coolant or battery, and coarser units.  So that the
 * encodings can be compared on the same content too,
 * json_jtt808_fields_gzip_bytes_per_position sends the same records cut
 * down to what a JT/T 808 item holds, at its resolution (jtt_fields()),
 * in the same batches, gzip'ed the same way; ratio_jtt808_fields is that
 * over jtt808_bytes_per_position.
 *
 * Downlink, for the record (not in the ratios): each HTTP request gets a
 * reply (status line, Date, Content-Type, Content-Length and the JSON
 * acknowledgement); each JT/T 808 message (or packet) a 0x8001 general
 * response.  Not counted on either side: TCP/IP headers, TLS records
 * (about 22 to 29 bytes per 16 KiB record) and handshakes (JT/T 808 has
 * no TLS), JT/T 808 registration, authentication and heartbeats.
 *
 * Before measuring, the encoder is checked against vectors written out
 * by hand from the standard (its escaping example; a complete 0x0704
 * frame whose header, body and check code need escaping, its bytes
 * computed apart from this encoder), and every frame of the
 * run is decoded again (flags, escapes, check code, body length, items)
 * and compared with the fixes it was made from.
 *
 *	bench_wire [-H hours] [-b batch_records] [-B batch_bytes]
 *	    [-s seed] [-d]
 *
 * -d prints one platform record and one JT/T 808 frame to stderr.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "daygen.h"
#include "jtt808.h"
#include "log.h"
#include "store.h"
#include "wirerec.h"

#define DEVICE_ID	"SC-0001"
#define TZ		"Asia/Shanghai"
#define PHONE		"13800138000"
#define HTTP_HOST	"platform.example.gov.cn"

static int	dump;

/* ---- the JT/T 808 encoder's self-test ----------------------------- */

static int
expect_bytes(const char *what, const uint8_t *got, size_t gotlen,
    const uint8_t *want, size_t wantlen)
{
	size_t	i;

	if (gotlen == wantlen && memcmp(got, want, wantlen) == 0)
		return 0;
	fprintf(stderr, "bench_wire: JT/T 808 self-test: %s: got %zu bytes",
	    what, gotlen);
	for (i = 0; i < gotlen; i++)
		fprintf(stderr, " %02x", got[i]);
	fprintf(stderr, "\n  want %zu bytes", wantlen);
	for (i = 0; i < wantlen; i++)
		fprintf(stderr, " %02x", want[i]);
	fprintf(stderr, "\n");
	return -1;
}

static int
selftest(void)
{
	/*
	 * The standard's own example: the data 0x30 0x7e 0x08 0x7d 0x55
	 * goes out as 0x7e 0x30 0x7d 0x02 0x08 0x7d 0x01 0x55 0x7e.
	 */
	static const uint8_t	esc_in[] = { 0x30, 0x7e, 0x08, 0x7d, 0x55 };
	static const uint8_t	esc_out[] = { 0x30, 0x7d, 0x02, 0x08, 0x7d,
					    0x01, 0x55 };
	/*
	 * 0x0704 with one blind-area item, terminal 13800138000, serial
	 * 0xcf7e, written out field by field:
	 *
	 *  07 04        message id 0x0704
	 *  40 2b        properties: version flag (bit 14), body 43 bytes
	 *  01           protocol version 1
	 *  00 00 00 00 01 38 00 13 80 00   phone BCD[10], 0-padded
	 *  cf 7e        serial: 0x7e escaped as 7d 02
	 *  00 01        1 item
	 *  01           type 1, 盲区补报
	 *  00 26        item length 38
	 *  00 00 00 00  alarm
	 *  00 0c 00 03  status: ACC, positioned, GPS (18), BeiDou (19)
	 *  01 d2 7f 18  latitude 30.572312 N = 30572312
	 *  06 33 ed c4  longitude 104.066500 E = 104066500
	 *  02 00        altitude 512 m
	 *  01 c4        speed 45.2 km/h = 452
	 *  00 7d        direction 125: 0x7d escaped as 7d 01
	 *  26 11 17 08 00 05   2026-11-17 08:00:05 GMT+8
	 *  01 04 00 12 d6 87   mileage 123456.7 km = 1234567
	 *  02 02 01 5e  fuel 35.0 L = 350
	 *  7d           check code: XOR of the 60 bytes above (header and
	 *               body, unescaped), escaped as 7d 01
	 *
	 * The expected bytes were computed apart from this encoder (Python
	 * struct.pack and a byte-wise XOR).
	 */
	static const uint8_t	frame_want[] = {
		0x7e, 0x07, 0x04, 0x40, 0x2b, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x38, 0x00, 0x13, 0x80, 0x00, 0xcf, 0x7d, 0x02, 0x00,
		0x01, 0x01, 0x00, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
		0x00, 0x03, 0x01, 0xd2, 0x7f, 0x18, 0x06, 0x33, 0xed, 0xc4,
		0x02, 0x00, 0x01, 0xc4, 0x00, 0x7d, 0x01, 0x26, 0x11, 0x17,
		0x08, 0x00, 0x05, 0x01, 0x04, 0x00, 0x12, 0xd6, 0x87, 0x02,
		0x02, 0x01, 0x5e, 0x7d, 0x01, 0x7e
	};
	static const uint8_t	time_want[] = { 0x26, 0x11, 0x17, 0x08, 0x00,
					    0x05 };
	uint8_t			 buf[JTT808_FRAME_MAX], body[64], t[6];
	uint8_t			 rbody[JTT808_BODY_MAX];
	struct jtt808_loc	 l, back;
	struct jtt808_hdr	 h, hb;
	char			 err[128];
	size_t			 n, blen, rlen;

	n = jtt808_escape(esc_in, sizeof(esc_in), buf);
	if (expect_bytes("escaping", buf, n, esc_out, sizeof(esc_out)) == -1)
		return -1;
	if (jtt808_bcd_time(DAYGEN_T0_MS + 5000, t) == -1 ||
	    expect_bytes("BCD time", t, 6, time_want, 6) == -1)
		return -1;

	memset(&l, 0, sizeof(l));
	l.status = JTT808_ST_ACC | JTT808_ST_FIXED | JTT808_ST_GPS |
	    JTT808_ST_BEIDOU;
	l.lat_1e6 = 30572312;
	l.lon_1e6 = 104066500;
	l.alt_m = 512;
	l.speed_01kmh = 452;
	l.dir_deg = 125;
	memcpy(l.time_bcd, time_want, 6);
	l.has_mileage = true;
	l.mileage_01km = 1234567;
	l.has_fuel = true;
	l.fuel_01l = 350;
	body[0] = 0;
	body[1] = 1;
	body[2] = 1;
	blen = jtt808_loc_body(&l, body + 5);
	if (blen != 38) {
		fprintf(stderr, "bench_wire: JT/T 808 self-test: 0x0200 body "
		    "%zu bytes, want 38\n", blen);
		return -1;
	}
	body[3] = 0;
	body[4] = (uint8_t)blen;
	blen += 5;
	memset(&h, 0, sizeof(h));
	h.msg_id = JTT808_MSG_LOC_BATCH;
	h.version = 1;
	snprintf(h.phone, sizeof(h.phone), "%s", PHONE);
	h.serial = 0xcf7e;
	n = jtt808_frame(&h, body, blen, buf);
	if (expect_bytes("0x0704 frame", buf, n, frame_want,
	    sizeof(frame_want)) == -1)
		return -1;
	/* And back. */
	if (jtt808_unframe(buf, n, &hb, rbody, &rlen, err, sizeof(err)) ==
	    -1 || hb.msg_id != h.msg_id || hb.serial != h.serial ||
	    strcmp(hb.phone, "00000000013800138000") != 0 || rlen != blen ||
	    jtt808_loc_parse(rbody + 5, rlen - 5, &back) == -1 ||
	    memcmp(&back, &l, sizeof(l)) != 0) {
		fprintf(stderr, "bench_wire: JT/T 808 self-test: decoding the "
		    "vector failed%s%s\n", err[0] ? ": " : "", err);
		return -1;
	}
	/* A corrupted byte must fail the check code. */
	buf[30] ^= 0x01;
	if (jtt808_unframe(buf, n, &hb, rbody, &rlen, err, sizeof(err)) !=
	    -1) {
		fprintf(stderr, "bench_wire: JT/T 808 self-test: a corrupted "
		    "frame decoded\n");
		return -1;
	}
	return 0;
}

/* ---- fixes to JT/T 808 locations ---------------------------------- */

struct lastobd {
	double	odometer_km;
	double	fuel_pct;
};

static void
to_loc(const struct daygen_sample *s, struct lastobd *last,
    struct jtt808_loc *l)
{
	const struct fix	*f = &s->pos.fix;
	double			 v;
	int			 i;
	static const uint32_t	 sysbit[GNSS_SYS_COUNT] = {
		[GNSS_SYS_GPS] = JTT808_ST_GPS,
		[GNSS_SYS_BEIDOU] = JTT808_ST_BEIDOU,
		[GNSS_SYS_GLONASS] = JTT808_ST_GLONASS,
		[GNSS_SYS_GALILEO] = JTT808_ST_GALILEO,
	};

	memset(l, 0, sizeof(*l));
	if (s->engine_on)
		l->status |= JTT808_ST_ACC;
	if (f->mode >= 2)
		l->status |= JTT808_ST_FIXED;
	if (f->lat_deg < 0)
		l->status |= JTT808_ST_SOUTH;
	if (f->lon_deg < 0)
		l->status |= JTT808_ST_WEST;
	for (i = 0; i < GNSS_SYS_COUNT; i++)
		if (f->sys[i].used > 0)
			l->status |= sysbit[i];
	l->lat_1e6 = (uint32_t)llround(fabs(f->lat_deg) * 1e6);
	l->lon_1e6 = (uint32_t)llround(fabs(f->lon_deg) * 1e6);
	v = isfinite(f->alt_m) ? round(f->alt_m) : 0;
	l->alt_m = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
	v = isfinite(f->speed_mps) ? round(f->speed_mps * 36.0) : 0;
	l->speed_01kmh = (uint16_t)(v > 65535 ? 65535 : v);
	l->dir_deg = isfinite(f->heading_deg) ?
	    (uint16_t)((long)round(f->heading_deg) % 360) : 0;
	if (jtt808_bcd_time(f->t_utc_ms, l->time_bcd) == -1)
		memset(l->time_bcd, 0, 6);
	if (isfinite(s->pos.obd.odometer_km))
		last->odometer_km = s->pos.obd.odometer_km;
	if (isfinite(s->pos.obd.fuel_level_pct))
		last->fuel_pct = s->pos.obd.fuel_level_pct;
	if (isfinite(last->odometer_km)) {
		l->has_mileage = true;
		l->mileage_01km = (uint32_t)llround(last->odometer_km * 10.0);
	}
	if (isfinite(last->fuel_pct)) {
		l->has_fuel = true;
		l->fuel_01l = (uint16_t)llround(last->fuel_pct / 100.0 *
		    DAYGEN_TANK_L * 10.0);
	}
}

/* ---- JT/T 808 counting -------------------------------------------- */

struct jtt_count {
	uint64_t	bytes;		/* uplink frames */
	uint64_t	escapes;	/* escape bytes among them */
	uint64_t	messages;	/* frames */
	uint64_t	down_bytes;	/* 0x8001 replies */
	uint16_t	serial;
	uint16_t	plat_serial;
};

static void
hdr_init(struct jtt808_hdr *h, uint16_t msg_id, uint16_t serial)
{
	memset(h, 0, sizeof(*h));
	h->msg_id = msg_id;
	h->version = 1;
	snprintf(h->phone, sizeof(h->phone), "%s", PHONE);
	h->serial = serial;
}

/* Count an uplink frame and the platform's 0x8001 reply to it. */
static void
count_frame(struct jtt_count *c, const struct jtt808_hdr *h, size_t rawlen,
    size_t framelen)
{
	struct jtt808_hdr	 ah;
	uint8_t			 ab[5], frame[JTT808_FRAME_MAX];
	size_t			 n;

	c->bytes += framelen;
	c->escapes += framelen - 2 - rawlen;
	c->messages++;
	ab[0] = (uint8_t)(h->serial >> 8);
	ab[1] = (uint8_t)h->serial;
	ab[2] = (uint8_t)(h->msg_id >> 8);
	ab[3] = (uint8_t)h->msg_id;
	ab[4] = 0;
	hdr_init(&ah, JTT808_MSG_PLAT_ACK, c->plat_serial++);
	n = jtt808_frame(&ah, ab, sizeof(ab), frame);
	c->down_bytes += n;
}

/* Decode frame again and check it against its message. */
static int
check_frame(const uint8_t *frame, size_t n, const struct jtt808_hdr *h,
    const uint8_t *body, size_t blen)
{
	struct jtt808_hdr	 hb;
	uint8_t			 rbody[JTT808_BODY_MAX];
	size_t			 rlen;
	char			 err[128] = "";

	if (jtt808_unframe(frame, n, &hb, rbody, &rlen, err,
	    sizeof(err)) == -1 || hb.msg_id != h->msg_id ||
	    hb.serial != h->serial || hb.pkt_total != h->pkt_total ||
	    hb.pkt_no != h->pkt_no || rlen != blen ||
	    memcmp(rbody, body, blen) != 0) {
		fprintf(stderr, "bench_wire: JT/T 808 frame serial %u does "
		    "not decode back%s%s\n", h->serial, err[0] ? ": " : "",
		    err);
		return -1;
	}
	return 0;
}

/* Parse a 0x0704 body and compare its items with locs[0..n). */
static int
check_batch_body(const uint8_t *b, size_t len, const struct jtt808_loc *locs,
    size_t n)
{
	struct jtt808_loc	l;
	size_t			i, off = 3, il;

	if (len < 3 || (size_t)(b[0] << 8 | b[1]) != n || b[2] != 1)
		goto bad;
	for (i = 0; i < n; i++) {
		if (off + 2 > len)
			goto bad;
		il = (size_t)(b[off] << 8 | b[off + 1]);
		off += 2;
		if (off + il > len || jtt808_loc_parse(b + off, il, &l) == -1 ||
		    memcmp(&l, &locs[i], sizeof(l)) != 0)
			goto bad;
		off += il;
	}
	if (off == len)
		return 0;
bad:
	fprintf(stderr, "bench_wire: a JT/T 808 0x0704 body does not parse "
	    "back into its %zu locations\n", n);
	return -1;
}

/*
 * Independent messages: as many 0x0704 as needed for locs[0..n), each
 * with as many whole items as its 1023-byte body holds.
 */
static int
jtt_split(struct jtt_count *c, const struct jtt808_loc *locs, size_t n)
{
	uint8_t			 body[JTT808_BODY_MAX], item[64];
	uint8_t			 frame[JTT808_FRAME_MAX];
	struct jtt808_hdr	 h;
	size_t			 i = 0, first, k, blen, il, fl;

	while (i < n) {
		first = i;
		blen = 3;
		k = 0;
		while (i < n) {
			il = jtt808_loc_body(&locs[i], item);
			if (blen + 2 + il > JTT808_BODY_MAX || k == 65535)
				break;
			body[blen] = (uint8_t)(il >> 8);
			body[blen + 1] = (uint8_t)il;
			memcpy(body + blen + 2, item, il);
			blen += 2 + il;
			k++;
			i++;
		}
		body[0] = (uint8_t)(k >> 8);
		body[1] = (uint8_t)k;
		body[2] = 1;			/* 盲区补报 */
		hdr_init(&h, JTT808_MSG_LOC_BATCH, c->serial++);
		if ((fl = jtt808_frame(&h, body, blen, frame)) == 0)
			return -1;
		if (check_frame(frame, fl, &h, body, blen) == -1 ||
		    check_batch_body(body, blen, locs + first, k) == -1)
			return -1;
		if (dump && c->messages == 0) {
			fprintf(stderr, "bench_wire: first JT/T 808 frame "
			    "(%zu bytes, %zu items):", fl, k);
			for (k = 0; k < fl; k++)
				fprintf(stderr, "%s%02x", k % 32 ? " " :
				    "\n  ", frame[k]);
			fprintf(stderr, "\n");
		}
		count_frame(c, &h, JTT808_HDR_LEN + blen + 1, fl);
	}
	return 0;
}

/*
 * Subpackaging: one 0x0704 of all of locs[0..n) cut into packets of at
 * most 1023 body bytes, each with the packet total and number.
 */
static int
jtt_subpkg(struct jtt_count *c, const struct jtt808_loc *locs, size_t n)
{
	uint8_t			*body, *back, frame[JTT808_FRAME_MAX];
	uint8_t			 rbody[JTT808_BODY_MAX];
	struct jtt808_hdr	 h, hb;
	size_t			 i, blen = 3, off, part, total, fl, rlen;
	char			 err[128];
	int			 rc = -1;

	if ((body = malloc(3 + n * 64)) == NULL ||
	    (back = malloc(3 + n * 64)) == NULL) {
		free(body);
		return -1;
	}
	body[0] = (uint8_t)(n >> 8);
	body[1] = (uint8_t)n;
	body[2] = 1;
	for (i = 0; i < n; i++) {
		size_t il = jtt808_loc_body(&locs[i], body + blen + 2);

		body[blen] = (uint8_t)(il >> 8);
		body[blen + 1] = (uint8_t)il;
		blen += 2 + il;
	}
	total = (blen + JTT808_BODY_MAX - 1) / JTT808_BODY_MAX;
	for (i = 0, off = 0; i < total; i++, off += part) {
		part = blen - off < JTT808_BODY_MAX ? blen - off :
		    JTT808_BODY_MAX;
		hdr_init(&h, JTT808_MSG_LOC_BATCH, c->serial++);
		h.pkt_total = (uint16_t)total;
		h.pkt_no = (uint16_t)(i + 1);
		if ((fl = jtt808_frame(&h, body + off, part, frame)) == 0)
			goto out;
		if (jtt808_unframe(frame, fl, &hb, rbody, &rlen, err,
		    sizeof(err)) == -1 || hb.pkt_total != total ||
		    hb.pkt_no != i + 1 || rlen != part) {
			fprintf(stderr, "bench_wire: JT/T 808 packet %zu/%zu "
			    "does not decode back\n", i + 1, total);
			goto out;
		}
		memcpy(back + off, rbody, rlen);
		count_frame(c, &h, JTT808_HDR_SUB_LEN + part + 1, fl);
	}
	if (check_batch_body(back, blen, locs, n) == -1)
		goto out;
	rc = 0;
out:
	free(body);
	free(back);
	return rc;
}

/* ---- JSON --------------------------------------------------------- */

/* gzip as daemon/sync.c: sync_gzip(). The compressed size, or 0. */
static size_t
gzip_len(const char *in, size_t len)
{
	z_stream	 z;
	unsigned char	*buf;
	uLong		 bound;
	size_t		 out = 0;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	bound = deflateBound(&z, (uLong)len) + 32;
	if ((buf = malloc(bound)) == NULL) {
		deflateEnd(&z);
		return 0;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END)
		out = (size_t)z.total_out;
	deflateEnd(&z);
	free(buf);
	return out;
}

/* The HTTP/1.1 request head libcurl sends with a body of len bytes. */
static size_t
http_request_head(size_t len)
{
	char	sig[89], buf[1024];
	int	n;

	memset(sig, 'A', 86);
	sig[86] = sig[87] = '=';
	sig[88] = '\0';
	n = snprintf(buf, sizeof(buf),
	    "POST /v1/devices/%s/records HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: fleetgwd/0.1.0\r\n"
	    "Accept: */*\r\n"
	    "Accept-Encoding: deflate, gzip, br, zstd\r\n"
	    "X-Fleetgw-Signature: ed25519=%s\r\n"
	    "X-Fleetgw-Device: %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Encoding: gzip\r\n"
	    "Content-Length: %zu\r\n"
	    "\r\n", DEVICE_ID, HTTP_HOST, sig, DEVICE_ID, len);
	return n > 0 ? (size_t)n : 0;
}

/* The reply: head and acknowledgement. */
static size_t
http_reply(uint64_t acked)
{
	char	body[128], buf[512];
	int	n;

	n = snprintf(body, sizeof(body), "{\"stream\":\"positions\","
	    "\"acked_through\":%" PRIu64 ",\"rejected\":[]}", acked);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n"
	    "Date: Tue, 17 Nov 2026 08:00:00 GMT\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "\r\n%s", n, body);
	return n > 0 ? (size_t)n : 0;
}

/*
 * The record o cut down to what a JT/T 808 item carries, at its
 * resolution: seq, kind, time; lat, lon (1e-6 degree), alt_m (1 m),
 * speed_kmh (0.1), heading_deg (1 degree), acc, and obd odometer_km
 * (0.1 km) and fuel_l (0.1 L), both the last known.  A new object.
 */
static json_t *
jtt_fields(json_t *o, const struct jtt808_loc *l, const struct fix *f)
{
	json_t	*n = json_object(), *obd = json_object();
	double	 lat = l->lat_1e6 / 1e6, lon = l->lon_1e6 / 1e6;

	json_object_set(n, "seq", json_object_get(o, "seq"));
	json_object_set(n, "kind", json_object_get(o, "kind"));
	json_object_set(n, "time", json_object_get(o, "time"));
	json_object_set_new(n, "lat", json_real(l->status & JTT808_ST_SOUTH ?
	    -lat : lat));
	json_object_set_new(n, "lon", json_real(l->status & JTT808_ST_WEST ?
	    -lon : lon));
	json_object_set_new(n, "alt_m", json_integer(l->alt_m));
	json_object_set_new(n, "speed_kmh", json_real(l->speed_01kmh / 10.0));
	json_object_set_new(n, "heading_deg", isfinite(f->heading_deg) ?
	    json_integer(l->dir_deg) : json_null());
	json_object_set_new(n, "acc", json_boolean(l->status &
	    JTT808_ST_ACC));
	if (l->has_mileage)
		json_object_set_new(obd, "odometer_km",
		    json_real(l->mileage_01km / 10.0));
	if (l->has_fuel)
		json_object_set_new(obd, "fuel_l",
		    json_real(l->fuel_01l / 10.0));
	json_object_set_new(n, "obd", obd);
	return n;
}

struct json_count {
	uint64_t	raw;		/* JSON bodies */
	uint64_t	gz;		/* gzip bodies */
	uint64_t	head;		/* request heads */
	uint64_t	down;		/* replies */
	uint64_t	requests;
	uint64_t	max_gz;
	uint64_t	min_batch, max_batch;
};

/*
 * One request as sync_upload() builds it, from samples[*i] on: at most
 * batch_records records and batch_bytes of records.  Advances *i.
 */
static int
json_request(struct json_count *c, const struct daygen_sample *samples,
    const struct jtt808_loc *locs, size_t n, size_t *i,
    size_t batch_records, size_t batch_bytes)
{
	struct store_record	 r;
	json_t			*records, *o, *body;
	size_t			 bytes = 0, k = 0, sz, gz, len;
	char			*json;

	records = json_array();
	while (*i < n && k < batch_records) {
		memset(&r, 0, sizeof(r));
		r.stream = STORE_STREAM_POSITIONS;
		r.seq = *i + 1;
		r.kind = STORE_REC_POSITION;
		r.u.pos = samples[*i].pos;
		r.u.pos.seq = r.seq;
		if ((o = wirerec_record(&r, TZ)) == NULL) {
			fprintf(stderr, "bench_wire: wirerec_record failed "
			    "at seq %" PRIu64 "\n", r.seq);
			json_decref(records);
			return -1;
		}
		if (locs != NULL) {
			json_t *cut = jtt_fields(o, &locs[*i],
			    &samples[*i].pos.fix);

			json_decref(o);
			o = cut;
		}
		sz = json_dumpb(o, NULL, 0, WIREREC_DUMP_FLAGS) + 1;
		if (k > 0 && bytes + sz > batch_bytes) {
			json_decref(o);
			break;
		}
		if (dump && *i == 0 && locs == NULL) {
			char *s = json_dumps(o, WIREREC_DUMP_FLAGS);

			fprintf(stderr, "bench_wire: first record (%zu bytes):"
			    "\n  %s\n", sz - 1, s != NULL ? s : "?");
			free(s);
		}
		json_array_append_new(records, o);
		bytes += sz;
		k++;
		(*i)++;
	}
	body = json_pack("{s:s, s:s, s:o}", "device_id", DEVICE_ID,
	    "stream", "positions", "records", records);
	json = body != NULL ? json_dumps(body, WIREREC_DUMP_FLAGS) : NULL;
	json_decref(body);
	if (json == NULL)
		return -1;
	len = strlen(json);
	gz = gzip_len(json, len);
	free(json);
	if (gz == 0)
		return -1;
	c->raw += len;
	c->gz += gz;
	c->head += http_request_head(gz);
	c->down += http_reply(*i);
	c->requests++;
	if (gz > c->max_gz)
		c->max_gz = gz;
	if (c->min_batch == 0 || k < c->min_batch)
		c->min_batch = k;
	if (k > c->max_batch)
		c->max_batch = k;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_wire [-H hours] [-b batch_records] "
	    "[-B batch_bytes] [-s seed] [-d]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct daygen_opts	 go;
	struct daygen		 g;
	struct daygen_sample	*samples;
	struct jtt808_loc	*locs;
	struct lastobd		 last = { NAN, NAN };
	struct json_count	 jc, jcut;
	struct jtt_count	 split, sub;
	double			 hours = 8.0, np, drive_s = 0, dist_m = 0;
	size_t			 n, i, batch_records = 500;
	size_t			 batch_bytes = 262144, engine_on = 0;
	uint64_t		 seed = 1;
	int			 ch;

	while ((ch = getopt(argc, argv, "H:b:B:s:d")) != -1) {
		switch (ch) {
		case 'H':
			hours = strtod(optarg, NULL);
			break;
		case 'b':
			batch_records = strtoul(optarg, NULL, 10);
			break;
		case 'B':
			batch_bytes = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			dump = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !(hours > 0 && hours <= 240) ||
	    batch_records < 1 || batch_records > 10000 || batch_bytes < 1024)
		usage();
	log_init("bench_wire", LOG_TARGET_QUIET);

	if (selftest() == -1) {
		fprintf(stderr, "bench_wire: the JT/T 808 encoder is wrong; "
		    "no figures\n");
		return 1;
	}

	n = (size_t)llround(hours * 3600.0);
	samples = calloc(n, sizeof(*samples));
	locs = calloc(n, sizeof(*locs));
	if (samples == NULL || locs == NULL) {
		fprintf(stderr, "bench_wire: out of memory\n");
		return 1;
	}
	memset(&go, 0, sizeof(go));
	go.seed = seed;
	daygen_init(&g, &go);
	for (i = 0; i < n; i++) {
		daygen_next(&g, &samples[i]);
		to_loc(&samples[i], &last, &locs[i]);
		if (samples[i].engine_on)
			engine_on++;
		if (samples[i].true_speed_mps > 0)
			drive_s++;
		dist_m += samples[i].true_speed_mps;
	}

	memset(&jc, 0, sizeof(jc));
	memset(&jcut, 0, sizeof(jcut));
	for (i = 0; i < n; )
		if (json_request(&jc, samples, NULL, n, &i, batch_records,
		    batch_bytes) == -1) {
			fprintf(stderr, "bench_wire: building a request "
			    "failed\n");
			return 1;
		}
	for (i = 0; i < n; )
		if (json_request(&jcut, samples, locs, n, &i, batch_records,
		    batch_bytes) == -1) {
			fprintf(stderr, "bench_wire: building a request "
			    "failed\n");
			return 1;
		}

	memset(&split, 0, sizeof(split));
	memset(&sub, 0, sizeof(sub));
	for (i = 0; i < n; i += batch_records) {
		size_t k = n - i < batch_records ? n - i : batch_records;

		if (jtt_split(&split, locs + i, k) == -1 ||
		    jtt_subpkg(&sub, locs + i, k) == -1) {
			fprintf(stderr, "bench_wire: the JT/T 808 frames of "
			    "this run do not decode back; no figures\n");
			return 1;
		}
	}

	np = (double)n;
	printf("BENCH wire_positions %zu positions\n", n);
	printf("BENCH wire_day_driving %.1f h\n", drive_s / 3600.0);
	printf("BENCH wire_day_engine_on %.1f h\n", (double)engine_on / 3600.0);
	printf("BENCH wire_day_distance %.1f km\n", dist_m / 1000.0);
	printf("BENCH json_requests %" PRIu64 " requests\n", jc.requests);
	printf("BENCH json_records_per_request_min %" PRIu64 " records\n",
	    jc.min_batch);
	printf("BENCH json_records_per_request_max %" PRIu64 " records\n",
	    jc.max_batch);
	printf("BENCH json_raw_bytes_per_position %.1f bytes\n",
	    (double)jc.raw / np);
	printf("BENCH json_gzip_bytes_per_position %.2f bytes\n",
	    (double)jc.gz / np);
	printf("BENCH json_gzip_ratio %.3f ratio\n",
	    (double)jc.gz / (double)jc.raw);
	printf("BENCH json_http_head_bytes_per_request %.0f bytes\n",
	    (double)jc.head / (double)jc.requests);
	printf("BENCH json_http_bytes_per_position %.2f bytes\n",
	    (double)(jc.gz + jc.head) / np);
	printf("BENCH jtt808_messages %" PRIu64 " messages\n", split.messages);
	printf("BENCH jtt808_bytes_per_position %.2f bytes\n",
	    (double)split.bytes / np);
	printf("BENCH jtt808_escape_bytes_per_position %.3f bytes\n",
	    (double)split.escapes / np);
	printf("BENCH jtt808_subpkg_packets %" PRIu64 " packets\n",
	    sub.messages);
	printf("BENCH jtt808_subpkg_bytes_per_position %.2f bytes\n",
	    (double)sub.bytes / np);
	printf("BENCH ratio %.3f ratio\n", (double)jc.gz / (double)split.bytes);
	printf("BENCH ratio_http %.3f ratio\n",
	    (double)(jc.gz + jc.head) / (double)split.bytes);
	printf("BENCH json_jtt808_fields_gzip_bytes_per_position %.2f bytes\n",
	    (double)jcut.gz / np);
	printf("BENCH ratio_jtt808_fields %.3f ratio\n",
	    (double)jcut.gz / (double)split.bytes);
	printf("BENCH json_http_down_bytes_per_position %.2f bytes\n",
	    (double)jc.down / np);
	printf("BENCH jtt808_down_bytes_per_position %.2f bytes\n",
	    (double)split.down_bytes / np);
	free(samples);
	free(locs);
	return 0;
}
