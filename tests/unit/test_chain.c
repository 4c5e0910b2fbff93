/* SPDX-License-Identifier: MIT */
/*
 * test_chain.c - the per-stream hash chain (chain.h): the links of a
 * known sequence (expected values computed apart with Python's hashlib),
 * resuming from a link, and that an edited, removed or reordered record
 * changes the head; seqs must increase; hex both ways.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "chain.h"

TestSuite(chain, .timeout = 30);

static const char	*const r1 = "{\"seq\":1,\"kind\":\"position\"}";
static const char	*const r2 = "{\"seq\":2,\"kind\":\"position\"}";

#define H1 "4045bf7b05f5c5bfcf385630833e00b610046e1514a8adfe45a37d82321a3e44"
#define H2 "b6abb58e8ce9ddd86a6df9508a43e08d77da22b266d2e3743b8d763c2e1ee697"
#define H5 "1796b65595a23922efcca79977472ae8ca59ecbfacb447c40d51abf984210526"

static void
assert_head(const struct chain *c, const char *want)
{
	char	hex[CHAIN_HEX_LEN];

	chain_hex(c->head, hex);
	cr_assert_str_eq(hex, want);
}

static void
assert_not_head(const struct chain *c, const char *other)
{
	char	hex[CHAIN_HEX_LEN];

	chain_hex(c->head, hex);
	cr_assert_str_neq(hex, other);
}

Test(chain, known_links)
{
	struct chain	c;

	chain_init(&c);
	cr_assert_eq(c.seq, 0);
	cr_assert_eq(chain_add(&c, 1, r1, strlen(r1)), 0);
	assert_head(&c, H1);
	cr_assert_eq(chain_add(&c, 2, r2, strlen(r2)), 0);
	assert_head(&c, H2);
	/* A gap (seqs 3 and 4 gone) and an empty record. */
	cr_assert_eq(chain_add(&c, 5, NULL, 0), 0);
	assert_head(&c, H5);
	cr_assert_eq(c.seq, 5);
}

Test(chain, resume_gives_the_same_head)
{
	struct chain	a, b;
	unsigned char	h1[CHAIN_HASH_LEN];

	chain_init(&a);
	cr_assert_eq(chain_add(&a, 1, r1, strlen(r1)), 0);
	cr_assert_eq(chain_unhex(H1, h1), 0);
	chain_resume(&b, 1, h1);
	cr_assert_eq(chain_add(&a, 2, r2, strlen(r2)), 0);
	cr_assert_eq(chain_add(&b, 2, r2, strlen(r2)), 0);
	cr_assert_eq(memcmp(a.head, b.head, CHAIN_HASH_LEN), 0);
}

Test(chain, tampering_changes_the_head)
{
	struct chain	edited, removed, swapped;
	const char	*r1x = "{\"seq\":1,\"kind\":\"positioN\"}";

	chain_init(&edited);
	cr_assert_eq(chain_add(&edited, 1, r1x, strlen(r1x)), 0);
	cr_assert_eq(chain_add(&edited, 2, r2, strlen(r2)), 0);
	chain_init(&removed);
	cr_assert_eq(chain_add(&removed, 2, r2, strlen(r2)), 0);
	chain_init(&swapped);
	cr_assert_eq(chain_add(&swapped, 1, r2, strlen(r2)), 0);
	cr_assert_eq(chain_add(&swapped, 2, r1, strlen(r1)), 0);
	assert_not_head(&edited, H2);
	assert_not_head(&removed, H2);
	assert_not_head(&swapped, H2);
}

Test(chain, seq_must_increase)
{
	struct chain	c;
	unsigned char	before[CHAIN_HASH_LEN];

	chain_init(&c);
	cr_assert_eq(chain_add(&c, 0, r1, strlen(r1)), -1);
	cr_assert_eq(chain_add(&c, 2, r2, strlen(r2)), 0);
	memcpy(before, c.head, CHAIN_HASH_LEN);
	cr_assert_eq(chain_add(&c, 2, r2, strlen(r2)), -1);
	cr_assert_eq(chain_add(&c, 1, r1, strlen(r1)), -1);
	cr_assert_eq(chain_add(&c, 3, NULL, 5), -1);
	cr_assert_eq(memcmp(before, c.head, CHAIN_HASH_LEN), 0);
	cr_assert_eq(c.seq, 2);
}

Test(chain, hex_both_ways)
{
	unsigned char	h[CHAIN_HASH_LEN];
	char		hex[CHAIN_HEX_LEN];
	char		upper[CHAIN_HEX_LEN];
	size_t		i;

	cr_assert_eq(chain_unhex(H5, h), 0);
	chain_hex(h, hex);
	cr_assert_str_eq(hex, H5);
	for (i = 0; i < sizeof(upper) - 1; i++)
		upper[i] = (char)(H5[i] >= 'a' ? H5[i] - 32 : H5[i]);
	upper[sizeof(upper) - 1] = '\0';
	cr_assert_eq(chain_unhex(upper, h), 0);
	chain_hex(h, hex);
	cr_assert_str_eq(hex, H5);
	cr_assert_eq(chain_unhex(H5 "0", h), -1);
	memcpy(upper, H5, sizeof(upper));
	upper[0] = upper[1] = 'z';
	cr_assert_eq(chain_unhex(upper, h), -1);
	cr_assert_eq(chain_unhex("", h), -1);
	cr_assert_eq(chain_unhex(NULL, h), -1);
}
