/* SPDX-License-Identifier: MIT */
/*
 * record.c - names for the shared value types.
 */
#include "record.h"

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
