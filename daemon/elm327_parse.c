/* SPDX-License-Identifier: MIT */
/*
 * elm327_parse.c - one ELM327 reply to status and messages.
 *
 * The reply is cut into lines on CR and LF; NUL and other non-printable
 * bytes (clone leftovers after a baud probe) are dropped from each line
 * rather than rejected, because real adapters emit them between good
 * answers.  Only a reply that is too long or mostly binary is GARBAGE.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "elm327_parse.h"
#include "isotp.h"

#define HDR11_DIGITS	3	/* "7E8" */
#define HDR29_DIGITS	8	/* "18DAF110" */
#define CAN_SFF_MAX	0x7ffu	/* largest 11-bit id */
#define SEG_MOD		16	/* "0:".."F:" segment index wraps */
#define BINARY_MIN	8	/* tolerate a few stray bytes ... */
#define BINARY_SHARE	4	/* ... unless over 1/4 of the reply */

struct status_word {
	const char		*text;
	enum elm327_status	 status;
};

/* Data sheet "Error Messages and Alerts"; compared without case. */
static const struct status_word status_words[] = {
	{ "NO DATA",		ELM327_NO_DATA },
	{ "CAN ERROR",		ELM327_CAN_ERROR },
	{ "STOPPED",		ELM327_STOPPED },
	{ "UNABLE TO CONNECT",	ELM327_UNABLE_TO_CONNECT },
	{ "BUFFER FULL",	ELM327_BUFFER_FULL },
	{ "BUS BUSY",		ELM327_BUS_BUSY },
	{ "BUS ERROR",		ELM327_BUS_ERROR },
	{ "FB ERROR",		ELM327_FB_ERROR },
	{ "DATA ERROR",		ELM327_DATA_ERROR },
	{ "ACT ALERT",		ELM327_ACT_ALERT },
	{ "LV RESET",		ELM327_LV_RESET },
	{ "LP ALERT",		ELM327_LP_ALERT },
	{ "ERROR",		ELM327_ERROR },
};

/* Headers-off multi-frame ("014" then "0: .."). */
struct seg_state {
	int	active;
	size_t	want;
	size_t	have;
	int	next;
	uint8_t	*buf;		/* the reply's workspace */
};

struct parse_ctx {
	struct elm327_reply	*r;
	enum elm327_status	 err;
	int			 at_cmd;
	int			 headers;
	int			 ndata;
	struct seg_state	 seg;
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
eq_nocase(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
	return *a == *b;
}

static int
prefix_nocase(const char *s, const char *pfx)
{
	size_t	n = strlen(pfx);

	if (strlen(s) < n)
		return 0;
	while (n-- > 0)
		if (toupper((unsigned char)s[n]) !=
		    toupper((unsigned char)pfx[n]))
			return 0;
	return 1;
}

static int
suffix_nocase(const char *s, const char *sfx)
{
	size_t	ls = strlen(s), lx = strlen(sfx);

	return ls >= lx && eq_nocase(s + ls - lx, sfx);
}

/* Printable, no spaces, upper case: for echo comparison. */
static void
normalise(const char *in, size_t len, char *out, size_t outsz)
{
	size_t	i, o = 0;

	for (i = 0; i < len && in[i] != '\0' && o + 1 < outsz; i++) {
		unsigned char	c = (unsigned char)in[i];

		if (c <= ' ' || c >= 0x7f)
			continue;
		out[o++] = (char)toupper(c);
	}
	out[o] = '\0';
}

/* Hex digits of s (spaces skipped) into bytes, odd digit count allowed:
 * returns the digit count, or -1 if s holds anything else. */
static int
hex_digits(const char *s, char *dig, size_t digsz)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (hexval((unsigned char)*s) < 0 || n + 1 >= digsz)
			return -1;
		dig[n++] = *s;
	}
	dig[n] = '\0';
	return (int)n;
}

static uint32_t
digits_value(const char *d, size_t n)
{
	uint32_t	v = 0;

	while (n-- > 0)
		v = v << 4 | (uint32_t)hexval((unsigned char)*d++);
	return v;
}

static size_t
digits_bytes(const char *d, size_t n, uint8_t *out)
{
	size_t	i;

	for (i = 0; i + 1 < n; i += 2)
		out[i / 2] = (uint8_t)(hexval((unsigned char)d[i]) << 4 |
		    hexval((unsigned char)d[i + 1]));
	return n / 2;
}

static void
add_msg(struct elm327_reply *r, int has_id, uint32_t id, const uint8_t *data,
    size_t len)
{
	struct elm327_msg	*m;

	if (r->nmsg >= ELM327_MAX_MSGS || len > ELM327_POOL - r->pool_used) {
		r->nerr++;
		return;
	}
	m = &r->msg[r->nmsg++];
	m->has_id = has_id;
	m->id = id;
	memcpy(r->pool + r->pool_used, data, len);
	m->data = r->pool + r->pool_used;
	m->len = len;
	r->pool_used += len;
}

static void
set_err(struct parse_ctx *c, enum elm327_status st)
{
	if (c->err == ELM327_EMPTY)
		c->err = st;
}

/* 0 if line was a status/alert line, -1 otherwise. */
static int
status_line(struct parse_ctx *c, const char *line)
{
	size_t	i;

	if (line[0] == '?') {
		set_err(c, ELM327_UNKNOWN_COMMAND);
		return 0;
	}
	if (eq_nocase(line, "OK")) {
		c->r->ok = 1;
		return 0;
	}
	if (prefix_nocase(line, "SEARCHING")) {
		c->r->searching = 1;
		return 0;
	}
	if (prefix_nocase(line, "BUS INIT")) {
		if (strstr(line, "ERROR") != NULL)
			set_err(c, ELM327_BUS_INIT_ERROR);
		else if (strstr(line, "OK") != NULL)
			c->r->bus_init_ok = 1;
		return 0;
	}
	/* A frame with a bad checksum / reception error: data unusable. */
	if (suffix_nocase(line, "<DATA ERROR")) {
		set_err(c, ELM327_DATA_ERROR);
		return 0;
	}
	if (suffix_nocase(line, "<RX ERROR")) {
		set_err(c, ELM327_RX_ERROR);
		return 0;
	}
	for (i = 0; i < sizeof(status_words) / sizeof(status_words[0]); i++)
		if (eq_nocase(line, status_words[i].text)) {
			set_err(c, status_words[i].status);
			return 0;
		}
	/* "ERR94" etc.: internal errors of genuine chips. */
	if (prefix_nocase(line, "ERR") && isdigit((unsigned char)line[3])) {
		set_err(c, ELM327_ERROR);
		return 0;
	}
	return -1;
}

static void
headers_on_line(struct parse_ctx *c, const char *dig, size_t nd)
{
	struct elm327_reply	*r = c->r;
	struct isotp_msg	 m;
	enum isotp_result	 res;
	uint8_t			 frame[ISOTP_FRAME_LEN];
	uint32_t		 id;
	size_t			 hd, dlc;

	if (nd % 2 == 1) {
		hd = HDR11_DIGITS;
		id = digits_value(dig, hd);
	} else {
		hd = HDR29_DIGITS;
		id = digits_value(dig, hd) | ISOTP_ID_EFF;
	}
	if (nd <= hd || (nd - hd) / 2 > ISOTP_FRAME_LEN ||
	    (!(id & ISOTP_ID_EFF) && id > CAN_SFF_MAX) ||
	    ((id & ISOTP_ID_EFF) && (id & ~(ISOTP_ID_EFF | ISOTP_ID_MASK)))) {
		r->nunknown++;
		return;
	}
	c->ndata++;
	dlc = digits_bytes(dig + hd, nd - hd, frame);
	res = isotp_rx_feed(&r->rx, id, frame, dlc, &m);
	switch (res) {
	case ISOTP_MESSAGE:
		add_msg(r, 1, m.id, m.data, m.len);
		break;
	case ISOTP_NONE:
	case ISOTP_FIRST_FRAME:
	case ISOTP_FLOW_CONTROL:
		break;
	default:
		r->nerr++;
		r->last_err = res;
		break;
	}
}

static void
seg_line(struct parse_ctx *c, int idx, const char *dig, size_t nd)
{
	struct seg_state	*s = &c->seg;
	uint8_t			 b[ELM327_MAX_LINE / 2];
	size_t			 n;

	c->ndata++;
	if (!s->active) {
		c->r->nerr++;
		c->r->last_err = ISOTP_ERR_UNEXPECTED_CF;
		return;
	}
	if (idx != s->next || nd % 2 != 0) {
		s->active = 0;
		c->r->nerr++;
		c->r->last_err = nd % 2 ? ISOTP_ERR_LENGTH : ISOTP_ERR_SEQUENCE;
		return;
	}
	n = digits_bytes(dig, nd, b);
	if (n > s->want - s->have)
		n = s->want - s->have;	/* padding after the length */
	memcpy(s->buf + s->have, b, n);
	s->have += n;
	s->next = (s->next + 1) % SEG_MOD;
	if (s->have == s->want) {
		add_msg(c->r, 0, 0, s->buf, s->have);
		s->active = 0;
	}
}

static void
headers_off_line(struct parse_ctx *c, const char *line)
{
	struct elm327_reply	*r = c->r;
	char			 dig[ELM327_MAX_LINE + 1];
	uint8_t			 b[ELM327_MAX_LINE / 2];
	int			 nd, idx;

	idx = hexval((unsigned char)line[0]);
	if (idx >= 0 && line[1] == ':') {
		if ((nd = hex_digits(line + 2, dig, sizeof(dig))) < 0) {
			r->nunknown++;
			return;
		}
		seg_line(c, idx, dig, (size_t)nd);
		return;
	}
	if ((nd = hex_digits(line, dig, sizeof(dig))) <= 0) {
		r->nunknown++;
		return;
	}
	c->ndata++;
	if (nd == HDR11_DIGITS) {
		/* Length line of a multi-frame answer. */
		if (c->seg.active)
			r->incomplete++;
		c->seg.active = 0;
		c->seg.want = digits_value(dig, (size_t)nd);
		if (c->seg.want == 0 || c->seg.want > r->rx.max_len) {
			r->nerr++;
			r->last_err = ISOTP_ERR_TOO_LONG;
			return;
		}
		c->seg.active = 1;
		c->seg.have = 0;
		c->seg.next = 0;
		return;
	}
	if (nd % 2 != 0) {
		r->nerr++;
		r->last_err = ISOTP_ERR_LENGTH;
		return;
	}
	add_msg(r, 0, 0, b, digits_bytes(dig, (size_t)nd, b));
}

static void
data_line(struct parse_ctx *c, const char *line)
{
	char	dig[ELM327_MAX_LINE + 1];
	int	nd;

	if (!c->headers) {
		headers_off_line(c, line);
		return;
	}
	if ((nd = hex_digits(line, dig, sizeof(dig))) <= 0) {
		c->r->nunknown++;
		return;
	}
	headers_on_line(c, dig, (size_t)nd);
}

static void
text_line(struct parse_ctx *c, const char *line)
{
	size_t	n;

	if (c->r->text[0] != '\0')
		return;
	if ((n = strlen(line)) >= sizeof(c->r->text))
		n = sizeof(c->r->text) - 1;	/* long text is for logs */
	memcpy(c->r->text, line, n);
	c->r->text[n] = '\0';
}

static void
one_line(struct parse_ctx *c, char *line, int first, const char *ncmd)
{
	char	norm[ELM327_MAX_LINE + 1];
	size_t	unknown;

	if (first && ncmd[0] != '\0') {
		normalise(line, strlen(line), norm, sizeof(norm));
		if (strcmp(norm, ncmd) == 0) {
			c->r->echo = 1;
			return;
		}
	}
	if (status_line(c, line) == 0)
		return;
	if (c->at_cmd) {
		text_line(c, line);
		return;
	}
	unknown = c->r->nunknown;
	data_line(c, line);
	if (c->r->nunknown > unknown)
		text_line(c, line);
}

int
elm327_parse(const char *buf, size_t len, const char *cmd, int flags,
    struct elm327_reply *r)
{
	struct parse_ctx	 c;
	char			 ncmd[ELM327_MAX_LINE + 1];
	char			 line[ELM327_MAX_LINE + 1];
	size_t			 i, ll = 0, binary = 0;
	int			 first = 1, toolong = 0;

	memset(r, 0, offsetof(struct elm327_reply, pool));
	r->pool_used = 0;
	isotp_rx_reset(&r->rx, 0);
	memset(&c, 0, sizeof(c));
	c.seg.buf = r->seg;
	c.r = r;
	c.headers = (flags & ELM327_F_HEADERS) != 0;
	ncmd[0] = '\0';
	if (cmd != NULL)
		normalise(cmd, strlen(cmd), ncmd, sizeof(ncmd));
	c.at_cmd = prefix_nocase(ncmd, "AT") || prefix_nocase(ncmd, "ST");
	if (buf == NULL || len > ELM327_MAX_REPLY) {
		r->status = ELM327_GARBAGE;
		return -1;
	}
	for (i = 0; i <= len && !toolong; i++) {
		unsigned char	ch = i < len ? (unsigned char)buf[i] : '\r';

		if (ch == '\r' || ch == '\n') {
			while (ll > 0 && line[ll - 1] == ' ')
				ll--;
			line[ll] = '\0';
			if (ll > 0) {
				one_line(&c, line, first, ncmd);
				first = 0;
			}
			ll = 0;
			continue;
		}
		if (ch < ' ' || ch >= 0x7f) {
			binary++;
			continue;
		}
		if (ch == ' ' && ll == 0)
			continue;
		if (ll >= ELM327_MAX_LINE)
			toolong = 1;
		else
			line[ll++] = (char)ch;
	}
	if (c.seg.active)
		r->incomplete++;
	r->incomplete += isotp_rx_pending(&r->rx);
	if (toolong || (binary > BINARY_MIN && binary * BINARY_SHARE > len) ||
	    (r->nunknown > 0 && c.ndata == 0 && c.err == ELM327_EMPTY &&
	    !r->ok && !c.at_cmd && r->text[0] == '\0')) {
		r->status = ELM327_GARBAGE;
		r->nmsg = 0;
		return -1;
	}
	if (c.err != ELM327_EMPTY)
		r->status = c.err;
	else if (r->nmsg > 0 || c.ndata > 0)
		r->status = ELM327_DATA;
	else if (r->ok)
		r->status = ELM327_OK;
	else if (r->text[0] != '\0')
		r->status = ELM327_TEXT;
	else
		r->status = ELM327_EMPTY;
	return 0;
}

const struct elm327_msg *
elm327_find(const struct elm327_reply *r, uint32_t id)
{
	size_t	i;

	for (i = 0; i < r->nmsg; i++)
		if (r->msg[i].has_id && r->msg[i].id == id)
			return &r->msg[i];
	return NULL;
}

const char *
elm327_status_str(enum elm327_status st)
{
	switch (st) {
	case ELM327_EMPTY:		return "empty";
	case ELM327_OK:			return "ok";
	case ELM327_DATA:		return "data";
	case ELM327_TEXT:		return "text";
	case ELM327_NO_DATA:		return "no data";
	case ELM327_CAN_ERROR:		return "can error";
	case ELM327_BUS_INIT_ERROR:	return "bus init error";
	case ELM327_STOPPED:		return "stopped";
	case ELM327_UNKNOWN_COMMAND:	return "unknown command";
	case ELM327_ERROR:		return "error";
	case ELM327_UNABLE_TO_CONNECT:	return "unable to connect";
	case ELM327_BUFFER_FULL:	return "buffer full";
	case ELM327_DATA_ERROR:		return "data error";
	case ELM327_RX_ERROR:		return "rx error";
	case ELM327_BUS_BUSY:		return "bus busy";
	case ELM327_BUS_ERROR:		return "bus error";
	case ELM327_FB_ERROR:		return "fb error";
	case ELM327_ACT_ALERT:		return "activity alert";
	case ELM327_LV_RESET:		return "low voltage reset";
	case ELM327_LP_ALERT:		return "low power alert";
	case ELM327_GARBAGE:		return "garbage";
	}
	return "unknown";
}

int
elm327_parse_dpn(const char *text, int *proto, int *automatic)
{
	int	v;

	*automatic = 0;
	if (text[0] == 'A' && text[1] != '\0') {
		*automatic = 1;
		text++;
	}
	/* Protocols 0 (none) .. C; ELM327 v2 has no more. */
	if ((v = hexval((unsigned char)text[0])) < 0 || v > 0xc ||
	    text[1] != '\0')
		return -1;
	*proto = v;
	return 0;
}

int
elm327_parse_voltage(const char *text, int *voltage_mv)
{
	long	v = 0, frac = 0, scale = 1000;
	int	nd = 0;

	for (; isdigit((unsigned char)*text) && nd < 3; text++, nd++)
		v = v * 10 + (*text - '0');
	if (nd == 0)
		return -1;
	if (*text == '.') {
		text++;
		for (; isdigit((unsigned char)*text) && scale > 1; text++) {
			scale /= 10;
			frac += (*text - '0') * scale;
		}
	}
	/* The unit is optional: some clones print the bare number. */
	if (*text == 'V' || *text == 'v')
		text++;
	if (*text != '\0')
		return -1;
	*voltage_mv = (int)(v * 1000 + frac);
	return 0;
}

int
elm327_parse_version(const char *text, int *major, int *minor)
{
	int	ma = 0, mi = 0, n;

	if (!prefix_nocase(text, "ELM327 v"))
		return -1;
	text += strlen("ELM327 v");
	for (n = 0; isdigit((unsigned char)*text) && n < 3; text++, n++)
		ma = ma * 10 + (*text - '0');
	if (n == 0 || *text++ != '.')
		return -1;
	for (n = 0; isdigit((unsigned char)*text) && n < 3; text++, n++)
		mi = mi * 10 + (*text - '0');
	if (n == 0)
		return -1;
	*major = ma;
	*minor = mi;
	return 0;
}
