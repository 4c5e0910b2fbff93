/* SPDX-License-Identifier: MIT */
/*
 * notify.c - systemd notifications.  sd_notify() returns 0 and does
 * nothing when $NOTIFY_SOCKET is unset, so foreground runs need no special
 * case.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

#define NOTIFY_STATUS_MAX	256

void
notify_ready(void)
{
	(void)sd_notify(0, "READY=1");
}

void
notify_reloading(void)
{
	(void)sd_notify(0, "RELOADING=1");
}

void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

void
notify_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}

void
notify_status(const char *fmt, ...)
{
	char	buf[NOTIFY_STATUS_MAX];
	char	msg[NOTIFY_STATUS_MAX + 8];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "STATUS=%s", buf);
	(void)sd_notify(0, msg);
}

uint64_t
notify_watchdog_ms(void)
{
	uint64_t	usec = 0;

	/* 0 = not enabled, < 0 = error; unset_environment must stay 0 so a
	 * reload can ask again. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 1000;
}
