/* SPDX-License-Identifier: MIT */
/*
 * test_sign.c - Ed25519 signatures (daemon/sign.c).
 *
 * Keys are made for each test with the openssl command line tool (Debian
 * package openssl, in scripts/deps.sh) in a fresh directory under /tmp,
 * and signatures are checked both ways with "openssl pkeyutl -rawin",
 * so the tests prove that the platform, or anyone with OpenSSL, can
 * check what the gateway signs.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/err.h>

#include "sign.h"
#include "util.h"

/* A message like a request body: gzip bytes, with NULs. */
static const unsigned char body[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab,
	0x56, 0x4a, 0x49, 0x2d, 0xcb, 0x4c, 0x4e, 0x8d, 0xcf, 0x4c, 0x51,
	0xb2, 0x52, 0x0a, 0x76, 0xd6, 0x35, 0x30, 0x30, 0x30, 0x54, 0xaa,
	0x05, 0x00, 0x00, 0x00
};

static char	 dir[] = "/tmp/test_sign_XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Run a shell command (paths are ours, no quoting needed); exit status. */
static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	va_list	 ap;
	char	 cmd[4096];
	int	 st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	cr_assert(st != -1, "system: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
teardown(void)
{
	sh("rm -rf %s", dir);
}

TestSuite(sign, .init = setup, .fini = teardown);

/* dir/name, in one of 16 static buffers that take turns. */
#define IN_DIR_BUFS	16
static const char *
in_dir(const char *name)
{
	static char	bufs[IN_DIR_BUFS][512];
	static int	next;
	char		*b = bufs[next++ % IN_DIR_BUFS];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* A new Ed25519 key in dir/name, with the given mode; path kept apart. */
static const char *
make_key(const char *name, mode_t mode)
{
	static char	keys[4][512];
	static int	next;
	char		*path = keys[next++ % 4];

	snprintf(path, sizeof(keys[0]), "%s/%s", dir, name);

	cr_assert_eq(sh("openssl genpkey -algorithm ed25519 -out %s "
	    "2>/dev/null", path), 0, "openssl genpkey failed (is the openssl "
	    "package installed?)");
	cr_assert_eq(chmod(path, mode), 0);
	return path;
}

static struct sign_key *
load_ok(const char *path)
{
	struct sign_key	*k;
	char		 err[512] = "";

	k = sign_key_load(path, err, sizeof(err));
	cr_assert_not_null(k, "%s", err);
	cr_expect_eq(ERR_peek_error(), 0, "OpenSSL error queue not empty");
	return k;
}

/* sign_key_load() refuses path with exactly want ("PATH: ..."). */
static void
expect_refused(const char *path, const char *want)
{
	char	err[1024] = "", full[1024];

	snprintf(full, sizeof(full), "%s: %s", path, want);
	cr_expect_null(sign_key_load(path, err, sizeof(err)), "%s loaded",
	    path);
	cr_expect_str_eq(err, full);
	cr_expect_eq(ERR_peek_error(), 0, "%s: OpenSSL error queue not "
	    "empty", path);
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE	*fp = fopen(path, "wb");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(chmod(path, mode), 0);
}

static char *
read_file(const char *path, size_t *lenp)
{
	FILE	*fp = fopen(path, "rb");
	char	*buf;
	long	 len;

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)len + 1);
	cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
	buf[len] = '\0';
	fclose(fp);
	if (lenp != NULL)
		*lenp = (size_t)len;
	return buf;
}

/* The public key of k, through its PEM text. */
static struct sign_pub *
pub_of(const struct sign_key *k)
{
	struct sign_pub	*p;
	char		*pem = sign_pubkey_pem(k);

	cr_assert_not_null(pem);
	p = sign_pub_from_pem(pem, strlen(pem));
	cr_assert_not_null(p, "%s", pem);
	free(pem);
	return p;
}

Test(sign, sign_and_verify)
{
	struct sign_key	*k = load_ok(make_key("k.pem", 0600));
	struct sign_pub	*p = pub_of(k);
	unsigned char	 sig[SIGN_SIG_LEN], sig2[SIGN_SIG_LEN];
	unsigned char	 msg[sizeof(body)];

	cr_assert_eq(sign_raw(k, body, sizeof(body), sig), 0);
	cr_expect_eq(sign_verify(p, body, sizeof(body), sig, sizeof(sig)), 1);
	/* Ed25519 is deterministic: same key, same message, same bytes. */
	cr_assert_eq(sign_raw(k, body, sizeof(body), sig2), 0);
	cr_expect_eq(memcmp(sig, sig2, sizeof(sig)), 0);

	/* Any flipped bit of the message or the signature: invalid. */
	memcpy(msg, body, sizeof(body));
	msg[sizeof(msg) / 2] ^= 0x01;
	cr_expect_eq(sign_verify(p, msg, sizeof(msg), sig, sizeof(sig)), 0);
	cr_expect_eq(sign_verify(p, body, sizeof(body) - 1, sig, sizeof(sig)),
	    0);
	sig2[0] ^= 0x80;
	cr_expect_eq(sign_verify(p, body, sizeof(body), sig2, sizeof(sig2)),
	    0);
	sig2[0] ^= 0x80;
	sig2[SIGN_SIG_LEN - 1] ^= 0x01;
	cr_expect_eq(sign_verify(p, body, sizeof(body), sig2, sizeof(sig2)),
	    0);
	/* A signature of the wrong length is invalid, not an error. */
	cr_expect_eq(sign_verify(p, body, sizeof(body), sig, 63), 0);
	cr_expect_eq(sign_verify(p, body, sizeof(body), NULL, 0), 0);
	cr_expect_eq(sign_verify(NULL, body, sizeof(body), sig, sizeof(sig)),
	    -1);
	cr_expect_eq(ERR_peek_error(), 0);

	/* The empty message. */
	cr_assert_eq(sign_raw(k, NULL, 0, sig), 0);
	cr_expect_eq(sign_verify(p, NULL, 0, sig, sizeof(sig)), 1);
	cr_expect_eq(sign_verify(p, "", 0, sig, sizeof(sig)), 1);
	cr_expect_eq(sign_verify(p, "x", 1, sig, sizeof(sig)), 0);
	sign_pub_free(p);
	sign_key_free(k);
}

/* Another key's signature does not verify. */
Test(sign, other_key_invalid)
{
	struct sign_key	*k1 = load_ok(make_key("k1.pem", 0600));
	struct sign_key	*k2 = load_ok(make_key("k2.pem", 0600));
	struct sign_pub	*p1 = pub_of(k1), *p2 = pub_of(k2);
	unsigned char	 sig[SIGN_SIG_LEN];

	cr_assert_eq(sign_raw(k1, body, sizeof(body), sig), 0);
	cr_expect_eq(sign_verify(p1, body, sizeof(body), sig, sizeof(sig)), 1);
	cr_expect_eq(sign_verify(p2, body, sizeof(body), sig, sizeof(sig)), 0);
	sign_pub_free(p1);
	sign_pub_free(p2);
	sign_key_free(k1);
	sign_key_free(k2);
}

static int
b64_index(char c)
{
	static const char	alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p = strchr(alphabet, c);

	cr_assert(c != '\0' && p != NULL);
	return (int)(p - alphabet);
}

Test(sign, base64_round_trip)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	struct sign_key		*k = load_ok(make_key("k.pem", 0600));
	struct sign_pub		*p = pub_of(k);
	unsigned char		 sig[SIGN_SIG_LEN];
	char			 b64[SIGN_B64_LEN], bad[SIGN_B64_LEN + 8];
	size_t			 i;

	memset(b64, 'x', sizeof(b64));
	cr_assert_eq(sign_base64(k, body, sizeof(body), b64), 0);
	cr_expect_eq(strlen(b64), 88);
	cr_expect_eq(strspn(b64, alphabet), 86, "%s", b64);
	cr_expect_str_eq(b64 + 86, "==");
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), b64), 1);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body) - 1, b64), 0);
	/* The same bytes as sign_raw(). */
	cr_assert_eq(sign_raw(k, body, sizeof(body), sig), 0);
	cr_expect_eq(sign_verify(p, body, sizeof(body), sig, sizeof(sig)), 1);

	/* One character changed, anywhere: invalid. */
	for (i = 0; i < 86; i++) {
		memcpy(bad, b64, sizeof(b64));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0,
		    "character %zu", i);
	}
	/*
	 * The last data character carries 2 bits of the signature and 4
	 * unused ones: changing an unused bit gives the same bytes, but
	 * only the canonical text is taken.
	 */
	memcpy(bad, b64, sizeof(b64));
	bad[85] = alphabet[b64_index(bad[85]) ^ 1];
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	/* Not exactly the 88 characters. */
	snprintf(bad, sizeof(bad), "%s\n", b64);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	snprintf(bad, sizeof(bad), " %s", b64);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	snprintf(bad, sizeof(bad), "%.86s", b64);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	snprintf(bad, sizeof(bad), "%.86s=", b64);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	snprintf(bad, sizeof(bad), "%.86s.=", b64);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), ""), 0);
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), NULL), 0);
	memset(bad, '*', 88);
	bad[88] = '\0';
	cr_expect_eq(sign_verify_base64(p, body, sizeof(body), bad), 0);
	cr_expect_eq(sign_verify_base64(NULL, body, sizeof(body), b64), -1);
	cr_expect_eq(ERR_peek_error(), 0);
	sign_pub_free(p);
	sign_key_free(k);
}

/* What the gateway signs, openssl verifies, and the other way round. */
Test(sign, interoperates_with_openssl_cli)
{
	const char	*key = make_key("k.pem", 0600);
	struct sign_key	*k = load_ok(key);
	struct sign_pub	*p;
	unsigned char	 sig[SIGN_SIG_LEN], raw[SIGN_PUB_LEN];
	char		*pem, *cli_pem, *cli_sig, *der;
	size_t		 len;

	write_file(in_dir("msg"), body, sizeof(body), 0644);
	cr_assert_eq(sign_raw(k, body, sizeof(body), sig), 0);
	write_file(in_dir("sig"), sig, sizeof(sig), 0644);
	pem = sign_pubkey_pem(k);
	cr_assert_not_null(pem);
	write_file(in_dir("pub.pem"), pem, strlen(pem), 0644);
	cr_expect_eq(sh("openssl pkeyutl -verify -rawin -pubin -inkey %s "
	    "-sigfile %s -in %s >/dev/null 2>&1", in_dir("pub.pem"),
	    in_dir("sig"), in_dir("msg")), 0, "openssl does not verify our "
	    "signature");
	/* A flipped bit: openssl refuses it too. */
	sig[10] ^= 0x04;
	write_file(in_dir("sig.bad"), sig, sizeof(sig), 0644);
	cr_expect_neq(sh("openssl pkeyutl -verify -rawin -pubin -inkey %s "
	    "-sigfile %s -in %s >/dev/null 2>&1", in_dir("pub.pem"),
	    in_dir("sig.bad"), in_dir("msg")), 0);
	sig[10] ^= 0x04;

	/* openssl's public key PEM is ours, byte for byte. */
	cr_assert_eq(sh("openssl pkey -in %s -pubout -out %s", key,
	    in_dir("cli.pem")), 0);
	cli_pem = read_file(in_dir("cli.pem"), NULL);
	cr_expect_str_eq(pem, cli_pem);
	/* The raw key is the last 32 bytes of its DER SubjectPublicKeyInfo. */
	cr_assert_eq(sh("openssl pkey -in %s -pubout -outform DER -out %s", key,
	    in_dir("pub.der")), 0);
	der = read_file(in_dir("pub.der"), &len);
	cr_assert_eq(len, 12 + SIGN_PUB_LEN);
	cr_assert_eq(sign_pubkey_raw(k, raw), 0);
	cr_expect_eq(memcmp(raw, der + 12, SIGN_PUB_LEN), 0);

	/* openssl's signature: the same bytes (deterministic), and valid. */
	cr_assert_eq(sh("openssl pkeyutl -sign -rawin -inkey %s -in %s -out %s",
	    key, in_dir("msg"), in_dir("cli.sig")), 0);
	cli_sig = read_file(in_dir("cli.sig"), &len);
	cr_assert_eq(len, SIGN_SIG_LEN);
	cr_expect_eq(memcmp(cli_sig, sig, SIGN_SIG_LEN), 0);
	p = sign_pub_load(in_dir("cli.pem"), NULL, 0);
	cr_assert_not_null(p);
	cr_expect_eq(sign_verify(p, body, sizeof(body),
	    (unsigned char *)cli_sig, len), 1);
	sign_pub_free(p);
	free(pem);
	free(cli_pem);
	free(cli_sig);
	free(der);
	sign_key_free(k);
}

/* Group or other access to the key: refused, whatever else is right. */
Test(sign, key_mode)
{
	const char	*path = make_key("k.pem", 0600);

	sign_key_free(load_ok(path));
	cr_assert_eq(chmod(path, 0400), 0);
	sign_key_free(load_ok(path));
	/* Execute bits let nobody read the key. */
	cr_assert_eq(chmod(path, 0711), 0);
	sign_key_free(load_ok(path));
	cr_assert_eq(chmod(path, 0640), 0);
	expect_refused(path, "readable by group or others (mode 0640); "
	    "chmod 600 it");
	cr_assert_eq(chmod(path, 0604), 0);
	expect_refused(path, "readable by group or others (mode 0604); "
	    "chmod 600 it");
	cr_assert_eq(chmod(path, 0644), 0);
	expect_refused(path, "readable by group or others (mode 0644); "
	    "chmod 600 it");
	cr_assert_eq(chmod(path, 0620), 0);
	expect_refused(path, "writable by group or others (mode 0620); "
	    "chmod 600 it");
	cr_assert_eq(chmod(path, 0602), 0);
	expect_refused(path, "writable by group or others (mode 0602); "
	    "chmod 600 it");
}

Test(sign, key_not_a_regular_file)
{
	const char	*fifo = in_dir("fifo");

	expect_refused(in_dir("missing.pem"), "No such file or directory");
	expect_refused(dir, "not a regular file");
	/* A FIFO must not block the load. */
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	expect_refused(fifo, "not a regular file");
	cr_expect_null(sign_pub_load(fifo, NULL, 0));
}

/* Unreadable (only for a user who is not root, which reads anything). */
Test(sign, key_unreadable)
{
	if (geteuid() == 0) {
		teardown();	/* a skipped test does not run .fini */
		cr_skip_test("running as root: mode 0000 does not stop reads");
		return;
	}
	expect_refused(make_key("k.pem", 0000), "Permission denied");
}

Test(sign, key_of_another_type)
{
	char	 err[512] = "", want[512];
	char	*pem;

	cr_assert_eq(sh("openssl genpkey -algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:1024 -out %s 2>/dev/null", in_dir("rsa.pem")), 0);
	cr_assert_eq(chmod(in_dir("rsa.pem"), 0600), 0);
	expect_refused(in_dir("rsa.pem"), "not an Ed25519 key (RSA); make one "
	    "with \"openssl genpkey -algorithm ed25519\"");
	cr_assert_eq(sh("openssl genpkey -algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256 -out %s 2>/dev/null", in_dir("ec.pem")),
	    0);
	cr_assert_eq(chmod(in_dir("ec.pem"), 0600), 0);
	expect_refused(in_dir("ec.pem"), "not an Ed25519 key (EC); make one "
	    "with \"openssl genpkey -algorithm ed25519\"");
	/* The other curves of the family. */
	cr_assert_eq(sh("openssl genpkey -algorithm x25519 -out %s "
	    "2>/dev/null", in_dir("x.pem")), 0);
	cr_assert_eq(chmod(in_dir("x.pem"), 0600), 0);
	expect_refused(in_dir("x.pem"), "not an Ed25519 key (X25519); make "
	    "one with \"openssl genpkey -algorithm ed25519\"");
	cr_assert_eq(sh("openssl genpkey -algorithm ed448 -out %s "
	    "2>/dev/null", in_dir("ed448.pem")), 0);
	cr_assert_eq(chmod(in_dir("ed448.pem"), 0600), 0);
	expect_refused(in_dir("ed448.pem"), "not an Ed25519 key (ED448); make "
	    "one with \"openssl genpkey -algorithm ed25519\"");
	/* Their public keys are refused as public keys too. */
	cr_assert_eq(sh("openssl pkey -in %s -pubout -out %s",
	    in_dir("rsa.pem"), in_dir("rsa.pub")), 0);
	cr_expect_null(sign_pub_load(in_dir("rsa.pub"), err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: not an Ed25519 key (RSA); make one "
	    "with \"openssl genpkey -algorithm ed25519\"", in_dir("rsa.pub"));
	cr_expect_str_eq(err, want);
	pem = read_file(in_dir("rsa.pub"), NULL);
	cr_expect_null(sign_pub_from_pem(pem, strlen(pem)));
	free(pem);
	cr_expect_eq(ERR_peek_error(), 0);
}

Test(sign, key_garbage)
{
	static const char	 text[] = "this is not a key\n";
	static const char	 broken[] = "-----BEGIN PRIVATE KEY-----\n"
	    "MC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n";
	const char		*key;
	char			*pem, *big;

	write_file(in_dir("text"), text, strlen(text), 0600);
	expect_refused(in_dir("text"), "not a PEM file (no \"-----BEGIN\" "
	    "line)");
	write_file(in_dir("empty"), "", 0, 0600);
	expect_refused(in_dir("empty"), "not a PEM file (no \"-----BEGIN\" "
	    "line)");
	write_file(in_dir("bin"), body, sizeof(body), 0600);
	expect_refused(in_dir("bin"), "not a PEM file (no \"-----BEGIN\" "
	    "line)");
	write_file(in_dir("broken"), broken, strlen(broken), 0600);
	expect_refused(in_dir("broken"), "not a PEM private key");

	/* A public key where the private one belongs. */
	key = make_key("k.pem", 0600);
	cr_assert_eq(sh("openssl pkey -in %s -pubout -out %s", key,
	    in_dir("pub.pem")), 0);
	cr_assert_eq(chmod(in_dir("pub.pem"), 0600), 0);
	expect_refused(in_dir("pub.pem"), "a public key, not a private key");
	/* An encrypted key: no passphrase is asked for. */
	cr_assert_eq(sh("openssl pkcs8 -topk8 -in %s -v2 aes-256-cbc "
	    "-passout pass:secret -out %s", key, in_dir("enc.pem")), 0);
	cr_assert_eq(chmod(in_dir("enc.pem"), 0600), 0);
	expect_refused(in_dir("enc.pem"), "the key is encrypted; store it "
	    "without a passphrase, mode 600");
	/* Larger than any key. */
	big = xmalloc(64 * 1024 + 1);
	pem = read_file(key, NULL);
	memset(big, '\n', 64 * 1024 + 1);
	memcpy(big, pem, strlen(pem));
	write_file(in_dir("big.pem"), big, 64 * 1024 + 1, 0600);
	expect_refused(in_dir("big.pem"), "larger than 65536 bytes, not a key "
	    "file");
	/* Exactly 64 KiB: fine, the blank lines after the key are skipped. */
	write_file(in_dir("big.pem"), big, 64 * 1024, 0600);
	sign_key_free(load_ok(in_dir("big.pem")));
	free(big);
	free(pem);
}

/* A short err buffer is cut, and always NUL-terminated. */
Test(sign, short_error_buffer)
{
	char	err[8];

	memset(err, 'x', sizeof(err));
	cr_expect_null(sign_key_load(in_dir("missing"), err, sizeof(err)));
	cr_expect_eq(strlen(err), sizeof(err) - 1);
	cr_expect_null(sign_key_load(in_dir("missing"), NULL, 0));
	cr_expect_null(sign_pub_load(in_dir("missing"), err, 0));
}

Test(sign, public_key_files)
{
	const char	*key = make_key("k.pem", 0600);
	struct sign_key	*k = load_ok(key);
	struct sign_pub	*p;
	unsigned char	 sig[SIGN_SIG_LEN];
	char		 err[512] = "", want[512];
	char		*pem;

	cr_assert_eq(sh("openssl pkey -in %s -pubout -out %s", key,
	    in_dir("pub.pem")), 0);
	/* A public key may be readable by anyone. */
	cr_assert_eq(chmod(in_dir("pub.pem"), 0644), 0);
	p = sign_pub_load(in_dir("pub.pem"), err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	cr_assert_eq(sign_raw(k, body, sizeof(body), sig), 0);
	cr_expect_eq(sign_verify(p, body, sizeof(body), sig, sizeof(sig)), 1);
	sign_pub_free(p);

	/* A private key is not a public key file. */
	cr_expect_null(sign_pub_load(key, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: not a PEM public key (\"-----BEGIN "
	    "PUBLIC KEY-----\")", key);
	cr_expect_str_eq(err, want);
	cr_expect_null(sign_pub_load(in_dir("missing"), err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: No such file or directory",
	    in_dir("missing"));
	cr_expect_str_eq(err, want);
	write_file(in_dir("text"), "hello\n", 6, 0644);
	cr_expect_null(sign_pub_load(in_dir("text"), err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: not a PEM file (no \"-----BEGIN\" "
	    "line)", in_dir("text"));
	cr_expect_str_eq(err, want);

	/* From memory: PEM text, not its length beyond the key. */
	pem = sign_pubkey_pem(k);
	cr_assert_not_null(pem);
	cr_expect(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0, "%s",
	    pem);
	cr_expect_null(sign_pub_from_pem(pem, 20));
	cr_expect_null(sign_pub_from_pem("", 0));
	cr_expect_null(sign_pub_from_pem(NULL, 0));
	cr_expect_null(sign_pub_from_pem("garbage", 7));
	free(pem);
	pem = read_file(key, NULL);
	cr_expect_null(sign_pub_from_pem(pem, strlen(pem)));
	free(pem);
	cr_expect_eq(ERR_peek_error(), 0);
	sign_key_free(k);
}

Test(sign, free_null)
{
	sign_key_free(NULL);
	sign_pub_free(NULL);
}
