#!/usr/bin/python3
"""Self-test of the OBD side of tests/sim (standard library only).

    /usr/bin/python3 tests/sim/test_elm327_sim.py [-v] [TestClass[.test]]

* nmea_synth.py still writes chengdu-short, chengdu-day and chengdu-trips
  byte for byte as before the OBD and rule-test extras (SHA-256 below; the
  OBD truth and trips of chengdu-trips too), and its --obd/--trips truth
  for chengdu-trips is consistent (3 trips, engine off between them, fixes
  while parked, a light inside each trip, DTCs in trip 2, distances equal
  to the haversine sum over the expected fixes);
* the rule scenarios (rules-*.json): GNSS events (no fix, silence, offset)
  and fuel drains come out where the scenario says, and every
  expected_events item agrees with what was synthesized (speeding with
  the fixes' speeds, region_exit with the fence crossings, the use rules
  with the trips, fatigue with the moving fixes, tamper with the gaps);
* elm327_sim.py on a pty and on TCP, driven like a real client (ATZ ATE0
  ATL0 ATS0 ATH1 ATSP0 0100 010C 0902 03 ...): every reply decodes (with
  the decoder below, not the simulator's encoder) to the record of the
  current scenario second;
* --follow-gpsd against a scripted gpsd; reconnects; every fault mode;
  SIGTERM and stdin EOF end it cleanly.

Takes about 15 s.  Exit status 0 when everything passed.
"""

import errno
import hashlib
import json
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SYNTH = os.path.join(HERE, "nmea_synth.py")
SIM = os.path.join(HERE, "elm327_sim.py")
SCEN = os.path.join(HERE, "scenarios")

# Outputs of nmea_synth.py before the OBD extras were added: existing
# scenarios must keep producing exactly these bytes (the integration tests
# compare against them).
GOLDEN = {
	"chengdu-short": (
	    "9c591799f302edc598363303e74bad8feb753dc2297de2e7dfcfaa2e4ebfaea7",
	    "bf806e99a274ff7229a549e9f8b75db2668d8dec30494b103796549064547f23"),
	"chengdu-day": (
	    "f2f7063f88762a7b102250cdf74c238e53037f256b656117a60c8245bdd4d3a2",
	    "7a60c2ec3c1f949895e5bd2a29b34c1d1fa7229c3f75e4bcf584815975df97cc"),
	"chengdu-trips": (
	    "12bc16bd698f66797990c0d03c093c4dc903e171592319d027b4249151bbb195",
	    "45b1f4140315d467269a962d8b31fa231e1ecc0e62f9d2fea09d71d7f319e8e0"),
}
# --obd and --trips of chengdu-trips before the rule-test extras.
GOLDEN_OBD = {
	"chengdu-trips": (
	    "84f18df4edca6339d2244760c61a09c1017bb07e5ab4dfba64a6de759e104608",
	    "f3c6358c942ae46b79b240307eeef417ebc644679b118a12a021cb85883eb3e7"),
}

TMP = None
OBD = None		# chengdu-trips OBD truth (path)
RECS = {}		# local "HH:MM:SS" -> record
TRIPS = None
EXPECTED = None

# scenario times of chengdu-trips used below
T_DRIVE2 = "2026-03-03T10:07:30.5+08:00"	# trip 2, 60 km/h, DTCs + MIL
T_DRIVE1 = "2026-03-03T10:00:30.5+08:00"	# trip 1, before the DTCs
T_PARKED = "2026-03-03T10:04:00.5+08:00"	# engine off between trips
FROZEN = "0.0001"				# --speed: the clock stands still


def setUpModule():
	global TMP, OBD, TRIPS, EXPECTED
	TMP = tempfile.mkdtemp(prefix="elm327sim.")
	OBD = os.path.join(TMP, "trips.obd.jsonl")
	tp = os.path.join(TMP, "trips.json")
	ep = os.path.join(TMP, "trips.jsonl")
	subprocess.run([PY, SYNTH, os.path.join(SCEN, "chengdu-trips.json"),
	    "-o", os.path.join(TMP, "trips.nmea"), "-e", ep, "--obd", OBD,
	    "--trips", tp], check=True)
	with open(OBD) as f:
		for line in f:
			r = json.loads(line)
			RECS[r["local"][11:19]] = r
	with open(tp) as f:
		TRIPS = json.load(f)
	with open(ep) as f:
		EXPECTED = [json.loads(x) for x in f]


def tearDownModule():
	if TMP:
		shutil.rmtree(TMP, ignore_errors=True)


# ---------------------------------------------------------------- client side

def decode_lines(text):
	"""ELM327 CAN output with headers on (spaces on or off) ->
	{ecu id: [payload bytes, ...]} after ISO-TP reassembly."""
	frames = {}
	for ln in text.replace("\n", "").split("\r"):
		ln = ln.strip().replace(" ", "")
		if not ln or ln.endswith(">") or ln in ("OK", "NODATA", "?"):
			continue
		ecu = int(ln[:3], 16)
		data = bytes.fromhex(ln[3:])
		frames.setdefault(ecu, []).append(data)
	out = {}
	for ecu, fr in frames.items():
		msgs = []
		cur = None
		want = 0
		for f in fr:
			pci = f[0] >> 4
			if pci == 0:
				msgs.append(f[1:1 + (f[0] & 0x0F)])
			elif pci == 1:
				want = ((f[0] & 0x0F) << 8) | f[1]
				cur = bytearray(f[2:])
				seq = 1
			elif pci == 2:
				assert cur is not None and (f[0] & 0x0F) == (seq & 0x0F), \
				    "bad CF sequence"
				cur += f[1:]
				seq += 1
				if len(cur) >= want:
					msgs.append(bytes(cur[:want]))
					cur = None
		assert cur is None, "incomplete ISO-TP message from %03X" % ecu
		out[ecu] = msgs
	return out


def dtcs_of(payload):
	n = payload[1]
	codes = []
	for i in range(n):
		a, b = payload[2 + 2 * i], payload[3 + 2 * i]
		codes.append("PCBU"[a >> 6] + str((a >> 4) & 3) + "%X%02X" % (
		    a & 0x0F, b))
	return codes


def decode_pid(pid, d):
	"""J1979 formulas (the transcript header's list)."""
	A = d[0]
	B = d[1] if len(d) > 1 else 0
	if pid in (0x04, 0x11, 0x2F):
		return A * 100.0 / 255.0
	if pid in (0x05, 0x0F, 0x46):
		return A - 40
	if pid == 0x0C:
		return (256 * A + B) / 4.0
	if pid == 0x0D:
		return A
	if pid == 0x10:
		return (256 * A + B) / 100.0
	if pid in (0x1F, 0x21, 0x31):
		return 256 * A + B
	if pid == 0x42:
		return (256 * A + B) / 1000.0
	if pid == 0x5E:
		return (256 * A + B) / 20.0
	if pid == 0xA6:
		return int.from_bytes(d[:4], "big") / 10.0
	if pid == 0x01:
		return (bool(A & 0x80), A & 0x7F)
	raise KeyError(pid)


PID_FIELD = {0x04: ("load_pct", 0.01), 0x05: ("coolant_c", 0),
    0x0C: ("rpm", 0), 0x0D: ("speed_kmh", 0), 0x0F: ("intake_c", 0),
    0x10: ("maf_gps", 1e-9), 0x11: ("throttle_pct", 0.01),
    0x1F: ("run_time_s", 0), 0x21: ("dist_mil_km", 0),
    0x2F: ("fuel_level_pct", 0.01), 0x31: ("dist_clear_km", 0),
    0x42: ("battery_v", 1e-9), 0x46: ("ambient_c", 0),
    0x5E: ("fuel_rate_lph", 1e-9), 0xA6: ("odometer_km", 1e-9)}


class Sim:
	"""elm327_sim.py in a subprocess with --stdin-control."""

	def __init__(self, *args):
		self.args = [PY, SIM, "--obd", OBD, "--stdin-control"] + list(args)
		self.p = subprocess.Popen(self.args, stdin=subprocess.PIPE,
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
		    bufsize=1)
		self.lines = []
		self.buf = b""
		ready = self.wait_line("READY ", 5)
		self.where = dict(kv.split("=", 1) for kv in ready.split()[1:])

	def wait_line(self, prefix, timeout=5.0):
		end = time.monotonic() + timeout
		fd = self.p.stdout.fileno()
		while True:
			while b"\n" in self.buf:
				raw, self.buf = self.buf.split(b"\n", 1)
				line = raw.decode()
				self.lines.append(line)
				if line.startswith(prefix):
					return line
			left = end - time.monotonic()
			if left <= 0 or not select.select([fd], [], [], left)[0]:
				break
			data = os.read(fd, 4096)
			if not data:
				break
			self.buf += data
		raise AssertionError("no %r line from the simulator (got %r; "
		    "stderr %s)" % (prefix, self.lines, self.stderr_now()))

	def stderr_now(self):
		if self.p.poll() is None:
			return "(running)"
		return self.p.stderr.read()

	def ctl(self, line, expect=None):
		self.p.stdin.write(line + "\n")
		self.p.stdin.flush()
		return self.wait_line(expect or "ok ", 5)

	def tcp_port(self):
		return int(self.where["tcp"].rsplit(":", 1)[1])

	def stop(self):
		if self.p.poll() is None:
			self.p.send_signal(signal.SIGTERM)
			try:
				self.p.wait(5)
			except subprocess.TimeoutExpired:
				self.p.kill()
				self.p.wait()
		for f in (self.p.stdin, self.p.stdout, self.p.stderr):
			try:
				f.close()
			except OSError:
				pass
		return self.p.returncode


class Conn:
	"""A client end: read until '>' like a real ELM327 client."""

	def __init__(self, fd=None, sock=None):
		self.fd = fd
		self.sock = sock

	@classmethod
	def pty(cls, path):
		fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
		return cls(fd=fd)

	@classmethod
	def tcp(cls, port):
		s = socket.create_connection(("127.0.0.1", port), timeout=3)
		s.setblocking(False)
		return cls(sock=s)

	def fileno(self):
		return self.fd if self.fd is not None else self.sock.fileno()

	def write(self, data):
		if self.fd is not None:
			os.write(self.fd, data)
		else:
			self.sock.sendall(data)

	def read_some(self, timeout):
		r, _, _ = select.select([self], [], [], timeout)
		if not r:
			return None		# nothing yet
		try:
			if self.fd is not None:
				return os.read(self.fd, 65536)
			return self.sock.recv(65536)
		except BlockingIOError:
			return None
		except OSError as e:
			if e.errno == errno.EIO:
				return b""	# pty master went away
			raise

	def read_until_prompt(self, timeout=3.0):
		buf = b""
		end = time.monotonic() + timeout
		while not buf.endswith(b">"):
			left = end - time.monotonic()
			if left <= 0:
				raise TimeoutError("no '>' (got %r)" % buf[-200:])
			d = self.read_some(left)
			if d == b"":
				raise EOFError("closed (got %r)" % buf)
			if d:
				buf += d
		return buf

	def read_for(self, seconds):
		"""Everything that arrives within seconds."""
		buf = b""
		end = time.monotonic() + seconds
		while time.monotonic() < end:
			d = self.read_some(end - time.monotonic())
			if d == b"":
				break
			if d:
				buf += d
		return buf

	def cmd(self, text, timeout=3.0):
		self.write(text.encode() + b"\r")
		return self.read_until_prompt(timeout).decode("latin-1")

	def close(self):
		if self.fd is not None:
			os.close(self.fd)
		else:
			self.sock.close()


def init(conn, headers=True):
	"""The daemon's init order; returns the ATZ reply."""
	z = conn.cmd("ATZ")
	conn.cmd("ATE0")
	conn.cmd("ATL0")
	conn.cmd("ATS0")
	conn.cmd("ATH1" if headers else "ATH0")
	conn.cmd("ATSP0")
	return z


# ---------------------------------------------------------------- tests

class SynthTest(unittest.TestCase):

	def test_existing_outputs_unchanged(self):
		for name, (h_nmea, h_exp) in sorted(GOLDEN.items()):
			o = os.path.join(TMP, name + ".nmea")
			e = os.path.join(TMP, name + ".jsonl")
			subprocess.run([PY, SYNTH, os.path.join(SCEN, name + ".json"),
			    "-o", o, "-e", e], check=True)
			for path, want in ((o, h_nmea), (e, h_exp)):
				with open(path, "rb") as f:
					got = hashlib.sha256(f.read()).hexdigest()
				self.assertEqual(got, want, "%s changed: existing scenario "
				    "outputs must stay byte-identical" % path)

	def test_existing_obd_truth_unchanged(self):
		for name, (h_obd, h_trips) in sorted(GOLDEN_OBD.items()):
			o = os.path.join(TMP, name + ".g.obd.jsonl")
			t = os.path.join(TMP, name + ".g.trips.json")
			subprocess.run([PY, SYNTH, os.path.join(SCEN, name + ".json"),
			    "-o", os.devnull, "--obd", o, "--trips", t], check=True)
			for path, want in ((o, h_obd), (t, h_trips)):
				with open(path, "rb") as f:
					got = hashlib.sha256(f.read()).hexdigest()
				self.assertEqual(got, want, "%s changed: existing scenario "
				    "outputs must stay byte-identical" % path)

	def test_obd_truth_continuous(self):
		recs = sorted(RECS.values(), key=lambda r: r["t_utc_ms"])
		self.assertEqual(len(recs), len(RECS))
		for a, b in zip(recs, recs[1:]):
			self.assertEqual(b["t_utc_ms"] - a["t_utc_ms"], 1000)
		for r in recs:
			self.assertEqual(r["battery_v"], 14.1 if r["ignition"] else 12.4)
			if not r["ignition"]:
				self.assertEqual((r["rpm"], r["speed_kmh"]), (0, 0))
			elif r["speed_kmh"] == 0:
				self.assertGreater(r["rpm"], 600)	# idling
			# MAF and fuel rate agree (lambda 1, 14.7, 740 g/L)
			self.assertAlmostEqual(r["fuel_rate_lph"], r["maf_gps"] * 3600 /
			    (14.7 * 740), delta=0.026)
		self.assertGreater(recs[-1]["coolant_c"], recs[0]["coolant_c"])
		self.assertLess(recs[-1]["fuel_level_pct"], recs[0]["fuel_level_pct"])
		self.assertFalse(recs[0]["ignition"])
		self.assertFalse(recs[-1]["ignition"])

	def test_trips(self):
		self.assertEqual(len(TRIPS), 3)
		recs = sorted(RECS.values(), key=lambda r: r["t_utc_ms"])
		for n, t in enumerate(TRIPS):
			self.assertTrue(120 <= t["duration_s"] <= 240, t)
			self.assertTrue(t["start"].endswith("+08:00"))
			on = [r for r in recs if t["start_ms"] <= r["t_utc_ms"] <
			    t["end_ms"]]
			self.assertTrue(all(r["ignition"] for r in on))
			self.assertEqual(len(on), t["duration_s"])
			# a traffic light of 30-60 s with the engine idling, inside
			stops = []
			run = 0
			for r in on:
				if r["state"] == "stop":
					run += 1
				elif run:
					stops.append(run)
					run = 0
			self.assertTrue(any(30 <= s <= 61 for s in stops), stops)
			# distance: haversine over the expected fixes in [start, end)
			fx = [e for e in EXPECTED if t["start_ms"] <= e["t_utc_ms"] <
			    t["end_ms"]]
			d = 0.0
			for p, q in zip(fx, fx[1:]):
				p1, p2 = math.radians(p["lat"]), math.radians(q["lat"])
				a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * \
				    math.cos(p2) * math.sin(math.radians(q["lon"] -
				    p["lon"]) / 2) ** 2
				d += 2 * 6371008.8 * math.asin(math.sqrt(a))
			self.assertAlmostEqual(d, t["distance_m"], delta=0.1)
			self.assertAlmostEqual(t["odometer_end_km"] -
			    t["odometer_start_km"], d / 1000.0, delta=0.15)
			self.assertGreater(t["fuel_used_l"], 0.05)
			if n:
				gap = (t["start_ms"] - TRIPS[n - 1]["end_ms"]) / 1000
				self.assertTrue(120 <= gap <= 180, gap)
				# the receiver keeps producing fixes while parked
				fixes = [e for e in EXPECTED if TRIPS[n - 1]["end_ms"] <=
				    e["t_utc_ms"] < t["start_ms"]]
				self.assertEqual(len(fixes), gap)
		self.assertEqual([bool(t["new_dtcs"]) for t in TRIPS],
		    [False, True, False])
		after = (EXPECTED[-1]["t_utc_ms"] - TRIPS[-1]["end_ms"]) / 1000 + 1
		self.assertGreaterEqual(after, 90)
		total = (EXPECTED[-1]["t_utc_ms"] - EXPECTED[0]["t_utc_ms"]) / 1000
		self.assertLess(total, 15 * 60)

	def test_day_has_four_trips(self):
		tp = os.path.join(TMP, "day.trips.json")
		subprocess.run([PY, SYNTH, os.path.join(SCEN, "chengdu-day.json"),
		    "-o", os.devnull, "--trips", tp, "--legs", "1,2,3,4"],
		    check=True)
		with open(tp) as f:
			self.assertEqual(len(json.load(f)), 4)


def _pip(lon, lat, ring):
	inside = False
	for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
		if (y1 > lat) != (y2 > lat) and \
		    x1 + (lat - y1) * (x2 - x1) / (y2 - y1) > lon:
			inside = not inside
	return inside


def _hav(p, q):
	p1, p2 = math.radians(p["lat"]), math.radians(q["lat"])
	a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * \
	    math.sin(math.radians(q["lon"] - p["lon"]) / 2) ** 2
	return 2 * 6371008.8 * math.asin(math.sqrt(a))


class RuleScenarioTest(unittest.TestCase):
	"""The rule scenarios: what the synthesizer writes for the GNSS
	events and fuel drains, and each expected event against the
	synthesized data (a second derivation, so that an edit of a
	scenario that moves an event does not go unnoticed)."""

	synth = {}

	@classmethod
	def load(cls, name):
		if name not in cls.synth:
			b = os.path.join(TMP, name)
			subprocess.run([PY, SYNTH, os.path.join(SCEN, name + ".json"),
			    "-o", b + ".nmea", "-e", b + ".jsonl", "--obd",
			    b + ".obd.jsonl", "--trips", b + ".trips.json", "--events",
			    b + ".events.json"], check=True)
			out = {}
			with open(b + ".jsonl") as f:
				out["fixes"] = [json.loads(x) for x in f]
			with open(b + ".obd.jsonl") as f:
				out["obd"] = [json.loads(x) for x in f]
			for k in ("trips", "events"):
				with open(b + ".%s.json" % k) as f:
					out[k] = json.load(f)
			with open(b + ".nmea") as f:
				out["nmea"] = f.read()
			out["at"] = {x["local"][11:19]: x for x in out["fixes"]}
			cls.synth[name] = out
		return cls.synth[name]

	def expected(self, d, typ):
		return [e for e in d["events"]["expected_events"]
		    if e["type"] == typ]

	def test_all_scenarios_load(self):
		names = sorted(f[:-5] for f in os.listdir(SCEN)
		    if f.startswith("rules-") and f.endswith(".json"))
		self.assertGreaterEqual(len(names), 6)
		for n in names:
			d = self.load(n)
			ev = d["events"]
			self.assertTrue(ev["expected_events"], n)
			lo = d["fixes"][0]["t_utc_ms"]
			hi = d["fixes"][-1]["t_utc_ms"]
			for e in ev["expected_events"]:
				self.assertTrue(lo <= e["start_ms"] <= hi, (n, e))
				if e["end_ms"] is not None:
					self.assertTrue(e["start_ms"] <= e["end_ms"] <= hi,
					    (n, e))
			# the last trip ends with time to spare (ign_off_end_s 60)
			self.assertGreaterEqual((hi - d["trips"][-1]["end_ms"]) / 1000,
			    60, n)
			# replays stay short: about 3 min of gpsfake at the pace
			nsent = d["nmea"].count("$")
			self.assertLess(nsent * ev["replay"]["pace"], 185, n)

	def test_use_rules_follow_trips(self):
		for n, typ in (("rules-holiday", "holiday_use"),
		    ("rules-tiaoxiu", "after_hours_use")):
			d = self.load(n)
			ends = {t["end_ms"] for t in d["trips"]}
			for e in self.expected(d, typ):
				self.assertIn(e["end_ms"], ends, (n, e))
		d = self.load("rules-holiday")
		t2 = d["trips"][1]
		o = d["events"]["orders"][0]
		grace_end = o["valid_to_ms"] + 900 * 1000
		self.assertTrue(t2["start_ms"] < grace_end < t2["end_ms"])
		self.assertEqual([e["start_ms"] for e in self.expected(d,
		    "holiday_use")], [grace_end] + [t["start_ms"] for t in
		    d["trips"][2:]])
		dm = self.expected(d, "dispatch_mismatch")
		self.assertEqual([(e["start_ms"], e["end_ms"]) for e in dm],
		    [(t2["start_ms"], t2["end_ms"])])
		# trip 1 lies inside the graced window and reaches the order's
		# destination
		t1 = d["trips"][0]
		self.assertTrue(o["valid_from_ms"] - 900000 <= t1["start_ms"] and
		    t1["end_ms"] <= grace_end)
		lon, lat, rad = o["dest"]
		self.assertTrue(any(_hav(f, {"lat": lat, "lon": lon}) <= rad
		    for f in d["fixes"] if t1["start_ms"] <= f["t_utc_ms"] <
		    t1["end_ms"]))
		d = self.load("rules-tiaoxiu")
		(ah,) = self.expected(d, "after_hours_use")
		self.assertEqual(ah["start"][11:19], "17:30:00")
		t3 = d["trips"][2]
		self.assertTrue(t3["start_ms"] < ah["start_ms"])
		self.assertGreaterEqual((ah["end_ms"] - ah["start_ms"]) / 1000, 120)
		for t in d["trips"][:2]:	# in working time
			self.assertTrue("08:30" <= t["start"][11:16] and
			    t["end"][11:16] < "12:00", t)
		self.assertIn("2026-10-10", " ".join(
		    d["events"]["conf"]["calendar"]["extra_workdays"]))

	def test_speeding_follows_fixes(self):
		d = self.load("rules-weekday")
		lim = d["events"]["conf"]["rules"]["speeding"]["limit_kmh"] + 5
		runs, cur = [], None
		for f in d["fixes"]:
			if f["speed_kmh"] > lim and cur is None:
				cur = f
			elif f["speed_kmh"] <= lim and cur is not None:
				runs.append((cur["t_utc_ms"], f["t_utc_ms"]))
				cur = None
		self.assertEqual(runs, [(e["start_ms"], e["end_ms"]) for e in
		    self.expected(d, "speeding")])

	def test_fuel_drain(self):
		d = self.load("rules-weekday")
		rec = {r["local"][11:19]: r for r in d["obd"]}
		drop = rec["10:39:59"]["fuel_level_pct"] - \
		    rec["10:40:00"]["fuel_level_pct"]
		self.assertAlmostEqual(drop, 9.0 / 55 * 100, delta=0.3)
		t1, t2 = d["trips"][0], d["trips"][1]
		self.assertGreater(t1["fuel_level_end_pct"] -
		    t2["fuel_level_start_pct"], 5)
		(fd,) = self.expected(d, "fuel_drop")
		self.assertEqual((fd["start_ms"], fd["end_ms"]), (t1["end_ms"],
		    t2["start_ms"]))
		# without a drain the level stays put while parked
		self.assertEqual(d["trips"][2]["fuel_level_end_pct"],
		    d["trips"][3]["fuel_level_start_pct"])

	def test_region_crossings(self):
		d = self.load("rules-region-exit")
		(fence,) = d["events"]["conf"]["fences"]
		ring = fence["polygon"]
		spans, cur = [], None
		for f in d["fixes"]:
			out = not _pip(f["lon"], f["lat"], ring)
			if out and cur is None:
				cur = f
			elif not out and cur is not None:
				spans.append((cur["t_utc_ms"], f["t_utc_ms"]))
				cur = None
		self.assertEqual(len(spans), 2)
		(rx,) = self.expected(d, "region_exit")
		self.assertEqual(rx["fence_id"], fence["id"])
		self.assertEqual((rx["start_ms"], rx["end_ms"]), spans[0])
		o = d["events"]["orders"][0]
		self.assertTrue(o["valid_from_ms"] - 900000 <= spans[1][0] and
		    spans[1][1] <= o["valid_to_ms"] + 900000)

	def test_fatigue_follows_moving_fixes(self):
		d = self.load("rules-fatigue")
		cfg = d["events"]["conf"]["rules"]["fatigue_driving"]
		mv = [f["t_utc_ms"] for f in d["fixes"] if f["speed_kmh"] >= 2.0]
		(fa,) = self.expected(d, "fatigue_driving")
		self.assertEqual(fa["start_ms"], mv[0] + cfg["max_drive_s"] * 1000)
		self.assertEqual(fa["end_ms"], mv[-1])
		# no stop before the limit; the break is shorter than a rest;
		# the final rest is long enough and inside the data
		gaps = [(b - a) / 1000 for a, b in zip(mv, mv[1:])]
		self.assertLess(max(gaps), cfg["min_rest_s"])
		first_stop = min(a for a, b in zip(mv, mv[1:]) if b - a > 1000)
		self.assertGreater(first_stop, fa["start_ms"])
		self.assertGreaterEqual((d["fixes"][-1]["t_utc_ms"] -
		    fa["end_ms"]) / 1000, cfg["min_rest_s"] + 30)
		self.assertEqual(len(d["trips"]), 2)

	def test_tamper_gaps(self):
		d = self.load("rules-tamper")
		at = d["at"]
		nmea = d["nmea"]
		# antenna pulled: 90 epochs of RMC status V, no fixes, OBD moving
		self.assertEqual(nmea.count(",V,,,,,,,"), 90)
		for s in range(60, 150):
			self.assertNotIn("10:%02d:%02d" % (s // 60, s % 60), at)
		self.assertIn("10:00:59", at)
		self.assertIn("10:02:30", at)
		nofix = [r for r in d["obd"] if "10:01:00" <= r["local"][11:19] <=
		    "10:02:29"]
		self.assertEqual(len(nofix), 90)
		self.assertTrue(all(not r["fix"] and r["speed_kmh"] >= 10
		    for r in nofix))
		# silent 10:03:10-10:03:29 (02:03:10 UTC ...): no sentence at all
		for s in range(190, 210):
			self.assertNotIn("RMC,02%02d%02d.00," % (s // 60, s % 60), nmea)
		self.assertIn("RMC,020330.00,A,", nmea)
		# then 2400 m east, 1800 m north of the truth: a 3 km jump
		jump = _hav(at["10:03:09"], at["10:03:30"])
		self.assertAlmostEqual(jump, 3203, delta=30)
		self.assertGreater(jump / 21 * 3.6, 200)
		(gl,) = self.expected(d, "gnss_lost_while_moving")
		(pj,) = self.expected(d, "position_jump")
		self.assertEqual((gl["start"][11:19], gl["end"][11:19]),
		    ("10:00:59", "10:02:30"))
		self.assertEqual((pj["start"][11:19], pj["end"][11:19]),
		    ("10:03:09", "10:03:30"))
		# no jump across the outage: a car's speed
		self.assertLess(_hav(at["10:00:59"], at["10:02:30"]) / 91 * 3.6,
		    60)
		self.assertEqual(d["events"]["replay"]["pace"], 0.05)


class PtyClientTest(unittest.TestCase):
	"""A client on the pty in trip 2 (clock frozen): values and DTCs."""

	@classmethod
	def setUpClass(cls):
		cls.link = os.path.join(TMP, "obd-pty")
		cls.sim = Sim("--pty", cls.link, "--start", T_DRIVE2, "--speed",
		    FROZEN)
		cls.rec = RECS["10:07:30"]

	@classmethod
	def tearDownClass(cls):
		cls.sim.stop()

	def setUp(self):
		self.c = Conn.pty(self.link)

	def tearDown(self):
		self.c.close()

	def test_ready_and_link(self):
		self.assertEqual(os.path.realpath(self.link), self.sim.where["dev"])

	def test_init_and_values(self):
		self.c.write(b"ATZ\r")
		z = self.c.read_until_prompt().decode()
		self.assertTrue(z.endswith("\r\rELM327 v1.5\r\r>"), repr(z))
		self.assertEqual(self.c.cmd("ATE0"), "ATE0\rOK\r\r>")
		self.assertEqual(self.c.cmd("ATL0"), "OK\r\r>")
		self.assertEqual(self.c.cmd("ATS0"), "OK\r\r>")
		self.assertEqual(self.c.cmd("ATH1"), "OK\r\r>")
		self.assertEqual(self.c.cmd("ATSP0"), "OK\r\r>")
		self.assertEqual(self.c.cmd("ATDPN"), "A0\r\r>")
		r = decode_lines(self.c.cmd("0100"))
		self.assertEqual(sorted(r), [0x7E8, 0x7E9])	# two ECUs
		self.assertEqual(self.c.cmd("ATDPN"), "A6\r\r>")
		self.assertEqual(self.c.cmd("ATRV"), "14.1V\r\r>")
		rpm = decode_lines(self.c.cmd("010C"))[0x7E8][0]
		self.assertEqual(rpm[:2], b"\x41\x0C")
		self.assertEqual(decode_pid(0x0C, rpm[2:]), self.rec["rpm"])
		# VIN: multi-frame with headers on, valid check digit, Chinese WMI
		raw = self.c.cmd("0902")
		self.assertTrue(raw.startswith("7E81014490201"), raw)
		vin = decode_lines(raw)[0x7E8][0][3:].decode()
		self.assertEqual(vin, self.rec["vin"])
		self.assertTrue(vin.startswith("L"))
		w = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
		tr = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
		    (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7,
		    8, 9)))
		s = sum(k * (int(ch) if ch.isdigit() else tr[ch])
		    for k, ch in zip(w, vin)) % 11
		self.assertEqual(vin[8], "X" if s == 10 else str(s))
		# DTCs: 3 stored codes -> multi-frame; the TCM answers 43 00
		m = decode_lines(self.c.cmd("03"))
		want = sorted(d["code"] for d in self.rec["dtcs"] if d["mode"] == 3)
		self.assertEqual(sorted(dtcs_of(m[0x7E8][0])), want)
		self.assertEqual(len(want), 3)
		self.assertEqual(m[0x7E9][0], b"\x43\x00")
		m = decode_lines(self.c.cmd("0A"))
		self.assertEqual(dtcs_of(m[0x7E8][0]), ["P0301"])
		m = decode_lines(self.c.cmd("07"))
		self.assertEqual(dtcs_of(m[0x7E8][0]), [])
		mil = decode_pid(0x01, decode_lines(self.c.cmd("0101"))[0x7E8][0][2:])
		self.assertEqual(mil, (True, 3))

	def test_every_pid_and_bitmaps(self):
		init(self.c)
		supported = set()
		base = 0
		while True:
			m = decode_lines(self.c.cmd("01%02X" % base))
			bm = int.from_bytes(m[0x7E8][0][2:6], "big")
			for i in range(32):
				if bm & (1 << (31 - i)):
					supported.add(base + i + 1)
			if base + 0x20 not in supported:
				break
			base += 0x20
		self.assertEqual(base, 0xA0)
		served = {p for p in supported if p % 0x20}
		self.assertTrue({0x01, 0x04, 0x05, 0x0C, 0x0D, 0x0F, 0x10, 0x11,
		    0x1F, 0x21, 0x2F, 0x31, 0x42, 0x46, 0x5E, 0xA6} <= served)
		self.assertNotIn(0x5B, served)
		for pid in sorted(served):
			m = decode_lines(self.c.cmd("01%02X" % pid))
			self.assertIn(0x7E8, m, "PID %02X advertised but not served" % pid)
			d = m[0x7E8][0]
			self.assertEqual(d[:2], bytes([0x41, pid]))
			if pid in PID_FIELD:
				field, tol = PID_FIELD[pid]
				self.assertAlmostEqual(decode_pid(pid, d[2:]), self.rec[field],
				    delta=tol + 1e-9, msg="PID %02X" % pid)
		self.assertIn("NO DATA", self.c.cmd("015B"))	# not a hybrid

	def test_formats(self):
		init(self.c)
		self.c.cmd("ATS1")
		r = self.c.cmd("010D")
		v = self.rec["speed_kmh"]
		self.assertEqual(r, "7E8 03 41 0D %02X \r7E9 03 41 0D %02X \r\r>" %
		    (v, v))
		self.c.cmd("ATH0")
		self.assertEqual(self.c.cmd("010D1"), "41 0D %02X \r\r>" % v)
		r = self.c.cmd("0902")
		self.assertTrue(r.startswith("014\r0: 49 02 01 "), r)
		self.c.cmd("ATL1")
		self.c.cmd("ATE1")
		self.assertEqual(self.c.cmd("ATI"), "ATI\rELM327 v1.5\r\n\r\n>")
		self.assertEqual(self.c.cmd("ATFOO"), "ATFOO\r?\r\n\r\n>")
		self.assertEqual(self.c.cmd("01 0"), "01 0\r?\r\n\r\n>")
		self.c.cmd("ATE0")
		self.c.cmd("ATL0")
		self.c.cmd("ATH1")
		self.c.cmd("ATSH7E1")
		self.assertEqual(sorted(decode_lines(self.c.cmd("010D"))), [0x7E9])
		self.c.cmd("ATSH7DF")
		self.c.cmd("ATCRA7E8")
		self.assertEqual(sorted(decode_lines(self.c.cmd("010D"))), [0x7E8])
		self.c.cmd("ATAR")
		self.assertEqual(self.c.cmd("ATSP8"), "OK\r\r>")
		self.assertIn("CAN ERROR", self.c.cmd("0100"))
		self.c.cmd("ATSP6")
		self.assertEqual(self.c.cmd("ATDPN"), "6\r\r>")


class GpsdFollowTest(unittest.TestCase):
	"""--follow-gpsd against a scripted gpsd; TCP transport; reconnects."""

	def setUp(self):
		self.lsock = socket.socket()
		self.lsock.bind(("127.0.0.1", 0))
		self.lsock.listen(1)
		self.gconn = None
		self.watch = threading.Event()

		def accept():
			c, _ = self.lsock.accept()
			self.gconn = c
			c.sendall(b'{"class":"VERSION","release":"3.22","rev":"3.22",'
			    b'"proto_major":3,"proto_minor":14}\n')
			c.settimeout(5)
			try:
				if b"?WATCH" in c.recv(4096):
					self.watch.set()
			except OSError:
				pass
		self.th = threading.Thread(target=accept, daemon=True)
		self.th.start()
		self.sim = Sim("--tcp", "127.0.0.1:0", "--follow-gpsd",
		    "127.0.0.1:%d" % self.lsock.getsockname()[1])

	def tearDown(self):
		self.sim.stop()
		if self.gconn:
			self.gconn.close()
		self.lsock.close()

	def tpv(self, local):
		t = RECS[local]["t"].replace("Z", ".000Z")
		self.gconn.sendall(('{"class":"TPV","device":"/dev/x","mode":3,'
		    '"time":"%s","lat":30.5,"lon":104.06}\n' % t).encode())
		for _ in range(100):		# until the simulator saw it
			if ("t=" + RECS[local]["t"]) in self.sim.ctl("status"):
				return
			time.sleep(0.02)
		self.fail("simulator did not follow TPV %s" % local)

	def test_follow(self):
		self.assertTrue(self.watch.wait(5), "no ?WATCH sent to gpsd")
		c = Conn.tcp(self.sim.tcp_port())
		init(c)
		# before any TPV: engine off, no protocol found yet
		self.assertEqual(c.cmd("ATRV"), "12.4V\r\r>")
		self.assertEqual(c.cmd("0100"), "UNABLE TO CONNECT\r\r>")
		self.tpv("10:00:30")
		m = decode_lines(c.cmd("010C"))
		self.assertEqual(decode_pid(0x0C, m[0x7E8][0][2:]),
		    RECS["10:00:30"]["rpm"])
		self.assertEqual(c.cmd("ATRV"), "14.1V\r\r>")
		self.tpv("10:04:00")		# parked between trips: engine off
		self.assertEqual(c.cmd("010C"), "NO DATA\r\r>")
		self.assertEqual(c.cmd("03"), "NO DATA\r\r>")
		self.assertEqual(c.cmd("0902"), "NO DATA\r\r>")
		self.assertEqual(c.cmd("ATRV"), "12.4V\r\r>")
		# a second client is refused while the first is connected
		c2 = socket.create_connection(("127.0.0.1", self.sim.tcp_port()))
		c2.settimeout(3)
		self.assertEqual(c2.recv(100), b"")
		c2.close()
		# reconnect: the adapter keeps its settings (echo off ...).  The
		# simulator may not have seen the close yet and refuse us as a
		# second client: try again until accepted (3 s deadline).  A
		# refusal is a close (EOF) or, when our command was already
		# in its receive buffer, a reset.
		c.close()
		deadline = time.monotonic() + 3
		while True:
			c = Conn.tcp(self.sim.tcp_port())
			try:
				self.assertEqual(c.cmd("ATRV"), "12.4V\r\r>")
				break
			except (EOFError, ConnectionResetError):
				c.close()
				if time.monotonic() > deadline:
					raise
				time.sleep(0.05)
		self.tpv("10:07:30")
		m = decode_lines(c.cmd("010D"))
		self.assertEqual(m[0x7E8][0][2], RECS["10:07:30"]["speed_kmh"])
		c.close()
		self.assertIn("clients=2", self.sim.ctl("stats"))


class FaultTest(unittest.TestCase):
	"""Every fault mode, switched at run time through stdin (TCP)."""

	@classmethod
	def setUpClass(cls):
		cls.sim = Sim("--tcp", "127.0.0.1:0", "--start", T_DRIVE1,
		    "--speed", FROZEN, "--fault", "nodata")
		cls.rec = RECS["10:00:30"]
		c = Conn.tcp(cls.sim.tcp_port())
		init(c)
		cls.nodata_at_start = c.cmd("010C")
		c.close()

	@classmethod
	def tearDownClass(cls):
		cls.sim.stop()

	def setUp(self):
		self.c = Conn.tcp(self.sim.tcp_port())
		self.sim.ctl("clear", "ok clear")
		init(self.c)

	def tearDown(self):
		self.sim.ctl("clear", "ok clear")
		self.c.close()

	def test_nodata(self):
		self.assertEqual(self.nodata_at_start, "NO DATA\r\r>")	# --fault
		self.sim.ctl("fault nodata", "ok fault nodata")
		self.assertEqual(self.c.cmd("010C"), "NO DATA\r\r>")
		self.assertEqual(self.c.cmd("0902"), "NO DATA\r\r>")
		self.assertEqual(self.c.cmd("ATRV"), "14.1V\r\r>")	# AT still works
		self.sim.ctl("clear nodata", "ok clear nodata")
		m = decode_lines(self.c.cmd("010C"))
		self.assertEqual(decode_pid(0x0C, m[0x7E8][0][2:]), self.rec["rpm"])

	def test_silence(self):
		self.sim.ctl("fault silence", "ok fault silence")
		self.c.write(b"010C\r")
		self.assertEqual(self.c.read_for(0.5), b"")
		self.sim.ctl("clear silence")
		self.assertEqual(self.c.cmd("ATI"), "ELM327 v1.5\r\r>")

	def test_garbage(self):
		self.sim.ctl("fault garbage", "ok fault garbage")
		self.c.write(b"010C\r")
		r = self.c.read_until_prompt()
		self.assertEqual(r.count(b">"), 1)
		self.assertTrue(any(b < 0x20 or b > 0x7E for b in r[:-1]), r)
		self.assertFalse(r.startswith(b"7E8"), r)

	def test_slow_and_stopped(self):
		self.sim.ctl("fault slow=400", "ok fault slow=400")
		t0 = time.monotonic()
		self.assertIn("410C", self.c.cmd("010C").replace(" ", ""))
		self.assertGreaterEqual(time.monotonic() - t0, 0.38)
		# a byte before the prompt interrupts the request
		self.c.write(b"010D\r")
		time.sleep(0.1)
		self.c.write(b"X")
		self.assertEqual(self.c.read_until_prompt(), b"STOPPED\r\r>")
		self.assertEqual(self.c.read_for(0.6), b"")	# the answer never comes
		self.assertEqual(self.c.cmd("ATI"), "ELM327 v1.5\r\r>")

	def test_searching(self):
		self.sim.ctl("fault searching=600", "ok fault searching=600")
		self.c.cmd("ATSP0")
		t0 = time.monotonic()
		r = self.c.cmd("0100")
		self.assertGreaterEqual(time.monotonic() - t0, 0.55)
		self.assertTrue(r.startswith("SEARCHING...\r7E8"), r)
		t0 = time.monotonic()
		r = self.c.cmd("0100")		# protocol found: no search
		self.assertTrue(r.startswith("7E8"), r)
		self.assertLess(time.monotonic() - t0, 0.3)

	def test_noprompt(self):
		self.sim.ctl("fault noprompt", "ok fault noprompt")
		self.c.write(b"010C\r")
		r = self.c.read_for(0.5)
		self.assertTrue(r.startswith(b"7E804410C"), r)
		self.assertNotIn(b">", r)

	def test_truncated(self):
		self.sim.ctl("fault truncated", "ok fault truncated")
		r = self.c.cmd("0902")
		self.assertEqual(r.count("\r7E8"), 1, r)	# FF + 1 CF of 3
		self.assertRaises(AssertionError, decode_lines, r)
		r = self.c.cmd("010C")
		self.assertTrue(r.endswith("\r\r>"), r)
		self.assertLess(len(r.split("\r")[0]), len("7E804410C0000"))

	def test_oversize(self):
		self.sim.ctl("fault oversize", "ok fault oversize=20480")
		self.c.write(b"010C\r")
		r = self.c.read_until_prompt(5)
		first = r.split(b"\r")[0]
		self.assertGreaterEqual(len(first), 20480)
		self.assertNotIn(b">", first)

	def test_disconnect_tcp(self):
		self.sim.ctl("fault disconnect", "ok fault disconnect")
		self.assertEqual(self.c.read_for(1.0), b"")	# EOF
		self.assertRaises(ConnectionRefusedError, socket.create_connection,
		    ("127.0.0.1", self.sim.tcp_port()), 2)
		self.sim.ctl("clear disconnect", "REOPENED tcp=")
		self.sim.wait_line("ok clear disconnect")
		self.c.close()
		self.c = Conn.tcp(self.sim.tcp_port())
		self.assertEqual(self.c.cmd("ATI"), "ELM327 v1.5\r\r>")


class PtyLifecycleTest(unittest.TestCase):

	def test_disconnect_reopen_and_sigterm(self):
		link = os.path.join(TMP, "obd-life")
		sim = Sim("--pty", link, "--start", T_PARKED, "--speed", FROZEN)
		try:
			c = Conn.pty(link)
			init(c)
			self.assertEqual(c.cmd("0100"), "UNABLE TO CONNECT\r\r>")
			self.assertEqual(c.cmd("ATRV"), "12.4V\r\r>")
			sim.ctl("fault disconnect=1", "ok fault disconnect=1")
			self.assertFalse(os.path.lexists(link))
			end = time.monotonic() + 2
			got = None
			while time.monotonic() < end and got is None:
				r, _, _ = select.select([c], [], [], 0.2)
				if r:
					try:
						got = os.read(c.fd, 100)
					except OSError as e:
						got = e.errno
			self.assertIn(got, (b"", errno.EIO), "slave did not hang up")
			c.close()
			line = sim.wait_line("REOPENED pty=", 3)
			self.assertIn(link, line)
			c = Conn.pty(link)
			self.assertEqual(c.cmd("ATI").split("\r")[-3:],
			    ["ELM327 v1.5", "", ">"])
			c.close()
		finally:
			rc = sim.stop()
		self.assertEqual(rc, 0)
		self.assertFalse(os.path.lexists(link), "symlink left behind")

	def test_stdin_eof_exits(self):
		link = os.path.join(TMP, "obd-eof")
		sim = Sim("--pty", link)
		sim.p.stdin.close()
		self.assertEqual(sim.p.wait(5), 0)
		self.assertFalse(os.path.lexists(link))
		sim.stop()


if __name__ == "__main__":
	t0 = time.monotonic()
	prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
	print("test_elm327_sim: %d run, %d failed, %d errors in %.1f s" % (
	    prog.result.testsRun, len(prog.result.failures),
	    len(prog.result.errors), time.monotonic() - t0))
	sys.exit(0 if prog.result.wasSuccessful() else 1)
