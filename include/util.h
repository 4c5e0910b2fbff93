/* SPDX-License-Identifier: MIT */
/*
 * util.h - allocation wrappers that treat out-of-memory as fatal, string
 * helpers and clock helpers.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* BSD strlcpy: always NUL-terminates when size > 0; returns strlen(src). */
size_t	 util_strlcpy(char *dst, const char *src, size_t size);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t util_mono_ms(void);
/* CLOCK_REALTIME in milliseconds since the Unix epoch (logs only). */
int64_t	 util_real_ms(void);

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* UTIL_H */
