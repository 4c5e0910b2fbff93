/* SPDX-License-Identifier: MIT */
/*
 * chain.c - the per-stream hash chain of records (chain.h).
 */
#include <string.h>

#include <openssl/evp.h>

#include "chain.h"

void
chain_init(struct chain *c)
{
	memset(c, 0, sizeof(*c));
}

void
chain_resume(struct chain *c, uint64_t seq,
    const unsigned char head[CHAIN_HASH_LEN])
{
	memcpy(c->head, head, CHAIN_HASH_LEN);
	c->seq = seq;
}

int
chain_add(struct chain *c, uint64_t seq, const void *bytes, size_t len)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 be[8], out[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0;
	int		 i, ok;

	if (seq <= c->seq || (bytes == NULL && len > 0))
		return -1;
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(seq >> (56 - 8 * i));
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, c->head, CHAIN_HASH_LEN) == 1 &&
	    EVP_DigestUpdate(ctx, be, sizeof(be)) == 1 &&
	    (len == 0 || EVP_DigestUpdate(ctx, bytes, len) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == CHAIN_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	memcpy(c->head, out, CHAIN_HASH_LEN);
	c->seq = seq;
	return 0;
}

void
chain_hex(const unsigned char h[CHAIN_HASH_LEN], char out[CHAIN_HEX_LEN])
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < CHAIN_HASH_LEN; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 0x0f];
	}
	out[2 * CHAIN_HASH_LEN] = '\0';
}

static int
nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
chain_unhex(const char *hex, unsigned char out[CHAIN_HASH_LEN])
{
	unsigned char	tmp[CHAIN_HASH_LEN];
	size_t		i;
	int		hi, lo;

	if (hex == NULL || strlen(hex) != 2 * CHAIN_HASH_LEN)
		return -1;
	for (i = 0; i < CHAIN_HASH_LEN; i++) {
		if ((hi = nibble(hex[2 * i])) < 0 ||
		    (lo = nibble(hex[2 * i + 1])) < 0)
			return -1;
		tmp[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(out, tmp, CHAIN_HASH_LEN);
	return 0;
}
