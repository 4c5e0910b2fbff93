"""Sneakernet end to end (docs/platform-api.md §6 and §2.1 "holds"): the
real daemon records a drive while the platform is out of reach; an
inspector exports a bundle through the daemon (`fleetgwctl -s SOCK
export --from .. --to .. -o F --unsynced`), which an office tool posts to
the platform; when the gateway gets coverage again, its first upload
reply of the positions stream carries "holds", the gateway moves its
cursor past what the bundle delivered (logged), and only what came after
the export goes up (at most one batch is sent twice).  The platform's
records then equal the gateway's, record by record.

The bundle written by the C exporter is also checked by the independent
Python verifier (tests/platform/bundlecheck.py) and by `fleetgwctl
verify`.

HoldsBelief: what the gateway believes.  The fake platform's "holds"
fault forges the member on a backlog's positions replies: a link that
is not the gateway's, a seq beyond its last record, a malformed member
are each logged once and ignored (the records go up); the true link of
a seq ahead (of records the platform got beforehand) is believed: the
cursor jumps there and those records are not sent again.

Run: /usr/bin/python3 tests/integration/run.py test_sneakernet
"""

import gzip
import http.client
import json
import os
import re
import ssl
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

import harness
import test_sync as ts

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "platform"))
import bundlecheck  # noqa: E402
import edverify  # noqa: E402
import platformctl  # noqa: E402

DEV = "SC-0001"
DATE = "2026-11-18"
BATCH = 100		# records a batch: what one batch sent twice costs


class Sneakernet(harness.Prefetched, unittest.TestCase):

	@classmethod
	def prefetch(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-sneakernet-")
		try:
			cls.fp = platformctl.FakePlatform(os.path.join(cls.work,
			    "platform"))
			cls.fp.start()
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def _teardown(cls):
		d = getattr(cls, "daemon", None)
		if d is not None:
			d.close()
		fp = getattr(cls, "fp", None)
		if fp is not None:
			fp.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	@classmethod
	def tearDownClass(cls):
		cls._teardown()

	@classmethod
	def _setup(cls):
		w = cls.work
		fp = cls.fp
		nmea, _rows = ts.synth_day(w, "sneaker", DATE, ["19:30:00",
		    "21:00:00"], 11)
		# out of coverage: every request of the gateway fails (closed
		# without a reply); the office's bundle gets through
		fp.set_faults(random={"p": 1.0, "seed": 1, "kinds": ["down"]})
		port = harness.free_port()
		d = cls.daemon = harness.Daemon(None, w, gnss={"port": port},
		    rules={"clock_jump": {"enabled": False}},
		    **ts.platform_groups(fp, batch_records=BATCH))
		d.start()
		d.wait_ready()
		ts.replay(d, nmea, port, 0.002, 300)
		cls.offline = {s: fp.stream_state(s)["records"] for s in ts.STREAMS}
		cls.pending_before = {s: v["pending"] for s, v in
		    ts.sync_status(d)["streams"].items()}

		# the inspector at the car park
		cls.bundle = os.path.join(w, "SC-0001-20261118.fgb")
		cls.export = d.ctl("-s", d.sock, "export", "--from", DATE +
		    "T00:00:00+08:00", "--to", "2026-11-19T00:00:00+08:00", "-o",
		    cls.bundle, "--unsynced", timeout=120)
		if cls.export.returncode != 0:
			raise AssertionError("fleetgwctl export: exit %d: %s%s" % (
			    cls.export.returncode, cls.export.stdout,
			    cls.export.stderr))
		with open(cls.bundle, "rb") as f:
			cls.data = f.read()
		with open(fp.signing_pub) as f:
			cls.pubkey = edverify.load_public_key_pem(f.read())
		cls.check = bundlecheck.check(cls.data, cls.pubkey, DEV)
		cls.verify = d.ctl("verify", cls.bundle, "--pubkey", fp.signing_pub,
		    timeout=120)

		# the office posts it
		cls.post_status, cls.post_reply = fp.post_bundle(cls.bundle,
		    gzip_body=True)

		# coverage again
		cls.up_from = fp.state()["counters"]["requests"]
		fp.clear_faults()
		ts.wait_drained(d)
		cls.requests = [r for r in fp.requests(since=cls.up_from) if
		    (r.get("path") or "").endswith("/records")]
		cls.log = d.log_text()
		cls.rc = ts.settle_and_stop(d)

	def test_nothing_while_down(self):
		self.assertEqual(self.offline, {"events": 0, "positions": 0})
		self.assertGreater(self.pending_before["positions"], 3 * BATCH)

	def test_bundle_verifies(self):
		harness.check_sanitizer(self.export.stderr)
		self.assertTrue(self.check.ok, "bundlecheck.py on fleetgwctl "
		    "export's bundle: %s" % [p.text for p in self.check.problems])
		self.assertEqual(self.check.device, DEV)
		self.assertEqual(self.check.header["via"], "daemon")
		pos = self.check.streams["positions"]
		self.assertEqual(pos["first"], 1)
		self.assertGreaterEqual(pos["records"],
		    self.pending_before["positions"])
		harness.check_sanitizer(self.verify.stderr)
		self.assertEqual(self.verify.returncode, 0, self.verify.stdout +
		    self.verify.stderr)
		self.assertIn("OK", self.verify.stdout)

	def test_platform_ingests_the_bundle(self):
		self.assertEqual(self.post_status, 200, self.post_reply)
		for s in ts.STREAMS:
			n = self.check.streams[s]["records"]
			self.assertEqual(self.post_reply["streams"][s], {"received": n,
			    "new": n, "duplicates": 0, "conflicts": 0,
			    "held_through": n, "unproven": 0}, s)

	def test_gateway_skips_what_the_bundle_delivered(self):
		n = self.check.streams["positions"]["last"]
		pos = [r for r in self.requests if r.get("stream") == "positions"
		    and r.get("status") == 200]
		self.assertTrue(pos, "no positions upload after coverage")
		self.assertEqual(pos[0].get("holds"), n,
		    "the first positions reply carries holds through the bundle's "
		    "last position: %s" % pos[0])
		self.assertLessEqual(pos[0]["acked_through"], BATCH)
		self.assertRegex(self.log, r"sync: positions: the platform holds "
		    r"records \.\.%d from a bundle" % n)
		self.assertNotRegex(self.log, r"sync: \w+: the platform says it "
		    r"holds", "a holds was not believed")
		dups = sum(r.get("duplicates") or 0 for r in pos)
		self.assertLessEqual(dups, BATCH, "positions sent again after "
		    "the bundle delivered them")
		self.assertFalse([r for r in pos if r.get("first_seq") and
		    BATCH < r["first_seq"] <= n], "a batch inside the bundle's "
		    "range was uploaded")
		harness.eprint("test_sneakernet: bundle %d positions; after "
		    "coverage %d positions uploads, %d duplicates" % (n, len(pos),
		    dups))

	def test_records_equal(self):
		self.assertEqual(self.rc, (0, 0), "exit status of the stops")
		ts.assert_same_records(self, self.daemon, self.fp)


def upload(fp, stream, records):
	"""Upload records as the gateway would (signed, mutual TLS); (HTTP
	status, acked_through)."""
	body = gzip.compress(json.dumps({"device_id": DEV, "stream": stream,
	    "records": records}).encode())
	ctx = ssl.create_default_context(cafile=fp.ca_file)
	ctx.load_cert_chain(fp.cert_file, fp.key_file)
	c = http.client.HTTPSConnection("localhost", fp.https_port, context=ctx,
	    timeout=60)
	try:
		c.request("POST", "/v1/devices/%s/records" % DEV, body=body, headers={
		    "Content-Type": "application/json", "Content-Encoding": "gzip",
		    "X-Fleetgw-Device": DEV, "X-Fleetgw-Signature":
		    platformctl.sign_bytes(fp.signing_key, body)})
		r = c.getresponse()
		return r.status, json.loads(r.read())["acked_through"]
	finally:
		c.close()


class HoldsBelief(unittest.TestCase):

	BELIEVED = 450

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-holds-")
		try:
			cls._setup()
		except BaseException:
			cls.tearDownClass()
			raise

	@classmethod
	def tearDownClass(cls):
		for name in ("daemon", "fp"):
			obj = getattr(cls, name, None)
			if obj is not None:
				obj.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	@classmethod
	def _setup(cls):
		fp = cls.fp = platformctl.FakePlatform(os.path.join(cls.work,
		    "platform"))
		fp.start()
		d = cls.daemon = harness.Daemon(None, cls.work,
		    gnss={"port": harness.free_port()},
		    **ts.platform_groups(fp, batch_records=BATCH))
		ts.copy_db(ts.backlog_db(), d.db)
		c = sqlite3.connect(d.db)
		try:
			# stream 1: positions (the store's enum order)
			row = c.execute("SELECT h FROM chain WHERE stream=1 AND seq=?",
			    (cls.BELIEVED,)).fetchone()
			cls.positions = c.execute("SELECT MAX(seq) FROM chain WHERE "
			    "stream=1").fetchone()[0]
		finally:
			c.close()
		if row is None:
			raise AssertionError("no chain link for positions seq %d in "
			    "the backlog database" % cls.BELIEVED)
		cls.link = bytes(row[0]).hex()
		# the platform has 401..BELIEVED already (as if from a bundle)
		recs = [r for r in ts.device_records(d, "positions") if
		    400 < r["seq"] <= cls.BELIEVED]
		cls.preload = upload(fp, "positions", recs)
		wrong = "%064x" % (int(cls.link, 16) ^ 1)
		fp.set_faults(queue=[
			{"kind": "holds", "stream": "positions",
			 "holds": {"seq": 150, "h": wrong}},
			{"kind": "holds", "stream": "positions",
			 "holds": {"seq": 10 ** 6, "h": cls.link}},
			{"kind": "holds", "stream": "positions",
			 "holds": {"seq": "260", "h": cls.link}},
			{"kind": "holds", "stream": "positions",
			 "holds": {"seq": cls.BELIEVED, "h": cls.link.upper()}},
		])
		ts.start_ready(d)
		ts.wait_drained(d, 60)
		cls.requests = [r for r in fp.requests() if r.get("stream") ==
		    "positions" and (r.get("path") or "").endswith("/records")][1:]
		cls.log = d.log_text()
		cls.rc = ts.settle_and_stop(d)

	def test_forged_holds_ignored_once_each(self):
		for pat in (r"positions: the platform says it holds records \.\.150 "
		    r"from a bundle, but its link for that record is not ours; "
		    r"ignored, sending them",
		    r"positions: the platform says it holds records \.\.1000000 "
		    r"from a bundle, but our last record is \d+; ignored",
		    r"positions: the platform says it holds records from a bundle, "
		    r"but its \"holds\" is malformed; ignored"):
			self.assertEqual(len(re.findall(pat, self.log)), 1, pat)
		firsts = [r["first_seq"] for r in self.requests if r.get("status") ==
		    200]
		self.assertEqual(firsts[:4], [1, 101, 201, 301], "the records "
		    "went up as usual while the holds were not believed")

	def test_true_link_believed(self):
		self.assertEqual(self.preload, (200, 0))
		self.assertRegex(self.log, r"sync: positions: the platform holds "
		    r"records \.\.%d from a bundle" % self.BELIEVED)
		ok = [r for r in self.requests if r.get("status") == 200]
		self.assertEqual(ok[3]["holds"]["seq"], self.BELIEVED)
		self.assertEqual(ok[4]["first_seq"], self.BELIEVED + 1,
		    "the next batch starts after the seq held")
		self.assertFalse([r for r in ok if r["first_seq"] <= self.BELIEVED
		    and r["last_seq"] > 400], "records the platform held were sent")
		self.assertEqual(self.rc, (0, 0))
		ts.assert_same_records(self, self.daemon, self.fp)
		self.assertEqual(self.fp.stream_state("positions")["duplicates"], 0)


if __name__ == "__main__":
	unittest.main()
