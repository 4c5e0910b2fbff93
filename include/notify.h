/* SPDX-License-Identifier: MIT */
/*
 * notify.h - systemd notification through libsystemd's sd_notify().
 * All functions are no-ops when $NOTIFY_SOCKET is unset.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdint.h>

void	 notify_ready(void);
void	 notify_reloading(void);
void	 notify_stopping(void);
void	 notify_watchdog(void);
void	 notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Watchdog interval in ms from $WATCHDOG_USEC, or 0 when disabled. */
uint64_t notify_watchdog_ms(void);

#endif /* NOTIFY_H */
