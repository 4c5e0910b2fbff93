"""Platform sync end to end (docs/platform-api.md): the real daemon,
gpsfake (and the ELM327 simulator for the day with faults), and the fake
platform of tests/platform over HTTPS with mutual TLS.

* SyncFaultDay: a working day (rules-weekday: 4 trips, OBD, events)
  replayed while the platform fails 40 % of the requests at random
  (500, 503/429 with Retry-After, hang past the client's timeout, reset
  mid-body, stored but the ack lost, trickle, partial acked_through,
  malformed reply) and a few commands run: the platform's deduplicated
  records equal the device's committed records, stream by stream, record
  by record; every command ran once.
* SyncKill: a backlog uploaded in small batches while the daemon is
  killed with SIGKILL at random moments, 24 times, with faults and
  commands in between: the same equality; no command ran twice.
* SyncOffline: three simulated days replayed while the platform is down;
  after it comes back the backlog drains, and every record of the events
  stream (the violations among them) is acknowledged before the first
  position of the backlog is accepted.
* SyncLive: the link up during an evening replay: the violation reaches
  the platform within 5 s of its detection, a locate (点名) is answered
  within 2 s, and dispatch orders set by the platform change what the
  rules report (the second evening drive is covered by one).
* SyncRefused: a wrong server certificate, a server key that does not
  match the pin, a client certificate from another CA, and an http://
  URL without allow_insecure_http are refused with a clear log line (or
  configuration error), and nothing is marked sent; the right settings
  then deliver everything.

Run: /usr/bin/python3 tests/integration/run.py test_sync
"""

import atexit
import base64
import copy
import datetime as dt
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "platform"))
import platformctl  # noqa: E402

SCEN_DIR = os.path.join(harness.SIM, "scenarios")
STREAMS = ("events", "positions")
CONNECT_TIMEOUT_S = 20
DRAIN_TIMEOUT_S = 120
TRIP_END_TIMEOUT_S = 90

# Retries fast enough for a test; the protocol is the same.
SYNC_FAST = {"start_delay_max_s": 0.0, "backoff_base_s": 0.1,
    "backoff_cap_s": 1.0, "retry_after_max_s": 2, "auth_backoff_s": 1.0,
    "connect_timeout_s": 3, "timeout_s": 6, "stall_timeout_s": 5,
    "poll_wait_s": 2}

OBD_FAST = {"driver": "elm327", "baud": 38400, "timeout_ms": 1000,
    "poll_fast_ms": 40, "poll_slow_ms": 400, "dtc_interval_s": 10,
    "retry_min_ms": 100, "retry_max_ms": 1000}

# Every fault the fake platform knows that a real link shows.
FAULT_MIX = [
	{"kind": "500"},
	{"kind": "503", "retry_after": 1},
	{"kind": "429", "retry_after": 1},
	{"kind": "hang", "hold_s": 8},
	{"kind": "reset"},
	{"kind": "ack_lost"},
	{"kind": "trickle", "bytes_per_s": 10, "hold_s": 8},
	{"kind": "partial_ack"},
	{"kind": "malformed"},
]

RE_LOGTIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")


def platform_groups(fp, **over):
	g = dict(SYNC_FAST, url=fp.url, ca_file=fp.ca_file,
	    cert_file=fp.cert_file, key_file=fp.key_file)
	g.update(over)
	return {"platform": g, "signing": {"key_file": fp.signing_key}}


def device_records(d, stream):
	p = d.ctl("--db", d.db, "--json", "records", stream)
	harness.check_sanitizer(p.stderr)
	if p.returncode != 0:
		raise AssertionError("fleetgwctl records %s: exit %d: %s" % (
		    stream, p.returncode, p.stderr.strip()))
	return json.loads(p.stdout)


def sync_status(d):
	return d.status_json()["sync"]


def pending(d):
	st = sync_status(d)["streams"]
	return sum(st[s]["pending"] for s in STREAMS)


def wait_drained(d, timeout=DRAIN_TIMEOUT_S):
	harness.wait_until(lambda: pending(d) == 0, timeout, interval=0.2,
	    msg=lambda: "the backlog to drain: %s; log:\n%s" % (
	    json.dumps(sync_status(d)["streams"]), d.log_tail()))


def start_ready(d):
	"""Start and wait for this run's "ready" (READY=1 of an earlier run
	stays in the notify listener)."""
	d.start()
	d.wait_log(r"main: ready", 20)


def settle_and_stop(d):
	"""Drain, stop, start again (what the stop committed goes up too),
	drain, stop: afterwards the database holds exactly what the
	platform was sent."""
	wait_drained(d)
	rc = d.terminate()
	start_ready(d)
	wait_drained(d)
	return rc, d.terminate()


def assert_same_records(tc, d, fp):
	"""The platform's records equal the device's, record by record."""
	for s in STREAMS:
		dev = device_records(d, s)
		plat = fp.records(s)
		seqs = [r["seq"] for r in dev]
		tc.assertEqual(seqs, list(range(1, len(dev) + 1)),
		    "%s: the device's seqs are not dense from 1" % s)
		if dev != plat:
			n = min(len(dev), len(plat))
			i = next((i for i in range(n) if dev[i] != plat[i]), n)
			tc.fail("%s: device %d records, platform %d; first "
			    "difference at index %d:\ndevice   %s\nplatform %s" % (
			    s, len(dev), len(plat), i,
			    json.dumps(dev[i]) if i < len(dev) else "-",
			    json.dumps(plat[i]) if i < len(plat) else "-"))
		st = fp.stream_state(s)
		tc.assertEqual(st.get("conflicts", 0), 0,
		    "%s: records delivered twice with different content" % s)
		tc.assertEqual(st["acked_through"], len(dev))
	return {s: len(device_records(d, s)) for s in STREAMS}


def logtime(line):
	m = RE_LOGTIME.match(line)
	if not m:
		return None
	return dt.datetime.fromisoformat(m.group(1)).replace(
	    tzinfo=dt.timezone.utc).timestamp()


def reverse_leg(leg):
	"""The same leg driven back: sections and their points reversed."""
	back = copy.deepcopy(leg)
	back["sections"] = []
	for sec in reversed(leg["sections"]):
		r = copy.deepcopy(sec)
		r["points"] = list(reversed(sec["points"]))
		back["sections"].append(r)
	return back


def synth_day(workdir, name, date, departs, seed, obd=False):
	"""chengdu-short's route on date, out and back in turns, one leg per
	depart time."""
	with open(os.path.join(SCEN_DIR, "chengdu-short.json"),
	    encoding="utf-8") as f:
		base = json.load(f)
	scen = copy.deepcopy(base)
	scen["name"] = name
	scen["date"] = date
	scen["seed"] = seed
	scen["legs"] = []
	for i, dep in enumerate(departs):
		leg = copy.deepcopy(base["legs"][0])
		if i % 2:
			leg = reverse_leg(leg)
		leg["name"] = "%s leg %d" % (name, i + 1)
		leg["depart"] = dep
		scen["legs"].append(leg)
	path = os.path.join(workdir, name + ".json")
	with open(path, "w", encoding="utf-8") as f:
		json.dump(scen, f)
	args = []
	if obd:
		args = ["--obd", os.path.join(workdir, name + ".obd.jsonl")]
	nmea, rows = harness.synth(path, workdir, *args)
	return nmea, rows


def replay(d, nmea, port, pace, timeout):
	fake = harness.Gpsfake(nmea, port, pace=pace)
	fake.start()
	try:
		d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
		d.wait_replay_done(fake, timeout)
	finally:
		fake.stop()


def wait_no_trip(d):
	harness.wait_until(lambda: d.status_json().get("trip") is None,
	    TRIP_END_TIMEOUT_S, interval=0.2,
	    msg=lambda: "the last trip to end; log:\n%s" % d.log_tail())


# A backlog shared by the classes that need one (built once, copied).
_backlog = {"lock": threading.Lock(), "db": None, "dir": None}


def backlog_db():
	"""A database with a stored drive (511 positions, its trip and
	events), made by a daemon without a platform; built once."""
	with _backlog["lock"]:
		if _backlog["db"] is not None:
			return _backlog["db"]
		w = tempfile.mkdtemp(prefix="fleetgw-sync-backlog-")
		nmea, _rows = synth_day(w, "backlog", "2026-11-18",
		    ["19:30:00", "21:00:00"], 11)
		port = harness.free_port()
		d = harness.Daemon(None, w, gnss={"port": port})
		try:
			d.start()
			d.wait_ready()
			replay(d, nmea, port, 0.002, 120)
			# GNSS only: the open trip is closed by the stop.
			if d.terminate() != 0:
				raise AssertionError("backlog daemon exit status")
		finally:
			d.close()
		_backlog["db"] = d.db
		_backlog["dir"] = w
		# Removed when the test process ends (run.py may leave and
		# enter this module more than once: no tearDownModule).
		atexit.register(shutil.rmtree, w, True)
		return d.db


def copy_db(src, dst):
	"""A consistent copy (SQLite backup API: the WAL comes along)."""
	s = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
	t = sqlite3.connect(dst)
	try:
		s.backup(t)
	finally:
		s.close()
		t.close()


class _SyncCase(harness.Prefetched):
	"""Common set-up: a work directory, the fake platform, a daemon."""

	@classmethod
	def _teardown(cls):
		for name in ("fake", "sim"):
			obj = getattr(cls, name, None)
			if obj is not None:
				obj.stop()
		d = getattr(cls, "daemon", None)
		if d is not None:
			d.close()
		fp = getattr(cls, "fp", None)
		if fp is not None:
			fp.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	@classmethod
	def prefetch(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-%s-" % cls.__name__)
		try:
			cls.fp = platformctl.FakePlatform(os.path.join(cls.work,
			    "platform"))
			cls.fp.start()
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def tearDownClass(cls):
		cls._teardown()


class SyncFaultDay(_SyncCase, unittest.TestCase):
	"""rules-weekday with 40 % of the platform's replies failing."""

	@classmethod
	def _setup(cls):
		w = cls.work
		fp = cls.fp
		scen = os.path.join(SCEN_DIR, "rules-weekday.json")
		obd = os.path.join(w, "obd.jsonl")
		evs = os.path.join(w, "events.json")
		cls.nmea, _rows = harness.synth(scen, w, "--obd", obd, "--events",
		    evs)
		with open(evs, encoding="utf-8") as f:
			meta = json.load(f)
		pace = meta["replay"]["pace"]
		nsent = nep = 0
		with open(cls.nmea, encoding="ascii") as f:
			for line in f:
				nsent += line.startswith("$")
				nep += line[3:6] == "RMC"
		speedup = max(1.0, 1.0 / (pace * nsent / max(1, nep)))
		port = harness.free_port()
		cls.sim = harness.ElmSim(obd, w, follow="127.0.0.1:%d" % port,
		    time_scale=speedup).start()
		fp.set_faults(random={"p": 0.4, "seed": 20261117,
		    "kinds": FAULT_MIX})
		groups = platform_groups(fp)
		d = cls.daemon = harness.Daemon(None, w,
		    gnss={"port": port}, obd=dict(OBD_FAST, device=cls.sim.device),
		    rules={"clock_jump": {"enabled": False}}, **groups)
		d.start()
		d.wait_ready()
		cls.cmd_ids = []
		fake = cls.fake = harness.Gpsfake(cls.nmea, port, pace=pace)
		fake.start()
		d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
		# Commands while driving, through the same faults.
		for t in ("locate", "status", "no_such_command", "locate"):
			cls.cmd_ids.append(fp.queue_command(t))
		d.wait_replay_done(fake, 600)
		fake.stop()
		wait_no_trip(d)
		for cid in cls.cmd_ids:
			fp.wait_result(cid, 120)
		cls.faults = fp.state()["counters"]
		fp.clear_faults()
		cls.rc = settle_and_stop(d)
		cls.sim.stop()

	def test_records_equal(self):
		n = assert_same_records(self, self.daemon, self.fp)
		self.assertGreater(n["positions"], 1000)
		self.assertGreater(n["events"], 5)

	def test_faults_happened(self):
		c = self.faults
		self.assertGreaterEqual(c["faults_total"], 10, c)
		self.assertGreaterEqual(len(c["faults"]), 5,
		    "too few kinds of fault drawn: %s" % c["faults"])
		# Retries happened: the platform saw records more than once.
		dup = sum(self.fp.stream_state(s).get("duplicates", 0)
		    for s in STREAMS)
		self.assertGreater(dup, 0, "no record was delivered twice: the "
		    "faults did not bite")

	def test_commands_ran_once(self):
		res = {r["id"]: r for r in self.fp.results()}
		ran = [r for r in device_records(self.daemon, "events")
		    if r["kind"] == "command_result"]
		self.assertEqual(sorted(r["id"] for r in ran),
		    sorted(self.cmd_ids))
		for cid in self.cmd_ids:
			self.assertIn(cid, res)
		bad = [r for r in ran if r["type"] == "no_such_command"]
		self.assertEqual(bad[0]["status"], "unsupported")
		loc = [r for r in ran if r["type"] == "locate"]
		self.assertEqual(loc[0]["status"], "ok")

	def test_clean_exit(self):
		self.assertEqual(self.rc, (0, 0))
		harness.check_sanitizer(self.daemon.log_text())


class SyncKill(_SyncCase, unittest.TestCase):
	"""SIGKILL during uploads, again and again."""

	KILLS = 24

	@classmethod
	def _setup(cls):
		w = cls.work
		fp = cls.fp
		db = backlog_db()
		groups = platform_groups(fp, batch_records=4)
		d = cls.daemon = harness.Daemon(None, w,
		    gnss={"port": harness.free_port()}, **groups)
		copy_db(db, d.db)
		rng = random.Random(4242)
		fp.set_faults(random={"p": 0.3, "seed": 7, "kinds": [
		    {"kind": "ack_lost"}, {"kind": "reset"},
		    {"kind": "503", "retry_after": 1}, {"kind": "partial_ack"}]})
		cls.cmd_ids = []
		cls.kills = 0
		cls.kills_with_backlog = 0
		total = sqlite3.connect("file:%s?mode=ro" % db, uri=True).execute(
		    "SELECT count(*) FROM positions").fetchone()[0]
		for i in range(cls.KILLS):
			cls.cmd_ids.append(fp.queue_command("locate"))
			n0 = fp.state()["counters"]["requests"]
			start_ready(d)
			# Kill once an upload is under way, at a random moment.
			fp.wait_requests(n0 + 1, 20)
			time.sleep(rng.uniform(0.0, 0.25))
			d.kill9()
			cls.kills += 1
			if fp.acked_through("positions") < total:
				cls.kills_with_backlog += 1
		cls.mid = {s: fp.acked_through(s) for s in STREAMS}
		fp.clear_faults()
		start_ready(d)
		for cid in cls.cmd_ids:
			fp.wait_result(cid, 60)
		cls.rc = settle_and_stop(d)

	def test_records_equal(self):
		n = assert_same_records(self, self.daemon, self.fp)
		self.assertGreater(n["positions"], 1000)
		# At least 20 of the kills hit while the backlog was going up.
		self.assertGreaterEqual(self.kills_with_backlog, 20,
		    "only %d of %d kills during the upload" % (
		    self.kills_with_backlog, self.kills))

	def test_commands_ran_once(self):
		ran = [r["id"] for r in device_records(self.daemon, "events")
		    if r["kind"] == "command_result"]
		self.assertEqual(len(ran), len(set(ran)), "a command ran twice")
		self.assertEqual(sorted(ran), sorted(self.cmd_ids))

	def test_integrity(self):
		c = sqlite3.connect("file:%s?mode=ro" % self.daemon.db, uri=True)
		try:
			self.assertEqual(c.execute("PRAGMA integrity_check")
			    .fetchone()[0], "ok")
		finally:
			c.close()


class SyncOffline(_SyncCase, unittest.TestCase):
	"""Three days without the platform, then it comes back."""

	DAYS = ("2026-11-18", "2026-11-19", "2026-11-20")

	@classmethod
	def _setup(cls):
		w = cls.work
		fp = cls.fp
		logs = []
		for i, day in enumerate(cls.DAYS):
			nmea, _rows = synth_day(w, "day%d" % (i + 1), day,
			    ["09:05:00", "19:30:00"], 100 + i)
			logs.append(nmea)
		cls.nmea = os.path.join(w, "three-days.nmea")
		with open(cls.nmea, "wb") as out:
			for p in logs:
				with open(p, "rb") as f:
					shutil.copyfileobj(f, out)
		fp.set_faults(down=True)
		port = harness.free_port()
		d = cls.daemon = harness.Daemon(None, w, gnss={"port": port},
		    rules={"clock_jump": {"enabled": False}}, **platform_groups(fp))
		d.start()
		d.wait_ready()
		replay(d, cls.nmea, port, 0.002, 600)
		cls.offline = {s: fp.stream_state(s)["records"] for s in STREAMS}
		st = sync_status(d)["streams"]
		cls.backlog = {s: st[s]["pending"] for s in STREAMS}
		cls.events_last = st["events"]["next_seq"] - 1
		cls.up_from = fp.state()["counters"]["requests"]
		fp.clear_faults()
		cls.t_up = time.monotonic()
		wait_drained(d)
		cls.drain_s = time.monotonic() - cls.t_up
		cls.requests = fp.requests(since=cls.up_from)
		cls.rc = settle_and_stop(d)

	def test_nothing_while_down(self):
		self.assertEqual(self.offline, {"events": 0, "positions": 0})
		self.assertGreater(self.backlog["positions"], 2500)
		self.assertGreaterEqual(self.backlog["events"], 6)

	def test_records_equal(self):
		assert_same_records(self, self.daemon, self.fp)
		harness.eprint("test_sync: 3-day backlog %s drained in %.1f s" % (
		    self.backlog, self.drain_s))

	def test_violations_before_positions(self):
		evs = [e for e in self.daemon.events_json()
		    if e["severity"] in ("violation", "critical")]
		self.assertGreaterEqual(len(evs), 3, "the evening drives should "
		    "be after_hours_use violations")
		ok = [r for r in self.requests if r.get("status") == 200 and
		    r.get("path", "").endswith("/records")]
		first_pos = next(i for i, r in enumerate(ok)
		    if r.get("stream") == "positions" and r.get("n_records"))
		acked_before = max([r.get("acked_through") or 0 for r in
		    ok[:first_pos] if r.get("stream") == "events"] or [0])
		self.assertGreaterEqual(acked_before, self.events_last,
		    "positions went up before the events stream was in: "
		    "events acked through %d of %d" % (acked_before,
		    self.events_last))


class SyncPlatformLost(_SyncCase, unittest.TestCase):
	"""The platform loses everything it held (restored from an empty
	backup) after acknowledging a day: its next reply acknowledges
	nothing, below the gateway's cursor, and the gateway sends what it
	still stores again, once; nothing is missing in the end."""

	@classmethod
	def _setup(cls):
		w = cls.work
		fp = cls.fp
		nmea1, _ = synth_day(w, "lost1", "2026-11-18", ["09:05:00"], 41)
		nmea2, _ = synth_day(w, "lost2", "2026-11-19", ["09:05:00"], 42)
		port = harness.free_port()
		d = cls.daemon = harness.Daemon(None, w, gnss={"port": port},
		    rules={"clock_jump": {"enabled": False}}, **platform_groups(fp))
		d.start()
		d.wait_ready()
		replay(d, nmea1, port, 0.002, 600)
		wait_drained(d)
		cls.acked_before = sync_status(d)["streams"]["positions"][
		    "acked_through"]
		fp.reset()
		# The second replay's lines only (replay() waits on the log).
		d.log_offset = os.path.getsize(d.logpath)
		replay(d, nmea2, port, 0.002, 600)
		wait_drained(d)
		cls.log = d.log_text()
		cls.rc = settle_and_stop(d)

	def test_records_equal(self):
		self.assertGreater(self.acked_before, 100)
		assert_same_records(self, self.daemon, self.fp)

	def test_sent_again_once(self):
		self.assertRegex(self.log, r"sync: positions: the platform holds "
		    r"only through 0, below the %d it acknowledged" %
		    self.acked_before)
		self.assertEqual(self.log.count("sync: positions: the platform "
		    "holds only through"), 1, "sent again more than once")


class SyncLive(_SyncCase, unittest.TestCase):
	"""Coverage all along: alerts in seconds, commands answered."""

	DATE = "2026-11-18"

	@classmethod
	def _setup(cls):
		w = cls.work
		fp = cls.fp
		cls.nmea, _rows = synth_day(w, "evening", cls.DATE,
		    ["19:30:00", "21:00:00"], 31)
		port = harness.free_port()
		d = cls.daemon = harness.Daemon(None, w, gnss={"port": port},
		    rules={"clock_jump": {"enabled": False}}, **platform_groups(fp))
		d.start()
		d.wait_ready()
		order = {"id": "PD-2026-1118-02",
		    "valid_from": cls.DATE + "T20:55:00",
		    "valid_to": cls.DATE + "T21:40:00", "dest": None,
		    "dest_fence": None, "corridor_fence": None,
		    "purpose": "接待 (reception duty)", "approver": "王主任",
		    "source": "platform", "created": None}
		cls.orders_id = fp.queue_command("set_dispatch_orders",
		    {"orders": [order]})
		cls.orders_result = fp.wait_result(cls.orders_id, 20)
		fake = cls.fake = harness.Gpsfake(cls.nmea, port, pace=0.005)
		fake.start()
		d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
		d.wait_log(r"store: committed \d+ positions", 30)
		cls.locate_id = fp.queue_command("locate")
		cls.locate = fp.wait_result(cls.locate_id, 20)
		d.wait_replay_done(fake, 300)
		fake.stop()
		wait_drained(d)
		cls.requests = fp.requests()
		cls.rc = settle_and_stop(d)

	def test_orders_set(self):
		r = self.orders_result["result"]
		self.assertEqual(r["status"], "ok", r)
		p = self.daemon.ctl("--db", self.daemon.db, "--json", "dispatch",
		    "list")
		orders = json.loads(p.stdout)
		self.assertEqual([(o["id"], o["source"]) for o in orders],
		    [("PD-2026-1118-02", "platform")])

	def test_orders_change_the_rules(self):
		ah = [e for e in self.daemon.events_json()
		    if e["type"] == "after_hours_use"]
		starts = [e["start"][11:16] for e in ah]
		# Two identical drives after hours; the order covers the second.
		self.assertEqual(len(ah), 1, "after_hours_use events: %s" % starts)
		self.assertTrue(starts[0].startswith("19:"), starts)

	def test_locate_within_2s(self):
		r = self.locate
		self.assertLessEqual(r["latency_s"], 2.0, r)
		res = r["result"]["result"]
		self.assertEqual(r["result"]["status"], "ok")
		self.assertIn(res["fix"], ("2d", "3d"))
		self.assertIsInstance(res["lat"], float)
		self.assertIn(res["trip"]["state"], ("driving", "idle", "parked"))

	def test_violation_within_5s(self):
		began = [l for l in self.daemon.log_text().splitlines()
		    if "rules: after_hours_use (violation) began" in l]
		self.assertEqual(len(began), 1, began)
		t_detect = logtime(began[0])
		ev = [e for e in self.daemon.events_json()
		    if e["type"] == "after_hours_use"][0]
		seq = ev["seq"]
		hit = [r for r in self.requests if r.get("status") == 200 and
		    r.get("stream") == "events" and r.get("first_seq") and
		    r["first_seq"] <= seq <= r["last_seq"]]
		self.assertTrue(hit, "no upload carried event seq %d" % seq)
		t_recv = dt.datetime.fromisoformat(hit[0]["time"]).timestamp()
		harness.eprint("test_sync: violation detected -> at the platform "
		    "in %.3f s" % (t_recv - t_detect))
		self.assertLessEqual(t_recv - t_detect, 5.0)

	def test_records_equal(self):
		assert_same_records(self, self.daemon, self.fp)


class SyncRefused(unittest.TestCase):
	"""TLS and URL policy: refused, logged, nothing marked sent."""

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-SyncRefused-")
		cls.fp = platformctl.FakePlatform(os.path.join(cls.work,
		    "platform"))
		cls.fp.start()
		cls.db = backlog_db()

	@classmethod
	def tearDownClass(cls):
		cls.fp.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	def daemon(self, name, **over):
		w = os.path.join(self.work, name)
		os.makedirs(w)
		d = harness.Daemon(None, w, gnss={"port": harness.free_port()},
		    **platform_groups(self.fp, **over))
		copy_db(self.db, d.db)
		self.addCleanup(d.close)
		return d

	def refused(self, name, log_rx, tls=None, **over):
		d = self.daemon(name, **over)
		if tls:
			self.fp.set_tls(tls)
			self.addCleanup(self.fp.set_tls, "right")
		n0 = {s: self.fp.stream_state(s)["records"] for s in STREAMS}
		d.start()
		d.wait_ready()
		m = d.wait_log(log_rx, 20)
		st = sync_status(d)["streams"]
		for s in STREAMS:
			self.assertEqual(st[s]["acked_through"], 0, s)
			self.assertGreater(st[s]["pending"], 0, s)
			self.assertEqual(self.fp.stream_state(s)["records"], n0[s])
		self.assertEqual(d.terminate(), 0)
		return m

	def test_wrong_server_certificate(self):
		self.refused("wrong-server", r"sync: \w+: .*(certificate|"
		    r"SSL).*platform\.ca_file", tls="wrong")

	def test_pin_mismatch(self):
		self.refused("pin", r"sync: \w+: .*platform\.pinned_pubkey",
		    pinned_pubkey=self.fp.wrong_pin)

	def test_client_certificate_from_another_ca(self):
		self.refused("wrong-client", r"sync: \w+: .*(SSL|TLS|alert|"
		    r"handshake|reset|recv|Recv)", cert_file=self.fp.wrong_client_cert,
		    key_file=self.fp.wrong_client_key)

	def test_missing_client_certificate_is_a_config_error(self):
		d = self.daemon("no-client", cert_file=None, key_file=None)
		p = subprocess.run([d.fleetgwd, "-n", "-c", d.conf],
		    env=harness.sanitizer_env(), stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE, encoding="utf-8", timeout=30)
		self.assertEqual(p.returncode, 1)
		self.assertRegex(p.stderr, r"cert_file")

	def test_http_without_flag_is_refused(self):
		url = "http://localhost:%d" % self.fp.https_port
		d = self.daemon("http", url=url, ca_file=None, cert_file=None,
		    key_file=None)
		p = subprocess.run([d.fleetgwd, "-n", "-c", d.conf],
		    env=harness.sanitizer_env(), stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE, encoding="utf-8", timeout=30)
		self.assertEqual(p.returncode, 1)
		self.assertIn("http:// is refused without "
		    "platform.allow_insecure_http = true", p.stderr)
		n0 = self.fp.state()["counters"]["requests"]
		d.start()
		harness.wait_until(lambda: not d.running(), 15,
		    msg="fleetgwd to refuse the configuration")
		self.assertEqual(d.proc.wait(), 1)
		self.assertIn("http:// is refused", d.log_text())
		self.assertEqual(self.fp.state()["counters"]["requests"], n0)

	def test_pubkey_is_what_the_platform_registers(self):
		d = self.daemon("pubkey")
		p = d.ctl("-c", d.conf, "pubkey")
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		with open(self.fp.signing_pub, encoding="ascii") as f:
			self.assertEqual(p.stdout, f.read())
		p = d.ctl("--json", "pubkey", "--key", self.fp.signing_key)
		self.assertEqual(p.returncode, 0, p.stderr)
		j = json.loads(p.stdout)
		self.assertEqual(j["algorithm"], "ed25519")
		self.assertEqual(len(base64.b64decode(j["raw"])), 32)

	def test_right_settings_deliver(self):
		d = self.daemon("right", pinned_pubkey=self.fp.pin + ";" +
		    self.fp.wrong_pin)
		d.start()
		d.wait_ready()
		wait_drained(d, 60)
		st = sync_status(d)["streams"]
		self.assertGreater(st["positions"]["acked_through"], 500)
		self.assertEqual(d.terminate(), 0)


class SyncCommands(unittest.TestCase):
	"""The platform's commands on a parked gateway: fences and holidays
	set (and kept across a restart), a bad fence set refused with
	nothing changed, records sent again on request, an unknown command
	answered as unsupported; each result also a record of the events
	stream."""

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-SyncCommands-")
		cls.fp = platformctl.FakePlatform(os.path.join(cls.work,
		    "platform"))
		cls.fp.start()
		d = cls.daemon = harness.Daemon(None, cls.work,
		    gnss={"port": harness.free_port()}, **platform_groups(cls.fp))
		copy_db(backlog_db(), d.db)
		start_ready(d)
		wait_drained(d, 60)

	@classmethod
	def tearDownClass(cls):
		cls.daemon.close()
		cls.fp.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	def run_command(self, type, args=None):
		cid = self.fp.queue_command(type, args)
		r = self.fp.wait_result(cid, 20)["result"]
		self.assertEqual(r["id"], cid)
		return r

	def fence_ids(self):
		p = self.daemon.ctl("-s", self.daemon.sock, "--json", "fences")
		self.assertEqual(p.returncode, 0, p.stderr)
		return sorted(f["id"] for f in json.loads(p.stdout))

	FC = {"type": "FeatureCollection", "features": [
	    {"type": "Feature", "properties": {"id": "ktv-p1",
	    "kind": "forbidden", "category": "entertainment",
	    "radius_m": 80}, "geometry": {"type": "Point",
	    "coordinates": [104.08, 30.63]}},
	    {"type": "Feature", "properties": {"id": "lot-p2",
	    "kind": "parking"}, "geometry": {"type": "Polygon",
	    "coordinates": [[[104.06, 30.57], [104.07, 30.57],
	    [104.07, 30.58], [104.06, 30.57]]]}}]}

	def test_1_set_fences(self):
		r = self.run_command("set_fences", {"geojson": self.FC})
		self.assertEqual(r["status"], "ok", r)
		self.assertEqual(r["result"]["features"], 2)
		self.assertEqual(self.fence_ids(), ["ktv-p1", "lot-p2"])
		# A ring that is not closed: refused, nothing changes.
		bad = copy.deepcopy(self.FC)
		bad["features"][1]["geometry"]["coordinates"][0][-1] = [104.061,
		    30.571]
		r = self.run_command("set_fences", {"geojson": bad})
		self.assertEqual(r["status"], "error", r)
		self.assertIn("lot-p2", r["error"])
		self.assertEqual(self.fence_ids(), ["ktv-p1", "lot-p2"])
		# Kept across a restart.
		self.assertEqual(self.daemon.terminate(), 0)
		start_ready(self.daemon)
		self.assertEqual(self.fence_ids(), ["ktv-p1", "lot-p2"])

	def test_2_set_calendar(self):
		r = self.run_command("set_calendar", {"holidays": ["2026-12-28"],
		    "extra_workdays": ["2026-12-27"]})
		self.assertEqual(r["status"], "ok", r)
		self.assertEqual((r["result"]["holidays"],
		    r["result"]["extra_workdays"]), (1, 1))
		r = self.run_command("set_calendar", {"holidays": ["2026-13-01"]})
		self.assertEqual(r["status"], "error", r)
		self.assertIn("holidays[0]", r["error"])

	def test_3_resend_and_unsupported(self):
		before = self.fp.stream_state("positions")["duplicates"]
		r = self.run_command("resend", {"stream": "positions",
		    "from_seq": 1, "to_seq": 10})
		self.assertEqual(r["status"], "ok", r)
		self.assertEqual(r["result"]["queued"], 10)
		self.assertEqual(r["result"]["missing"], [])
		harness.wait_until(lambda: self.fp.stream_state("positions")[
		    "duplicates"] >= before + 10, 20, interval=0.2,
		    msg="the ten positions sent again")
		r = self.run_command("resend", {"stream": "gps"})
		self.assertEqual(r["status"], "error", r)
		r = self.run_command("reboot")
		self.assertEqual(r["status"], "unsupported", r)
		self.assertIn("reboot", r["error"])

	def test_4_results_are_records(self):
		wait_drained(self.daemon, 60)
		res = [r for r in device_records(self.daemon, "events")
		    if r["kind"] == "command_result"]
		posted = {r["id"]: r["result"] for r in self.fp.results()}
		self.assertGreaterEqual(len(res), 3)
		for r in res:
			self.assertIn(r["id"], posted)
			p = dict(posted[r["id"]])
			for k in ("id", "type", "status", "received", "result",
			    "error", "time", "seq"):
				self.assertEqual(p.get(k), r.get(k), k)


class SyncRefusedRecords(unittest.TestCase):
	"""What the platform refuses: a batch too large (413: the limits
	halve), a record it will not take (422 on every batch holding it:
	bisection down to the record, quarantined and reported, the rest
	delivered; or listed as rejected in a 200), and the device itself
	(401: a long wait, then it goes on)."""

	BAD_POS = 137
	BAD_EV = 2

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-SyncRefusedRecords-")
		fp = cls.fp = platformctl.FakePlatform(os.path.join(cls.work,
		    "platform"))
		fp.start()
		fp.config(max_records=20)
		fp.set_faults(queue=[
		    {"kind": "401", "path": "records", "count": 2},
		    {"kind": "reject", "stream": "positions", "seq": cls.BAD_POS,
		    "status": 422, "reason": "alt_m out of range",
		    "count": 1000},
		    {"kind": "reject", "stream": "events", "seq": cls.BAD_EV,
		    "status": 200, "reason": "unknown fence", "count": 1000}])
		d = cls.daemon = harness.Daemon(None, cls.work,
		    gnss={"port": harness.free_port()},
		    **platform_groups(fp, batch_records=50))
		copy_db(backlog_db(), d.db)
		start_ready(d)
		wait_drained(d, 90)
		cls.status = sync_status(d)
		cls.log = d.log_text()
		cls.requests = fp.requests()

	@classmethod
	def tearDownClass(cls):
		cls.daemon.close()
		cls.fp.close()
		shutil.rmtree(cls.work, ignore_errors=True)

	def test_401_waits_and_goes_on(self):
		self.assertIn("does not accept this device", self.log)
		st = [r.get("status") for r in self.requests
		    if r.get("path", "").endswith("/records")]
		self.assertEqual(st[:2], [401, 401])

	def test_413_halves_the_batch(self):
		self.assertIn("batch too large (HTTP 413", self.log)
		pos = [r for r in self.requests if r.get("stream") ==
		    "positions" and r.get("n_records")]
		ok = [r["n_records"] for r in pos if r.get("status") == 200]
		self.assertTrue(ok)
		self.assertLessEqual(max(ok), 20)
		# The limit stays below what was refused: a few 413s, not one
		# every other batch.
		n413 = sum(1 for r in pos if r.get("status") == 413)
		self.assertLessEqual(n413, 4, [(r.get("status"),
		    r["n_records"]) for r in pos])

	def test_bad_record_quarantined_rest_delivered(self):
		self.assertRegex(self.log, r"refused record seq %d \(HTTP 422: "
		    r"[^)]*alt_m out of range\); kept in quarantine" % self.BAD_POS)
		self.assertRegex(self.log, r"refused record seq %d \(HTTP 200: "
		    r"unknown fence\)" % self.BAD_EV)
		for s, bad in (("positions", self.BAD_POS),
		    ("events", self.BAD_EV)):
			st = self.status["streams"][s]
			self.assertEqual(st["quarantined"], 1, s)
			self.assertEqual(st["pending"], 0, s)
			dev = [r for r in device_records(self.daemon, s)
			    if r["seq"] != bad]
			self.assertEqual(self.fp.records(s), dev, s)
			settled = self.fp.stream_state(s)["settled"]
			self.assertTrue(any(x["from"] <= bad <= x["to"]
			    for x in settled), settled)
		# Kept locally: still in the database, shown by records.
		seqs = [r["seq"] for r in device_records(self.daemon,
		    "positions")]
		self.assertIn(self.BAD_POS, seqs)

	def test_status_text(self):
		p = self.daemon.ctl("-s", self.daemon.sock, "status")
		self.assertEqual(p.returncode, 0, p.stderr)
		text = p.stdout[p.stdout.index("\nsync\n"):]
		self.assertRegex(text, r"positions +0 pending; acknowledged "
		    r"through \d+ of \d+")
		self.assertRegex(text, r"quarantined +1 records refused by the "
		    r"platform")
		self.assertRegex(text, r"last success +20\d\d-")
