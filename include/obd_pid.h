/* SPDX-License-Identifier: MIT */
/*
 * obd_pid.h - SAE J1979 (OBD-II) decoding: mode 01 PIDs, supported-PID
 * bitmaps, DTCs (modes 03/07/0A), VIN (mode 09 PID 02), fuel rate and a
 * small poll scheduler.
 *
 * Pure: no I/O, no clock, no logging, no allocation.  Callers pass the
 * reassembled application payload of ONE ECU, starting with the response
 * SID (0x41, 0x43, 0x47, 0x4A, 0x49), as printed in the PAYLOAD lines of
 * the transcript files and returned by isotp_rx_feed().  Every decoder
 * checks the SID (and PID) echo and the exact length: a short payload is
 * rejected, never zero-padded (python-OBD pads), and extra bytes are
 * rejected too (ISO-TP already dropped the CAN padding).
 */
#ifndef OBD_PID_H
#define OBD_PID_H

#include <stddef.h>
#include <stdint.h>

#define OBD_PID_MODE01_RESPONSE	0x41	/* 0x01 + 0x40 */
#define OBD_PID_MODE09_RESPONSE	0x49
#define OBD_PID_VIN_LEN		17
#define OBD_PID_DTC_LEN		5	/* "P0301" */

/* Why a decoder failed; the caller branches on it (e.g. E_PID from a
 * foreign answer is ignored, E_SHORT is counted as a bad reply). */
enum obd_pid_status {
	OBD_PID_OK = 0,
	OBD_PID_E_ARG,		/* NULL pointer or bad parameter */
	OBD_PID_E_SHORT,	/* fewer bytes than the PID defines */
	OBD_PID_E_LONG,		/* more bytes than the PID defines */
	OBD_PID_E_LENGTH,	/* odd DTC byte count, count byte mismatch */
	OBD_PID_E_SID,		/* response SID is not request SID + 0x40 */
	OBD_PID_E_PID,		/* PID echo differs from the PID asked for */
	OBD_PID_E_UNKNOWN,	/* PID this module cannot decode */
	OBD_PID_E_DATA,		/* bytes out of range (VIN charset) */
	OBD_PID_E_SPACE		/* caller's output array too small */
};

enum obd_pid_unit {
	OBD_PID_UNIT_NONE = 0,
	OBD_PID_UNIT_PERCENT,
	OBD_PID_UNIT_DEGC,
	OBD_PID_UNIT_RPM,
	OBD_PID_UNIT_KMH,
	OBD_PID_UNIT_GPS,	/* grams per second */
	OBD_PID_UNIT_S,
	OBD_PID_UNIT_KM,
	OBD_PID_UNIT_V,
	OBD_PID_UNIT_LPH,	/* litres per hour */
	OBD_PID_UNIT_COUNT	/* PID 01: value is the DTC count */
};

/* Mode 01 PIDs decoded by obd_pid_decode(); data bytes after the PID. */
#define OBD_PID_MONITOR_STATUS	0x01	/* 4: MIL, DTC count */
#define OBD_PID_ENGINE_LOAD	0x04	/* 1: A*100/255 % */
#define OBD_PID_COOLANT_TEMP	0x05	/* 1: A-40 degC */
#define OBD_PID_RPM		0x0c	/* 2: (256A+B)/4 rpm */
#define OBD_PID_SPEED		0x0d	/* 1: A km/h */
#define OBD_PID_INTAKE_TEMP	0x0f	/* 1: A-40 degC */
#define OBD_PID_MAF		0x10	/* 2: (256A+B)/100 g/s */
#define OBD_PID_THROTTLE	0x11	/* 1: A*100/255 % */
#define OBD_PID_RUN_TIME	0x1f	/* 2: 256A+B s */
#define OBD_PID_DIST_MIL	0x21	/* 2: 256A+B km */
#define OBD_PID_FUEL_LEVEL	0x2f	/* 1: A*100/255 % */
#define OBD_PID_DIST_CLEARED	0x31	/* 2: 256A+B km */
#define OBD_PID_MODULE_VOLTAGE	0x42	/* 2: (256A+B)/1000 V */
#define OBD_PID_AMBIENT_TEMP	0x46	/* 1: A-40 degC */
#define OBD_PID_HYBRID_BATTERY	0x5b	/* 1: A*100/255 % */
#define OBD_PID_FUEL_RATE	0x5e	/* 2: (256A+B)/20 L/h */
#define OBD_PID_ODOMETER	0xa6	/* 4: (A<<24|B<<16|C<<8|D)/10 km */

/* One decoded mode 01 value.  For PID 01, value == dtc_count and the
 * unit is OBD_PID_UNIT_COUNT; mil_on/dtc_count/compression are 0 for
 * every other PID. */
struct obd_pid_value {
	uint8_t			pid;
	enum obd_pid_unit	unit;
	double			value;
	int			mil_on;		/* PID 01: A bit 7 */
	unsigned int		dtc_count;	/* PID 01: A bits 0-6 */
	int			compression;	/* PID 01: B bit 3, diesel */
};

/*
 * Decode a mode 01 reply.  payload = 41 PID data..., len its length,
 * want_pid the PID that was requested (echo check).  Fills *out only on
 * OBD_PID_OK.
 */
enum obd_pid_status	obd_pid_decode(const uint8_t *payload, size_t len,
			    uint8_t want_pid, struct obd_pid_value *out);

/* Number of data bytes after the PID byte, or 0 for a PID this module
 * does not decode. */
size_t		obd_pid_data_len(uint8_t pid);

/* Unit name for logs and JSON: "%", "degC", "rpm", "km/h", "g/s", "s",
 * "km", "V", "L/h", "count", "" (never NULL). */
const char	*obd_pid_unit_name(enum obd_pid_unit unit);

/*
 * Supported PIDs: a 256-bit set, bit n = mode 01 PID n.  Replies to
 * 01 00, 01 20, ... 01 E0 (payload 41 base A B C D, exactly 6 bytes)
 * are merged into it: bit 7 of A is PID base+1, bit 0 of D is PID
 * base+0x20.  Parsing ORs bits in, so one set accumulates all ranges
 * (and answers from several ECUs if the caller wants their union).
 */
struct obd_pid_support {
	uint8_t		bits[32];
};

void		obd_pid_support_init(struct obd_pid_support *set);
void		obd_pid_support_add(struct obd_pid_support *set, uint8_t pid);
int		obd_pid_support_has(const struct obd_pid_support *set,
		    uint8_t pid);
/* want_base: the range PID requested (0x00, 0x20, ..., 0xe0). */
enum obd_pid_status	obd_pid_support_parse(struct obd_pid_support *set,
			    const uint8_t *payload, size_t len,
			    uint8_t want_base);
/* PID of the next range to request after base (base + 0x20) when that
 * bit is set in set, else -1 (also after 0xe0: PID 0x100 doesn't exist). */
int		obd_pid_support_next(const struct obd_pid_support *set,
		    uint8_t base);

/*
 * DTCs from modes 03 (stored), 07 (pending) and 0A (permanent).
 * payload = (mode+0x40) [count] a b a b ...; can_count_byte != 0 on
 * ISO 15765-4 CAN, where the byte after the SID is the number of codes
 * (the legacy protocols have none).  Each pair a b becomes
 * "PCBU"[a>>6], (a>>4)&3, hex(a&0xf), hex(b>>4), hex(b&0xf), e.g. 01 04
 * -> "P0104", c1 00 -> "U0100".  00 00 pairs are fill and skipped.  An
 * odd number of code bytes -> OBD_PID_E_LENGTH; on CAN a count byte
 * above the pairs present -> OBD_PID_E_SHORT, below -> OBD_PID_E_LONG
 * (unless the extra pairs are 00 00).  At most max codes are stored
 * in out; more -> OBD_PID_E_SPACE (nothing guaranteed in out).  *n is
 * the number stored.
 */
struct obd_pid_dtc {
	char		code[OBD_PID_DTC_LEN + 1];
};

enum obd_pid_status	obd_pid_dtc_decode(const uint8_t *payload, size_t len,
			    uint8_t mode, int can_count_byte,
			    struct obd_pid_dtc *out, size_t max, size_t *n);

/*
 * VIN from mode 09 PID 02.  CAN (can_count_byte != 0): 49 02 01 + 17
 * bytes.  Legacy: 49 02 + 17 bytes, or + 20 bytes whose first three are
 * the 00 fill of the first ISO 9141/KWP frame.  Characters must be 0-9
 * or A-Z without I, O, Q, else OBD_PID_E_DATA.
 *
 * The position-9 check digit (ISO 3779 / 49 CFR 565, also GB 16735 in
 * China) is computed and REPORTED, never enforced: many European and
 * other non-North-American VINs carry no check digit there, and a fleet
 * must still record them.  check_ok says whether vin[8] == check_digit.
 */
struct obd_pid_vin {
	char		vin[OBD_PID_VIN_LEN + 1];
	char		check_digit;	/* computed: '0'..'9' or 'X' */
	int		check_ok;
};

enum obd_pid_status	obd_pid_vin_decode(const uint8_t *payload, size_t len,
			    int can_count_byte, struct obd_pid_vin *out);
/* Check digit of a 17-character VIN string (position 9 ignored): 0 and
 * *digit set, or -1 when vin is not 17 valid characters. */
int		obd_pid_vin_check_digit(const char *vin, char *digit);

/*
 * Fuel rate.  Estimated from MAF as
 *	L/h = MAF[g/s] * 3600 / (AFR * density[g/L])
 * with stoichiometric AFR and density per fuel: gasoline 14.7 / 745,
 * diesel 14.5 / 832, LPG 15.5 / 510.  CNG (density depends on pressure,
 * litres meaningless) and electric have no estimate: -1.  A diesel at
 * part load runs lean, so the diesel estimate is an upper bound.
 */
enum obd_pid_fuel {
	OBD_PID_FUEL_GASOLINE = 0,
	OBD_PID_FUEL_DIESEL,
	OBD_PID_FUEL_LPG,
	OBD_PID_FUEL_CNG,
	OBD_PID_FUEL_ELECTRIC
};

/* 0 and *lph, or -1 for CNG/electric/unknown fuel or MAF < 0 / NaN. */
int		obd_pid_fuel_from_maf(double maf_gps, enum obd_pid_fuel fuel,
		    double *lph);
/* Same formula with explicit AFR and density (g/L); -1 if either <= 0. */
int		obd_pid_fuel_from_maf_custom(double maf_gps, double afr,
		    double density_gpl, double *lph);
/*
 * Best available rate: rate_5e (a decoded PID 5E value, NULL when 5E is
 * unsupported or answered NO DATA) wins; else the MAF estimate from maf
 * (a decoded PID 10 value, may be NULL).  *estimated = 1 when the MAF
 * path was used.  0, or -1 when neither gives a rate.
 */
int		obd_pid_fuel_rate(const struct obd_pid_value *rate_5e,
		    const struct obd_pid_value *maf, enum obd_pid_fuel fuel,
		    double *lph, int *estimated);

/*
 * Poll scheduler.  The caller sets a period per PID (0 = don't poll)
 * and asks obd_pid_sched_next() for the next PID to request at now_ms
 * (any monotonic millisecond clock).  A PID is due when it is supported,
 * has a period, and was never handed out or was handed out at least
 * period_ms ago (or now_ms went backwards: resync, poll again).  Among
 * due PIDs the scan starts after the PID handed out last, so every due
 * PID is served before any is served twice (round-robin).  Handing a
 * PID out records now_ms as its last poll.  The struct is plain data,
 * owned by the caller; no allocation.
 */
struct obd_pid_sched {
	uint32_t	period_ms[256];
	uint64_t	last_ms[256];
	uint8_t		polled[256];
	unsigned int	cursor;		/* PID handed out last */
};

void		obd_pid_sched_init(struct obd_pid_sched *s);
void		obd_pid_sched_set_period(struct obd_pid_sched *s, uint8_t pid,
		    uint32_t period_ms);
/* 0 and *pid, or -1 when nothing is due. */
int		obd_pid_sched_next(struct obd_pid_sched *s,
		    const struct obd_pid_support *set, uint64_t now_ms,
		    uint8_t *pid);
/* Milliseconds until the next PID is due (0 = now), or -1 when nothing
 * is scheduled; for the poll() timeout. */
int64_t		obd_pid_sched_wait_ms(const struct obd_pid_sched *s,
		    const struct obd_pid_support *set, uint64_t now_ms);

#endif /* OBD_PID_H */
