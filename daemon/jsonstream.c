/* SPDX-License-Identifier: MIT */
/*
 * jsonstream.c - a JSON array streamed element by element, and the text
 * table helpers shared by the listings (posjson, tripjson, eventjson,
 * dispatch).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "jsonstream.h"
#include "util.h"

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

#define CUT_MARK	"..."
#define CUT_COLS	3

/*
 * Terminal columns of the UTF-8 character at s, its length in *len: 2
 * for the East Asian wide ranges (CJK, Hangul, fullwidth forms), else 1.
 * A malformed byte counts as one column of one byte.
 */
static int
char_cols(const char *s, size_t *len)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 n, i;

	if (u[0] < 0x80) {
		*len = 1;
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = u[0] & 0x07;
	} else {
		*len = 1;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*len = 1;
			return 1;
		}
		cp = cp << 6 | (u[i] & 0x3f);
	}
	*len = n;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf &&
	    cp != 0x303f) || (cp >= 0xac00 && cp <= 0xd7a3) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
	    (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/*
 * s as a new string of at most max_cols columns (0: no limit), control
 * characters as '?', cut with "..." when longer; its width in *cols.
 */
char *
jsonstream_fit(const char *s, int max_cols, int *cols)
{
	char	*out = xmalloc(strlen(s) + sizeof(CUT_MARK));
	size_t	 len, o = 0, i = 0;
	int	 w = 0, c, total = 0;

	for (i = 0; s[i] != '\0'; i += len)
		total += char_cols(s + i, &len);
	for (i = 0; s[i] != '\0'; i += len) {
		c = char_cols(s + i, &len);
		if (max_cols > 0 && total > max_cols &&
		    w + c > max_cols - CUT_COLS) {
			memcpy(out + o, CUT_MARK, CUT_COLS);
			o += CUT_COLS;
			w += CUT_COLS;
			break;
		}
		if (len == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
			out[o] = '?';
		else
			memcpy(out + o, s + i, len);
		o += len;
		w += c;
	}
	out[o] = '\0';
	*cols = w;
	return out;
}
