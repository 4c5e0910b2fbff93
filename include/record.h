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

/* Name of a constellation as used in JSON ("gps", "beidou", ...). */
const char	*record_sys_name(enum gnss_sys);

#endif /* RECORD_H */
