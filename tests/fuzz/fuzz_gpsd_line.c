/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gpsd_line.c - libFuzzer target: gpsd lines through the real GNSS
 * adapter (gnss_feed_line() in daemon/gnss.c: JSON check, libgps
 * gps_unpack(), epoch merge, validity ladder, SKY accounting).
 *
 * The input is what gpsd would write on the socket: lines separated by
 * '\n', an optional '\r' before it (a last line without '\n' counts as
 * one).  One input is one gpsd session on a fresh adapter that is never
 * connected (the loop never runs, so its connect timer never fires).
 * Every fix delivered to the callback is checked against the contract of
 * struct fix (record.h) and the ladder (gnss_epoch.h): a violation aborts.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "gnss.h"
#include "gnss_epoch.h"
#include "log.h"
#include "record.h"
#include "util.h"

/* gnss.c's line buffer: 2 x GPS_JSON_RESPONSE_MAX. */
#define GNSS_FUZZ_LINE_MAX	(2 * 10240)
/* fleetgw.conf's default gnss.max_hdop. */
#define GNSS_FUZZ_MAX_HDOP	5.0

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
nan_or_in(double v, double lo, double hi)
{
	return isnan(v) || (v >= lo && v <= hi);
}

static void
check_fix(const struct fix *f)
{
	if (f->t_utc_ms < GNSS_TIME_MIN_MS || f->t_utc_ms >= GNSS_TIME_MAX_MS)
		abort();
	if (!isfinite(f->lat_deg) || !isfinite(f->lon_deg) ||
	    fabs(f->lat_deg) > 90.0 || fabs(f->lon_deg) > 180.0)
		abort();
	if (f->mode != 2 && f->mode != 3)
		abort();
	if (f->mode != 3 && !isnan(f->alt_m))
		abort();
	if (!nan_or_in(f->alt_m, GNSS_ALT_MIN_M, GNSS_ALT_MAX_M) ||
	    !nan_or_in(f->speed_mps, 0.0, GNSS_SPEED_MAX_MPS) ||
	    !nan_or_in(f->eph_m, 0.0, GNSS_EPH_MAX_M) ||
	    !(isnan(f->heading_deg) ||
	    (f->heading_deg >= 0.0 && f->heading_deg < 360.0)))
		abort();
	if (isinf(f->hdop) || (isfinite(f->hdop) && f->hdop >
	    GNSS_FUZZ_MAX_HDOP))
		abort();
	if (f->sats_used < -1 || f->sats_visible < -1 ||
	    (f->sats_used == -1) != (f->sats_visible == -1) ||
	    f->sats_used > f->sats_visible)
		abort();
}

static void
on_fix(const struct fix *f, void *arg)
{
	(void)arg;
	check_fix(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop	*loop;
	struct gnss_opts	 o;
	struct gnss		*g;
	char			*buf, *line, *nl, *end;

	/* gnss.c ends the session on a line this long; never decodes it */
	if (size > GNSS_FUZZ_LINE_MAX)
		return 0;
	if (loop == NULL) {
		log_init("fuzz", LOG_TARGET_QUIET);
		loop = ev_new();
	}
	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = 1;
	o.max_hdop = GNSS_FUZZ_MAX_HDOP;
	o.max_eph_m = 200.0;
	g = gnss_new(loop, &o, on_fix, NULL);

	/* exact-size copy plus NUL, so ASan sees reads past the line */
	buf = xmalloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		gnss_feed_line(g, line);
	}
	free(buf);
	gnss_free(g);
	return 0;
}
