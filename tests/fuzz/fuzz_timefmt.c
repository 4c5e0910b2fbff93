/* SPDX-License-Identifier: MIT */
/*
 * fuzz_timefmt.c - libFuzzer target: timefmt_parse() (fleetgwctl `T`
 * arguments, RFC 3339) in several zones.
 *
 * Input: byte 0 picks the zone, byte 1 the size of the error buffer
 * (0 to 63, allocated to exactly that size so ASan sees an overrun), the
 * rest is the string (up to the first NUL).  Selectors past the table
 * take the zone name from the input instead: "ZONE\nSTRING", to fuzz
 * timefmt_zone_valid() (it opens files under the zone database only).
 *
 * Checked besides the sanitizers (a violation aborts):
 *  - a failed parse leaves a NUL-terminated, non-empty reason;
 *  - a parsed time formats (timefmt_format) and parses back to the same
 *    millisecond, in the same zone and in UTC, unless it is outside the
 *    years 0000-9999 there;
 *  - timefmt_offset() agrees with the offset timefmt_format() printed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "util.h"

#define TIMEFMT_FUZZ_ERR_MAX	64
#define TIMEFMT_FUZZ_STR_MAX	256	/* longer inputs: nothing new */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * DST and offset oddities: half-hour and 45-minute offsets, +14, a
 * 30-minute DST shift, negative DST (Dublin, Casablanca), DST changes at
 * midnight (Sao Paulo), a skipped day (Apia 2011-12-30), and zones that
 * must be refused.
 */
static const char *const zones[] = {
	"Asia/Shanghai",
	"UTC",
	"Europe/Berlin",
	"America/St_Johns",
	"Asia/Kathmandu",
	"Pacific/Kiritimati",
	"Australia/Lord_Howe",
	"Europe/Dublin",
	"Africa/Casablanca",
	"America/Sao_Paulo",
	"Pacific/Apia",
	"America/Los_Angeles",
	"right/UTC",			/* refused: leap seconds */
	"Nowhere/Zone",			/* refused: no such file */
	"",				/* refused */
};

static void
check_err(const char *err, size_t errsize)
{
	if (errsize == 0)
		return;
	if (memchr(err, '\0', errsize) == NULL)
		abort();
	if (errsize > 1 && err[0] == '\0')
		abort();
}

/* t came from a successful parse: it must survive format -> parse. */
static void
check_roundtrip(int64_t t, const char *tz)
{
	char	 buf[TIMEFMT_BUFSZ], err[TIMEFMT_FUZZ_ERR_MAX];
	int64_t	 t2;
	int	 off_s, hh, mm;
	size_t	 len;

	if (timefmt_format(t, tz, buf, sizeof(buf)) == -1) {
		if (buf[0] != '\0')
			abort();
		return;		/* year out of range in tz, or tz invalid */
	}
	if (timefmt_parse(buf, tz, &t2, err, sizeof(err)) == -1 || t2 != t) {
		abort();
	}
	/* the printed offset is timefmt_offset() rounded to the minute */
	if (timefmt_offset(t, tz, &off_s) == -1)
		abort();
	len = strlen(buf);
	if (len < 6)
		abort();
	hh = (buf[len - 5] - '0') * 10 + (buf[len - 4] - '0');
	mm = (buf[len - 2] - '0') * 10 + (buf[len - 1] - '0');
	off_s = off_s < 0 ? -off_s : off_s;
	if (abs(hh * 3600 + mm * 60 - off_s) > 30)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, *str, *nl, *err;
	const char	*tz;
	size_t		 errsize;
	int64_t		 t;
	char		 dur[TIMEFMT_DURATION_BUFSZ];

	if (size < 2 || size > TIMEFMT_FUZZ_STR_MAX)
		return 0;
	s = xmalloc(size - 1);
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';
	str = s;
	if (data[0] < NELEM(zones))
		tz = zones[data[0]];
	else {
		tz = s;
		if ((nl = strchr(s, '\n')) == NULL) {
			free(s);
			return 0;
		}
		*nl = '\0';
		str = nl + 1;
	}
	errsize = data[1] % TIMEFMT_FUZZ_ERR_MAX;
	err = xmalloc(errsize > 0 ? errsize : 1);

	if (timefmt_parse(str, tz, &t, err, errsize) == -1)
		check_err(err, errsize);
	else {
		check_roundtrip(t, tz);
		check_roundtrip(t, "UTC");
		if (timefmt_duration(t / 1000, dur, sizeof(dur)) == -1)
			abort();
	}
	free(err);
	free(s);
	return 0;
}
