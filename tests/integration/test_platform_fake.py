"""Self-test of the fake supervision platform (tests/platform/), without
the daemon: real HTTPS with client certificates through the curl CLI,
bodies signed with `openssl pkeyutl -sign -rawin`, the platform driven and
inspected through its control API (platformctl).

* uploads: gzip batch acknowledged; duplicates deduplicated, a different
  second delivery counted as a conflict (first kept); out-of-order
  batches and missing ranges (acked_through cumulative); bodies of the
  wrong shape 400, an invalid record 422 (a single-record batch refused
  is settled); the reject fault;
* authentication: bad or missing signature 401, unknown device and
  X-Fleetgw-Device mismatch 403, no or foreign client certificate and the
  wrong server certificate (CA and pin) refused at TLS;
* every fault kind as a client sees it (500, 503/429 with Retry-After in
  seconds and as an HTTP date, hang, reset, ack_lost, trickle,
  partial_ack, malformed, 413, 401, down), queue filters, random mode;
* commands: long poll answered when a command is queued, 204 after
  wait_s, results (first wins, duplicates counted, 404 for an unknown id),
  redelivery of an unanswered command;
* the Ed25519 verifier against openssl-made signatures and RFC 8032;
* SIGTERM exits 0 and a restart keeps what was stored; a platform whose
  test process is killed with -9 exits by itself;
* bundles (docs/platform-api.md §6, docs/bundle.md), written here by a
  small Python writer (links with hashlib, checkpoints signed with
  `openssl pkeyutl -sign -rawin`): a good bundle is ingested record for
  record; an edited record, a deleted one, links rewritten to fit an
  edit, a checkpoint signed by another key, another device's bundle and a
  file cut short are refused whole, each named; posting it twice gives
  duplicates only; a record uploaded with other content is a conflict;
  records after the newest signed head are not taken; an upload after a
  bundle is answered acked_through no further than it sent, plus
  "holds" with the bundle's link; bundlecheck.py's command line.
"""

import base64
import email.utils
import gzip
import hashlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "platform"))
import bundlecheck  # noqa: E402
import edverify  # noqa: E402
import platformctl  # noqa: E402

DEV = "SC-0001"
T = "2026-11-17T09:12:05+08:00"
CURL_MAX_S = 15


def rec(seq, kind="event", **kw):
	r = {"seq": seq, "kind": kind, "time": T}
	r.update(kw)
	return r


def pos(seq, **kw):
	return rec(seq, "position", lat=30.65 + seq * 1e-5, lon=104.06,
	    speed_kmh=42.5, **kw)


def batch(stream, records, missing=None, device=DEV):
	b = {"device_id": device, "stream": stream, "records": records}
	if missing:
		b["missing"] = missing
	return gzip.compress(json.dumps(b).encode(), mtime=0)


# ---------------------------------------------------------------------------
# a bundle writer (docs/bundle.md), apart from the C exporter


def canon(obj):
	"""Canonical bytes of a test record: compact JSON (the gateway's are
	wirerec's dump; any fixed bytes do, they are hashed as they are)."""
	return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def chain_links(texts, first, anchor=bytes(32)):
	"""{seq: h_seq} for records texts numbered from first."""
	out = {first - 1: anchor}
	h = anchor
	for i, t in enumerate(texts):
		seq = first + i
		h = hashlib.sha256(h + seq.to_bytes(8, "big") + t.encode()).digest()
		out[seq] = h
	return out


def openssl_sign(key_file, data, tmpdir):
	fd, msg = tempfile.mkstemp(dir=tmpdir, prefix="msg-")
	with os.fdopen(fd, "wb") as f:
		f.write(data)
	sig = msg + ".sig"
	subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
	    key_file, "-in", msg, "-out", sig], check=True,
	    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
	    stderr=subprocess.PIPE, timeout=30)
	with open(sig, "rb") as f:
		out = f.read()
	os.unlink(msg)
	os.unlink(sig)
	assert len(out) == 64
	return out


class BundleWriter:
	"""A bundle of events and positions records (platform record
	objects, seqs from 1), as fleetgwctl export writes one.  checkpoints:
	[(events_seq, positions_seq)] heads to sign (default: one at the
	end of both streams); device: the id in the header and checkpoints.
	lines() gives the lines (without the end line) to tamper with,
	seal(lines) adds the end line."""

	def __init__(self, key_file, tmpdir, events=(), positions=(),
	    checkpoints=None, device=DEV, cp_device=None, end_sig=True):
		self.key = key_file
		self.tmp = tmpdir
		self.device = device
		self.cp_device = cp_device or device
		self.end_sig = end_sig
		self.texts = {"events": [canon(r) for r in events],
		    "positions": [canon(r) for r in positions]}
		self.links = {s: chain_links(t, 1) for s, t in self.texts.items()}
		if checkpoints is None:
			checkpoints = [(len(self.texts["events"]),
			    len(self.texts["positions"]))]
		self.checkpoints = checkpoints

	def checkpoint_body(self, heads, n):
		b = {"kind": "checkpoint", "device": self.cp_device,
		    "time": "2026-11-17T12:%02d:00+08:00" % n, "reason": "export"}
		for s, seq in zip(("events", "positions"), heads):
			b[s] = {"seq": seq, "head": self.links[s][seq].hex()}
		return canon(b)

	def lines(self):
		hdr = {"format": "fleetgw-bundle", "version": 1,
		    "device": {"id": self.device, "plate": "川A12345", "unit": "test",
		    "class": "general", "vin": ""},
		    "timezone": "Asia/Shanghai",
		    "exported": "2026-11-17T22:05:03+08:00", "via": "daemon",
		    "by": {"uid": 0, "user": "root"},
		    "range": {"from": None, "to": None, "unsynced": False},
		    "pubkey": None, "streams": {}}
		for s in ("events", "positions"):
			n = len(self.texts[s])
			hdr["streams"][s] = {"first": 1 if n else 0, "last": n,
			    "anchor": bytes(32).hex()}
		out = [canon(hdr)]
		for i, heads in enumerate(self.checkpoints):
			body = self.checkpoint_body(heads, i)
			sig = openssl_sign(self.key, body.encode(), self.tmp)
			out.append(canon({"checkpoint": body,
			    "sig": base64.b64encode(sig).decode()}))
		for s in ("events", "positions"):
			for i, t in enumerate(self.texts[s]):
				out.append(canon({"stream": s, "seq": i + 1,
				    "h": self.links[s][i + 1].hex(), "record": t}))
		return out

	def seal(self, lines):
		data = "".join(ln + "\n" for ln in lines).encode()
		digest = hashlib.sha256(data).digest()
		counts = {s: sum(1 for ln in lines if ln.startswith('{"stream":"%s"'
		    % s)) for s in ("events", "positions")}
		sig = base64.b64encode(openssl_sign(self.key, digest,
		    self.tmp)).decode() if self.end_sig else None
		end = {"end": {"lines": len(lines), "records": counts,
		    "sha256": digest.hex(), "sig": sig}}
		return data + (canon(end) + "\n").encode()

	def bytes(self):
		return self.seal(self.lines())


def record_line(lines, stream, seq):
	"""The index of a record line."""
	for i, ln in enumerate(lines):
		if ln.startswith('{"stream":"%s","seq":%d,' % (stream, seq)):
			return i
	raise KeyError((stream, seq))


class Reply:
	def __init__(self, rc, status, headers, body, stderr, elapsed):
		self.rc = rc
		self.status = status
		self.headers = headers
		self.body = body
		self.stderr = stderr
		self.elapsed = elapsed

	def json(self):
		return json.loads(self.body)

	def __repr__(self):
		return "curl rc=%d status=%s %.2fs body=%r stderr=%r" % (self.rc,
		    self.status, self.elapsed, self.body[:300], self.stderr[-300:])


class PlatformCase(unittest.TestCase):
	"""One fake platform for the class, reset before each test."""

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-platform-it-")
		cls.fp = platformctl.FakePlatform(os.path.join(cls.work, "p"))
		try:
			cls.fp.start()
		except BaseException:
			shutil.rmtree(cls.work, ignore_errors=True)
			raise

	@classmethod
	def tearDownClass(cls):
		cls.fp.stop()
		shutil.rmtree(cls.work, ignore_errors=True)

	def setUp(self):
		self.fp.reset()
		self.tmp = tempfile.mkdtemp(dir=self.work)

	def curl(self, path, data=None, sign=True, sig=None, cert="right",
	    cacert=None, device=DEV, headers=None, gz=True, extra=(),
	    max_time=CURL_MAX_S, urls=None):
		fp = self.fp
		fd, out = tempfile.mkstemp(dir=self.tmp)
		os.close(fd)
		hdr = out + ".h"
		args = ["curl", "-sS", "--max-time", str(max_time), "-o", out, "-D",
		    hdr, "-w", "%{http_code}", "--cacert", cacert or fp.ca_file]
		if cert == "right":
			args += ["--cert", fp.cert_file, "--key", fp.key_file]
		elif cert == "wrong":
			args += ["--cert", fp.wrong_client_cert, "--key",
			    fp.wrong_client_key]
		h = {}
		if device is not None:
			h["X-Fleetgw-Device"] = device
		bodyfile = out + ".body"
		with open(bodyfile, "wb") as f:
			f.write(data or b"")
		if data is not None:
			args += ["--data-binary", "@" + bodyfile]
			h["Content-Type"] = "application/json"
			if gz:
				h["Content-Encoding"] = "gzip"
		if sig is not None:
			h["X-Fleetgw-Signature"] = sig
		elif sign:
			h["X-Fleetgw-Signature"] = platformctl.sign_file(fp.signing_key,
			    bodyfile)
		h.update(headers or {})
		for k, v in h.items():
			args += ["-H", "%s: %s" % (k, v)]
		args += list(extra)
		for u in urls or [path]:
			args.append(u if u.startswith("https:") else
			    "https://127.0.0.1:%d%s" % (fp.https_port, u))
		t0 = time.monotonic()
		p = subprocess.run(args, stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
		    timeout=max_time + 10)
		elapsed = time.monotonic() - t0
		with open(out, "rb") as f:
			body = f.read()
		headers = {}
		if os.path.exists(hdr):
			with open(hdr, "rb") as f:
				blocks = [b for b in f.read().decode("latin-1").split(
				    "\r\n\r\n") if b.strip()]
			if blocks:
				for line in blocks[-1].split("\r\n")[1:]:
					k, _, v = line.partition(":")
					headers[k.strip().lower()] = v.strip()
		code = p.stdout.decode()[-3:]
		return Reply(p.returncode, int(code) if code.isdigit() else 0,
		    headers, body, p.stderr.decode(errors="replace"), elapsed)

	def upload(self, stream, records, missing=None, **kw):
		return self.curl("/v1/devices/%s/records" % kw.pop("path_device",
		    DEV), data=batch(stream, records, missing, kw.pop("body_device",
		    DEV)), **kw)

	def poll(self, wait_s=0, **kw):
		return self.curl("/v1/devices/%s/commands?wait_s=%s" % (DEV, wait_s),
		    **kw)

	def post_result(self, cid, status="ok", result=None, **kw):
		body = {"id": cid, "type": "locate", "status": status,
		    "received": T, "time": T, "seq": 9, "result": result or {},
		    "error": None}
		return self.curl("/v1/devices/%s/commands/%s/result" % (DEV, cid),
		    data=gzip.compress(json.dumps(body).encode()), **kw)

	def ok(self, r, status=200):
		self.assertEqual((r.rc, r.status), (0, status), r)
		return r

	def failed(self, r):
		"""curl got no HTTP reply."""
		self.assertNotEqual(r.rc, 0, r)
		self.assertEqual(r.status, 0, r)
		return r

	def sstate(self, stream):
		return self.fp.stream_state(stream, DEV)

	def last_request(self):
		self.fp.wait_requests(1, 10)
		return self.fp.requests()[-1]


class Uploads(PlatformCase):

	def test_upload_acked_and_stored_exactly(self):
		recs = [rec(1, id="ev-1", type="speeding", details={"limit_kmh": 60,
		    "max_kmh": 83.4}), rec(2, "trip", id="t-1", distance_m=5234),
		    rec(3, "command_result", id="c-9", status="ok")]
		r = self.ok(self.upload("events", recs))
		self.assertEqual(r.json(), {"stream": "events", "acked_through": 3,
		    "rejected": []})
		self.assertEqual(self.fp.records("events"), recs)
		st = self.sstate("events")
		self.assertEqual((st["records"], st["acked_through"], st["gaps"]),
		    (3, 3, []))
		q = self.last_request()
		self.assertEqual((q["stream"], q["first_seq"], q["last_seq"],
		    q["n_records"], q["status"], q["new"]), ("events", 1, 3, 3, 200, 3))
		self.assertEqual(q["peer_cn"], DEV)
		self.assertGreaterEqual(self.fp.state()["signature"]["verifications"],
		    1)

	def test_duplicates_and_conflicts(self):
		recs = [pos(1), pos(2), pos(3)]
		self.ok(self.upload("positions", recs))
		r = self.ok(self.upload("positions", recs))
		self.assertEqual(r.json()["acked_through"], 3)
		self.assertEqual(self.last_request()["duplicates"], 3)
		changed = dict(recs[1], speed_kmh=99.0)
		reordered = {k: recs[2][k] for k in reversed(list(recs[2]))}
		r = self.ok(self.upload("positions", [changed, reordered]))
		self.assertEqual(r.json()["acked_through"], 3)
		st = self.sstate("positions")
		self.assertEqual((st["records"], st["conflicts"], st["conflict_seqs"],
		    st["duplicates"]), (3, 1, [2], 5),
		    "a reordered object is the same record; different content a "
		    "conflict")
		self.assertEqual(self.fp.records("positions"), recs, "first kept")
		c = self.fp.records_reply("positions")["conflicts"]
		self.assertEqual(c, [{"seq": 2, "record": changed}])

	def test_out_of_order_and_missing(self):
		r = self.ok(self.upload("positions", [pos(3), pos(4)]))
		self.assertEqual(r.json()["acked_through"], 0)
		self.assertEqual(self.sstate("positions")["gaps"], [[1, 2]])
		r = self.ok(self.upload("positions", [pos(1), pos(2)]))
		self.assertEqual(r.json()["acked_through"], 2,
		    "never past the last seq sent (docs §2.1)")
		self.assertNotIn("holds", r.json(), "3..4 came by upload, no link")
		self.assertEqual(self.sstate("positions")["acked_through"], 4)
		r = self.ok(self.upload("positions", [pos(7), pos(8)], [[5, 6]]))
		self.assertEqual(r.json()["acked_through"], 8)
		r = self.ok(self.upload("positions", [], [[9, 12]]))
		self.assertEqual(r.json()["acked_through"], 12)
		st = self.sstate("positions")
		self.assertEqual((st["missing"], st["gaps"], st["records"]),
		    ([[5, 6], [9, 12]], [], 6))
		self.assertEqual([x["seq"] for x in self.fp.records("positions")],
		    [1, 2, 3, 4, 7, 8])
		self.assertEqual([x["seq"] for x in self.fp.records("positions",
		    from_seq=3, to_seq=7)], [3, 4, 7])
		# the streams are independent
		self.assertEqual(self.sstate("events")["acked_through"], 0)
		self.fp.wait_acked("positions", 12, 5)

	def test_bad_bodies_400(self):
		dev = "/v1/devices/%s/records" % DEV
		two = [rec(1), rec(2)]
		plain = json.dumps({"device_id": DEV, "stream": "events",
		    "records": two}).encode()
		cases = {
			"no gzip": dict(data=plain, gz=False),
			"not gzip": dict(data=plain),
			"not JSON": dict(data=gzip.compress(b"{nope")),
			"not an object": dict(data=gzip.compress(b"[1, 2]")),
			"stream": dict(data=batch("alerts", two)),
			"device_id": dict(data=batch("events", two, device="SC-0002")),
			"records": dict(data=gzip.compress(json.dumps({"device_id": DEV,
			    "stream": "events", "records": {}}).encode())),
			"order": dict(data=batch("events", [rec(2), rec(1)])),
			"repeat": dict(data=batch("events", [rec(1), rec(1)])),
			"hole": dict(data=batch("events", [rec(1), rec(3)])),
			"missing overlaps": dict(data=batch("events", two, [[2, 3]])),
			"missing shape": dict(data=batch("events", two, [[3]])),
		}
		for name, kw in cases.items():
			with self.subTest(case=name):
				r = self.curl(dev, **kw)
				self.assertEqual(r.status, 400, r)
				self.assertIn("error", r.json())
		st = self.sstate("events")
		self.assertEqual((st["records"], st["acked_through"]), (0, 0))
		# a batch of one record refused with 400: that seq is settled
		r = self.curl(dev, data=batch("events", [rec(1)], [[5]]))
		self.assertEqual(r.status, 400, r)
		st = self.sstate("events")
		self.assertEqual((st["records"], st["acked_through"]), (0, 1))
		self.assertEqual(st["rejected"][0]["how"], "refused_400")

	def test_invalid_record_422_and_single_record_settled(self):
		bad = [rec(1), rec(2, time="2026-11-17 09:12:05"), rec(3, "position"),
		    rec(4, "parking")]
		r = self.upload("events", bad)
		self.assertEqual(r.status, 422, r)
		self.assertEqual([x["seq"] for x in r.json()["rejected"]], [2, 3, 4])
		self.assertEqual(self.sstate("events")["records"], 0,
		    "nothing stored from a refused batch")
		# the gateway splits down to the bad record: refused alone, settled
		self.ok(self.upload("events", [rec(1)]))
		r = self.upload("events", [bad[1]])
		self.assertEqual(r.status, 422, r)
		r = self.ok(self.upload("events", [rec(3)]))
		self.assertEqual(r.json()["acked_through"], 3)
		st = self.sstate("events")
		self.assertEqual([(x["seq"], x["how"]) for x in st["rejected"]],
		    [(2, "refused_422")])
		self.assertEqual(self.fp.records_reply("events")["settled"][0]["from"],
		    2)

	def test_reject_fault(self):
		self.fp.fault("reject", seq=2, status=200, reason="limit: not a number")
		r = self.ok(self.upload("events", [rec(1), rec(2), rec(3)]))
		self.assertEqual(r.json(), {"stream": "events", "acked_through": 3,
		    "rejected": [{"seq": 2, "reason": "limit: not a number"}]})
		self.assertEqual([x["seq"] for x in self.fp.records("events")], [1, 3])
		# 422 on every batch holding seq 5 until it is alone
		self.fp.fault("reject", seq=5, count=3)
		self.assertEqual(self.upload("events", [rec(4), rec(5)]).status, 422)
		self.ok(self.upload("events", [rec(4)]))
		r = self.upload("events", [rec(5)])
		self.assertEqual(r.status, 422)
		self.assertEqual(r.json()["rejected"][0]["seq"], 5)
		self.assertEqual(self.sstate("events")["acked_through"], 5)

	def test_config_max_records_413(self):
		self.fp.config(max_records=2)
		r = self.upload("events", [rec(1), rec(2), rec(3)])
		self.assertEqual(r.status, 413, r)
		self.ok(self.upload("events", [rec(1), rec(2)]))

	def test_big_batch_and_chunked(self):
		recs = [pos(i) for i in range(1, 2001)]
		r = self.ok(self.upload("positions", recs, extra=["-H",
		    "Expect: 100-continue"]))
		self.assertEqual(r.json()["acked_through"], 2000)
		self.assertEqual(self.fp.records("positions", page=700), recs)
		more = [pos(i) for i in range(2001, 2101)]
		r = self.ok(self.upload("positions", more, extra=["-H",
		    "Transfer-Encoding: chunked"]))
		self.assertEqual(r.json()["acked_through"], 2100)
		self.assertLess(r.elapsed, 1.0)
		self.assertEqual(self.fp.records("positions", from_seq=2001), more)


class Auth(PlatformCase):

	def test_signature(self):
		path = "/v1/devices/%s/records" % DEV
		good = batch("events", [rec(1)])
		other = platformctl.sign_bytes(self.fp.signing_key, good + b"x",
		    self.tmp)
		for name, sig in (("missing", ""), ("other body", other),
		    ("not base64", "ed25519=@@@"), ("scheme", "rsa=" + other[8:]),
		    ("short", "ed25519=" + base64.b64encode(b"x" * 63).decode())):
			with self.subTest(sig=name):
				r = self.curl(path, data=good, sign=False, sig=sig or None)
				self.assertEqual(r.status, 401, r)
				self.assertIn("error", r.json())
		self.assertEqual(self.sstate("events")["records"], 0)
		# the signature covers the exact (gzip) bytes
		tampered = bytearray(good)
		tampered[-5] ^= 1
		sig = platformctl.sign_bytes(self.fp.signing_key, good, self.tmp)
		r = self.curl(path, data=bytes(tampered), sig=sig)
		self.assertEqual(r.status, 401, r)
		# a GET signs the empty body
		self.ok(self.poll(), 204)
		r = self.poll(sig=other)
		self.assertEqual(r.status, 401, r)

	def test_device_403(self):
		r = self.upload("events", [rec(1)], path_device="SC-9999",
		    body_device="SC-9999", device="SC-9999")
		self.assertEqual(r.status, 403, r)
		r = self.upload("events", [rec(1)], device="SC-0002")
		self.assertEqual(r.status, 403, r)
		r = self.upload("events", [rec(1)], device=None)
		self.assertEqual(r.status, 401, r)
		self.assertEqual(self.sstate("events")["records"], 0)

	def test_client_certificate_required(self):
		for cert in (None, "wrong"):
			with self.subTest(cert=cert):
				n = self.fp.state()["counters"]["tls_failures"]
				# curl 35, 55 or 56 depending on when the alert arrives;
				# the platform's count of failed handshakes is the proof
				self.failed(self.upload("events", [rec(1)], cert=cert))
				self.fp.wait_tls_failures(n + 1, 5)
		self.assertEqual(self.fp.state()["counters"]["requests"], 0)

	def test_wrong_server_certificate(self):
		pin = ["--pinnedpubkey", self.fp.pin]
		self.ok(self.poll(extra=pin), 204)
		self.fp.set_tls("wrong")
		r = self.failed(self.poll())
		self.assertEqual(r.rc, 60, r)	# peer certificate not verified
		r = self.failed(self.poll(cacert=os.path.join(self.fp.pki,
		    "other-ca.pem"), extra=pin))
		self.assertEqual(r.rc, 90, r)	# pinned key does not match
		self.ok(self.poll(cacert=os.path.join(self.fp.pki, "other-ca.pem"),
		    extra=["--pinnedpubkey", self.fp.wrong_pin]), 204)
		self.fp.set_tls("right")
		self.ok(self.poll(extra=pin), 204)

	def test_keep_alive(self):
		r = self.curl(None, urls=["/v1/devices/%s/commands?wait_s=0" % DEV] *
		    3)
		self.assertEqual(r.rc, 0, r)
		reqs = self.fp.requests()
		self.assertEqual([(q["conn"], q["conn_request"], q["status"]) for q in
		    reqs], [(reqs[0]["conn"], i, 204) for i in (1, 2, 3)])


class Faults(PlatformCase):
	B3 = [rec(1), rec(2), rec(3)]

	def stored(self):
		return self.sstate("events")["records"]

	def test_500_then_normal(self):
		self.fp.fault("500")
		r = self.upload("events", self.B3)
		self.assertEqual(r.status, 500, r)
		self.assertIn("error", r.json())
		self.assertEqual(self.stored(), 0)
		self.ok(self.upload("events", self.B3))
		q = self.fp.requests()
		self.assertEqual([(x["fault"], x["status"]) for x in q],
		    [("500", 500), (None, 200)])

	def test_503_and_429_retry_after(self):
		self.fp.fault("503", retry_after=7)
		r = self.upload("events", self.B3)
		self.assertEqual((r.status, r.headers.get("retry-after")), (503, "7"))
		self.fp.fault("429", retry_after=3)
		r = self.poll()
		self.assertEqual((r.status, r.headers.get("retry-after")), (429, "3"))
		self.fp.fault("503", retry_after=30, date=True)
		r = self.upload("events", self.B3)
		self.assertEqual(r.status, 503, r)
		when = email.utils.parsedate_to_datetime(r.headers["retry-after"])
		self.assertAlmostEqual(when.timestamp() - time.time(), 30, delta=3)
		self.assertEqual(self.stored(), 0)

	def test_hang(self):
		self.fp.fault("hang", hold_s=20)
		r = self.failed(self.upload("events", self.B3, max_time=1))
		self.assertEqual(r.rc, 28, r)	# curl's timeout
		q = self.last_request()
		self.assertEqual(q["fault"], "hang")
		self.assertIn("client gave up", q["outcome"])
		self.assertEqual(self.stored(), 0)

	def test_hang_hold_limit(self):
		self.fp.fault("hang", hold_s=0.5)
		r = self.failed(self.poll(max_time=10))
		self.assertLess(r.elapsed, 5, r)
		self.assertIn("held", self.last_request()["outcome"])

	def test_reset_mid_body(self):
		recs = [pos(i) for i in range(1, 301)]
		self.fp.fault("reset", stream="positions")
		self.ok(self.upload("events", self.B3))	# filtered out
		r = self.failed(self.upload("positions", recs))
		self.assertNotEqual(r.rc, 28, r)	# a reset, not a timeout
		q = self.last_request()
		self.assertEqual(q["fault"], "reset")
		self.assertRegex(q["outcome"], r"reset after \d+ of \d+ body bytes")
		self.assertEqual(self.sstate("positions")["records"], 0)

	def test_ack_lost(self):
		self.fp.fault("ack_lost")
		r = self.failed(self.upload("events", self.B3))
		self.assertNotEqual(r.rc, 28, r)
		self.assertEqual((self.stored(), self.sstate("events")[
		    "acked_through"]), (3, 3), "stored though the reply was lost")
		r = self.ok(self.upload("events", self.B3))
		self.assertEqual(r.json()["acked_through"], 3)

	def test_trickle(self):
		self.fp.fault("trickle", bytes_per_s=5)
		r = self.failed(self.upload("events", self.B3, extra=[
		    "--speed-limit", "100", "--speed-time", "1"]))
		self.assertEqual(r.rc, 28, r)
		self.assertEqual(self.stored(), 3)
		# fast enough: a complete, correct reply
		self.fp.fault("trickle", bytes_per_s=2000)
		r = self.ok(self.upload("events", [rec(4)]))
		self.assertEqual(r.json()["acked_through"], 4)
		self.assertIn("trickled", self.last_request()["outcome"])

	def test_partial_ack(self):
		self.fp.fault("partial_ack")
		r = self.ok(self.upload("events", [rec(1), rec(2), rec(3), rec(4)]))
		self.assertEqual(r.json()["acked_through"], 2)
		st = self.sstate("events")
		self.assertEqual((st["records"], st["acked_through"]), (4, 4))
		self.fp.fault("partial_ack", acked_through=0)
		r = self.ok(self.upload("events", [rec(5)]))
		self.assertEqual(r.json()["acked_through"], 0)
		self.fp.fault("over_ack")
		r = self.ok(self.upload("events", [rec(6)]))
		self.assertEqual(r.json()["acked_through"], 16)
		self.assertEqual(self.sstate("events")["acked_through"], 6)

	def test_malformed(self):
		for v in ("not_json", "truncated", "html"):
			with self.subTest(variant=v):
				self.fp.fault("malformed", variant=v)
				r = self.ok(self.upload("events", self.B3))
				with self.assertRaises(ValueError):
					json.loads(r.body)
		self.fp.fault("malformed", variant="wrong_stream")
		r = self.ok(self.upload("events", self.B3))
		self.assertEqual(r.json()["stream"], "positions")
		self.fp.fault("malformed", variant="ack_string")
		self.assertEqual(self.ok(self.upload("events", self.B3)).json()[
		    "acked_through"], "3")
		self.fp.fault("malformed", variant="wrong_shape")
		self.assertNotIn("acked_through", self.ok(self.upload("events",
		    self.B3)).json())
		self.assertEqual(self.stored(), 3)
		# a command poll's reply too (only a 200 has a body to spoil)
		self.fp.queue_command("locate")
		self.fp.fault("malformed", path="commands")
		r = self.ok(self.poll())
		with self.assertRaises(ValueError):
			json.loads(r.body)

	def test_413_401_403(self):
		for k in ("413", "401", "403"):
			with self.subTest(kind=k):
				self.fp.fault(k)
				r = self.upload("events", self.B3)
				self.assertEqual(r.status, int(k), r)
		self.assertEqual(self.stored(), 0)

	def test_down(self):
		self.fp.set_faults(down=True)
		r = self.failed(self.upload("events", self.B3))
		self.assertNotEqual(r.rc, 28, r)
		self.fp.set_faults(down="rst")
		self.failed(self.poll())
		self.assertGreaterEqual(self.fp.state()["counters"]["down_refused"], 2)
		self.fp.set_faults(down=False)
		self.ok(self.upload("events", self.B3))
		# "down" as a queued fault: this request only
		self.fp.fault("down")
		self.failed(self.poll())
		self.ok(self.poll(), 204)

	def test_down_ends_busy_keepalive(self):
		"""A poll in flight when "down" is set is answered; its connection
		is then closed, and the next request (a new connection) refused."""
		u = "/v1/devices/%s/commands?wait_s=" % DEV
		done = []
		t = threading.Thread(target=lambda: done.append(self.curl(None,
		    urls=[u + "2", u + "0"])))
		t.start()
		self.fp.wait_polls(1, 10)
		self.fp.set_faults(down=True)
		t.join(30)
		self.fp.set_faults(down=False)
		self.failed(done[0])
		self.assertEqual([(q["conn_request"], q["status"]) for q in
		    self.fp.requests()], [(1, 204)])
		self.assertGreaterEqual(self.fp.state()["counters"]["down_refused"], 1)

	def test_certificate_switch_closes_idle_keepalive(self):
		"""An idle kept-alive connection does not outlive a switch to the
		wrong certificate (the client must meet the new one)."""
		fp = self.fp
		ctx = ssl.create_default_context(cafile=fp.ca_file)
		ctx.load_cert_chain(fp.cert_file, fp.key_file)
		c = http.client.HTTPSConnection("localhost", fp.https_port,
		    context=ctx, timeout=10)
		self.addCleanup(c.close)
		sig = platformctl.sign_bytes(fp.signing_key, b"", self.tmp)
		hdr = {"X-Fleetgw-Device": DEV, "X-Fleetgw-Signature": sig}
		path = "/v1/devices/%s/commands?wait_s=0" % DEV
		for _ in range(2):
			c.request("GET", path, headers=hdr)
			r = c.getresponse()
			r.read()
			self.assertEqual(r.status, 204)
		# The platform logs a request after its reply went out.
		harness.wait_until(lambda: len(fp.requests()) >= 2, 10,
		    msg="the second request to be logged")
		self.assertEqual(fp.requests()[-1]["conn_request"], 2)
		fp.set_tls("wrong")
		with self.assertRaises((http.client.RemoteDisconnected,
		    ConnectionError, ssl.SSLError)):
			c.request("GET", path, headers=hdr)
			c.getresponse().read()
		c.close()
		with self.assertRaises(ssl.SSLCertVerificationError):
			c.request("GET", path, headers=hdr)
		self.assertEqual(len(fp.requests()), 2)

	def test_filters(self):
		self.fp.set_faults(queue=[{"kind": "500", "path": "commands",
		    "count": 2}, {"kind": "503", "stream": "positions"}])
		self.ok(self.upload("events", self.B3))
		self.assertEqual(self.upload("positions", [pos(1)]).status, 503)
		self.assertEqual(self.poll().status, 500)
		self.assertEqual(self.poll().status, 500)
		self.ok(self.poll(), 204)
		self.assertEqual(self.fp.state()["faults"]["queue"], [])

	def test_random_mode(self):
		def run(seed):
			self.fp.reset()
			self.fp.set_faults(random={"p": 0.5, "seed": seed,
			    "kinds": ["500", {"kind": "503", "retry_after": 1}]})
			r = self.curl(None, urls=["/v1/devices/%s/commands?wait_s=0" %
			    DEV] * 16)
			self.assertEqual(r.rc, 0, r)
			return [(q["fault"], q["status"]) for q in self.fp.requests()]
		a = run(7)
		self.assertEqual(run(7), a, "same seed, same faults")
		faults = [f for f, _ in a if f]
		self.assertTrue(0 < len(faults) < 16, a)
		self.assertEqual(set(faults) | {"500", "503"}, {"500", "503"})
		for f, s in a:
			self.assertEqual(s, int(f) if f else 204)
		st = self.fp.state()
		self.assertEqual(st["counters"]["faults_total"], len(faults))
		self.assertEqual(st["faults"]["random"]["hits"], len(faults))
		self.fp.set_faults(clear=True)
		self.ok(self.poll(), 204)

	def test_bad_fault_specs(self):
		for spec in ({"queue": ["frob"]}, {"queue": [{"kind": "reject"}]},
		    {"random": {"p": 2, "kinds": ["500"]}}, {"down": "maybe"},
		    {"bogus": 1}):
			with self.subTest(spec=spec):
				with self.assertRaises(platformctl.PlatformError):
					self.fp.call("POST", "/faults", spec)


class Commands(PlatformCase):

	def test_long_poll_gets_queued_command(self):
		got = []
		t = threading.Thread(target=lambda: got.append(self.poll(wait_s=20)))
		t.start()
		self.fp.wait_polls(1, 10)
		t0 = time.monotonic()
		cid = self.fp.queue_command("locate")
		t.join(30)
		r = self.ok(got[0])
		self.assertLess(time.monotonic() - t0, 3)
		self.assertEqual(r.json(), {"commands": [{"id": cid, "type": "locate",
		    "args": {}}]})

	def test_poll_204_after_wait_s(self):
		r = self.ok(self.poll(wait_s=1), 204)
		self.assertGreaterEqual(r.elapsed, 0.9)
		self.assertEqual(r.body, b"")

	def test_result(self):
		cid = self.fp.queue_command("resend", {"stream": "events",
		    "from_seq": 1, "to_seq": 5}, id="c-1001")
		self.assertEqual(cid, "c-1001")
		r = self.ok(self.poll())
		self.assertEqual(r.json()["commands"][0]["args"]["to_seq"], 5)
		r = self.ok(self.post_result(cid, result={"queued": 5}))
		self.assertEqual(r.json(), {"id": cid, "accepted": True})
		res = self.fp.wait_result(cid, 5)
		self.assertEqual(res["result"]["result"], {"queued": 5})
		self.assertIsNotNone(res["received_at"])
		self.assertIsNotNone(res["latency_s"])
		r = self.ok(self.post_result(cid, status="error", result={"x": 1}))
		res = self.fp.result(cid)
		self.assertEqual((res["duplicates"], res["conflicts"],
		    res["result"]["status"]), (1, 1, "ok"), "first result wins")
		self.ok(self.poll(), 204)	# never again after a result
		r = self.post_result("c-nope")
		self.assertEqual(r.status, 404, r)
		r = self.post_result(cid, status="fine")
		self.assertEqual(r.status, 400, r)

	def test_redelivery_until_result(self):
		cid = self.fp.queue_command("status")
		self.assertEqual(self.ok(self.poll()).json()["commands"][0]["id"], cid)
		self.ok(self.poll(), 204)	# not again within redeliver_s
		self.fp.config(redeliver_s=0)
		self.assertEqual(self.ok(self.poll()).json()["commands"][0]["id"], cid)
		self.ok(self.post_result(cid))
		self.ok(self.poll(), 204)
		c = self.fp.commands()[0]
		self.assertEqual((c["id"], c["deliveries"]), (cid, 2))

	def test_command_faults(self):
		cid = self.fp.queue_command("locate")
		self.fp.fault("500", path="result")
		self.assertEqual(self.post_result(cid).status, 500)
		self.fp.fault("ack_lost", path="result")
		self.failed(self.post_result(cid))
		self.assertIsNotNone(self.fp.result(cid), "stored, reply lost")
		self.ok(self.post_result(cid))
		self.assertEqual(self.fp.result(cid)["duplicates"], 1)


BUNDLE_EVENTS = [rec(1, id="ev-1", type="speeding", phase="complete",
    details={"limit_kmh": 60, "max_kmh": 83.4}), rec(2, "trip", id="t-1",
    distance_m=5234, note="川A12345 到达"), rec(3, "command_result",
    id="c-1", status="ok")]
BUNDLE_POSITIONS = [pos(i) for i in range(1, 21)]


class Bundles(PlatformCase):
	"""POST /v1/devices/{id}/bundles (docs/platform-api.md §6)."""

	def writer(self, **kw):
		kw.setdefault("events", BUNDLE_EVENTS)
		kw.setdefault("positions", BUNDLE_POSITIONS)
		kw.setdefault("checkpoints", [(2, 10), (3, 20)])
		return BundleWriter(kw.pop("key", self.fp.signing_key), self.tmp,
		    **kw)

	def post(self, data, device=DEV, gz=False,
	    ctype="application/x-ndjson", headers=None, **kw):
		if gz:
			data = gzip.compress(data)
		return self.curl("/v1/devices/%s/bundles" % device, data=data,
		    sign=False, device=None, gz=gz, headers=dict({"Content-Type":
		    ctype}, **(headers or {})), **kw)

	def bundlecheck(self, data):
		path = os.path.join(self.tmp, "b.fgb")
		with open(path, "wb") as f:
			f.write(data)
		return subprocess.run([harness.PYTHON, os.path.join(harness.ROOT,
		    "tests", "platform", "bundlecheck.py"), path, "--pubkey",
		    self.fp.signing_pub, "--device", DEV], stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8",
		    timeout=60)

	def stream_reply(self, received, new, dups=0, conflicts=0, held=None,
	    unproven=0):
		return {"received": received, "new": new, "duplicates": dups,
		    "conflicts": conflicts, "held_through": received if held is None
		    else held, "unproven": unproven}

	def test_good_bundle_ingested(self):
		data = self.writer().bytes()
		r = self.ok(self.post(data))
		self.assertEqual(r.json(), {"device": DEV, "streams": {
		    "events": self.stream_reply(3, 3),
		    "positions": self.stream_reply(20, 20)}})
		self.assertEqual(self.fp.records("events"), BUNDLE_EVENTS)
		self.assertEqual(self.fp.records("positions"), BUNDLE_POSITIONS)
		for stream, n in (("events", 3), ("positions", 20)):
			st = self.sstate(stream)
			self.assertEqual((st["records"], st["acked_through"], st["gaps"],
			    st["duplicates"], st["conflicts"]), (n, n, [], 0, 0))
		b = self.fp.bundles()
		self.assertEqual(len(b), 1)
		self.assertEqual((b[0]["status"], b[0]["streams"], b[0]["problems"]),
		    (200, r.json()["streams"], []))
		self.assertEqual(self.fp.state()["devices"][DEV]["bundles"],
		    {"accepted": 1, "refused": 0})
		q = self.last_request()
		self.assertEqual((q["path_kind"], q["status"], q["peer_cn"], q["new"],
		    q["bundle"]), ("bundles", 200, DEV, 23, b[0]["n"]))
		self.assertEqual(self.fp.state()["signature"]["verifications"], 0,
		    "no X-Fleetgw-Signature: the bundle carries its own")
		# the independent verifier's command line agrees
		p = self.bundlecheck(data)
		self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
		self.assertTrue(p.stdout.startswith("OK: SC-0001: events 1..3 (3 "
		    "records, %s .. %s), positions 1..20 (20 records" % (T, T)),
		    p.stdout)
		self.assertIn("2 checkpoints checked", p.stdout)

	def test_gzip_and_duplicate_bundle(self):
		data = self.writer().bytes()
		self.ok(self.post(data, gz=True))
		r = self.ok(self.post(data, gz=True))
		self.assertEqual(r.json()["streams"], {
		    "events": self.stream_reply(3, 0, dups=3),
		    "positions": self.stream_reply(20, 0, dups=20)})
		self.assertEqual(self.sstate("positions")["duplicates"], 20)
		self.assertEqual(len(self.fp.records("positions")), 20)

	def test_tampered_refused_whole(self):
		w = self.writer()
		base = w.lines()

		def edit(lines, stream, seq, relink=False, **change):
			lines = list(lines)
			i = record_line(lines, stream, seq)
			o = json.loads(lines[i])
			r = json.loads(o["record"])
			r.update(change)
			o["record"] = canon(r)
			lines[i] = canon(o)
			if relink:	# rewrite every later link to fit the edit
				h = bytes.fromhex(json.loads(lines[i - 1])["h"]) if seq > 1 \
				    else bytes(32)
				for j in range(i, len(lines)):
					o = json.loads(lines[j])
					if o["stream"] != stream:
						break
					h = hashlib.sha256(h + o["seq"].to_bytes(8, "big") +
					    o["record"].encode()).digest()
					o["h"] = h.hex()
					lines[j] = canon(o)
			return lines

		def drop(lines, stream, *seqs):
			return [ln for ln in lines if not any(ln.startswith(
			    '{"stream":"%s","seq":%d,' % (stream, s)) for s in seqs)]

		other = os.path.join(self.tmp, "other.key")
		subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519",
		    "-out", other], check=True, stdout=subprocess.DEVNULL,
		    stderr=subprocess.DEVNULL, timeout=30)
		good = w.seal(base)
		last = good.rstrip(b"\n").rindex(b"\n") + 1	# the end line
		end = json.loads(good[last:])
		end["end"]["lines"] += 1
		cases = [
			("edited position", w.seal(edit(base, "positions", 7,
			    speed_kmh=12.0)), "positions record 7: edited"),
			("edited event", w.seal(edit(base, "events", 1, details={
			    "limit_kmh": 60, "max_kmh": 61.0})), "events record 1: edited"),
			("edited, links rewritten", w.seal(edit(base, "positions", 7,
			    relink=True, lat=31.0)), "positions records 1..10: do not "
			    "match the checkpoint signed at seq 10 "
			    "(2026-11-17T12:00:00+08:00)"),
			("deleted record", w.seal(drop(base, "positions", 7)),
			    "positions record 7: missing"),
			("deleted range", w.seal(drop(base, "positions", 7, 8, 9)),
			    "positions records 7..9: missing"),
			("deleted newest", w.seal(drop(base, "positions", 20)),
			    "positions record 20: missing"),
			("reordered", w.seal(base[:4] + [base[5], base[4]] + base[6:]),
			    "events record 2: reordered (after seq 3)"),
			("duplicated", w.seal(base[:5] + [base[4]] + base[5:]),
			    "events record 2: duplicated"),
			("signed by another key", self.writer(key=other).bytes(),
			    "checkpoint 1 (2026-11-17T12:00:00+08:00): bad signature (not "
			    "made by the trusted key)"),
			("another device's bundle", self.writer(device="SC-0002").bytes(),
			    "different device: the bundle is SC-0002's, not SC-0001's"),
			("checkpoints of another device", self.writer(
			    cp_device="SC-0002").bytes(), "checkpoint 1 "
			    "(2026-11-17T12:00:00+08:00): different device"),
			("cut in a line", good[:len(good) // 2], "cut short"),
			("end line gone", good[:last], "cut short (no end line)"),
			("end line altered", good[:last] + (canon(end) +
			    "\n").encode(), "altered: 26 lines before the end line, it "
			    "says 27"),
			("appended", good + base[-1].encode() + b"\n", "line 28: after "
			    "the end line"),
			("no checkpoint", self.writer(checkpoints=[]).bytes(),
			    "events records 1..3: not covered by a signed checkpoint"),
		]
		self.assertTrue(base[4].startswith('{"stream":"events","seq":2,'))
		for name, data, want in cases:
			with self.subTest(name):
				r = self.post(data)
				self.assertEqual((r.rc, r.status), (0, 422), r)
				self.assertTrue(r.json()["error"].startswith(want),
				    "%s: %r" % (name, r.json()))
				self.assertEqual(r.json()["error"], r.json()["problems"][0])
				for stream in ("events", "positions"):
					st = self.sstate(stream)
					self.assertEqual((st["records"], st["acked_through"]),
					    (0, 0), "%s: refused whole" % name)
				b = self.fp.bundles()[-1]
				self.assertEqual((b["status"], b["error"]), (422,
				    r.json()["error"]))
				# the independent verifier's command line says the same
				p = self.bundlecheck(data)
				self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
				self.assertTrue(p.stdout.startswith(want), p.stdout)
		self.assertEqual(self.fp.state()["devices"][DEV]["bundles"],
		    {"accepted": 0, "refused": len(cases)})
		# and the untouched one goes in
		self.ok(self.post(good))
		self.assertEqual(len(self.fp.records("positions")), 20)

	def test_conflict_kept_apart(self):
		self.ok(self.upload("positions", [pos(1), pos(2), pos(3, hdop=9.9)]))
		r = self.ok(self.post(self.writer().bytes()))
		p = r.json()["streams"]["positions"]
		self.assertEqual(p, dict(self.stream_reply(20, 17, dups=2,
		    conflicts=1), conflict_seqs=[3]))
		self.assertEqual(self.fp.records("positions", from_seq=3, to_seq=3),
		    [pos(3, hdop=9.9)], "the first delivery is kept")
		self.assertEqual(self.fp.records_reply("positions")["conflicts"],
		    [{"seq": 3, "record": BUNDLE_POSITIONS[2]}])
		# no link for a record held with other content: no holds through it
		r = self.ok(self.upload("positions", [pos(1), pos(2)]))
		self.assertEqual(r.json()["holds"]["seq"], 20)

	def test_records_after_the_newest_checkpoint_not_taken(self):
		data = self.writer(checkpoints=[(3, 15)]).bytes()
		r = self.ok(self.post(data))
		self.assertEqual(r.json()["streams"]["positions"],
		    self.stream_reply(20, 15, held=15, unproven=5))
		self.assertEqual([x["seq"] for x in self.fp.records("positions")],
		    list(range(1, 16)))
		self.assertEqual(self.fp.bundles()[-1]["problems"], [
		    "positions records 16..20: not covered by a signed checkpoint"])
		p = self.bundlecheck(data)
		self.assertEqual((p.returncode, p.stdout), (1, "positions records "
		    "16..20: not covered by a signed checkpoint\n"))

	def test_upload_after_bundle_gets_holds(self):
		w = self.writer()
		self.ok(self.post(w.bytes()))
		r = self.ok(self.upload("positions", BUNDLE_POSITIONS[:5]))
		self.assertEqual(r.json(), {"stream": "positions", "acked_through": 5,
		    "rejected": [], "holds": {"seq": 20,
		    "h": w.links["positions"][20].hex()}})
		q = self.last_request()
		self.assertEqual((q["duplicates"], q["acked_through"], q["holds"]),
		    (5, 5, 20))
		# the holds survive a restart (links are in the platform's file)
		self.fp.restart()
		r = self.ok(self.upload("positions", BUNDLE_POSITIONS[5:7]))
		self.assertEqual((r.json()["acked_through"], r.json()["holds"]),
		    (7, {"seq": 20, "h": w.links["positions"][20].hex()}))
		# nothing beyond the batch: no holds
		r = self.ok(self.upload("events", BUNDLE_EVENTS))
		self.assertEqual(r.json(), {"stream": "events", "acked_through": 3,
		    "rejected": []})
		r = self.ok(self.upload("positions", [pos(21), pos(22)]))
		self.assertEqual(r.json(), {"stream": "positions", "acked_through": 22,
		    "rejected": []})
		# the over_ack fault still overstates acked_through (and keeps holds)
		self.fp.fault("over_ack")
		r = self.ok(self.upload("positions", [pos(1)]))
		self.assertEqual(r.json()["acked_through"], 11)
		self.assertEqual(r.json()["holds"]["seq"], 20)

	def test_faults_spare_bundles_unless_named(self):
		data = self.writer().bytes()
		self.fp.set_faults(random={"p": 1.0, "seed": 3, "kinds": ["down"]})
		self.failed(self.upload("positions", [pos(1)]))
		self.ok(self.post(data))
		self.fp.set_faults(clear=True, queue=[{"kind": "503",
		    "path": "bundles"}])
		self.assertEqual(self.post(data).status, 503)
		self.assertEqual(self.ok(self.post(data)).json()["streams"][
		    "positions"]["duplicates"], 20)

	def test_bad_requests(self):
		data = self.writer().bytes()
		r = self.post(data, ctype="application/json")
		self.assertEqual(r.status, 415, r)
		r = self.post(data, headers={"Content-Encoding": "br",
		    "Content-Type": "application/x-ndjson"})
		self.assertEqual(r.status, 415, r)
		r = self.curl("/v1/devices/%s/bundles" % DEV, data=data, sign=False,
		    gz=True, headers={"Content-Type": "application/x-ndjson"})
		self.assertEqual(r.status, 400, r)
		self.assertIn("gzip", r.json()["error"])
		r = self.post(data, device="SC-0999")
		self.assertEqual(r.status, 403, r)
		r = self.curl("/v1/devices/%s/bundles" % DEV)
		self.assertEqual(r.status, 405, r)
		r = self.post(b"")
		self.assertEqual(r.status, 400, r)
		r = self.post(b"not json\n")
		self.assertEqual(r.status, 422, r)
		self.assertIn("line 1", r.json()["error"])
		self.failed(self.post(data, cert=None))
		self.assertEqual(self.sstate("positions")["records"], 0)


class Verifier(unittest.TestCase):
	"""edverify against openssl (the platform's own check)."""

	def setUp(self):
		self.d = tempfile.mkdtemp(prefix="fleetgw-edverify-")
		self.addCleanup(shutil.rmtree, self.d, True)

	def openssl(self, *args):
		subprocess.run(["openssl"] + list(args), check=True,
		    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
		    stderr=subprocess.PIPE, timeout=30)

	def sign(self, key, msg):
		m = os.path.join(self.d, "m")
		s = os.path.join(self.d, "s")
		with open(m, "wb") as f:
			f.write(msg)
		self.openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", m,
		    "-out", s)
		with open(s, "rb") as f:
			return f.read()

	def test_against_openssl(self):
		key = os.path.join(self.d, "k")
		pub = os.path.join(self.d, "k.pub")
		self.openssl("genpkey", "-algorithm", "ED25519", "-out", key)
		self.openssl("pkey", "-in", key, "-pubout", "-out", pub)
		with open(pub) as f:
			raw = edverify.load_public_key_pem(f.read())
		with open(key) as f:
			seed = edverify.load_private_key_pem(f.read())
		self.assertEqual(edverify.public_key(seed), raw)
		ov = edverify.OpensslVerifier(self.d)
		for n in (0, 1, 31, 64, 1000, 70000):
			msg = os.urandom(n)
			# openssl 3.0's pkeyutl cannot sign an empty input
			sig = self.sign(key, msg) if n else edverify.sign(seed, msg)
			with self.subTest(len=n):
				self.assertEqual(edverify.sign(seed, msg), sig)
				self.assertTrue(edverify.verify(raw, msg, sig))
				self.assertTrue(ov.verify(pub, msg, sig))
				bad_sig = bytearray(sig)
				bad_sig[n % 64] ^= 0x20
				self.assertFalse(edverify.verify(raw, msg, bytes(bad_sig)))
				self.assertFalse(ov.verify(pub, msg, bytes(bad_sig)))
				bad_msg = msg + b"\0"
				self.assertFalse(edverify.verify(raw, bad_msg, sig))
				self.assertFalse(ov.verify(pub, bad_msg, sig))
				# S + L: the same point, refused (S must be < L)
				s = int.from_bytes(sig[32:], "little") + edverify.L
				if s < 2 ** 256:
					self.assertFalse(edverify.verify(raw, msg, sig[:32] +
					    s.to_bytes(32, "little")))
		other = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325"
		    "af021a68f707511a")
		self.assertFalse(edverify.verify(other, b"x", self.sign(key, b"x")))

	def test_rfc8032_vectors(self):
		# RFC 8032 §7.1 TEST 1 (empty message) and TEST 2 (one byte)
		vectors = [
			("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
			 "",
			 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901"
			 "555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a"
			 "100b"),
			("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
			 "72",
			 "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69"
			 "da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb"
			 "0c00"),
		]
		for seed, pub, msg, want in vectors:
			seed, pub, msg, want = (bytes.fromhex(x) for x in (seed, pub, msg,
			    want))
			with self.subTest(msg=msg.hex()):
				self.assertEqual(edverify.public_key(seed), pub)
				self.assertEqual(edverify.sign(seed, msg), want)
				self.assertTrue(edverify.verify(pub, msg, want))
				self.assertFalse(edverify.verify(pub, msg + b"\0", want))
				if msg:
					key = os.path.join(self.d, "rfc.key")
					with open(key, "w") as f:
						f.write("-----BEGIN PRIVATE KEY-----\n%s\n-----END "
						    "PRIVATE KEY-----\n" % base64.b64encode(
						    edverify.PKCS8_PREFIX + seed).decode())
					self.assertEqual(self.sign(key, msg), want,
					    "openssl agrees with the RFC")
		self.assertIsNone(edverify.decode_point(b"\xff" * 32))

	def test_speed(self):
		key = os.path.join(self.d, "k")
		pub = os.path.join(self.d, "k.pub")
		self.openssl("genpkey", "-algorithm", "ED25519", "-out", key)
		self.openssl("pkey", "-in", key, "-pubout", "-out", pub)
		with open(pub) as f:
			raw = edverify.load_public_key_pem(f.read())
		msg = os.urandom(2000)
		sig = self.sign(key, msg)
		edverify.verify(raw, msg, sig)
		n = 50
		t = time.perf_counter()
		for _ in range(n):
			self.assertTrue(edverify.verify(raw, msg, sig))
		per = (time.perf_counter() - t) / n
		# sanitizer-free python: well under 5 ms (about 0.5 ms)
		self.assertLess(per, 0.005, "%.2f ms per verification" % (per * 1e3))


class Lifecycle(unittest.TestCase):

	def test_sigterm_and_restart_keep_state(self):
		work = tempfile.mkdtemp(prefix="fleetgw-platform-life-")
		self.addCleanup(shutil.rmtree, work, True)
		fp = platformctl.FakePlatform(work)
		self.addCleanup(fp.stop)
		fp.start()
		case = PlatformCase()
		case.fp = fp
		case.tmp = work
		r = case.upload("events", [rec(1), rec(2)])
		self.assertEqual(r.status, 200, r)
		case.upload("events", [rec(4)], [[3, 3]])
		cid = fp.queue_command("locate")
		self.assertEqual(fp.stop(), 0, "exit status after SIGTERM; log:\n" +
		    fp.log_text()[-2000:])
		self.assertIn("stopping", fp.log_text())
		fp.start()
		self.assertEqual(fp.acked_through("events"), 4)
		self.assertEqual([x["seq"] for x in fp.records("events")], [1, 2, 4])
		self.assertEqual([c["id"] for c in fp.commands()], [cid])
		self.assertEqual(fp.stop(), 0)

	def test_ends_with_its_test_process(self):
		"""A test process killed with -9 leaves no platform behind."""
		work = tempfile.mkdtemp(prefix="fleetgw-platform-orphan-")
		self.addCleanup(shutil.rmtree, work, True)
		script = ("import os, sys; sys.path.insert(0, %r); import platformctl;"
		    " fp = platformctl.FakePlatform(%r).start(); print(fp.proc.pid, "
		    "flush=True); os.kill(os.getpid(), 9)" % (os.path.join(
		    harness.ROOT, "tests", "platform"), os.path.join(work, "p")))
		p = subprocess.run([harness.PYTHON, "-c", script],
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
		self.assertEqual(p.returncode, -9, p.stderr)
		pid = int(p.stdout)

		def gone():
			try:
				with open("/proc/%d/cmdline" % pid, "rb") as f:
					return b"fakeplatform" not in f.read()
			except OSError:
				return True
		harness.wait_until(gone, 10, msg="the orphaned platform to exit")
		with open(os.path.join(work, "p", "platform.log")) as f:
			self.assertIn("stdin closed", f.read())


if __name__ == "__main__":
	unittest.main()
