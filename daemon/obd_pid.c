/* SPDX-License-Identifier: MIT */
/*
 * obd_pid.c - SAE J1979 decoding.  See obd_pid.h for the contracts.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "obd_pid.h"

#define SID_RESPONSE_OFFSET	0x40
#define MODE01			0x01
#define MODE09			0x09
#define PID_VIN			0x02
#define SUPPORT_RANGE		0x20	/* PIDs per bitmap reply */
#define SUPPORT_LAST_BASE	0xe0
#define SUPPORT_PAYLOAD_LEN	6	/* 41 base A B C D */
#define VIN_LEGACY_FILL		3	/* 00 00 00 before the first char */
#define VIN_CHECK_POS		8	/* position 9, zero-based */
#define VIN_CHECK_MOD		11
#define SECONDS_PER_HOUR	3600.0

enum formula {
	F_STATUS,	/* PID 01 */
	F_PERCENT,	/* A*100/255 */
	F_TEMP,		/* */
	F_RPM,		/* (256A+B)/4 */
	F_A,		/* A */
	F_AB,		/* 256A+B */
	F_AB_100,	/* (256A+B)/100 */
	F_AB_1000,	/* (256A+B)/1000 */
	F_AB_20,	/* (256A+B)/20 */
	F_ABCD_10	/* (A<<24|B<<16|C<<8|D)/10 */
};

struct pid_def {
	uint8_t			pid;
	uint8_t			len;
	enum formula		formula;
	enum obd_pid_unit	unit;
};

static const struct pid_def pid_defs[] = {
	{ OBD_PID_MONITOR_STATUS, 4, F_STATUS, OBD_PID_UNIT_COUNT },
	{ OBD_PID_ENGINE_LOAD, 1, F_PERCENT, OBD_PID_UNIT_PERCENT },
	{ OBD_PID_COOLANT_TEMP, 1, F_TEMP, OBD_PID_UNIT_DEGC },
	{ OBD_PID_RPM, 2, F_RPM, OBD_PID_UNIT_RPM },
	{ OBD_PID_SPEED, 1, F_A, OBD_PID_UNIT_KMH },
	{ OBD_PID_INTAKE_TEMP, 1, F_TEMP, OBD_PID_UNIT_DEGC },
	{ OBD_PID_MAF, 2, F_AB_100, OBD_PID_UNIT_GPS },
	{ OBD_PID_THROTTLE, 1, F_PERCENT, OBD_PID_UNIT_PERCENT },
	{ OBD_PID_RUN_TIME, 2, F_AB, OBD_PID_UNIT_S },
	{ OBD_PID_DIST_MIL, 2, F_AB, OBD_PID_UNIT_KM },
	{ OBD_PID_FUEL_LEVEL, 1, F_PERCENT, OBD_PID_UNIT_PERCENT },
	{ OBD_PID_DIST_CLEARED, 2, F_AB, OBD_PID_UNIT_KM },
	{ OBD_PID_MODULE_VOLTAGE, 2, F_AB_1000, OBD_PID_UNIT_V },
	{ OBD_PID_AMBIENT_TEMP, 1, F_TEMP, OBD_PID_UNIT_DEGC },
	{ OBD_PID_HYBRID_BATTERY, 1, F_PERCENT, OBD_PID_UNIT_PERCENT },
	{ OBD_PID_FUEL_RATE, 2, F_AB_20, OBD_PID_UNIT_LPH },
	{ OBD_PID_ODOMETER, 4, F_ABCD_10, OBD_PID_UNIT_KM },
};

static const struct pid_def *
pid_find(uint8_t pid)
{
	size_t	i;

	for (i = 0; i < sizeof(pid_defs) / sizeof(pid_defs[0]); i++)
		if (pid_defs[i].pid == pid)
			return &pid_defs[i];
	return NULL;
}

size_t
obd_pid_data_len(uint8_t pid)
{
	const struct pid_def	*d = pid_find(pid);

	return d == NULL ? 0 : d->len;
}

const char *
obd_pid_unit_name(enum obd_pid_unit unit)
{
	switch (unit) {
	case OBD_PID_UNIT_PERCENT:	return "%";
	case OBD_PID_UNIT_DEGC:		return "degC";
	case OBD_PID_UNIT_RPM:		return "rpm";
	case OBD_PID_UNIT_KMH:		return "km/h";
	case OBD_PID_UNIT_GPS:		return "g/s";
	case OBD_PID_UNIT_S:		return "s";
	case OBD_PID_UNIT_KM:		return "km";
	case OBD_PID_UNIT_V:		return "V";
	case OBD_PID_UNIT_LPH:		return "L/h";
	case OBD_PID_UNIT_COUNT:	return "count";
	case OBD_PID_UNIT_NONE:		break;
	}
	return "";
}

enum obd_pid_status
obd_pid_decode(const uint8_t *p, size_t len, uint8_t want_pid,
    struct obd_pid_value *out)
{
	const struct pid_def	*d;
	struct obd_pid_value	 v;
	const uint8_t		*a;
	unsigned int		 ab;

	if (p == NULL || out == NULL)
		return OBD_PID_E_ARG;
	if (len < 2)
		return OBD_PID_E_SHORT;
	if (p[0] != OBD_PID_MODE01_RESPONSE)
		return OBD_PID_E_SID;
	if (p[1] != want_pid)
		return OBD_PID_E_PID;
	if ((d = pid_find(want_pid)) == NULL)
		return OBD_PID_E_UNKNOWN;
	if (len < 2 + (size_t)d->len)
		return OBD_PID_E_SHORT;
	if (len > 2 + (size_t)d->len)
		return OBD_PID_E_LONG;

	memset(&v, 0, sizeof(v));
	v.pid = d->pid;
	v.unit = d->unit;
	a = p + 2;
	ab = d->len >= 2 ? (unsigned int)a[0] << 8 | a[1] : 0;
	switch (d->formula) {
	case F_STATUS:
		v.mil_on = (a[0] & 0x80) != 0;
		v.dtc_count = a[0] & 0x7f;
		v.compression = (a[1] & 0x08) != 0;
		v.value = v.dtc_count;
		break;
	case F_PERCENT:
		v.value = a[0] * 100.0 / 255.0;
		break;
	case F_TEMP:
		v.value = (double)a[0] - 40.0;
		break;
	case F_RPM:
		v.value = ab / 4.0;
		break;
	case F_A:
		v.value = a[0];
		break;
	case F_AB:
		v.value = ab;
		break;
	case F_AB_100:
		v.value = ab / 100.0;
		break;
	case F_AB_1000:
		v.value = ab / 1000.0;
		break;
	case F_AB_20:
		v.value = ab / 20.0;
		break;
	case F_ABCD_10:
		v.value = ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		    (uint32_t)a[2] << 8 | a[3]) / 10.0;
		break;
	}
	*out = v;
	return OBD_PID_OK;
}

void
obd_pid_support_init(struct obd_pid_support *set)
{
	memset(set, 0, sizeof(*set));
}

void
obd_pid_support_add(struct obd_pid_support *set, uint8_t pid)
{
	set->bits[pid / 8] |= (uint8_t)(1u << (pid % 8));
}

int
obd_pid_support_has(const struct obd_pid_support *set, uint8_t pid)
{
	return (set->bits[pid / 8] >> (pid % 8)) & 1;
}

enum obd_pid_status
obd_pid_support_parse(struct obd_pid_support *set, const uint8_t *p,
    size_t len, uint8_t want_base)
{
	unsigned int	i, pid;

	if (set == NULL || p == NULL || want_base % SUPPORT_RANGE != 0)
		return OBD_PID_E_ARG;
	if (len < 2)
		return OBD_PID_E_SHORT;
	if (p[0] != OBD_PID_MODE01_RESPONSE)
		return OBD_PID_E_SID;
	if (p[1] != want_base)
		return OBD_PID_E_PID;
	if (len < SUPPORT_PAYLOAD_LEN)
		return OBD_PID_E_SHORT;
	if (len > SUPPORT_PAYLOAD_LEN)
		return OBD_PID_E_LONG;
	/* Bit 7 of A is the lowest PID: walk MSB first. */
	for (i = 0; i < SUPPORT_RANGE; i++) {
		pid = want_base + 1 + i;
		if (pid > 0xff)
			break;
		if (p[2 + i / 8] & (0x80u >> (i % 8)))
			obd_pid_support_add(set, (uint8_t)pid);
	}
	return OBD_PID_OK;
}

int
obd_pid_support_next(const struct obd_pid_support *set, uint8_t base)
{
	unsigned int	next = (unsigned int)base + SUPPORT_RANGE;

	if (base % SUPPORT_RANGE != 0 || next > SUPPORT_LAST_BASE)
		return -1;
	return obd_pid_support_has(set, (uint8_t)next) ? (int)next : -1;
}

enum obd_pid_status
obd_pid_dtc_decode(const uint8_t *p, size_t len, uint8_t mode,
    int can_count_byte, struct obd_pid_dtc *out, size_t max, size_t *n)
{
	static const char	letters[] = "PCBU";
	static const char	hex[] = "0123456789ABCDEF";
	size_t			off, pairs, count = 0, i, k = 0;
	uint8_t			a, b;

	if (p == NULL || n == NULL || (out == NULL && max > 0))
		return OBD_PID_E_ARG;
	if (mode != 0x03 && mode != 0x07 && mode != 0x0a)
		return OBD_PID_E_ARG;
	*n = 0;
	off = can_count_byte ? 2 : 1;
	if (len < off)
		return OBD_PID_E_SHORT;
	if (p[0] != mode + SID_RESPONSE_OFFSET)
		return OBD_PID_E_SID;
	if ((len - off) % 2 != 0)
		return OBD_PID_E_LENGTH;
	pairs = (len - off) / 2;
	if (can_count_byte) {
		count = p[1];
		if (count > pairs)
			return OBD_PID_E_SHORT;
	}
	for (i = 0; i < pairs; i++) {
		a = p[off + 2 * i];
		b = p[off + 2 * i + 1];
		if (a == 0 && b == 0)
			continue;
		/* A real code past the announced count: not fill. */
		if (can_count_byte && i >= count)
			return OBD_PID_E_LONG;
		if (k == max)
			return OBD_PID_E_SPACE;
		out[k].code[0] = letters[a >> 6];
		out[k].code[1] = hex[(a >> 4) & 0x3];
		out[k].code[2] = hex[a & 0xf];
		out[k].code[3] = hex[b >> 4];
		out[k].code[4] = hex[b & 0xf];
		out[k].code[5] = '\0';
		k++;
	}
	*n = k;
	return OBD_PID_OK;
}

/* ISO 3779 transliteration; -1 for characters a VIN may not hold. */
static int
vin_value(char c)
{
	static const int	letter_val[26] = {
		/* A  B  C  D  E  F  G  H   I  J  K  L  M */
		   1, 2, 3, 4, 5, 6, 7, 8, -1, 1, 2, 3, 4,
		/* N   O  P   Q  R  S  T  U  V  W  X  Y  Z */
		   5, -1, 7, -1, 9, 2, 3, 4, 5, 6, 7, 8, 9
	};

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return letter_val[c - 'A'];
	return -1;
}

int
obd_pid_vin_check_digit(const char *vin, char *digit)
{
	static const int	weight[OBD_PID_VIN_LEN] = {
		8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2
	};
	int			i, v, sum = 0, r;

	if (vin == NULL || digit == NULL)
		return -1;
	for (i = 0; i < OBD_PID_VIN_LEN; i++) {
		if ((v = vin_value(vin[i])) < 0)
			return -1;
		sum += v * weight[i];
	}
	if (vin[OBD_PID_VIN_LEN] != '\0')
		return -1;
	r = sum % VIN_CHECK_MOD;
	*digit = r == 10 ? 'X' : (char)('0' + r);
	return 0;
}

enum obd_pid_status
obd_pid_vin_decode(const uint8_t *p, size_t len, int can_count_byte,
    struct obd_pid_vin *out)
{
	struct obd_pid_vin	v;
	size_t			off, i;

	if (p == NULL || out == NULL)
		return OBD_PID_E_ARG;
	if (len < 2)
		return OBD_PID_E_SHORT;
	if (p[0] != OBD_PID_MODE09_RESPONSE)
		return OBD_PID_E_SID;
	if (p[1] != PID_VIN)
		return OBD_PID_E_PID;
	if (can_count_byte) {
		/* The message count: 1 for the VIN on CAN. */
		if (len < 3)
			return OBD_PID_E_SHORT;
		if (p[2] != 1)
			return OBD_PID_E_DATA;
		off = 3;
	} else if (len == 2 + VIN_LEGACY_FILL + OBD_PID_VIN_LEN) {
		for (i = 2; i < 2 + VIN_LEGACY_FILL; i++)
			if (p[i] != 0)
				return OBD_PID_E_LONG;
		off = 2 + VIN_LEGACY_FILL;
	} else
		off = 2;
	if (len < off + OBD_PID_VIN_LEN)
		return OBD_PID_E_SHORT;
	if (len > off + OBD_PID_VIN_LEN)
		return OBD_PID_E_LONG;

	memset(&v, 0, sizeof(v));
	for (i = 0; i < OBD_PID_VIN_LEN; i++) {
		if (vin_value((char)p[off + i]) < 0)
			return OBD_PID_E_DATA;
		v.vin[i] = (char)p[off + i];
	}
	v.vin[OBD_PID_VIN_LEN] = '\0';
	if (obd_pid_vin_check_digit(v.vin, &v.check_digit) == -1)
		return OBD_PID_E_DATA;	/* NOTREACHED: charset checked */
	v.check_ok = v.vin[VIN_CHECK_POS] == v.check_digit;
	*out = v;
	return OBD_PID_OK;
}

int
obd_pid_fuel_from_maf_custom(double maf_gps, double afr, double density_gpl,
    double *lph)
{
	if (lph == NULL || !(maf_gps >= 0.0) || !(afr > 0.0) ||
	    !(density_gpl > 0.0) || isinf(maf_gps))
		return -1;
	*lph = maf_gps * SECONDS_PER_HOUR / (afr * density_gpl);
	return 0;
}

int
obd_pid_fuel_from_maf(double maf_gps, enum obd_pid_fuel fuel, double *lph)
{
	switch (fuel) {
	case OBD_PID_FUEL_GASOLINE:
		return obd_pid_fuel_from_maf_custom(maf_gps, 14.7, 745.0, lph);
	case OBD_PID_FUEL_DIESEL:
		return obd_pid_fuel_from_maf_custom(maf_gps, 14.5, 832.0, lph);
	case OBD_PID_FUEL_LPG:
		return obd_pid_fuel_from_maf_custom(maf_gps, 15.5, 510.0, lph);
	case OBD_PID_FUEL_CNG:
	case OBD_PID_FUEL_ELECTRIC:
		break;
	}
	return -1;
}

int
obd_pid_fuel_rate(const struct obd_pid_value *rate_5e,
    const struct obd_pid_value *maf, enum obd_pid_fuel fuel, double *lph,
    int *estimated)
{
	if (lph == NULL || estimated == NULL)
		return -1;
	if (rate_5e != NULL && rate_5e->pid == OBD_PID_FUEL_RATE) {
		*lph = rate_5e->value;
		*estimated = 0;
		return 0;
	}
	if (maf != NULL && maf->pid == OBD_PID_MAF &&
	    obd_pid_fuel_from_maf(maf->value, fuel, lph) == 0) {
		*estimated = 1;
		return 0;
	}
	return -1;
}

void
obd_pid_sched_init(struct obd_pid_sched *s)
{
	memset(s, 0, sizeof(*s));
}

void
obd_pid_sched_set_period(struct obd_pid_sched *s, uint8_t pid,
    uint32_t period_ms)
{
	s->period_ms[pid] = period_ms;
}

/* Milliseconds until pid is due, 0 when due; -1 when not scheduled. */
static int64_t
sched_wait(const struct obd_pid_sched *s, const struct obd_pid_support *set,
    unsigned int pid, uint64_t now_ms)
{
	uint64_t	due;

	if (s->period_ms[pid] == 0 || !obd_pid_support_has(set, (uint8_t)pid))
		return -1;
	if (!s->polled[pid] || now_ms < s->last_ms[pid])
		return 0;
	due = s->last_ms[pid] + s->period_ms[pid];
	return now_ms >= due ? 0 : (int64_t)(due - now_ms);
}

int
obd_pid_sched_next(struct obd_pid_sched *s, const struct obd_pid_support *set,
    uint64_t now_ms, uint8_t *pid)
{
	unsigned int	i, p;

	if (s == NULL || set == NULL || pid == NULL)
		return -1;
	/* Start after the last PID handed out: round-robin among due. */
	for (i = 1; i <= 256; i++) {
		p = (s->cursor + i) % 256;
		if (sched_wait(s, set, p, now_ms) != 0)
			continue;
		s->cursor = p;
		s->polled[p] = 1;
		s->last_ms[p] = now_ms;
		*pid = (uint8_t)p;
		return 0;
	}
	return -1;
}

int64_t
obd_pid_sched_wait_ms(const struct obd_pid_sched *s,
    const struct obd_pid_support *set, uint64_t now_ms)
{
	int64_t		w, best = -1;
	unsigned int	p;

	if (s == NULL || set == NULL)
		return -1;
	for (p = 0; p < 256; p++) {
		w = sched_wait(s, set, p, now_ms);
		if (w >= 0 && (best < 0 || w < best))
			best = w;
	}
	return best;
}
