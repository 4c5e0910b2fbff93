/* SPDX-License-Identifier: MIT */
/*
 * clocktrust.c - trust in GNSS time; see clocktrust.h.
 */
#include <stdlib.h>

#include "clocktrust.h"

void
clocktrust_reset(struct clocktrust *c)
{
	c->run = 0;
	c->have = false;
	c->utc_ms = 0;
	c->mono_ms = 0;
}

void
clocktrust_fix(struct clocktrust *c, int64_t utc_ms, uint64_t mono_ms)
{
	int64_t	dutc, dmono;

	if (c->have) {
		dutc = utc_ms - c->utc_ms;
		dmono = (int64_t)(mono_ms - c->mono_ms);
		/* Forward and in step with the monotonic clock. */
		if (dutc > 0 && llabs(dutc - dmono) <= CLOCKTRUST_TOLERANCE_MS) {
			if (c->run < CLOCKTRUST_FIXES)
				c->run++;
		} else
			c->run = 1;
	} else
		c->run = 1;
	c->have = true;
	c->utc_ms = utc_ms;
	c->mono_ms = mono_ms;
}

enum clocktrust_verdict
clocktrust_check(const struct clocktrust *c, int64_t sys_utc_ms)
{
	if (c->run < CLOCKTRUST_FIXES)
		return CLOCKTRUST_TOO_FEW;
	if (sys_utc_ms != INT64_MIN &&
	    llabs(c->utc_ms - sys_utc_ms) > CLOCKTRUST_SYSCLOCK_MAX_MS)
		return CLOCKTRUST_SYSCLOCK;
	return CLOCKTRUST_OK;
}

int64_t
clocktrust_last_utc_ms(const struct clocktrust *c)
{
	return c->have ? c->utc_ms : 0;
}
