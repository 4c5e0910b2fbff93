/* SPDX-License-Identifier: MIT */
/*
 * gnss.h - the gpsd client (libgps) inside our poll() loop.
 *
 * Connects to gpsd without blocking (our own non-blocking socket; libgps's
 * gps_open() blocks in connect()), drains the socket on every POLLIN until
 * recv() would block (never gps_waiting()), decodes each line with libgps
 * (gps_unpack(), set cleared first) after jansson has checked it and
 * rebuilt it as a flat object (libgps's own reader can hang on malformed
 * or unexpected JSON), merges the several TPVs gpsd sends
 * per epoch (by fix.time; an epoch is emitted when the time advances,
 * after a 250 ms settle timer, or when the device is deactivated),
 * applies the validity ladder (mode >= 2D, time, finite lat/lon,
 * hdop <= max_hdop) and calls the fix callback once per accepted epoch,
 * with per-constellation satellite counts from the latest SKY.
 * Reconnects with capped exponential backoff when gpsd is absent, dies,
 * restarts, falls silent for stale_ms or sends a line longer than libgps
 * accepts (20 KiB); logs the loss once and the recovery once.
 *
 * Log lines (tests match them): "gnss: HOST:PORT: cannot connect (why),
 * retrying", "... connection lost (why), reconnecting", "... no data for
 * N ms, reconnecting", "... connected after N attempt(s)", "... receiving
 * reports again", "... no fix", "... fix acquired (3D)", "... device PATH
 * deactivated", "gnss: time stepped back N.N s".
 */
#ifndef GNSS_H
#define GNSS_H

#include <stdint.h>

#include "ev.h"
#include "record.h"

struct gnss;

/*
 * Zero means the default for every field: host "127.0.0.1", port 2947,
 * no hdop gate (max_hdop <= 0 or NaN), first retry 250 ms, cap 10 s,
 * stale 30 s.
 */
struct gnss_opts {
	const char	*host;
	int		 port;
	double		 max_hdop;
	double		 max_eph_m;	/* 0 or NaN: no eph gate */
	uint32_t	 reconnect_min_ms;	/* first retry delay */
	uint32_t	 reconnect_max_ms;	/* backoff cap */
	uint32_t	 stale_ms;		/* silence before reconnect;
						   also the connect timeout */
};

/*
 * Called from the loop once per accepted epoch; the fix is borrowed for
 * the call.  The callback may call gnss_get_status() and
 * gnss_reconfigure(), never gnss_free().
 */
typedef void gnss_fix_cb(const struct fix *, void *arg);

enum gnss_state {
	GNSS_DOWN,	/* not connected to gpsd */
	GNSS_NODATA,	/* connected, no TPV yet, none for 3 s, or the
			   receiver was deactivated */
	GNSS_NOFIX,	/* TPVs arrive, no usable fix (for 3 s after a
			   fix: one bad epoch does not drop FIX*) */
	GNSS_FIX2D,
	GNSS_FIX3D
};

struct gnss_status {
	enum gnss_state	state;
	int		sats_used;		/* last SKY, -1 unknown */
	int		sats_visible;
	struct sat_count sys[GNSS_SYS_COUNT];
	uint64_t	fixes;			/* epochs delivered */
	uint64_t	rejected;		/* epochs failing the ladder */
	uint64_t	reconnects;		/* sessions lost after their
						   first line (error, EOF,
						   silence) */
	uint64_t	time_steps;		/* backward steps / jumps seen */
	uint64_t	junk;			/* lines that were not JSON objects */
	uint64_t	progress;		/* moves on every line or attempt */
	int64_t		last_fix_utc_ms;	/* 0 if none */
};

/*
 * Strings in opts are copied.  Starts connecting on the loop's next turn.
 * The connect never blocks the loop; resolving a host name other than an
 * address or an /etc/hosts name may (getaddrinfo).  Never fails; fatal on
 * out of memory.
 */
struct gnss	*gnss_new(struct ev_loop *, const struct gnss_opts *,
		    gnss_fix_cb *, void *arg);
void		 gnss_free(struct gnss *);	/* NULL ok; flushes no epoch */
/* Apply new options; reconnects if host or port changed. */
void		 gnss_reconfigure(struct gnss *, const struct gnss_opts *);
void		 gnss_get_status(const struct gnss *, struct gnss_status *);
/* "down", "nodata", "nofix", "fix2d", "fix3d" */
const char	*gnss_state_name(enum gnss_state);

/*
 * Handle one complete gpsd line (NUL-terminated, without the newline) as
 * if it had arrived on the socket.  The socket path uses it; tests and the
 * fuzzer call it directly.  The line may be modified.
 */
void		 gnss_feed_line(struct gnss *, char *line);

#endif /* GNSS_H */
