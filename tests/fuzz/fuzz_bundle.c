/* SPDX-License-Identifier: MIT */
/*
 * fuzz_bundle.c - libFuzzer target: an export bundle as an inspector
 * receives it (docs/bundle.md), through bundle_verify(), with a fixed
 * trusted key and without one.  A bundle is untrusted input: the file
 * may have been edited by anyone on its way.
 *
 * Input: the bundle file's bytes (any bytes).
 *
 * Checked besides the sanitizers (a violation aborts), from bundle.h:
 *  - bundle_verify() returns 0 (a file in memory can always be read);
 *  - ok is true exactly when no problem was counted, np <= nproblems,
 *    np <= BUNDLE_PROBLEMS_MAX, every kept problem has a kind and a
 *    message and from_seq <= to_seq;
 *  - without a trusted key the verdict is never ok;
 *  - the same bytes give the same verdict (no hidden state).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "sign.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=1";
}

/* A throw-away Ed25519 public key (RFC 8032 test 1). */
static const char pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n";

static struct bundle_result	r1, r2;

static void
check(const struct bundle_result *r, const char *why)
{
	size_t	i;

	if (r->ok != (r->nproblems == 0) || r->np > r->nproblems ||
	    r->np > BUNDLE_PROBLEMS_MAX) {
		fprintf(stderr, "%s: ok %d, %zu kept of %llu problems\n", why,
		    r->ok, r->np, (unsigned long long)r->nproblems);
		abort();
	}
	for (i = 0; i < r->np; i++)
		if (r->p[i].kind[0] == '\0' || r->p[i].msg[0] == '\0' ||
		    r->p[i].from_seq > r->p[i].to_seq ||
		    memchr(r->p[i].msg, '\0', sizeof(r->p[i].msg)) == NULL) {
			fprintf(stderr, "%s: problem %zu malformed\n", why, i);
			abort();
		}
}

static void
run(const uint8_t *data, size_t size, const struct sign_pub *key,
    struct bundle_result *r)
{
	FILE	*fp;

	/* fmemopen() refuses a size of 0: an empty file is "". */
	fp = fmemopen(size > 0 ? (void *)data : (void *)"", size > 0 ?
	    size : 1, "r");
	if (fp == NULL)
		abort();
	if (size == 0)
		(void)fgetc(fp);
	if (bundle_verify(fp, key, r) != 0)
		abort();
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sign_pub	*key;

	key = sign_pub_from_pem(pem, sizeof(pem) - 1);
	if (key == NULL)
		abort();
	run(data, size, key, &r1);
	check(&r1, "trusted");
	run(data, size, key, &r2);
	if (r1.ok != r2.ok || r1.nproblems != r2.nproblems ||
	    r1.lines != r2.lines)
		abort();
	sign_pub_free(key);
	run(data, size, NULL, &r1);
	check(&r1, "no key");
	if (r1.ok)
		abort();
	return 0;
}
