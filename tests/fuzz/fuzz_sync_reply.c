/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sync_reply.c - libFuzzer target: what the platform sends back
 * (docs/platform-api.md), through the parsers sync.c uses on it:
 * sync_parse_ack() for the reply to an upload of the events stream, and
 * sync_parse_command() for each element of a poll reply's "commands".
 *
 * Input: the reply body as received (any bytes).
 *
 * Checked besides the sanitizers (a violation aborts), from sync.h:
 *  - sync_parse_ack() returns 0 or -1; -1 with a reason; 0 only for an
 *    object whose "stream" is "events" and whose "acked_through" is an
 *    integer >= 0, equal to the parsed value; at most SYNC_REJECTED_MAX
 *    rejected entries, each with a seq >= 1 and a terminated reason;
 *    "holds" absent or null: SYNC_HOLDS_NONE; SYNC_HOLDS_OK only with an
 *    integer seq >= 1 equal to holds_seq and an "h" of 64 hex digits
 *    that are holds_h; otherwise SYNC_HOLDS_BAD with holds_seq 0;
 *  - the same bytes parsed again give the same result (no hidden state);
 *  - sync_parse_command() returns 0 only with an id of 1..STORE_CMD_ID_MAX
 *    bytes, a type of 1..STORE_CMD_TYPE_MAX bytes and args NULL or an
 *    object; -1 with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain.h"
#include "store.h"
#include "sync.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__asan_default_options(void);

/* The parsers hold no global state; leaks are bugs. */
const char *
__asan_default_options(void)
{
	return "detect_leaks=1";
}

/* The parsed holds against jansson's view of the member. */
static void
check_holds(const struct sync_ack *a, const json_t *hd)
{
	const json_t	*seq = json_object_get(hd, "seq");
	const char	*hex = json_string_value(json_object_get(hd, "h"));
	unsigned char	 h[CHAIN_HASH_LEN];
	char		 back[CHAIN_HEX_LEN];
	size_t		 i;

	switch (a->holds) {
	case SYNC_HOLDS_NONE:
		if (hd != NULL && !json_is_null(hd))
			abort();
		break;
	case SYNC_HOLDS_OK:
		if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
		    (uint64_t)json_integer_value(seq) != a->holds_seq ||
		    hex == NULL || strlen(hex) != 2 * CHAIN_HASH_LEN)
			abort();
		chain_hex(a->holds_h, back);
		for (i = 0; i < 2 * CHAIN_HASH_LEN; i++) {
			char c = hex[i] >= 'A' && hex[i] <= 'F' ?
			    (char)(hex[i] - 'A' + 'a') : hex[i];

			if (c != back[i])
				abort();
		}
		break;
	case SYNC_HOLDS_BAD:
		if (hd == NULL || json_is_null(hd) || a->holds_seq != 0)
			abort();
		if (json_is_integer(seq) && json_integer_value(seq) >= 1 &&
		    chain_unhex(hex, h) == 0)
			abort();	/* a usable holds called bad */
		break;
	default:
		abort();
	}
}

static void
check_ack(const uint8_t *data, size_t size)
{
	static struct sync_ack	a, b;
	char			why[128], why2[128];
	json_t			*r;
	json_error_t		 jerr;
	size_t			 i;
	int			 rc, rc2;

	why[0] = '\0';
	rc = sync_parse_ack((const char *)data, size, "events", &a, why,
	    sizeof(why));
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && why[0] == '\0')
		abort();
	rc2 = sync_parse_ack((const char *)data, size, "events", &b, why2,
	    sizeof(why2));
	if (rc2 != rc)
		abort();
	if (rc == -1)
		return;
	if (memcmp(&a.acked_through, &b.acked_through,
	    sizeof(a.acked_through)) != 0 || a.nrejected != b.nrejected ||
	    a.holds != b.holds || a.holds_seq != b.holds_seq ||
	    memcmp(a.holds_h, b.holds_h, sizeof(a.holds_h)) != 0)
		abort();
	if (a.nrejected > SYNC_REJECTED_MAX)
		abort();
	for (i = 0; i < a.nrejected; i++) {
		if (a.rejected[i].seq < 1 ||
		    memchr(a.rejected[i].reason, '\0',
		    sizeof(a.rejected[i].reason)) == NULL)
			abort();
	}
	/* Accepted: jansson agrees on the essentials. */
	r = json_loadb((const char *)data, size, 0, &jerr);
	if (!json_is_object(r) ||
	    strcmp(json_string_value(json_object_get(r, "stream")) != NULL ?
	    json_string_value(json_object_get(r, "stream")) : "", "events") != 0 ||
	    !json_is_integer(json_object_get(r, "acked_through")) ||
	    (uint64_t)json_integer_value(json_object_get(r, "acked_through")) !=
	    a.acked_through)
		abort();
	check_holds(&a, json_object_get(r, "holds"));
	json_decref(r);
}

static void
check_commands(const uint8_t *data, size_t size)
{
	json_t		*r, *cmd;
	json_error_t	 jerr;
	const char	*id, *type;
	const json_t	*args;
	char		 why[128];
	size_t		 i;

	if ((r = json_loadb((const char *)data, size, 0, &jerr)) == NULL)
		return;
	json_array_foreach(json_object_get(r, "commands"), i, cmd) {
		why[0] = '\0';
		switch (sync_parse_command(cmd, &id, &type, &args, why,
		    sizeof(why))) {
		case 0:
			if (id == NULL || id[0] == '\0' ||
			    strlen(id) > STORE_CMD_ID_MAX || type == NULL ||
			    type[0] == '\0' || strlen(type) > STORE_CMD_TYPE_MAX ||
			    (args != NULL && !json_is_object(args)))
				abort();
			break;
		case -1:
			if (why[0] == '\0')
				abort();
			break;
		default:
			abort();
		}
	}
	json_decref(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_ack(data, size);
	check_commands(data, size);
	return 0;
}
