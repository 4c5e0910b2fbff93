/* SPDX-License-Identifier: MIT */
/*
 * log.c - logging back ends: stderr (foreground), journald, syslog.
 *
 * Modelled on OpenBSD's log.c.  Every entry point saves and restores errno
 * so callers can log and then still report the original error.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static const char	*log_ident = "fleetgw";
static enum log_target	 log_target = LOG_TARGET_STDERR;
static int		 log_use_journal;
static int		 log_verbose;

void
log_init(const char *ident, enum log_target target)
{
	log_ident = ident;
	log_target = target;
	log_use_journal = 0;
	if (target == LOG_TARGET_AUTO) {
		if (getenv("JOURNAL_STREAM") != NULL)
			log_use_journal = 1;
		else
			openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
log_emit(int pri, const char *msg)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32];

	switch (log_target) {
	case LOG_TARGET_STDERR:
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, msg);
		break;
	case LOG_TARGET_QUIET:
		fprintf(stderr, "%s: %s\n", log_ident, msg);
		break;
	case LOG_TARGET_AUTO:
		if (log_use_journal)
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", pri,
			    "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
		else
			syslog(pri, "%s", msg);
		break;
	}
}

static void
log_vlog(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[LOG_LINE_MAX];
	int	 saved = errno;
	size_t	 len;

	if (pri == LOG_DEBUG && !log_verbose) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	log_emit(pri, msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
