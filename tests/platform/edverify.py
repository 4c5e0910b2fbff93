#!/usr/bin/python3
"""edverify - Ed25519 signature verification (RFC 8032 §5.1.7), pure Python.

    verify(public_key_32_bytes, message, signature_64_bytes) -> bool
    load_public_key_pem(text) -> 32 bytes (SPKI "PUBLIC KEY" PEM)
    sign(seed, message), load_private_key_pem(text), public_key(seed)
        (for tests: signing the empty body of a GET, which the openssl
        3.0 command line refuses to do)
    OpensslVerifier(workdir).verify(pem_path, message, signature) -> bool

Python's standard library has no Ed25519; this is written from RFC 8032
with big-integer arithmetic on the twisted Edwards curve
-x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19), in extended coordinates
(X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z, and the complete addition
law for a = -1 (Hisil, Wong, Carter, Dawson 2008), which also doubles.

Verification: reject a signature that is not 64 bytes or whose S is not
below the group order L; decode the public key A (reject a y >= p, a
point not on the curve, x = 0 with the sign bit set); k = SHA-512(R || A
|| M) mod L; compute R' = [S]B + [k](-A) and accept iff the encoding of
R' equals the 32 bytes R of the signature (the cofactorless check, as
OpenSSL's ED25519_verify does; a non-canonical R never matches).

Speed: both scalar multiplications use fixed-base comb tables, 64 rows
of the 15 non-zero 4-bit multiples of 16^i P, stored affine as (y+x,
y-x, 2dxy), so a multiplication is at most 64 mixed additions and no
doublings.  The base point's table is built once at import (about 5 ms);
each public key's table is built at its first use and cached (about 5 ms
per key).  A verification then costs one SHA-512, at most 128 mixed
additions and one modular inversion: `python3 edverify.py --bench`.

Standard library only; run with /usr/bin/python3.
"""

import base64
import hashlib
import hmac
import os
import subprocess
import sys
import tempfile
import threading
import time

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
D2 = 2 * D % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE {
# SEQUENCE { OID 1.3.101.112 }, BIT STRING (33 bytes, 0 unused bits) }.
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")

IDENTITY = (0, 1, 1, 0)


def _recover_x(y, sign):
	"""x of the curve point with this y and x's low bit = sign, or None
	(RFC 8032 §5.1.3 steps 2-4)."""
	if y >= P:
		return None
	y2 = y * y % P
	u = (y2 - 1) % P
	v = (D * y2 + 1) % P
	v3 = v * v % P * v % P
	x = u * v3 % P * pow(u * v3 % P * v3 % P * v % P, (P - 5) // 8, P) % P
	vx2 = v * x % P * x % P
	if vx2 == u:
		pass
	elif vx2 == (P - u) % P:
		x = x * SQRT_M1 % P
	else:
		return None
	if x == 0 and sign:
		return None
	if (x & 1) != sign:
		x = P - x
	return x


def decode_point(s):
	"""The extended point encoded by the 32 bytes s, or None."""
	if len(s) != 32:
		return None
	y = int.from_bytes(s, "little")
	sign = y >> 255
	y &= (1 << 255) - 1
	x = _recover_x(y, sign)
	if x is None:
		return None
	return (x, y, 1, x * y % P)


def encode_point(pt):
	X, Y, Z, _ = pt
	zi = pow(Z, P - 2, P)
	x = X * zi % P
	y = Y * zi % P
	return (y | ((x & 1) << 255)).to_bytes(32, "little")


def point_add(p1, p2):
	"""Complete addition in extended coordinates (a = -1)."""
	X1, Y1, Z1, T1 = p1
	X2, Y2, Z2, T2 = p2
	a = (Y1 - X1) * (Y2 - X2) % P
	b = (Y1 + X1) * (Y2 + X2) % P
	c = T1 * D2 % P * T2 % P
	d = 2 * Z1 * Z2 % P
	e, f, g, h = b - a, d - c, d + c, b + a
	return (e * f % P, g * h % P, f * g % P, e * h % P)


def _comb_table(pt):
	"""rows[i][j] = j * 16^i * pt (j = 0..15, row 0 entry unused) as
	affine (y+x, y-x, 2dxy), for i = 0..63."""
	ext = []
	base = pt
	for _ in range(64):
		row = [None, base]
		for _ in range(14):
			row.append(point_add(row[-1], base))
		ext.append(row)
		base = point_add(row[-1], base)	# 16 * base
	# batch inversion of every Z (Montgomery's trick)
	flat = [q for row in ext for q in row[1:]]
	prefix = []
	acc = 1
	for q in flat:
		prefix.append(acc)
		acc = acc * q[2] % P
	inv = pow(acc, P - 2, P)
	zinv = [0] * len(flat)
	for i in range(len(flat) - 1, -1, -1):
		zinv[i] = prefix[i] * inv % P
		inv = inv * flat[i][2] % P
	out = []
	k = 0
	for row in ext:
		r = [None]
		for q in row[1:]:
			zi = zinv[k]
			k += 1
			x = q[0] * zi % P
			y = q[1] * zi % P
			r.append(((y + x) % P, (y - x) % P, x * y % P * D2 % P))
		out.append(r)
	return out


def _comb_mul_add(acc, table, n):
	"""acc + [n] table's point, n < 2^256."""
	X, Y, Z, T = acc
	i = 0
	while n:
		j = n & 15
		if j:
			ypx, ymx, t2d = table[i][j]
			a = (Y - X) * ymx % P
			b = (Y + X) * ypx % P
			c = T * t2d % P
			d = 2 * Z % P
			e, f, g, h = b - a, d - c, d + c, b + a
			X, Y, Z, T = e * f % P, g * h % P, f * g % P, e * h % P
		n >>= 4
		i += 1
	return (X, Y, Z, T)


_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)
_BASE_TABLE = _comb_table(BASE)

_key_cache = {}
_key_lock = threading.Lock()


def _neg_key_table(pub):
	"""Comb table of -A for the 32-byte public key pub, or None when pub
	is not a valid encoding (cached)."""
	with _key_lock:
		if pub in _key_cache:
			return _key_cache[pub]
	pt = decode_point(pub)
	tab = None
	if pt is not None:
		x, y, _, _ = pt
		tab = _comb_table(((P - x) % P, y, 1, (P - x) * y % P))
	with _key_lock:
		if len(_key_cache) > 1024:
			_key_cache.clear()
		_key_cache[pub] = tab
	return tab


def verify(pub, msg, sig):
	"""True iff sig is a valid Ed25519 signature of msg by the public key
	pub (32 bytes)."""
	if len(pub) != 32 or len(sig) != 64:
		return False
	s = int.from_bytes(sig[32:], "little")
	if s >= L:
		return False
	tab = _neg_key_table(bytes(pub))
	if tab is None:
		return False
	k = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(),
	    "little") % L
	r = _comb_mul_add(_comb_mul_add(IDENTITY, _BASE_TABLE, s), tab, k)
	return hmac.compare_digest(encode_point(r), sig[:32])


def _scalar_base(n):
	return _comb_mul_add(IDENTITY, _BASE_TABLE, n)


def public_key(seed):
	"""The 32-byte public key of a 32-byte private key (seed)."""
	h = hashlib.sha512(seed).digest()
	a = int.from_bytes(h[:32], "little")
	a &= (1 << 254) - 8
	a |= 1 << 254
	return encode_point(_scalar_base(a))


def sign(seed, msg):
	"""The Ed25519 signature of msg by the 32-byte private key seed (RFC
	8032 §5.1.6).  For tests: OpenSSL 3.0's command line cannot sign an
	empty message ("Could not allocate 0 bytes for oneshot sign/verify
	buffer"), which a GET needs."""
	h = hashlib.sha512(seed).digest()
	a = int.from_bytes(h[:32], "little")
	a &= (1 << 254) - 8
	a |= 1 << 254
	pub = encode_point(_scalar_base(a))
	r = int.from_bytes(hashlib.sha512(h[32:] + msg).digest(), "little") % L
	rb = encode_point(_scalar_base(r))
	k = int.from_bytes(hashlib.sha512(rb + pub + msg).digest(), "little") % L
	return rb + ((r + k * a) % L).to_bytes(32, "little")


# DER prefix of an Ed25519 PKCS#8 PrivateKeyInfo (RFC 8410) without the
# optional public key: version 0, the algorithm, an OCTET STRING holding
# the 32-byte OCTET STRING of the seed.
PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def load_private_key_pem(text):
	"""The 32-byte seed of an Ed25519 "PRIVATE KEY" PEM (PKCS#8)."""
	if isinstance(text, bytes):
		text = text.decode("ascii", "replace")
	lines = [l.strip() for l in text.strip().splitlines()]
	try:
		a = lines.index("-----BEGIN PRIVATE KEY-----")
		b = lines.index("-----END PRIVATE KEY-----")
	except ValueError:
		raise ValueError("not a PEM PRIVATE KEY") from None
	der = base64.b64decode("".join(lines[a + 1:b]), validate=True)
	if len(der) != 48 or not der.startswith(PKCS8_PREFIX):
		raise ValueError("not an Ed25519 PKCS#8 private key")
	return der[len(PKCS8_PREFIX):]


def load_public_key_pem(text):
	"""The 32 raw key bytes of an Ed25519 "PUBLIC KEY" PEM (SPKI);
	ValueError otherwise."""
	if isinstance(text, bytes):
		text = text.decode("ascii", "replace")
	lines = [l.strip() for l in text.strip().splitlines()]
	try:
		a = lines.index("-----BEGIN PUBLIC KEY-----")
		b = lines.index("-----END PUBLIC KEY-----")
	except ValueError:
		raise ValueError("not a PEM PUBLIC KEY") from None
	der = base64.b64decode("".join(lines[a + 1:b]), validate=True)
	if len(der) != 44 or not der.startswith(SPKI_PREFIX):
		raise ValueError("not an Ed25519 public key")
	key = der[len(SPKI_PREFIX):]
	if decode_point(key) is None:
		raise ValueError("Ed25519 public key is not a curve point")
	return key


def public_key_pem(key):
	b = base64.b64encode(SPKI_PREFIX + key).decode()
	return "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % b


class OpensslVerifier:
	"""Verification by `openssl pkeyutl -verify -pubin -rawin`, one
	process per signature (the alternative to verify(); slower).  An
	empty message is checked with verify(): OpenSSL 3.0's command line
	cannot take one."""

	def __init__(self, workdir=None):
		self.workdir = workdir

	def verify(self, pem_path, msg, sig):
		if not msg:
			# OpenSSL 3.0's pkeyutl refuses an empty input ("Could not
			# allocate 0 bytes for oneshot sign/verify buffer")
			with open(pem_path) as f:
				return verify(load_public_key_pem(f.read()), msg, sig)
		with tempfile.TemporaryDirectory(dir=self.workdir,
		    prefix="sigcheck-") as d:
			m = os.path.join(d, "msg")
			s = os.path.join(d, "sig")
			with open(m, "wb") as f:
				f.write(msg)
			with open(s, "wb") as f:
				f.write(sig)
			p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin",
			    "-inkey", pem_path, "-rawin", "-in", m, "-sigfile", s],
			    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
			    stderr=subprocess.DEVNULL)
			return p.returncode == 0


def _bench(n=200):
	"""Time verify() and OpensslVerifier against openssl-made signatures."""
	with tempfile.TemporaryDirectory() as d:
		key = os.path.join(d, "k.pem")
		pub = os.path.join(d, "k.pub")
		msgf = os.path.join(d, "m")
		sigf = os.path.join(d, "s")
		subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519",
		    "-out", key], check=True)
		subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out",
		    pub], check=True)
		msg = os.urandom(4000)
		with open(msgf, "wb") as f:
			f.write(msg)
		subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key,
		    "-rawin", "-in", msgf, "-out", sigf], check=True)
		with open(sigf, "rb") as f:
			sig = f.read()
		with open(pub) as f:
			raw = load_public_key_pem(f.read())
		t = time.perf_counter()
		assert verify(raw, msg, sig)
		first = time.perf_counter() - t
		t = time.perf_counter()
		for _ in range(n):
			assert verify(raw, msg, sig)
		py = (time.perf_counter() - t) / n
		bad = bytearray(sig)
		bad[5] ^= 1
		assert not verify(raw, msg, bytes(bad))
		ov = OpensslVerifier(d)
		m = 20
		t = time.perf_counter()
		for _ in range(m):
			assert ov.verify(pub, msg, sig)
		os_ = (time.perf_counter() - t) / m
		assert not ov.verify(pub, msg, bytes(bad))
	print("python verify: %.2f ms (first use of a key %.2f ms); "
	    "openssl pkeyutl: %.2f ms" % (py * 1e3, first * 1e3, os_ * 1e3))


if __name__ == "__main__":
	if sys.argv[1:] == ["--bench"]:
		_bench()
	else:
		print(__doc__)
