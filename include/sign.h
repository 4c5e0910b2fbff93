/* SPDX-License-Identifier: MIT */
/*
 * sign.h - Ed25519 signatures of request bodies (docs/platform-api.md),
 * with OpenSSL's libcrypto (EVP).
 *
 * The gateway signs the exact bytes of every request body it sends with
 * the private key in signing.key_file; the platform checks them with the
 * public key registered for the device (sign_pubkey_pem() prints it,
 * "fleetgwctl" and the fake platform of the tests read it).  Ed25519 is
 * pure EdDSA (RFC 8032): the message is signed as it is, not a digest
 * of it, and a signature is 64 bytes, the same for the same key and
 * message.  It interoperates with
 *
 *	openssl genpkey -algorithm ed25519 -out signing.key
 *	openssl pkey -in signing.key -pubout -out signing.pub
 *	openssl pkeyutl -verify -rawin -pubin -inkey signing.pub \
 *	    -sigfile SIG -in MSG
 *
 * Functions that can fail with a message to show fill err (errlen bytes,
 * always NUL-terminated when errlen > 0) with one line, naming the path,
 * lower case, no period; the caller logs it.  None of them log, and each
 * leaves OpenSSL's error queue empty, so that a libcurl using the same
 * OpenSSL never sees a stale error of ours.  Not thread-safe beyond what
 * OpenSSL is: one key may be used from one thread at a time.
 */
#ifndef SIGN_H
#define SIGN_H

#include <stddef.h>

/* An Ed25519 private key (which also holds its public key). */
struct sign_key;
/* An Ed25519 public key, for checking signatures. */
struct sign_pub;

/* Sizes of Ed25519 keys and signatures, bytes. */
#define SIGN_SIG_LEN	64
#define SIGN_PUB_LEN	32
/* A signature in base64 (RFC 4648, with "=" padding) and its NUL. */
#define SIGN_B64_LEN	89

/*
 * Load a private key from path: PEM, PKCS#8 ("-----BEGIN PRIVATE
 * KEY-----", what "openssl genpkey -algorithm ed25519" writes), not
 * encrypted.  Refused, with NULL and a message in err:
 *  - path cannot be opened or read ("PATH: No such file or directory");
 *  - not a regular file;
 *  - readable or writable by group or others, checked on the open file
 *    ("PATH: readable by group or others (mode 0644); chmod 600 it");
 *  - larger than 64 KiB, not PEM, or PEM of something other than a
 *    private key;
 *  - encrypted (a passphrase would be needed; nothing is asked for);
 *  - a private key of another type ("PATH: an RSA key, not Ed25519").
 * The file's bytes are wiped from memory after parsing.  The key is the
 * caller's; free it with sign_key_free().
 */
struct sign_key	*sign_key_load(const char *path, char *err, size_t errlen);
void		 sign_key_free(struct sign_key *);	/* NULL ok */

/*
 * Sign len bytes at msg (msg may be NULL when len is 0).  sign_raw()
 * writes the 64-byte signature to sig; sign_base64() writes its 88
 * base64 characters and a NUL to out (the X-Fleetgw-Signature value
 * after "ed25519=").  0, or -1 if OpenSSL fails (not expected with a
 * loaded key; out and sig are then undefined).
 */
int		 sign_raw(const struct sign_key *, const void *msg, size_t len,
		    unsigned char sig[SIGN_SIG_LEN]);
int		 sign_base64(const struct sign_key *, const void *msg,
		    size_t len, char out[SIGN_B64_LEN]);

/*
 * The public key of a private key: as SubjectPublicKeyInfo PEM text
 * ("-----BEGIN PUBLIC KEY-----\n...-----END PUBLIC KEY-----\n", NUL-
 * terminated, malloc'ed, the caller frees it; NULL if OpenSSL fails),
 * or as its raw 32 bytes (0, or -1 if OpenSSL fails).
 */
char		*sign_pubkey_pem(const struct sign_key *);
int		 sign_pubkey_raw(const struct sign_key *,
		    unsigned char out[SIGN_PUB_LEN]);

/*
 * A public key from a PEM file (SubjectPublicKeyInfo, "-----BEGIN PUBLIC
 * KEY-----"; the mode does not matter) with messages as sign_key_load(),
 * or from len bytes of PEM text in memory (NULL when it is not an
 * Ed25519 public key, no message).  Free with sign_pub_free().
 */
struct sign_pub	*sign_pub_load(const char *path, char *err, size_t errlen);
struct sign_pub	*sign_pub_from_pem(const char *pem, size_t len);
void		 sign_pub_free(struct sign_pub *);	/* NULL ok */

/*
 * Check sig (siglen bytes) over len bytes at msg: 1 valid, 0 invalid
 * (also when siglen is not 64), -1 if OpenSSL fails.
 * sign_verify_base64() takes the signature as base64 text, exactly 88
 * characters with its "==" padding and nothing else (no spaces or line
 * breaks); anything else is an invalid signature, 0.
 */
int		 sign_verify(const struct sign_pub *, const void *msg,
		    size_t len, const unsigned char *sig, size_t siglen);
int		 sign_verify_base64(const struct sign_pub *, const void *msg,
		    size_t len, const char *b64);

#endif /* SIGN_H */
