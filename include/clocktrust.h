/* SPDX-License-Identifier: MIT */
/*
 * clocktrust.h - when is GNSS time good enough to act on?
 *
 * Pure: fed each accepted fix's GNSS time and the monotonic time it was
 * received, plus (optionally) the system clock when that clock is known to
 * be synchronised.  Age-based retention deletes rows by GNSS time, so one
 * bogus fix, or a receiver with a week-rollover bug, must not be able to
 * wipe the history.  GNSS time is trusted after CLOCKTRUST_FIXES
 * consecutive fixes whose GNSS and monotonic intervals agree, and not
 * while it is more than CLOCKTRUST_SYSCLOCK_MAX_MS off a synchronised
 * system clock (gpsd-brief §2.4: log it, don't "fix" it).
 */
#ifndef CLOCKTRUST_H
#define CLOCKTRUST_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCKTRUST_FIXES		60
#define CLOCKTRUST_TOLERANCE_MS		4000
#define CLOCKTRUST_SYSCLOCK_MAX_MS	(INT64_C(24) * 3600 * 1000)

struct clocktrust {
	int		run;		/* consecutive consistent fixes */
	bool		have;
	int64_t		utc_ms;		/* last fix */
	uint64_t	mono_ms;
};

void	clocktrust_reset(struct clocktrust *);
/* Record one accepted fix. */
void	clocktrust_fix(struct clocktrust *, int64_t utc_ms, uint64_t mono_ms);

enum clocktrust_verdict {
	CLOCKTRUST_OK,
	CLOCKTRUST_TOO_FEW,	/* not enough consistent fixes yet */
	CLOCKTRUST_SYSCLOCK	/* disagrees with the synchronised clock */
};

/*
 * Verdict for the last fix's time.  sys_utc_ms is the system clock when it
 * is known to be synchronised, or INT64_MIN when it is not.
 */
enum clocktrust_verdict clocktrust_check(const struct clocktrust *,
	    int64_t sys_utc_ms);
/* The last fix's GNSS time (0 before any fix). */
int64_t	clocktrust_last_utc_ms(const struct clocktrust *);

#endif /* CLOCKTRUST_H */
