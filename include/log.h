/* SPDX-License-Identifier: MIT */
/*
 * log.h - OpenBSD-style logging for fleetgwd and fleetgwctl.
 *
 * Back ends: stderr with timestamps (foreground, -d), journald when
 * $JOURNAL_STREAM is set, syslog(LOG_DAEMON) otherwise.  Every function
 * preserves errno.  Message shape: "module: object: what happened[, what
 * we do]", lower case, no trailing period.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_target {
	LOG_TARGET_STDERR,	/* foreground: timestamps on stderr */
	LOG_TARGET_AUTO,	/* journald if JOURNAL_STREAM, else syslog */
	LOG_TARGET_QUIET	/* tools and tests: stderr, no timestamps */
};

/* ident is borrowed for the life of the process. */
void	log_init(const char *ident, enum log_target target);
/* 0 = info and above, 1 = debug. */
void	log_setverbose(int verbose);
int	log_getverbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
