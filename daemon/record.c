/* SPDX-License-Identifier: MIT */
/*
 * record.c - helpers and names for the shared value types.
 */
#include <math.h>
#include <stddef.h>

#include "record.h"

void
record_obd_clear(struct obd_sample *o)
{
	o->rpm = o->speed_kmh = o->coolant_c = o->intake_c = NAN;
	o->ambient_c = o->load_pct = o->throttle_pct = o->maf_gps = NAN;
	o->fuel_level_pct = o->fuel_rate_lph = o->battery_v = NAN;
	o->odometer_km = o->run_time_s = NAN;
	o->fuel_rate_estimated = 0;
	o->mil_on = -1;
}

int
record_obd_any(const struct obd_sample *o)
{
	const double	v[] = { o->rpm, o->speed_kmh, o->coolant_c,
	    o->intake_c, o->ambient_c, o->load_pct, o->throttle_pct,
	    o->maf_gps, o->fuel_level_pct, o->fuel_rate_lph, o->battery_v,
	    o->odometer_km, o->run_time_s };
	size_t		i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (isfinite(v[i]))
			return 1;
	return o->mil_on >= 0;
}

const char *
record_sys_name(enum gnss_sys sys)
{
	switch (sys) {
	case GNSS_SYS_GPS:
		return "gps";
	case GNSS_SYS_BEIDOU:
		return "beidou";
	case GNSS_SYS_GLONASS:
		return "glonass";
	case GNSS_SYS_GALILEO:
		return "galileo";
	case GNSS_SYS_COUNT:
		break;
	}
	return "unknown";
}
