"""Offline inspection (issue 7): the hash chain, signed checkpoints,
fleetgwctl export and verify, and every form of tampering.

One day is recorded once (a real daemon, gpsfake, a signing key made
with the openssl CLI): a morning drive and an evening one without a
dispatch order (an after_hours_use violation).  Then:

- an export through the daemon and one with --db on a copy of the
  stopped database verify OK and hold the same records and links;
- the export is recorded as an inspection_export event;
- each kind of tampering, on its own copy of the database or of the
  bundle, makes verify fail (exit 1) naming the damage: a position, an
  event and a trip edited with SQL, one row, a range and the newest rows
  deleted, two rows swapped, links rewritten to fit an edit, the signing
  key replaced, the bundle cut short, a record, a line or the device id
  in the file edited, lines swapped, a key of another device.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import harness
from test_sync import synth_day, replay  # noqa: E402

DATE = "2026-11-18"


def openssl_key(path):
	subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
	    path], check=True, stdout=subprocess.DEVNULL,
	    stderr=subprocess.DEVNULL)
	os.chmod(path, 0o600)
	pub = path + ".pub"
	subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-out", pub],
	    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	return pub


def read_lines(path):
	with open(path, encoding="utf-8") as f:
		return [json.loads(l) for l in f]


def record_lines(path):
	return [l for l in read_lines(path) if "stream" in l]


class Inspect(harness.Prefetched, unittest.TestCase):

	@classmethod
	def prefetch(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-inspect-")
		try:
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def _setup(cls):
		w = cls.work
		cls.key = os.path.join(w, "signing.key")
		cls.pub = openssl_key(cls.key)
		cls.other_key = os.path.join(w, "other.key")
		cls.other_pub = openssl_key(cls.other_key)
		nmea, _rows = synth_day(w, "inspect", DATE,
		    ["09:05:00", "19:30:00"], 71)
		port = harness.free_port()
		d = cls.daemon = harness.Daemon(None, w, gnss={"port": port},
		    rules={"clock_jump": {"enabled": False}},
		    signing={"key_file": cls.key, "checkpoint_interval_s": 10})
		d.start()
		d.wait_ready()
		replay(d, nmea, port, 0.002, 600)
		cls.a = os.path.join(w, "daemon.fgb")
		cls.export_a = d.ctl("-s", d.sock, "export", "--from", DATE,
		    "--to", "2026-11-19", "-o", cls.a)
		cls.export_events = d.events_json("--type", "inspection_export")
		cls.stop_rc = d.terminate()
		cls.stopped_db = os.path.join(w, "stopped.db")
		cls.copy_db(cls.stopped_db)

	@classmethod
	def copy_db(cls, dst):
		shutil.copyfile(cls.daemon.db, dst)
		for ext in ("-wal", "-shm"):
			if os.path.exists(cls.daemon.db + ext):
				shutil.copyfile(cls.daemon.db + ext, dst + ext)
		return dst

	@classmethod
	def _teardown(cls):
		d = getattr(cls, "daemon", None)
		if d is not None:
			d.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	@classmethod
	def tearDownClass(cls):
		cls._teardown()

	# -- helpers

	def ctl(self, *args):
		p = self.daemon.ctl(*args)
		harness.check_sanitizer(p.stderr)
		return p

	def db_copy(self, name):
		dst = os.path.join(self.work, name + ".db")
		shutil.copyfile(self.stopped_db, dst)
		return dst

	def export_db(self, db, name):
		out = os.path.join(self.work, name + ".fgb")
		p = self.ctl("--db", db, "export", "--from", DATE, "--to",
		    "2026-11-19", "-o", out)
		self.assertEqual(p.returncode, 0, p.stderr)
		return out

	def verify(self, path, key=None):
		p = self.ctl("--json", "verify", path, "--pubkey", key or self.pub)
		self.assertIn(p.returncode, (0, 1), p.stderr)
		r = json.loads(p.stdout)
		self.assertEqual(p.returncode == 0, r["ok"])
		return r

	def problems(self, r, kind=None):
		return [p for p in r["problems"] if kind is None or
		    p["kind"] == kind]

	def assert_problem(self, r, kind, stream=None, lo=None, hi=None):
		self.assertFalse(r["ok"], "verify passed a damaged bundle")
		for p in r["problems"]:
			if p["kind"] != kind:
				continue
			if stream is not None and p["stream"] != stream:
				continue
			if lo is not None and p["from_seq"] != lo:
				continue
			if hi is not None and p["to_seq"] != hi:
				continue
			return p
		self.fail("no %s problem for %s %s..%s in:\n%s" % (kind, stream,
		    lo, hi, "\n".join(p["message"] for p in r["problems"])))

	def sql(self, db, *stmts):
		"""What someone with the SD card would do: the sqlite3 CLI."""
		p = subprocess.run(["sqlite3", db, "; ".join(stmts) + ";"],
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
		    encoding="utf-8", timeout=60)
		self.assertEqual(p.returncode, 0, p.stderr)

	def sql_one(self, db, q):
		c = sqlite3.connect(db)
		try:
			return c.execute(q).fetchone()[0]
		finally:
			c.close()

	# -- untouched

	def test_daemon_export_verifies(self):
		self.assertEqual(self.export_a.returncode, 0, self.export_a.stderr)
		r = self.verify(self.a)
		self.assertTrue(r["ok"], r["problems"])
		self.assertEqual(r["device"], "SC-0001")
		self.assertEqual(r["via"], "daemon")
		pos = r["streams"]["positions"]
		self.assertGreater(pos["records"], 300)
		self.assertEqual(pos["records"], pos["last"] - pos["first"] + 1)
		self.assertGreater(r["checkpoints_good"], 0)
		self.assertTrue(r["end_signed"])
		# Text output: OK and the ranges.
		p = self.ctl("verify", self.a, "--pubkey", self.pub)
		self.assertEqual(p.returncode, 0)
		self.assertIn("\nOK\n", p.stdout)

	def test_export_is_recorded(self):
		self.assertEqual(len(self.export_events), 1, self.export_events)
		e = self.export_events[0]
		self.assertEqual(e["severity"], "info")
		self.assertEqual(e["details"]["via"], "daemon")
		self.assertEqual(e["details"]["uid"], os.getuid())
		self.assertEqual(self.stop_rc, 0)

	def test_db_copy_gives_the_same_content(self):
		b = self.export_db(self.db_copy("same"), "same")
		r = self.verify(b)
		self.assertTrue(r["ok"], r["problems"])
		self.assertEqual(read_lines(b)[0]["via"], "db")
		ra, rb = record_lines(self.a), record_lines(b)
		# The copy was taken after the export: it may hold more (the
		# export's own event), never different records.
		self.assertGreater(len(ra), 300)
		sb = {(x["stream"], x["seq"]): x for x in rb}
		for x in ra:
			self.assertEqual(sb.get((x["stream"], x["seq"])), x,
			    "record %s %d differs" % (x["stream"], x["seq"]))

	def test_no_trusted_key_is_not_ok(self):
		p = self.ctl("--json", "verify", self.a)
		self.assertEqual(p.returncode, 1)
		r = json.loads(p.stdout)
		self.assert_problem(r, "untrusted")

	# -- tampering with the database

	def test_edited_position(self):
		db = self.db_copy("edit-pos")
		seq = self.sql_one(db, "SELECT min(seq) + 40 FROM positions")
		self.sql(db, "UPDATE positions SET lat_deg = lat_deg + 0.001 "
		    "WHERE seq = %d" % seq)
		r = self.verify(self.export_db(db, "edit-pos"))
		self.assert_problem(r, "edited", "positions", seq, seq)
		self.assertEqual(len(self.problems(r, "edited")), 1, r["problems"])

	def test_edited_event(self):
		db = self.db_copy("edit-ev")
		seq, end_seq = self.sql_one(db, "SELECT seq || ',' || end_seq "
		    "FROM events WHERE type = 'after_hours_use'").split(",")
		self.sql(db, "UPDATE events SET severity = 'info' "
		    "WHERE type = 'after_hours_use'")
		r = self.verify(self.export_db(db, "edit-ev"))
		edited = {p["from_seq"] for p in self.problems(r, "edited")
		    if p["stream"] == "events"}
		self.assertTrue(edited & {int(seq), int(end_seq)}, r["problems"])

	def test_edited_trip(self):
		db = self.db_copy("edit-trip")
		seq = self.sql_one(db, "SELECT min(seq) FROM trips "
		    "WHERE seq IS NOT NULL")
		self.sql(db, "UPDATE trips SET distance_m = distance_m / 2 "
		    "WHERE seq = %d" % seq)
		r = self.verify(self.export_db(db, "edit-trip"))
		self.assert_problem(r, "edited", "events", seq, seq)

	def test_deleted_row(self):
		db = self.db_copy("del-one")
		seq = self.sql_one(db, "SELECT min(seq) + 100 FROM positions")
		self.sql(db, "DELETE FROM positions WHERE seq = %d" % seq)
		r = self.verify(self.export_db(db, "del-one"))
		self.assert_problem(r, "missing", "positions", seq, seq)

	def test_deleted_range(self):
		db = self.db_copy("del-range")
		lo = self.sql_one(db, "SELECT min(seq) + 150 FROM positions")
		self.sql(db, "DELETE FROM positions WHERE seq BETWEEN %d AND %d"
		    % (lo, lo + 10))
		r = self.verify(self.export_db(db, "del-range"))
		self.assert_problem(r, "missing", "positions", lo, lo + 10)

	def test_deleted_newest_rows(self):
		db = self.db_copy("del-newest")
		hi = self.sql_one(db, "SELECT max(seq) FROM positions")
		self.sql(db, "DELETE FROM positions WHERE seq > %d" % (hi - 5))
		r = self.verify(self.export_db(db, "del-newest"))
		self.assert_problem(r, "missing", "positions", hi - 4, hi)

	def test_swapped_rows(self):
		db = self.db_copy("swap")
		a = self.sql_one(db, "SELECT min(seq) + 60 FROM positions")
		self.sql(db, "UPDATE positions SET seq = -1 WHERE seq = %d" % a,
		    "UPDATE positions SET seq = %d WHERE seq = %d" % (a, a + 1),
		    "UPDATE positions SET seq = %d WHERE seq = -1" % (a + 1))
		r = self.verify(self.export_db(db, "swap"))
		self.assert_problem(r, "edited", "positions", a, a)
		self.assert_problem(r, "edited", "positions", a + 1, a + 1)

	def test_links_rewritten(self):
		"""Edit a record and recompute every later link to fit: only
		the signed checkpoint can tell."""
		db = self.db_copy("rewrite")
		seq = self.sql_one(db, "SELECT min(seq) + 30 FROM positions")
		self.sql(db, "UPDATE positions SET speed_mps = 40.0 "
		    "WHERE seq = %d" % seq)
		lines = read_lines(self.export_db(db, "rewrite-1"))
		anchor = bytes.fromhex(lines[0]["streams"]["positions"]["anchor"])
		h = anchor
		fixes = []
		import hashlib
		for x in lines:
			if x.get("stream") != "positions":
				continue
			h = hashlib.sha256(h + x["seq"].to_bytes(8, "big") +
			    x["record"].encode("utf-8")).digest()
			fixes.append((h, x["seq"]))
		self.sql(db, *["UPDATE chain SET h = x'%s' WHERE stream = 1 "
		    "AND seq = %d" % (hh.hex(), s) for hh, s in fixes])
		r = self.verify(self.export_db(db, "rewrite-2"))
		self.assertEqual(self.problems(r, "edited"), [],
		    "the links fit the content now")
		p = self.assert_problem(r, "rewritten", "positions")
		self.assertLessEqual(p["from_seq"], seq)
		self.assertGreaterEqual(p["to_seq"], seq)

	def test_signing_key_replaced(self):
		"""Someone runs the gateway with another key and exports: the
		new checkpoints do not verify with the registered key."""
		w = os.path.join(self.work, "rekey")
		os.makedirs(w)
		shutil.copyfile(self.stopped_db, os.path.join(w, "fleetgw.db"))
		d = harness.Daemon(None, w, gnss={"port": harness.free_port()},
		    signing={"key_file": self.other_key})
		try:
			d.start()
			d.wait_ready()
			out = os.path.join(w, "rekey.fgb")
			p = d.ctl("-s", d.sock, "export", "--from", DATE, "--to",
			    "2026-11-20", "-o", out)
			self.assertEqual(p.returncode, 0, p.stderr)
		finally:
			d.close()
		r = self.verify(out)
		self.assert_problem(r, "bad_signature")
		# And the new key does not vouch for the old checkpoints.
		self.assert_problem(self.verify(out, self.other_pub),
		    "bad_signature")

	# -- tampering with the bundle file

	def write_lines(self, name, lines):
		path = os.path.join(self.work, name + ".fgb")
		with open(path, "w", encoding="utf-8") as f:
			for l in lines:
				f.write(l)
		return path

	def raw_lines(self):
		with open(self.a, encoding="utf-8") as f:
			return f.readlines()

	def test_bundle_cut_short(self):
		with open(self.a, "rb") as f:
			data = f.read()
		path = os.path.join(self.work, "cut.fgb")
		with open(path, "wb") as f:
			f.write(data[:len(data) * 2 // 3])
		r = self.verify(path)
		self.assert_problem(r, "truncated")

	def test_bundle_record_edited(self):
		lines = self.raw_lines()
		i = next(i for i, l in enumerate(lines) if '"stream":"positions"'
		    in l) + 20
		x = json.loads(lines[i])
		x["record"] = x["record"].replace('"kind":"position"',
		    '"kind":"position" ', 1).replace('"seq":', '"seq": ', 1)
		lines[i] = json.dumps(x, ensure_ascii=False,
		    separators=(",", ":")) + "\n"
		r = self.verify(self.write_lines("rec-edit", lines))
		self.assert_problem(r, "edited", "positions", x["seq"], x["seq"])
		self.assert_problem(r, "altered")

	def test_bundle_line_removed(self):
		lines = self.raw_lines()
		i = next(i for i, l in enumerate(lines) if '"stream":"positions"'
		    in l) + 50
		seq = json.loads(lines[i])["seq"]
		del lines[i]
		r = self.verify(self.write_lines("line-del", lines))
		self.assert_problem(r, "missing", "positions", seq, seq)

	def test_bundle_lines_swapped(self):
		lines = self.raw_lines()
		i = next(i for i, l in enumerate(lines) if '"stream":"positions"'
		    in l) + 70
		lines[i], lines[i + 1] = lines[i + 1], lines[i]
		r = self.verify(self.write_lines("swap-lines", lines))
		self.assertFalse(r["ok"])
		kinds = {p["kind"] for p in r["problems"]}
		self.assertTrue(kinds & {"reordered", "missing"}, r["problems"])

	def test_bundle_other_device(self):
		lines = self.raw_lines()
		h = json.loads(lines[0])
		h["device"]["id"] = "SC-0002"
		lines[0] = json.dumps(h, ensure_ascii=False,
		    separators=(",", ":")) + "\n"
		r = self.verify(self.write_lines("other-dev", lines))
		self.assert_problem(r, "wrong_device")

	def test_key_of_another_device(self):
		r = self.verify(self.a, self.other_pub)
		self.assert_problem(r, "bad_signature")


if __name__ == "__main__":
	unittest.main()
