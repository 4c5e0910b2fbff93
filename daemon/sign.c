/* SPDX-License-Identifier: MIT */
/*
 * sign.c - Ed25519 signatures with OpenSSL's EVP interface (sign.h).
 *
 * Key files are read into memory first, through one descriptor that is
 * also the one whose type and mode are checked (no window between a
 * stat() and an open() for the file to be swapped), and parsed from
 * there.  Every failure empties OpenSSL's thread-local error queue:
 * libcurl, built on the same libcrypto, reads that queue after its own
 * calls and would blame a TLS handshake on a key file we parsed.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sign.h"
#include "util.h"

/* A PEM key is well under 1 KiB; a bigger file is something else. */
#define KEY_FILE_MAX	(64 * 1024)
/* Base64 of a signature: 64 bytes are 22 groups, the last "XY==". */
#define SIG_B64_CHARS	(SIGN_B64_LEN - 1)
#define SIG_B64_DECODED	((SIG_B64_CHARS / 4) * 3)
/* Group and other read and write bits: who else could use the key. */
#define MODE_SHARED	(S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)
#define MODE_READ	(S_IRGRP | S_IROTH)

struct sign_key {
	EVP_PKEY	*pkey;
};

struct sign_pub {
	EVP_PKEY	*pkey;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The whole of path, a regular file of at most KEY_FILE_MAX bytes, into
 * *bufp (malloc'ed, *lenp bytes, NUL after them).  A secret file must
 * not be open to group or others.  0, or -1 with err filled.
 */
static int
read_key_file(const char *path, bool secret, char **bufp, size_t *lenp,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	/* O_NONBLOCK: a FIFO put in the key's place must not hang us. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) ==
	    -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (secret && (st.st_mode & MODE_SHARED) != 0) {
		seterr(err, errlen, "%s: %s by group or others (mode %04o); "
		    "chmod 600 it", path, (st.st_mode & MODE_READ) != 0 ?
		    "readable" : "writable", (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (st.st_size > KEY_FILE_MAX) {
		seterr(err, errlen, "%s: larger than %d bytes, not a key file",
		    path, KEY_FILE_MAX);
		close(fd);
		return -1;
	}
	/* One byte more than the size, to see a file that grew. */
	buf = xmalloc((size_t)st.st_size + 2);
	for (;;) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size)
			break;
	}
	if (n == -1 || len > (size_t)st.st_size) {
		seterr(err, errlen, "%s: %s", path, n == -1 ? strerror(errno) :
		    "changed while being read");
		OPENSSL_cleanse(buf, len);
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* The passphrase callback: none is given, but note that one was asked. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)arg = true;
	return -1;
}

/* Why buf did not parse as a key of the wanted kind ("private", "public"). */
static void
pem_error(const char *path, const char *buf, const char *kind, char *err,
    size_t errlen)
{
	if (strstr(buf, "-----BEGIN ") == NULL)
		seterr(err, errlen, "%s: not a PEM file (no \"-----BEGIN\" "
		    "line)", path);
	else if (strcmp(kind, "private") == 0 &&
	    strstr(buf, "-----BEGIN PUBLIC KEY-----") != NULL)
		seterr(err, errlen, "%s: a public key, not a private key",
		    path);
	else
		seterr(err, errlen, "%s: not a PEM %s key", path, kind);
}

/* pkey is Ed25519; else err names what it is. */
static bool
is_ed25519(const char *path, EVP_PKEY *pkey, char *err, size_t errlen)
{
	const char	*type;

	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519)
		return true;
	type = EVP_PKEY_get0_type_name(pkey);
	seterr(err, errlen, "%s: not an Ed25519 key (%s); make one with "
	    "\"openssl genpkey -algorithm ed25519\"", path,
	    type != NULL ? type : "unknown type");
	return false;
}

struct sign_key *
sign_key_load(const char *path, char *err, size_t errlen)
{
	struct sign_key	*k;
	EVP_PKEY	*pkey;
	BIO		*bio;
	char		*buf;
	size_t		 len;
	bool		 asked = false;

	if (read_key_file(path, true, &buf, &len, err, errlen) == -1)
		return NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		seterr(err, errlen, "%s: out of memory in OpenSSL", path);
		pkey = NULL;
	} else {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
		    &asked);
		BIO_free(bio);
		if (pkey == NULL && asked)
			seterr(err, errlen, "%s: the key is encrypted; store "
			    "it without a passphrase, mode 600", path);
		else if (pkey == NULL)
			pem_error(path, buf, "private", err, errlen);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	ERR_clear_error();
	if (pkey == NULL)
		return NULL;
	if (!is_ed25519(path, pkey, err, errlen)) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	return k;
}

void
sign_key_free(struct sign_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int
sign_raw(const struct sign_key *k, const void *msg, size_t len,
    unsigned char sig[SIGN_SIG_LEN])
{
	static const unsigned char	 none[1];
	EVP_MD_CTX			*md;
	size_t				 siglen = SIGN_SIG_LEN;
	int				 ok;

	if (msg == NULL)
		msg = none;	/* len is 0 */
	/* Ed25519 signs the message itself: no digest, one call. */
	ok = (md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, len) == 1 &&
	    siglen == SIGN_SIG_LEN;
	EVP_MD_CTX_free(md);
	if (!ok) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
sign_base64(const struct sign_key *k, const void *msg, size_t len,
    char out[SIGN_B64_LEN])
{
	unsigned char	sig[SIGN_SIG_LEN];

	if (sign_raw(k, msg, len, sig) == -1)
		return -1;
	/* Writes 88 characters and a NUL. */
	if (EVP_EncodeBlock((unsigned char *)out, sig, SIGN_SIG_LEN) !=
	    SIG_B64_CHARS)
		return -1;
	return 0;
}

char *
sign_pubkey_pem(const struct sign_key *k)
{
	BIO	*bio;
	char	*data, *pem = NULL;
	long	 n;

	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0) {
		pem = xmalloc((size_t)n + 1);
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(bio);
	ERR_clear_error();
	return pem;
}

int
sign_pubkey_raw(const struct sign_key *k, unsigned char out[SIGN_PUB_LEN])
{
	size_t	len = SIGN_PUB_LEN;

	if (EVP_PKEY_get_raw_public_key(k->pkey, out, &len) != 1 ||
	    len != SIGN_PUB_LEN) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* A public key from PEM text; why it is not one in err (may be NULL). */
static struct sign_pub *
pub_parse(const char *path, const char *pem, size_t len, char *err,
    size_t errlen)
{
	struct sign_pub	*p;
	EVP_PKEY	*pkey = NULL;
	BIO		*bio;

	if (len > KEY_FILE_MAX) {
		seterr(err, errlen, "%s: larger than %d bytes, not a key",
		    path, KEY_FILE_MAX);
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		seterr(err, errlen, "%s: out of memory in OpenSSL", path);
	else {
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	if (pkey == NULL) {
		if (bio != NULL)
			seterr(err, errlen, "%s: not a PEM public key "
			    "(\"-----BEGIN PUBLIC KEY-----\")", path);
		return NULL;
	}
	if (!is_ed25519(path, pkey, err, errlen)) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->pkey = pkey;
	return p;
}

struct sign_pub *
sign_pub_load(const char *path, char *err, size_t errlen)
{
	struct sign_pub	*p;
	char		*buf;
	size_t		 len;

	if (read_key_file(path, false, &buf, &len, err, errlen) == -1)
		return NULL;
	if (strstr(buf, "-----BEGIN ") == NULL) {
		seterr(err, errlen, "%s: not a PEM file (no \"-----BEGIN\" "
		    "line)", path);
		free(buf);
		return NULL;
	}
	p = pub_parse(path, buf, len, err, errlen);
	free(buf);
	return p;
}

struct sign_pub *
sign_pub_from_pem(const char *pem, size_t len)
{
	if (pem == NULL)
		return NULL;
	return pub_parse("PEM text", pem, len, NULL, 0);
}

void
sign_pub_free(struct sign_pub *p)
{
	if (p == NULL)
		return;
	EVP_PKEY_free(p->pkey);
	free(p);
}

int
sign_verify(const struct sign_pub *p, const void *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	static const unsigned char	 none[1];
	EVP_MD_CTX			*md;
	int				 rc;

	if (p == NULL)
		return -1;
	if (sig == NULL || siglen != SIGN_SIG_LEN)
		return 0;
	if (msg == NULL)
		msg = none;	/* len is 0 */
	if ((md = EVP_MD_CTX_new()) == NULL) {
		ERR_clear_error();
		return -1;
	}
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, p->pkey) != 1)
		rc = -1;
	else {
		/* 1 valid, 0 invalid, < 0 an error. */
		rc = EVP_DigestVerify(md, sig, siglen, msg, len);
		if (rc < 0)
			rc = -1;
	}
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

int
sign_verify_base64(const struct sign_pub *p, const void *msg, size_t len,
    const char *b64)
{
	unsigned char	sig[SIG_B64_DECODED];
	char		again[SIGN_B64_LEN];

	if (p == NULL)
		return -1;
	/*
	 * EVP_DecodeBlock() skips blanks around the text and takes the
	 * padding as zero bytes; insist on the one canonical form by
	 * encoding the result again.
	 */
	if (b64 == NULL || strnlen(b64, SIGN_B64_LEN) != SIG_B64_CHARS)
		return 0;
	if (EVP_DecodeBlock(sig, (const unsigned char *)b64, SIG_B64_CHARS) !=
	    SIG_B64_DECODED) {
		ERR_clear_error();
		return 0;
	}
	if (EVP_EncodeBlock((unsigned char *)again, sig, SIGN_SIG_LEN) !=
	    SIG_B64_CHARS || strcmp(again, b64) != 0)
		return 0;
	return sign_verify(p, msg, len, sig, SIGN_SIG_LEN);
}
