/* SPDX-License-Identifier: MIT */
/*
 * test_clocktrust.c - GNSS time is trusted only after a run of consistent
 * fixes, and not against a synchronised system clock a day away.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "clocktrust.h"

#define T0	INT64_C(1772432045000)	/* 2026-03-02T06:14:05Z */
#define M0	UINT64_C(100000)

static void
feed(struct clocktrust *c, int n, int64_t t0, uint64_t m0, int64_t dt_ms)
{
	int	i;

	for (i = 0; i < n; i++)
		clocktrust_fix(c, t0 + i * dt_ms, m0 + (uint64_t)(i * 1000));
}

Test(clocktrust, needs_a_run_of_consistent_fixes)
{
	struct clocktrust	c;

	clocktrust_reset(&c);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_TOO_FEW);
	feed(&c, CLOCKTRUST_FIXES - 1, T0, M0, 1000);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_TOO_FEW);
	clocktrust_fix(&c, T0 + (CLOCKTRUST_FIXES - 1) * 1000,
	    M0 + (CLOCKTRUST_FIXES - 1) * 1000);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_OK);
	cr_assert_eq(clocktrust_last_utc_ms(&c),
	    T0 + (CLOCKTRUST_FIXES - 1) * 1000);
}

Test(clocktrust, one_bogus_fix_restarts_the_run)
{
	struct clocktrust	c;
	uint64_t		m;

	clocktrust_reset(&c);
	feed(&c, CLOCKTRUST_FIXES, T0, M0, 1000);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_OK);
	m = M0 + CLOCKTRUST_FIXES * 1000;
	/* A fix from 2200 one second later: not trusted. */
	clocktrust_fix(&c, INT64_C(7258118400000), m);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_TOO_FEW);
	/* Back to normal, but the run starts again. */
	clocktrust_fix(&c, T0 + (CLOCKTRUST_FIXES + 1) * 1000, m + 1000);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_TOO_FEW);
}

Test(clocktrust, steps_back_and_jumps_break_the_run)
{
	struct clocktrust	c;

	clocktrust_reset(&c);
	feed(&c, CLOCKTRUST_FIXES, T0, M0, 1000);
	/* Same monotonic second, GNSS 3119.5 s back (bt451.log). */
	clocktrust_fix(&c, T0 + CLOCKTRUST_FIXES * 1000 - 3119500,
	    M0 + CLOCKTRUST_FIXES * 1000);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_TOO_FEW);

	clocktrust_reset(&c);
	/* GNSS advancing 6 s per monotonic second is not in step. */
	feed(&c, CLOCKTRUST_FIXES * 2, T0, M0, 6000);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_TOO_FEW);

	clocktrust_reset(&c);
	/* Within the tolerance: 5 Hz receiver, jittery arrival. */
	feed(&c, CLOCKTRUST_FIXES, T0, M0, 1000 + CLOCKTRUST_TOLERANCE_MS);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_OK);
}

Test(clocktrust, synchronised_system_clock_vetoes)
{
	struct clocktrust	c;
	int64_t			last;

	clocktrust_reset(&c);
	/* Consistent, but 1024 weeks ahead (a rollover bug). */
	feed(&c, CLOCKTRUST_FIXES, T0 + INT64_C(619315200000), M0, 1000);
	last = clocktrust_last_utc_ms(&c);
	cr_assert_eq(clocktrust_check(&c, INT64_MIN), CLOCKTRUST_OK,
	    "no synchronised clock: GNSS is all we have");
	cr_assert_eq(clocktrust_check(&c, T0), CLOCKTRUST_SYSCLOCK);
	cr_assert_eq(clocktrust_check(&c, last - CLOCKTRUST_SYSCLOCK_MAX_MS),
	    CLOCKTRUST_OK);
	cr_assert_eq(clocktrust_check(&c, last + CLOCKTRUST_SYSCLOCK_MAX_MS +
	    1), CLOCKTRUST_SYSCLOCK);
}
