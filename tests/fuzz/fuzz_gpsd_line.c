/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gpsd_line.c - libFuzzer target: gpsd JSON lines through libgps
 * gps_unpack() into the GNSS epoch logic (gnss_epoch.c).
 *
 * The input is what gpsd would write on the socket: lines separated by
 * '\n', an optional '\r' before it (a last line without '\n' counts as
 * one, as if its newline came later).  One input is one gpsd session: the
 * struct gps_data_t is zeroed once (as gnss_opened() does) and keeps its
 * contents from line to line, only gd.set is cleared before each decode.
 * The fake monotonic clock advances GNSS_FUZZ_LINE_MS per line, so SKY
 * data can age out within one input.  At the end of the input the open
 * epoch is flushed, as gnss_close() does.
 *
 * GLUE COPIED FROM daemon/gnss.c (commit 03a4d20): gnss_classify(),
 * gnss_timespec_ms(), gnss_tpv_from_gd(), and the bodies of
 * gnss_on_line(), gnss_on_tpv(), gnss_on_sky(), gnss_on_device() and
 * gnss_emit() without the logging, timers and state machine.  gnss.c keeps
 * them static behind its socket; once it exposes "one line -> decode ->
 * epoch" as a function (e.g. a struct gnss_decoder in gnss_epoch.c taking
 * const char *line and now_mono_ms), call that instead and delete the
 * copies here, or this target tests a copy of the code, not the code.
 *
 * Besides the sanitizers, every accepted fix is checked against the
 * contract of struct fix (record.h) and gnss_epoch_judge() (gnss_epoch.h):
 * a violation aborts.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gps.h>

#include "gnss_epoch.h"
#include "record.h"
#include "util.h"

/* What a line costs on the fake monotonic clock. */
#define GNSS_FUZZ_LINE_MS	100
/* Where the fake monotonic clock starts (not 0: 0 means "none"). */
#define GNSS_FUZZ_MONO0_MS	1000000
/* gnss.c's line buffer: 2 x GPS_JSON_RESPONSE_MAX. */
#define GNSS_FUZZ_LINE_MAX	(2 * 10240)
/* fleetgw.conf's default gnss.max_hdop. */
#define GNSS_FUZZ_MAX_HDOP	5.0

enum gnss_class {
	GNSS_CLASS_OTHER,
	GNSS_CLASS_TPV,
	GNSS_CLASS_SKY,
	GNSS_CLASS_DEVICE,
	GNSS_CLASS_ERROR
};

struct session {
	struct gps_data_t	gd;
	struct gnss_epoch	epoch;
	struct gnss_sky		sky;
	struct gnss_continuity	cont;
	uint64_t		now_ms;
	uint64_t		fixes;
	uint64_t		rejected;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Copy of gnss.c gnss_classify(). */
static enum gnss_class
gnss_classify(const char *line)
{
	static const char key[] = "\"class\":\"";
	static const struct {
		const char	*name;
		enum gnss_class	 cls;
	} names[] = {
		{ "TPV\"", GNSS_CLASS_TPV },
		{ "SKY\"", GNSS_CLASS_SKY },
		{ "DEVICE\"", GNSS_CLASS_DEVICE },
		{ "ERROR\"", GNSS_CLASS_ERROR },
	};
	const char *p;
	size_t i;

	if ((p = strstr(line, key)) == NULL)
		return GNSS_CLASS_OTHER;
	p += sizeof(key) - 1;
	for (i = 0; i < NELEM(names); i++)
		if (strncmp(p, names[i].name, strlen(names[i].name)) == 0)
			return names[i].cls;
	return GNSS_CLASS_OTHER;
}

/* Copy of gnss.c gnss_timespec_ms(). */
static int64_t
gnss_timespec_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 500000) / 1000000;
}

/* Copy of gnss.c gnss_tpv_from_gd(). */
static void
gnss_tpv_from_gd(const struct gps_data_t *gd, struct gnss_tpv *t)
{
	const struct gps_fix_t *f = &gd->fix;

	gnss_tpv_clear(t);
	if ((gd->set & MODE_SET) && f->mode != MODE_NOT_SEEN) {
		t->flags |= GNSS_TPV_MODE;
		t->mode = f->mode;
	}
	if ((gd->set & TIME_SET) && f->time.tv_sec != 0) {
		t->flags |= GNSS_TPV_TIME;
		t->t_utc_ms = gnss_timespec_ms(&f->time);
	}
	if ((gd->set & LATLON_SET) && isfinite(f->latitude) &&
	    isfinite(f->longitude)) {
		t->flags |= GNSS_TPV_LATLON;
		t->lat_deg = f->latitude;
		t->lon_deg = f->longitude;
	}
	if ((gd->set & ALTITUDE_SET) && isfinite(f->altMSL)) {
		t->flags |= GNSS_TPV_ALT;
		t->alt_msl_m = f->altMSL;
	}
	if ((gd->set & SPEED_SET) && isfinite(f->speed)) {
		t->flags |= GNSS_TPV_SPEED;
		t->speed_mps = f->speed;
	}
	if ((gd->set & TRACK_SET) && isfinite(f->track)) {
		t->flags |= GNSS_TPV_TRACK;
		t->track_deg = f->track;
	}
	if (isfinite(f->eph)) {
		t->flags |= GNSS_TPV_EPH;
		t->eph_m = f->eph;
	}
}

static bool
nan_or_in(double v, double lo, double hi)
{
	return isnan(v) || (v >= lo && v <= hi);
}

/* The promises of record.h and gnss_epoch.h about an accepted fix. */
static void
check_fix(const struct fix *f, uint64_t now_ms)
{
	if (f->t_utc_ms < GNSS_TIME_MIN_MS || f->t_utc_ms >= GNSS_TIME_MAX_MS)
		abort();
	if (f->t_mono_ms != now_ms)
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

/* gnss.c gnss_emit() without logging and state. */
static void
emit(struct session *s, const struct gnss_tpv *ep)
{
	struct fix fix;
	enum gnss_verdict v;
	int64_t dg, dm;

	v = gnss_epoch_judge(ep, &s->sky, GNSS_FUZZ_MAX_HDOP, s->now_ms, &fix);
	if (gnss_verdict_name(v) == NULL)
		abort();
	if (v != GNSS_VERDICT_FIX) {
		s->rejected++;
		return;
	}
	check_fix(&fix, s->now_ms);
	(void)gnss_continuity_check(&s->cont, fix.t_utc_ms, s->now_ms, &dg,
	    &dm);
	s->fixes++;
}

static void
flush(struct session *s)
{
	struct gnss_tpv done;

	if (gnss_epoch_finish(&s->epoch, &done))
		emit(s, &done);
}

static void
on_tpv(struct session *s)
{
	struct gnss_tpv t, done;

	gnss_tpv_from_gd(&s->gd, &t);
	if (gnss_epoch_add(&s->epoch, &t, &done) == GNSS_EPOCH_NEXT)
		emit(s, &done);
}

static void
on_sky(struct session *s, bool has_sats)
{
	const struct gps_data_t *gd = &s->gd;
	size_t i, n;

	gnss_sky_hdop(&s->sky, gd->dop.hdop, s->now_ms);
	if (!has_sats)
		return;
	n = gd->satellites_visible > 0 ? (size_t)gd->satellites_visible : 0;
	if (n > NELEM(gd->skyview))
		n = NELEM(gd->skyview);
	gnss_sky_sats_begin(&s->sky);
	for (i = 0; i < n; i++)
		gnss_sky_sats_add(&s->sky, gd->skyview[i].gnssid,
		    gd->skyview[i].PRN, gd->skyview[i].svid,
		    gd->skyview[i].used);
	gnss_sky_sats_end(&s->sky, s->now_ms);
}

/* gnss.c gnss_on_line(): line is NUL-terminated, without its newline. */
static void
on_line(struct session *s, char *line)
{
	enum gnss_class cls = gnss_classify(line);
	bool sats = false, dev_off = false;

	if (cls == GNSS_CLASS_SKY)
		sats = strstr(line, "\"satellites\":[") != NULL;
	else if (cls == GNSS_CLASS_DEVICE)
		dev_off = strstr(line, "\"activated\":0") != NULL;
	if (cls == GNSS_CLASS_OTHER)
		return;
	s->gd.set = 0;
	(void)gps_unpack(line, &s->gd);
	switch (cls) {
	case GNSS_CLASS_TPV:
		on_tpv(s);
		break;
	case GNSS_CLASS_SKY:
		on_sky(s, sats);
		break;
	case GNSS_CLASS_DEVICE:
		if (dev_off)
			flush(s);
		break;
	case GNSS_CLASS_ERROR:
	case GNSS_CLASS_OTHER:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session s;	/* ~24 KB: not on the stack */
	char *buf, *line, *nl, *end;

	/* gnss.c ends the session on a line this long; never decodes it */
	if (size > GNSS_FUZZ_LINE_MAX)
		return 0;
	memset(&s, 0, sizeof(s));
	gnss_epoch_reset(&s.epoch);
	gnss_sky_reset(&s.sky);
	gnss_continuity_reset(&s.cont);
	s.now_ms = GNSS_FUZZ_MONO0_MS;

	/* exact-size copy plus NUL, so ASan sees reads past the line */
	buf = xmalloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	for (line = buf; line < end; line = nl + 1) {
		/* a last line without '\n' is taken as if the '\n' came */
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		on_line(&s, line);
		s.now_ms += GNSS_FUZZ_LINE_MS;
	}
	flush(&s);
	free(buf);
	return 0;
}
