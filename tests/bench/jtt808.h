/* SPDX-License-Identifier: MIT */
/*
 * jtt808.h - a minimal JT/T 808-2019 encoder (and the decoder that checks
 * it), for the wire benchmark only: the 0x0200 location report body, the
 * 0x0704 batch location upload (定位数据批量上传), the 0x8001 platform
 * general response, and the message frame.
 *
 * Written from the standard (JT/T 808-2019, 道路运输车辆卫星定位系统
 * 终端通讯协议及数据格式):
 *
 *  frame    0x7e | header | body | check | 0x7e, where check is the XOR
 *           of every header and body byte, and header, body and check
 *           are escaped: 0x7e -> 0x7d 0x02, 0x7d -> 0x7d 0x01.
 *  header   message id WORD; body properties WORD (bits 0-9 body length,
 *           10-12 encryption (0: none), 13 subpackage, 14 version flag
 *           (1 in 2019), 15 reserved); protocol version BYTE (1 for
 *           2019); terminal phone number BCD[10] (20 digits, left-padded
 *           with 0); message serial number WORD; when bit 13 is set,
 *           total packets WORD and packet number WORD (from 1).  17 bytes,
 *           21 with the packet fields.  Big-endian throughout.
 *  0x0200   alarm flag DWORD, status DWORD, latitude DWORD and longitude
 *           DWORD (1e-6 degree, absolute; status bits 2 and 3 give S and
 *           W), altitude WORD (m), speed WORD (0.1 km/h), direction WORD
 *           (0-359, north 0, clockwise), time BCD[6] YY-MM-DD-hh-mm-ss in
 *           GMT+8: the 28-byte basic block; then additional items, each
 *           id BYTE, length BYTE, value: 0x01 mileage DWORD (0.1 km),
 *           0x02 fuel WORD (0.1 L).
 *  0x0704   item count WORD, position data type BYTE (0 normal batch, 1
 *           blind-area back-fill 盲区补报), then per item its length WORD
 *           and a 0x0200 body.
 *  0x8001   reply serial WORD, reply id WORD, result BYTE (0 ok).
 */
#ifndef JTT808_H
#define JTT808_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JTT808_FLAG		0x7e
#define JTT808_ESC		0x7d
#define JTT808_BODY_MAX		1023	/* 10-bit body length */
#define JTT808_HDR_LEN		17	/* 2019, no subpackage */
#define JTT808_HDR_SUB_LEN	21	/* with total/number */
#define JTT808_LOC_BASIC_LEN	28
/* Worst case of a frame: everything escaped, plus the two flags. */
#define JTT808_FRAME_MAX	(2 * (JTT808_HDR_SUB_LEN + \
				    JTT808_BODY_MAX + 1) + 2)

#define JTT808_MSG_LOC		0x0200
#define JTT808_MSG_LOC_BATCH	0x0704
#define JTT808_MSG_PLAT_ACK	0x8001

/* Status bits (0x0200 table "状态位定义"). */
#define JTT808_ST_ACC		(1u << 0)
#define JTT808_ST_FIXED		(1u << 1)
#define JTT808_ST_SOUTH		(1u << 2)
#define JTT808_ST_WEST		(1u << 3)
#define JTT808_ST_GPS		(1u << 18)
#define JTT808_ST_BEIDOU	(1u << 19)
#define JTT808_ST_GLONASS	(1u << 20)
#define JTT808_ST_GALILEO	(1u << 21)

#define JTT808_ITEM_MILEAGE	0x01
#define JTT808_ITEM_FUEL	0x02

/* One location, in the units of the wire. */
struct jtt808_loc {
	uint32_t	alarm;
	uint32_t	status;
	uint32_t	lat_1e6;	/* absolute value */
	uint32_t	lon_1e6;
	uint16_t	alt_m;
	uint16_t	speed_01kmh;
	uint16_t	dir_deg;
	uint8_t		time_bcd[6];	/* YYMMDDhhmmss, GMT+8 */
	bool		has_mileage;
	uint32_t	mileage_01km;
	bool		has_fuel;
	uint16_t	fuel_01l;
};

struct jtt808_hdr {
	uint16_t	msg_id;
	uint8_t		version;	/* protocol version, 1 for 2019 */
	char		phone[21];	/* up to 20 digits */
	uint16_t	serial;
	uint16_t	pkt_total;	/* 0: not subpackaged */
	uint16_t	pkt_no;		/* from 1 */
	uint8_t		encryption;	/* bits 10-12 */
};

/*
 * Time t_utc_ms as BCD[6] YYMMDDhhmmss in GMT+8.  0 or -1 (year
 * outside 2000..2099).
 */
int	jtt808_bcd_time(int64_t t_utc_ms, uint8_t out[6]);

/* The 0x0200 body of l into out (at least 48 bytes); its length. */
size_t	jtt808_loc_body(const struct jtt808_loc *l, uint8_t *out);

/*
 * Escape n bytes of in into out (room for 2n); returns the bytes
 * written.  Flags are not added.
 */
size_t	jtt808_escape(const uint8_t *in, size_t n, uint8_t *out);

/*
 * A whole frame: flag, escaped header + body + check, flag.  body_len
 * at most JTT808_BODY_MAX; out has room for JTT808_FRAME_MAX.  Returns
 * the frame's length, 0 on a bad argument (body too long, phone not 1 to
 * 20 digits).
 */
size_t	jtt808_frame(const struct jtt808_hdr *h, const uint8_t *body,
	    size_t body_len, uint8_t *out);

/*
 * Decode a frame made by jtt808_frame() (both flags included): unescape,
 * check the check code and the body length.  0 and *h, body (room for
 * JTT808_BODY_MAX) and *body_len; -1 with a reason in err.
 */
int	jtt808_unframe(const uint8_t *frame, size_t len, struct jtt808_hdr *h,
	    uint8_t *body, size_t *body_len, char *err, size_t errlen);

/* Parse one 0x0200 body back. 0 or -1. */
int	jtt808_loc_parse(const uint8_t *b, size_t len, struct jtt808_loc *l);

#endif /* JTT808_H */
