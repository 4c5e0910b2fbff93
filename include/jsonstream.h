/* SPDX-License-Identifier: MIT */
/*
 * jsonstream.h - one JSON array written element by element (fleetgwctl
 * listings), and the small text-table helpers the listings share.
 *
 * A listing of a 180-day database must not hold all its rows in memory,
 * so the array's "[", "," and "]" are written here and each element is
 * built and dumped by jansson on its own: the output is still one JSON
 * array, one element per line.
 */
#ifndef JSONSTREAM_H
#define JSONSTREAM_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Write element index (0 for the first) of the array: "[\n" or ",\n",
 * then obj dumped with flags.  Takes the reference to obj (decref'd, also
 * on error; NULL is an error).  0 or -1 (write error).
 */
int	jsonstream_element(FILE *, size_t index, json_t *obj, size_t flags);
/* Close an array of n elements ("[]" when n is 0).  0 or -1. */
int	jsonstream_end(FILE *, size_t n, size_t flags);

/* v right-aligned in width with decimals, or "-" when not finite. */
void	jsonstream_num(char *buf, size_t size, double v, int width,
	    int decimals);

/*
 * s as a new string (free()) of at most max_cols terminal columns (0: no
 * limit; CJK and other East Asian wide characters count two), control
 * characters as '?', cut with "..." when longer; its width in *cols.
 */
char	*jsonstream_fit(const char *s, int max_cols, int *cols);

#endif /* JSONSTREAM_H */
