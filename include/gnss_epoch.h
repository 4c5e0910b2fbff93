/* SPDX-License-Identifier: MIT */
/*
 * gnss_epoch.h - pure GNSS logic behind the gpsd adapter: the epoch
 * assembler (merge of the several TPVs gpsd sends per epoch), the SKY
 * satellite accounting, the validity ladder and the time-continuity check.
 *
 * No I/O, no clocks, no libgps types: callers pass plain values and the
 * monotonic "now" in milliseconds.  Every double that may be absent is NaN
 * when absent; presence is also recorded in the GNSS_TPV_* flags.
 */
#ifndef GNSS_EPOCH_H
#define GNSS_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/* Fields present in a TPV (struct gnss_tpv.flags). */
#define GNSS_TPV_MODE	0x01u
#define GNSS_TPV_TIME	0x02u		/* t_utc_ms valid (gpsd time != 0) */
#define GNSS_TPV_LATLON	0x04u		/* both finite */
#define GNSS_TPV_ALT	0x08u		/* alt_msl_m finite */
#define GNSS_TPV_SPEED	0x10u		/* speed_mps finite */
#define GNSS_TPV_TRACK	0x20u		/* track_deg finite */
#define GNSS_TPV_EPH	0x40u		/* eph_m finite */

/* One TPV report, or the merge of one epoch's TPVs. */
struct gnss_tpv {
	unsigned	flags;		/* GNSS_TPV_* */
	int		mode;		/* 0 not seen, 1 no fix, 2 2D, 3 3D */
	int64_t		t_utc_ms;	/* 0 unless GNSS_TPV_TIME */
	double		lat_deg;
	double		lon_deg;
	double		alt_msl_m;
	double		speed_mps;
	double		track_deg;
	double		eph_m;
};

/* A TPV with nothing set (all doubles NaN). */
void	gnss_tpv_clear(struct gnss_tpv *);

/*
 * Epoch assembler.  TPVs with the same time (ms; "no time" is a key of its
 * own) belong to one epoch.  Later TPVs override the fields they carry;
 * mode is the maximum seen.  A TPV for the epoch emitted last (a straggler
 * arriving after the settle timer) is dropped rather than emitted twice.
 */
struct gnss_epoch {
	bool		open;		/* acc holds an unfinished epoch */
	int		ntpv;		/* TPVs merged into acc */
	struct gnss_tpv	acc;
	bool		have_last;	/* an epoch with a time was finished */
	int64_t		last_utc_ms;
};

enum gnss_epoch_add {
	GNSS_EPOCH_OPENED,	/* first TPV of a new epoch, nothing finished */
	GNSS_EPOCH_MERGED,	/* merged into the open epoch */
	GNSS_EPOCH_NEXT,	/* time changed: *done is the finished epoch,
				   the TPV opened the next one */
	GNSS_EPOCH_LATE		/* straggler for the last finished epoch;
				   dropped */
};

void	gnss_epoch_reset(struct gnss_epoch *);
/* done is written only when GNSS_EPOCH_NEXT is returned. */
enum gnss_epoch_add gnss_epoch_add(struct gnss_epoch *,
	    const struct gnss_tpv *, struct gnss_tpv *done);
/* Finish the open epoch (settle timer, flush). false if none was open. */
bool	gnss_epoch_finish(struct gnss_epoch *, struct gnss_tpv *done);

/*
 * Satellite accounting from SKY reports.  hdop and the counts age
 * separately: a SKY with DOPs only keeps the counts, a SKY without hdop
 * keeps the last finite hdop.  Both expire GNSS_SKY_MAX_AGE_MS after they
 * were last refreshed.
 */
#define GNSS_SKY_MAX_AGE_MS	10000

struct gnss_sky {
	bool		have_hdop;
	double		hdop;
	uint64_t	hdop_mono_ms;
	bool		have_sats;
	uint64_t	sats_mono_ms;
	int		visible;	/* all constellations */
	int		used;
	struct sat_count sys[GNSS_SYS_COUNT];
	/* counting in progress between sats_begin and sats_end */
	int		n_visible;
	int		n_used;
	struct sat_count n_sys[GNSS_SYS_COUNT];
};

void	gnss_sky_reset(struct gnss_sky *);	/* everything unknown */
/* A finite hdop from a SKY; NaN or infinite is ignored. */
void	gnss_sky_hdop(struct gnss_sky *, double hdop, uint64_t now_mono_ms);
/* A SKY with a satellite array: begin, add each entry, end. */
void	gnss_sky_sats_begin(struct gnss_sky *);
/*
 * gnssid in u-blox numbering (gpsd's satellite_t.gnssid), prn is gpsd's
 * PRN, svid the constellation's own number.  Entries with neither prn nor
 * svid are ignored.  With svid 0 the constellation is taken from gpsd's
 * PRN ranges.
 */
void	gnss_sky_sats_add(struct gnss_sky *, int gnssid, int prn, int svid,
	    bool used);
void	gnss_sky_sats_end(struct gnss_sky *, uint64_t now_mono_ms);

/* Current values, or NaN / false when unknown or too old. */
double	gnss_sky_hdop_now(const struct gnss_sky *, uint64_t now_mono_ms);
bool	gnss_sky_sats_now(const struct gnss_sky *, uint64_t now_mono_ms);

/* Validity ladder verdicts, in the order the rungs are checked. */
enum gnss_verdict {
	GNSS_VERDICT_FIX,
	GNSS_VERDICT_NO_MODE,		/* mode < 2D (or never seen) */
	GNSS_VERDICT_NO_TIME,
	GNSS_VERDICT_BAD_TIME,		/* outside GNSS_TIME_MIN/MAX_MS */
	GNSS_VERDICT_NO_LATLON,		/* missing or not finite */
	GNSS_VERDICT_HDOP,		/* hdop > max_hdop */
	GNSS_VERDICT_EPH		/* eph > max_eph_m */
};

const char *gnss_verdict_name(enum gnss_verdict);

/*
 * Fix times outside [2010-01-01, 2100-01-01) UTC are receiver or decoder
 * garbage (a TPV dated 1960 or 2200 was seen in fuzzing); old logs that
 * gpsd moved forward by 1024 weeks (2029-2035) stay inside.
 */
#define GNSS_TIME_MIN_MS	INT64_C(1262304000000)
#define GNSS_TIME_MAX_MS	INT64_C(4102444800000)

/*
 * Physical bounds for the optional fields: a value outside is stored as
 * unknown (NaN) rather than rejecting an otherwise good position.
 */
#define GNSS_SPEED_MAX_MPS	150.0	/* 540 km/h */
#define GNSS_ALT_MIN_M		(-500.0)
#define GNSS_ALT_MAX_M		10000.0
#define GNSS_EPH_MAX_M		1.0e6

/*
 * Applies the ladder to a finished epoch.  max_hdop <= 0 or not finite
 * disables the hdop gate; an unknown hdop passes and is stored as NaN.
 * Likewise max_eph_m for gpsd's horizontal error estimate (eph): the
 * first fix after a reacquisition can be 1.9 km off with a fine hdop.
 * On GNSS_VERDICT_FIX fills *out (t_mono_ms = now_mono_ms, satellites from
 * sky when fresh, else -1 and zeros); otherwise *out is untouched.
 * sky may be NULL (unknown).
 */
enum gnss_verdict gnss_epoch_judge(const struct gnss_tpv *,
	    const struct gnss_sky *, double max_hdop, double max_eph_m,
	    uint64_t now_mono_ms,
	    struct fix *out);

/*
 * Time continuity between consecutive accepted fixes.  A step is a GNSS
 * time going backwards, or a GNSS interval that differs from the
 * monotonic interval by more than GNSS_STEP_TOLERANCE_MS (2 s + 2 epochs
 * at 1 Hz).  A normal outage moves both clocks and is not a step.
 */
#define GNSS_STEP_TOLERANCE_MS	4000

struct gnss_continuity {
	bool		have;
	int64_t		utc_ms;
	uint64_t	mono_ms;
};

void	gnss_continuity_reset(struct gnss_continuity *);
/*
 * Records the fix; returns true on a step and sets *dgnss_ms and
 * *dmono_ms (either may be NULL) to the two intervals.
 */
bool	gnss_continuity_check(struct gnss_continuity *, int64_t utc_ms,
	    uint64_t mono_ms, int64_t *dgnss_ms, int64_t *dmono_ms);

#endif /* GNSS_EPOCH_H */
