"""The daily check (每日一小检), end to end: fleetgwctl check asks a real
fleetgwd, which judges its live OBD and GNSS readings, storage, backlog
and clock, keeps the result as an "inspection" event and replies.

The car is tests/sim/elm327_sim.py on a pty, serving one constant OBD
record (written here: the battery voltage, coolant, fuel level, MIL and
DTCs each case needs) on the wall clock.  GNSS comes from LiveGpsd below,
a gpsd stand-in speaking gpsd 3.22 JSON (tests/integration/fakegpsd.py's
line builders) that stamps every epoch with the system clock *as it sends
it*: the check compares the system clock with GNSS time, which a gpsfake
replay of a log (fixed times, paced per sentence) cannot keep within the
2 s limit.  It also switches the fix, the satellites and a clock offset
while the daemon runs.

* CheckHealthy: ignition on, engine off, 12.6 V, 60 % fuel, MIL off, no
  codes, 3D fix with 9 satellites: every item passes, exit 0; the event
  (info, details.result "pass") is listed by fleetgwctl events --type
  inspection and is in the events stream as uploaded (records events);
  then 4 satellites: gnss warns, the result is warn, exit status still 0.
* CheckFaults: 11.6 V, coolant 108 C, 9.4 % fuel, MIL on with P0301
  stored and P0420 pending, 4 satellites, GNSS time 30 s behind the
  system clock: battery and mil_dtc fail, coolant, fuel, gnss and clock
  warn, each with the simulator's reading; exit 1; a warning event.
* CheckNothing: the adapter never answers (fault "silence") and the
  receiver reports no fix: the four OBD items, gnss and clock fail with
  notes that say why; exit 1.
* CheckBacklog: no OBD adapter configured (the OBD items pass "not
  checked") and a platform that cannot be reached: sync names the
  positions waiting for it and their age, and passes while they are
  young.
"""

import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import fakegpsd
import harness

CONNECT_TIMEOUT_S = 30
READY_TIMEOUT_S = 40

OBD = {"driver": "elm327", "baud": 38400, "timeout_ms": 1000,
    "poll_fast_ms": 200, "poll_slow_ms": 1000, "dtc_interval_s": 10,
    "retry_min_ms": 200, "retry_max_ms": 1000}

# The simulated car's one record (elm327_sim.py: repeated for ever).
CAR_T0 = "2026-01-01T00:00:00+00:00"
CAR = {"t_utc_ms": 1767225600000, "ignition": True, "state": "stop",
    "rpm": 0.0, "speed_kmh": 0, "load_pct": 0.0, "throttle_pct": 0.0,
    "maf_gps": 0.0, "fuel_rate_lph": 0.0, "run_time_s": 0,
    "battery_v": 12.6, "coolant_c": 25, "intake_c": 18, "ambient_c": 15,
    "fuel_level_pct": 60.0, "odometer_km": 48213.4, "mil": False,
    "dtcs": [], "dist_mil_km": 0, "dist_clear_km": 3120,
    "vin": "LFGAB3C50RC012345"}

ITEMS = ["battery", "coolant", "mil_dtc", "fuel", "gnss", "storage", "sync",
    "clock"]


class LiveGpsd:
	"""A gpsd on 127.0.0.1:port for one client at a time: VERSION, then
	DEVICES and WATCH after ?WATCH, then one epoch a second (SKY, TPV)
	stamped with the system clock plus offset_s.  mode 1: TPVs without
	a fix.  sats: satellites used.  Attributes may change while it runs."""

	def __init__(self, mode=3, sats=9, hdop=0.9, offset_s=0.0):
		self.mode = mode
		self.sats = sats
		self.hdop = hdop
		self.offset_s = offset_s
		self.epochs = 0
		self.lsock = socket.socket()
		self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self.lsock.bind(("127.0.0.1", 0))
		self.lsock.listen(4)
		self.lsock.settimeout(0.1)
		self.port = self.lsock.getsockname()[1]
		self.stopping = threading.Event()
		self.thread = threading.Thread(target=self._run, daemon=True)
		self.thread.start()

	def _epoch(self):
		t = time.time() + self.offset_s
		if self.mode < 2:
			return [fakegpsd.tpv(t, None, None, mode=1, alt=None,
			    speed=None, track=None, eph=None)]
		sats = [(0, p, i < self.sats) for i, p in enumerate((2, 5, 7, 9,
		    15, 18, 20, 29))] + [(3, p, 8 + i < self.sats) for i, p in
		    enumerate((1, 3, 6, 8, 16))]
		return [fakegpsd.sky(self.hdop, sats),
		    fakegpsd.tpv(t, 30.57465, 104.06400, mode=self.mode, speed=0.0,
		    track=None)]

	def _serve(self, conn):
		conn.settimeout(0.05)
		rx = b""
		watched = False
		conn.sendall((fakegpsd.version() + "\n").encode())
		next_t = time.monotonic()
		while not self.stopping.is_set():
			try:
				d = conn.recv(4096)
				if not d:
					return
				rx += d
			except socket.timeout:
				pass
			if not watched and b"?WATCH" in rx:
				watched = True
				conn.sendall((fakegpsd.devices() + "\n" +
				    fakegpsd.watch_reply() + "\n").encode())
			if watched and time.monotonic() >= next_t:
				next_t += 1.0
				conn.sendall("".join(l + "\n" for l in
				    self._epoch()).encode())
				self.epochs += 1

	def _run(self):
		while not self.stopping.is_set():
			try:
				conn, _ = self.lsock.accept()
			except socket.timeout:
				continue
			except OSError:
				return
			try:
				self._serve(conn)
			except OSError:
				pass
			finally:
				conn.close()

	def stop(self):
		self.stopping.set()
		self.thread.join(5)
		self.lsock.close()


class CheckCase(unittest.TestCase):
	"""One daemon, one simulated car, one LiveGpsd per class."""

	car = {}
	faults = ()
	gps = {}
	with_obd = True

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-check-")
		try:
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def _setup(cls):
		groups = cls.extra_groups()
		if cls.with_obd:
			obd = os.path.join(cls.work, "car.obd.jsonl")
			with open(obd, "w", encoding="utf-8") as f:
				f.write(json.dumps(dict(CAR, **cls.car)) + "\n")
			cls.sim = harness.ElmSim(obd, cls.work, start=CAR_T0,
			    faults=cls.faults).start()
			groups["obd"] = dict(OBD, device=cls.sim.device)
		cls.gpsd = LiveGpsd(**cls.gps)
		cls.daemon = harness.Daemon(None, cls.work,
		    gnss={"port": cls.gpsd.port}, **groups)
		cls.daemon.start()
		cls.daemon.wait_ready()
		cls.daemon.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)

	@classmethod
	def extra_groups(cls):
		"""Config groups besides gnss and obd."""
		return {}

	@classmethod
	def tearDownClass(cls):
		cls._teardown()

	@classmethod
	def _teardown(cls):
		d = getattr(cls, "daemon", None)
		if d is not None:
			d.close()
		for name in ("sim", "gpsd"):
			obj = getattr(cls, name, None)
			if obj is not None:
				obj.stop()
		shutil.rmtree(cls.work, ignore_errors=True)

	# -- helpers

	@classmethod
	def wait_status(cls, pred, what, timeout=READY_TIMEOUT_S):
		"""Wait until pred(status JSON) holds; returns that status."""
		d = cls.daemon
		box = {}

		def ok():
			box["st"] = d.status_json()
			return pred(box["st"])
		harness.wait_until(ok, timeout, interval=0.2, msg=lambda:
		    "%s; status %s; log:\n%s" % (what, json.dumps(box.get("st",
		    {}).get("obd"))[:600], d.log_tail()))
		return box["st"]

	def check(self, *args):
		"""fleetgwctl -s SOCK ARGS check; (returncode, stdout)."""
		d = self.daemon
		p = d.ctl("-s", d.sock, *(args + ("check",)))
		harness.check_sanitizer(p.stderr)
		harness.check_sanitizer(d.log_text())
		self.assertEqual(p.stderr, "", p.stderr)
		return p.returncode, p.stdout

	def check_json(self):
		rc, out = self.check("--json")
		reply = json.loads(out)
		self.assertTrue(reply["ok"], reply)
		self.assertEqual([i["name"] for i in reply["items"]], ITEMS)
		return rc, reply

	@staticmethod
	def item(reply, name):
		return next(i for i in reply["items"] if i["name"] == name)

	def assert_item(self, reply, name, status, note_re=None):
		it = self.item(reply, name)
		self.assertEqual(it["status"], status, it)
		if note_re is not None:
			self.assertRegex(it["note"], note_re, it)
		return it

	def stored_event(self, reply):
		"""The inspection event the reply names, as listed and as
		uploaded; both checked against the reply."""
		d = self.daemon
		self.assertIsInstance(reply["event_id"], int, reply)
		evs = [e for e in d.events_json("--type", "inspection")
		    if e["id"] == reply["event_id"]]
		self.assertEqual(len(evs), 1, d.events_json())
		ev = evs[0]
		self.assertEqual(ev["type"], "inspection")
		self.assertEqual(ev["seq"], reply["event_seq"])
		self.assertEqual(ev["start"], reply["time"])
		self.assertEqual(ev["details"]["result"], reply["result"])
		self.assertEqual(ev["details"]["items"], reply["items"])
		p = d.ctl("--db", d.db, "--json", "records", "events")
		self.assertEqual(p.returncode, 0, p.stderr)
		recs = [r for r in json.loads(p.stdout) if r["kind"] == "event"
		    and r.get("type") == "inspection" and r["id"] == ev["id"]]
		self.assertEqual(len(recs), 1, p.stdout[-2000:])
		self.assertEqual(recs[0]["seq"], ev["seq"])
		self.assertEqual(recs[0]["details"], ev["details"])
		return ev

	def text_line(self, text, name):
		m = re.search(r"^%s +(\S+) +(.*)$" % name, text, re.M)
		self.assertIsNotNone(m, text)
		return m.group(1), m.group(2)


def obd_ready(st, dtcs=0):
	"""The ECU answered, the values the check judges are in, and a DTC
	scan found dtcs codes."""
	o = st["obd"]
	v = o.get("values", {})
	return o["state"] == "up" and "battery_v" in v and \
	    "fuel_level_pct" in v and "coolant_c" in v and \
	    o.get("mil_on") is not None and o.get("dtcs") is not None and \
	    len(o["dtcs"]) == dtcs


class CheckHealthy(CheckCase):

	@classmethod
	def _setup(cls):
		super()._setup()
		cls.wait_status(lambda st: obd_ready(st) and
		    st["gnss"]["state"] == "fix3d" and
		    st["gnss"]["sats_used"] == 9, "OBD up and a 3D fix")

	def test_1_every_item_passes(self):
		rc, reply = self.check_json()
		self.assertEqual(rc, 0, reply)
		self.assertEqual(reply["result"], "pass", json.dumps(reply,
		    indent=1))
		for it in reply["items"]:
			self.assertEqual(it["status"], "pass", it)
		bat = self.assert_item(reply, "battery", "pass", r"engine off")
		self.assertAlmostEqual(bat["value"], 12.6, delta=0.05)
		self.assertEqual(bat["unit"], "V")
		self.assertEqual(bat["limits"], {"fail_below": 11.8,
		    "warn_below": 12.2, "warn_above": 14.8, "fail_above": 15.5})
		self.assertEqual(self.item(reply, "coolant")["value"], 25)
		self.assertAlmostEqual(self.item(reply, "fuel")["value"], 60.0,
		    delta=0.5)
		mil = self.assert_item(reply, "mil_dtc", "pass",
		    r"^MIL off; no trouble codes$")
		self.assertIs(mil["mil"], False)
		self.assertEqual(mil["codes"], [])
		g = self.assert_item(reply, "gnss", "pass", r"^3D fix; .*hdop 0\.90")
		self.assertEqual(g["value"], 9)
		self.assert_item(reply, "sync", "pass", r"no platform configured")
		self.assertGreater(self.item(reply, "storage")["value"], 0)
		c = self.assert_item(reply, "clock", "pass", r"system clock")
		self.assertLess(abs(c["value"]), 2.0)
		ev = self.stored_event(reply)
		self.assertEqual(ev["severity"], "info")
		self.assertEqual(ev["details"]["uid"], os.getuid())

	def test_2_text_table(self):
		rc, out = self.check()
		self.assertEqual(rc, 0, out)
		self.assertRegex(out, r"^ITEM +STATUS +READING +NOTE\n")
		st, rest = self.text_line(out, "battery")
		self.assertEqual(st, "pass")
		self.assertRegex(rest, r"^12\.6 V +engine off")
		st, rest = self.text_line(out, "fuel")
		self.assertRegex(rest, r"^(59\.\d+|60(\.\d+)?) %")
		self.assertRegex(out, r"\nresult: pass \(8 pass, 0 warn, 0 fail\); "
		    r"stored as event \d+\n$")

	def test_3_few_satellites_warn_exit_0(self):
		self.gpsd.sats = 4
		self.wait_status(lambda st: st["gnss"]["sats_used"] == 4,
		    "4 satellites used", timeout=15)
		rc, reply = self.check_json()
		self.assertEqual(rc, 0, reply)
		self.assertEqual(reply["result"], "warn", reply)
		g = self.assert_item(reply, "gnss", "warn",
		    r"fewer than 6 satellites used")
		self.assertEqual(g["value"], 4)
		ev = self.stored_event(reply)
		self.assertEqual(ev["severity"], "warning")
		self.gpsd.sats = 9

	def test_4_db_given_is_a_usage_error(self):
		d = self.daemon
		p = d.ctl("--db", d.db, "check")
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertIn("goes through the daemon", p.stderr)

	def test_5_clean_log(self):
		harness.check_sanitizer(self.daemon.log_text())
		self.assertRegex(self.daemon.log_text(),
		    r"main: daily check by uid \d+: pass")


class CheckFaults(CheckCase):

	car = {"battery_v": 11.6, "coolant_c": 108, "fuel_level_pct": 9.4,
	    "mil": True, "dtcs": [{"code": "P0301", "mode": 3},
	    {"code": "P0420", "mode": 7}]}
	gps = {"sats": 4, "offset_s": -30.0}

	@classmethod
	def _setup(cls):
		super()._setup()
		cls.wait_status(lambda st: obd_ready(st, dtcs=2) and
		    st["gnss"]["state"] == "fix3d" and
		    st["gnss"]["sats_used"] == 4, "OBD up with 2 DTCs, a fix")

	def test_readings_judged(self):
		rc, reply = self.check_json()
		self.assertEqual(rc, 1, reply)
		self.assertEqual(reply["result"], "fail")
		bat = self.assert_item(reply, "battery", "fail",
		    r"^engine off; below 11\.8 V")
		self.assertAlmostEqual(bat["value"], 11.6, delta=0.05)
		cool = self.assert_item(reply, "coolant", "warn",
		    r"above 105 °C: running hot")
		self.assertEqual(cool["value"], 108)
		mil = self.assert_item(reply, "mil_dtc", "fail",
		    r"^MIL on; P0301 \(stored\), P0420 \(pending\)$")
		self.assertIs(mil["mil"], True)
		self.assertEqual(mil["value"], 2)
		self.assertEqual(mil["codes"], [{"code": "P0301", "kind": "stored"},
		    {"code": "P0420", "kind": "pending"}])
		fuel = self.assert_item(reply, "fuel", "warn",
		    r"below 15 %: refuel soon")
		self.assertAlmostEqual(fuel["value"], 9.4, delta=0.5)
		g = self.assert_item(reply, "gnss", "warn",
		    r"fewer than 6 satellites used")
		self.assertEqual(g["value"], 4)
		clk = self.assert_item(reply, "clock", "warn",
		    r"^system clock \d+\.\d s ahead of GNSS time")
		self.assertAlmostEqual(clk["value"], 30.0, delta=1.5)
		self.assert_item(reply, "storage", "pass")
		self.assert_item(reply, "sync", "pass")
		ev = self.stored_event(reply)
		self.assertEqual(ev["severity"], "warning")

	def test_text_and_exit_status(self):
		rc, out = self.check()
		self.assertEqual(rc, 1, out)
		st, rest = self.text_line(out, "battery")
		self.assertEqual(st, "fail")
		self.assertRegex(rest, r"^11\.6 V +engine off; below 11\.8 V")
		st, rest = self.text_line(out, "mil_dtc")
		self.assertEqual(st, "fail")
		self.assertRegex(rest, r"^2 DTCs +MIL on; P0301 \(stored\)")
		self.assertRegex(out, r"\nresult: fail \(2 pass, 4 warn, 2 fail\)")


class CheckNothing(CheckCase):

	faults = ("silence",)
	gps = {"mode": 1}

	@classmethod
	def _setup(cls):
		super()._setup()
		cls.wait_status(lambda st: st["obd"]["state"] in ("down", "init")
		    and st["obd"]["last_error"] != "" and
		    st["gnss"]["state"] == "nofix" and cls.gpsd.epochs >= 2,
		    "OBD not answering and no fix")

	def test_fails_with_reasons(self):
		rc, reply = self.check_json()
		self.assertEqual(rc, 1, reply)
		self.assertEqual(reply["result"], "fail")
		for name in ("battery", "coolant", "mil_dtc", "fuel"):
			it = self.assert_item(reply, name, "fail",
			    r"^OBD adapter not answering \((down|init): .+\)$")
			self.assertIsNone(it["value"], it)
		g = self.assert_item(reply, "gnss", "fail",
		    r"^no fix: the receiver has none; no fix since start$")
		self.assertIsNone(g["age_s"])
		self.assert_item(reply, "clock", "fail",
		    r"^no GNSS time since start")
		self.assert_item(reply, "storage", "pass")
		self.assert_item(reply, "sync", "pass")
		ev = self.stored_event(reply)
		self.assertEqual(ev["severity"], "warning")
		self.assertEqual(ev["details"]["result"], "fail")

	def test_text(self):
		rc, out = self.check()
		self.assertEqual(rc, 1, out)
		st, rest = self.text_line(out, "gnss")
		self.assertEqual(st, "fail")
		self.assertRegex(rest, r"^- +no fix: the receiver has none")
		self.assertRegex(out, r"\nresult: fail \(2 pass, 0 warn, 6 fail\)")


class CheckBacklog(CheckCase):
	"""No OBD adapter configured; a platform that cannot be reached, so
	the positions wait for it."""

	with_obd = False

	@classmethod
	def extra_groups(cls):
		key = os.path.join(cls.work, "signing.key")
		p = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
		    "-out", key], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
		    encoding="utf-8", timeout=30)
		if p.returncode != 0:
			raise AssertionError("openssl genpkey: %s" % p.stderr)
		os.chmod(key, 0o600)
		return {"platform": {"url": "http://127.0.0.1:%d" %
		    harness.free_port(), "allow_insecure_http": True,
		    "start_delay_max_s": 0.0, "backoff_base_s": 0.1,
		    "backoff_cap_s": 1.0, "connect_timeout_s": 3},
		    "signing": {"key_file": key}}

	@classmethod
	def _setup(cls):
		super()._setup()
		cls.wait_status(lambda st: st["gnss"]["state"] == "fix3d" and
		    cls.daemon.committed_positions() >= 2, "stored positions")

	def test_backlog_young(self):
		rc, reply = self.check_json()
		self.assertEqual(rc, 0, reply)
		self.assertEqual(reply["result"], "pass", json.dumps(reply,
		    indent=1))
		for name in ("battery", "coolant", "mil_dtc", "fuel"):
			it = self.assert_item(reply, name, "pass",
			    r"^not checked: no OBD adapter configured$")
			self.assertIsNone(it["value"])
		sync = self.assert_item(reply, "sync", "pass",
		    r"^events: (nothing pending|\d+ pending, oldest \d+ s); "
		    r"positions: \d+ pending, oldest \d+ s$")
		n = int(re.search(r"positions: (\d+) pending", sync["note"])[1])
		self.assertGreaterEqual(n, 2)
		self.assertGreaterEqual(sync["value"], 0)
		self.assertLess(sync["value"], 120)
		self.assertEqual(sync["limits"], {"warn_above": 3600.0,
		    "fail_above": 86400.0})
		self.stored_event(reply)


if __name__ == "__main__":
	unittest.main()
