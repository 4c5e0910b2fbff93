/* SPDX-License-Identifier: MIT */
/*
 * timefmt.h - RFC 3339 times in an IANA zone, and the `T` arguments of
 * fleetgwctl (DESIGN.md §4).
 *
 * Times are int64_t milliseconds since 1970-01-01 UTC (POSIX time, no leap
 * seconds), like struct fix.t_utc_ms.  Zones are IANA names such as
 * "Asia/Shanghai" or "Europe/Berlin"; the zone database is the system's
 * (tzdata, $TZDIR or /usr/share/zoneinfo).  Conversions set TZ to ":Zone"
 * for the duration of the call and restore the previous TZ afterwards, so
 * this module is not thread-safe (fleetgw has one thread).
 *
 * Supported range: years 0000 to 9999.
 */
#ifndef TIMEFMT_H
#define TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for the longest timefmt_format() result, "YYYY-MM-DDTHH:MM:SS.sss+HH:MM". */
#define TIMEFMT_BUFSZ	32

/* Room for the longest timefmt_duration() result. */
#define TIMEFMT_DURATION_BUFSZ	40

/*
 * 0 if tz names a usable zone: a relative name made of letters, digits
 * and "_+-/." without ".." components, whose file in the zone database is
 * a TZif file.  "right/..." zones (leap seconds) are refused since GNSS
 * UTC here is POSIX time.  -1 otherwise (nothing is logged).
 */
int	timefmt_zone_valid(const char *tz);

/*
 * UTC offset in seconds east of Greenwich in force in zone tz at instant
 * t_utc_ms.  0 or -1 (invalid zone, year out of range).
 */
int	timefmt_offset(int64_t t_utc_ms, const char *tz, int *off_s);

/*
 * Format t_utc_ms as RFC 3339 local time of zone tz with its numeric
 * offset: "2026-03-02T21:14:05+08:00".  Seconds precision when the
 * millisecond part is 0, else ".sss" is added
 * ("2026-03-02T21:14:05.250+08:00").  The offset is always numeric, also
 * "+00:00" for UTC (never "Z").  Historical offsets that are not whole
 * minutes (local mean time before ~1900) are rounded to the minute and the
 * local time is computed with the rounded offset, so the string still
 * denotes exactly t_utc_ms.  Returns 0, or -1 (invalid zone, year outside
 * 0000-9999, size too small) with buf set to "" when size > 0.
 */
int	timefmt_format(int64_t t_utc_ms, const char *tz, char *buf,
	    size_t size);

/*
 * Parse a `T` argument, strictly (no surrounding blanks, fixed-width
 * fields, real calendar dates, nothing trailing):
 *
 *   YYYY-MM-DD                   start of that day in zone tz
 *   YYYY-MM-DD{T|t| }HH:MM[:SS[.f...]]
 *                                local time in zone tz
 *   the same followed by Z, z or +HH:MM / -HH:MM
 *                                RFC 3339: the offset given, tz unused
 *
 * Fractions take 1 to 9 digits and are truncated to milliseconds.  Hours
 * 00-23, minutes 00-59, seconds 00-59 (a leap second :60 is refused: POSIX
 * time cannot represent it), offsets up to 23:59.
 *
 * Local times that a DST change makes nonexistent (Europe/Berlin
 * 2026-03-29 02:30) are shifted forward by the length of the gap, i.e.
 * read with the offset in force before it (02:30 -> 03:30+02:00); hence a
 * date whose midnight does not exist starts at the first instant of that
 * day.  Local times that occur twice (Europe/Berlin 2026-10-25 02:30) take
 * the earlier instant (02:30+02:00).  This assumes no two offset changes
 * in a zone less than four days apart, which holds for tzdata.
 *
 * Returns 0 and sets *t_utc_ms, or -1 with a reason (without the input) in
 * err when errsize > 0.
 */
int	timefmt_parse(const char *s, const char *tz, int64_t *t_utc_ms,
	    char *err, size_t errsize);

/*
 * A duration for people: "45s", "3m05s", "2h03m05s", "3d02h03m".
 * Negative durations get a leading '-'.  Returns 0, or -1 if size is too
 * small (TIMEFMT_DURATION_BUFSZ always suffices).
 */
int	timefmt_duration(int64_t s, char *buf, size_t size);

#endif /* TIMEFMT_H */
