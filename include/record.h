/* SPDX-License-Identifier: MIT */
/*
 * record.h - value types shared by the pure modules and the adapters.
 *
 * Records are plain values: copied, never allocated per fix.  NaN means
 * "unknown" for every double; check with isfinite().
 */
#ifndef RECORD_H
#define RECORD_H

#include <stdint.h>

/* Constellations we count satellites for (fleetgwctl JSON key in brackets). */
enum gnss_sys {
	GNSS_SYS_GPS,		/* "gps" */
	GNSS_SYS_BEIDOU,	/* "beidou" (北斗) */
	GNSS_SYS_GLONASS,	/* "glonass" */
	GNSS_SYS_GALILEO,	/* "galileo" */
	GNSS_SYS_COUNT
};

struct sat_count {
	uint16_t	visible;
	uint16_t	used;
};

/*
 * One GNSS fix epoch after the merge of gpsd's TPVs and the quality gate.
 * Time is GNSS UTC; t_mono_ms is when the daemon completed the epoch.
 */
struct fix {
	int64_t		t_utc_ms;	/* GNSS time, ms since 1970-01-01 UTC */
	uint64_t	t_mono_ms;	/* CLOCK_MONOTONIC at emission */
	double		lat_deg;	/* WGS-84, finite */
	double		lon_deg;	/* WGS-84, finite */
	double		alt_m;		/* MSL, NaN unless 3D */
	double		speed_mps;	/* NaN if unknown */
	double		heading_deg;	/* true, NaN if unknown */
	double		hdop;		/* NaN if unknown */
	double		eph_m;		/* NaN if unknown */
	int		mode;		/* 2 (2D) or 3 (3D) */
	int		sats_used;	/* all constellations, -1 unknown */
	int		sats_visible;	/* all constellations, -1 unknown */
	struct sat_count sys[GNSS_SYS_COUNT];
};

/*
 * The OBD values current at one moment (stored with the position they
 * belong to, fed to trip detection, shown by status).  NaN means unknown:
 * not supported, not read yet, or older than the reader's freshness limit.
 * The field names, without the struct, are the JSON keys and the database
 * column names (obd_ prefixed in the positions table).
 */
struct obd_sample {
	double		rpm;
	double		speed_kmh;	/* vehicle speed sensor, PID 0D */
	double		coolant_c;
	double		intake_c;
	double		ambient_c;
	double		load_pct;	/* calculated engine load */
	double		throttle_pct;
	double		maf_gps;	/* mass air flow, g/s */
	double		fuel_level_pct;
	double		fuel_rate_lph;	/* PID 5E, or estimated from MAF */
	double		battery_v;	/* PID 42, else the adapter's ATRV */
	double		odometer_km;	/* PID A6 */
	double		run_time_s;	/* since engine start, PID 1F */
	int		fuel_rate_estimated; /* 1: fuel_rate_lph is from MAF */
	int		mil_on;		/* -1 unknown, 0 off, 1 on */
};

/* One diagnostic trouble code as read by a DTC scan. */
#define RECORD_DTC_LEN	5
struct obd_dtc {
	char		code[RECORD_DTC_LEN + 1];	/* "P0301" */
	uint8_t		mode;		/* 0x03 stored, 0x07 pending,
					   0x0a permanent */
};

/* Every double NaN, fuel_rate_estimated 0, mil_on -1. */
void		 record_obd_clear(struct obd_sample *);
/* 1 when at least one value is known (finite, or mil_on >= 0). */
int		 record_obd_any(const struct obd_sample *);

/* Name of a constellation as used in JSON ("gps", "beidou", ...). */
const char	*record_sys_name(enum gnss_sys);

#endif /* RECORD_H */
