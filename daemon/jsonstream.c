/* SPDX-License-Identifier: MIT */
/*
 * jsonstream.c - a JSON array streamed element by element, and the text
 * table helpers shared by the listings (posjson, tripjson).
 */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "jsonstream.h"

#define JSONSTREAM_ELEMENT_MAX	4096	/* one fwrite() below this size */

int
jsonstream_element(FILE *fp, size_t index, json_t *obj, size_t flags)
{
	char	buf[JSONSTREAM_ELEMENT_MAX];
	size_t	len;
	int	rc;

	if (obj == NULL)
		return -1;
	if (fputs(index == 0 ? "[\n" : ",\n", fp) == EOF) {
		json_decref(obj);
		return -1;
	}
	/* One fwrite() per element: json_dumpf() writes piece by piece. */
	len = json_dumpb(obj, buf, sizeof(buf), flags);
	if (len > 0 && len <= sizeof(buf))
		rc = fwrite(buf, 1, len, fp) == len ? 0 : -1;
	else
		rc = json_dumpf(obj, fp, flags);
	json_decref(obj);
	return rc == 0 ? 0 : -1;
}

int
jsonstream_end(FILE *fp, size_t n, size_t flags)
{
	json_t	*empty;
	int	 rc;

	if (n > 0)
		return fputs("\n]\n", fp) == EOF ? -1 : 0;
	if ((empty = json_array()) == NULL)
		return -1;
	rc = json_dumpf(empty, fp, flags);
	json_decref(empty);
	if (rc == 0 && fputs("\n", fp) == EOF)
		rc = -1;
	return rc == 0 ? 0 : -1;
}

void
jsonstream_num(char *buf, size_t size, double v, int width, int decimals)
{
	if (isfinite(v))
		snprintf(buf, size, "%*.*f", width, decimals, v);
	else
		snprintf(buf, size, "%*s", width, "-");
}
