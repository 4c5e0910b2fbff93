"""Usage rules end to end: gpsfake + the ELM327 simulator + fleetgwd, one
rule scenario at a time (tests/sim/scenarios/rules-*.json).

Each scenario carries, besides the drive (tests/sim/README.md):

* "conf": extra daemon config groups (fences, rules thresholds, calendar
  dates, device class ...), merged over the harness defaults;
* "orders": dispatch orders (派车单) added with ``fleetgwctl dispatch add``
  before the replay;
* "expected_events": the exact events the daemon must record, derived by
  hand from the rule semantics in include/rules.h (the scenario's "notes"
  give the reasoning), each {type, fence_id?, start, end, tolerance_s};
* "replay": {"pace": gpsfake -c}, 0.01 (10x real time) unless the
  scenario needs the wall clock to keep up (rules-tamper: 0.05).

For each scenario: synthesize the NMEA log and the OBD truth, start the
simulator (following gpsd's time) and the daemon with the scenario's
config, add the orders, replay, wait until the replay is consumed and the
last trip has ended, stop the daemon, then compare
``fleetgwctl --db DB --json events`` with expected_events: the multiset of
(type, fence_id) exactly, and every start and end within tolerance_s
(default 5 s).  A mismatch prints a table of expected against recorded
events.

Every replay runs with rules.clock_jump disabled: a 2026 log replayed on
another day disagrees with the system clock by design.

Until the daemon has the rules engine (``fleetgwctl events`` is not
available), every test here skips with "rules engine not wired yet".

Run one scenario:  /usr/bin/python3 tests/integration/run.py RulesTamper
All of them (about 2-3.5 min each, sequentially): run.py test_rules
"""

import copy
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness

SCENARIO_DIR = os.path.join(harness.SIM, "scenarios")
CONF_DIR = os.path.join(harness.ROOT, "conf")

DEFAULT_PACE = 0.01	# gpsfake -c: 10 sentences an epoch -> 10x real time
CONNECT_TIMEOUT_S = 20
TRIP_END_TIMEOUT_S = 90
SETTLE_TIMEOUT_S = 30	# after the replay: wait for the expected events
SKIP_REASON = "rules engine not wired yet"

# As test_obd.py: fast polling so that one OBD sample covers well under
# a GNSS second at 10x.
OBD_FAST = {"driver": "elm327", "baud": 38400, "timeout_ms": 1000,
    "poll_fast_ms": 40, "poll_slow_ms": 400, "dtc_interval_s": 10,
    "retry_min_ms": 100, "retry_max_ms": 1000}

# Added to every scenario's rules group.
BASE_RULES = {"clock_jump": {"enabled": False}}

_support = {}


def rules_support():
	"""None when fleetgwctl has the events command, else why not."""
	if "why" in _support:
		return _support["why"]
	ctl = harness.FLEETGWCTL
	why = None
	if os.access(ctl, os.X_OK):
		tmp = tempfile.mkdtemp(prefix="fleetgw-rules-probe-")
		try:
			p = subprocess.run([ctl, "--db", os.path.join(tmp, "none.db"),
			    "--json", "events"], stdin=subprocess.DEVNULL,
			    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
			    env=harness.sanitizer_env(), encoding="utf-8",
			    errors="replace", timeout=30)
		finally:
			shutil.rmtree(tmp, ignore_errors=True)
		err = p.stderr.lower()
		if p.returncode != 0 and ("not available" in err or
		    "unknown command" in err):
			why = SKIP_REASON
			harness.eprint("test_rules: fleetgwctl events: %s" % (
			    p.stderr.strip().splitlines()[-1] if p.stderr.strip()
			    else "exit %d" % p.returncode))
	# fleetgwctl not built: let the daemon start fail as elsewhere
	_support["why"] = why
	return why


# ------------------------------------------------------------------ config

def _merge(base, over):
	out = copy.deepcopy(base)
	for k, v in over.items():
		if isinstance(v, dict) and isinstance(out.get(k), dict):
			out[k] = _merge(out[k], v)
		else:
			out[k] = copy.deepcopy(v)
	return out


def scenario_conf(meta, workdir):
	"""(groups for harness.Daemon, extra_conf text) from a scenario's
	"conf".  Relative geojson paths of fences are taken from the
	project's conf/ directory (where conf/fleetgw.conf finds them) and
	copied next to the test's config file."""
	conf = copy.deepcopy(meta.get("conf") or {})
	fences = conf.pop("fences", None)
	groups = {}
	for g, kv in conf.items():
		if not isinstance(kv, dict):
			raise AssertionError("scenario conf %r: want a group" % g)
		groups[g] = kv
	groups["rules"] = _merge(BASE_RULES, groups.get("rules", {}))
	extra = ""
	if fences:
		for f in fences:
			p = f.get("geojson")
			if p and not os.path.isabs(p):
				src = os.path.join(CONF_DIR, p)
				dst = os.path.join(workdir, p)
				os.makedirs(os.path.dirname(dst), exist_ok=True)
				shutil.copyfile(src, dst)
		extra = harness.conf_text({"fences": fences})
	return groups, extra


# -------------------------------------------------------------- comparison

def _ms(text):
	return None if text is None else \
	    int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def _hms(ms, date):
	if ms is None:
		return "null"
	t = dt.datetime.fromtimestamp(ms / 1000.0, dt.timezone(
	    dt.timedelta(hours=8)))
	s = t.strftime("%H:%M:%S")
	if ms % 1000:
		s += ".%03d" % (ms % 1000)
	return s if t.date().isoformat() == date else t.strftime("%m-%d ") + s


def _fence(v):
	return v or ""


def compare_events(expected, got, date):
	"""(ok, report).  expected: the --events items; got: fleetgwctl
	--json events.  Within each (type, fence_id) the expected events are
	paired with the recorded ones nearest in start time."""
	pairs = []
	left = list(range(len(got)))
	for e in sorted(expected, key=lambda x: x["start_ms"]):
		key = (e["type"], _fence(e.get("fence_id")))
		cand = [i for i in left if (got[i].get("type"),
		    _fence(got[i].get("fence_id"))) == key]
		if not cand:
			pairs.append((e, None))
			continue
		i = min(cand, key=lambda i: abs((_ms(got[i].get("start")) or 0) -
		    e["start_ms"]))
		left.remove(i)
		pairs.append((e, got[i]))
	pairs += [(None, got[i]) for i in left]
	ok = True
	rows = []
	for e, g in sorted(pairs, key=lambda p: p[0]["start_ms"] if p[0] else
	    _ms(p[1].get("start")) or 0):
		if e is None:
			ok = False
			rows.append(("-", "", "", _hms(_ms(g.get("start")), date),
			    _hms(_ms(g.get("end")), date), ("UNEXPECTED %s %s" % (
			    g.get("type"), _fence(g.get("fence_id")))).rstrip()))
			continue
		name = ("%s %s" % (e["type"], _fence(e.get("fence_id")))).rstrip()
		es, ee = _hms(e["start_ms"], date), _hms(e["end_ms"], date)
		if g is None:
			ok = False
			rows.append((name, es, ee, "-", "", "MISSING"))
			continue
		tol = e.get("tolerance_s", 5) * 1000
		gs, ge = _ms(g.get("start")), _ms(g.get("end"))
		bad = []
		if gs is None:
			bad.append("no start")
		elif abs(gs - e["start_ms"]) > tol:
			bad.append("start %+.1f s" % ((gs - e["start_ms"]) / 1000.0))
		if e["end_ms"] is None:
			if ge is not None:
				bad.append("should be open")
		elif ge is None:
			bad.append("still open")
		elif abs(ge - e["end_ms"]) > tol:
			bad.append("end %+.1f s" % ((ge - e["end_ms"]) / 1000.0))
		ok = ok and not bad
		rows.append((name, es, ee, _hms(gs, date), _hms(ge, date),
		    ", ".join(bad) + " (tolerance %g s)" % (tol / 1000.0) if bad
		    else "ok"))
	head = ("expected", "start", "end", "recorded start", "end", "")
	w = [max(len(r[k]) for r in rows + [head]) for k in range(6)]
	lines = ["  ".join(x.ljust(w[k]) for k, x in enumerate(r)).rstrip()
	    for r in [head] + rows]
	return ok, "\n".join(lines)


# ------------------------------------------------------------------- tests

class _RulesScenario(harness.Prefetched):
	"""One scenario, replayed once in setUpClass; SCENARIO names it."""

	SCENARIO = None

	@classmethod
	def prefetch(cls):
		"""The replay, run by run.py in a worker thread, several
		scenarios at once (they mostly wait on gpsfake's pace)."""
		why = rules_support()
		if why:
			raise unittest.SkipTest(why)
		cls.work = tempfile.mkdtemp(prefix="fleetgw-%s-" % cls.SCENARIO)
		try:
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def _setup(cls):
		scen = os.path.join(SCENARIO_DIR, cls.SCENARIO + ".json")
		w = cls.work
		obd = os.path.join(w, "obd.jsonl")
		trips = os.path.join(w, "trips.json")
		evs = os.path.join(w, "events.json")
		cls.nmea, cls.rows = harness.synth(scen, w, "--obd", obd,
		    "--trips", trips, "--events", evs)
		with open(evs, encoding="utf-8") as f:
			cls.meta = json.load(f)
		with open(trips, encoding="utf-8") as f:
			cls.trips = json.load(f)
		nsent = nep = 0
		with open(cls.nmea, encoding="ascii") as f:
			for line in f:
				nsent += line.startswith("$")
				nep += line[3:6] == "RMC"
		pace = cls.meta["replay"]["pace"]
		epoch_s = pace * nsent / max(1, nep)
		cls.speedup = max(1.0, 1.0 / epoch_s)
		replay_s = pace * nsent
		groups, extra = scenario_conf(cls.meta, w)
		port = harness.free_port()
		cls.sim = harness.ElmSim(obd, w, follow="127.0.0.1:%d" % port,
		    time_scale=cls.speedup).start()
		gnss = dict({"port": port, "retry_min_ms": 20, "retry_max_ms": 50},
		    **groups.pop("gnss", {}))
		obdg = dict(OBD_FAST, device=cls.sim.device, **groups.pop("obd", {}))
		d = cls.daemon = harness.Daemon(None, w, extra_conf=extra,
		    gnss=gnss, obd=obdg, **groups)
		d.start()
		d.wait_ready()
		# Before the first TPV the simulated car is off: NO DATA.
		harness.wait_until(lambda: d.status_json()["obd"]["state"] ==
		    "no_ecu", CONNECT_TIMEOUT_S, interval=0.1,
		    msg=lambda: "obd state no_ecu; log:\n%s" % d.log_tail())
		cls.add_orders()
		cls.fake = harness.Gpsfake(cls.nmea, port, pace=pace)
		cls.fake.start()
		d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
		d.wait_replay_done(cls.fake, replay_s * 1.5 + 60)
		cls.fake.stop()
		harness.wait_until(lambda: d.status_json().get("trip") is None,
		    TRIP_END_TIMEOUT_S, interval=0.2,
		    msg=lambda: "the last trip to end; log:\n%s" % d.log_tail())
		# Episodes close on GNSS time; the scenarios leave enough parked
		# fixes for that, so the events are final by now or soon.
		try:
			harness.wait_until(lambda: compare_events(
			    cls.meta["expected_events"], d.events_json(),
			    cls.meta["date"])[0], SETTLE_TIMEOUT_S, interval=0.5)
		except harness.WaitTimeout:
			pass		# test_events reports the difference
		cls.rc = d.terminate()
		cls.sim.stop()
		cls.events = d.events_json()

	@classmethod
	def add_orders(cls):
		d = cls.daemon
		for o in cls.meta["orders"]:
			args = ["-s", d.sock, "dispatch", "add", "--id", o["id"],
			    "--from", o["from_arg"], "--to", o["to_arg"],
			    "--purpose", o["purpose"], "--approver", o["approver"]]
			if o.get("dest_arg"):
				args += ["--dest", o["dest_arg"]]
			p = d.ctl(*args)
			harness.check_sanitizer(p.stderr)
			if p.returncode != 0:
				raise AssertionError("fleetgwctl %s: exit %d: %s" % (
				    " ".join(args), p.returncode, p.stderr.strip()))
		if cls.meta["orders"]:
			p = d.ctl("-s", d.sock, "--json", "dispatch", "list")
			if p.returncode != 0:
				raise AssertionError("fleetgwctl dispatch list: %s" %
				    p.stderr.strip())
			for o in cls.meta["orders"]:
				if o["id"] not in p.stdout:
					raise AssertionError("order %s not listed: %s" % (
					    o["id"], p.stdout))

	@classmethod
	def tearDownClass(cls):
		cls._teardown()

	@classmethod
	def _teardown(cls):
		for name in ("fake", "sim", "daemon"):
			obj = getattr(cls, name, None)
			if obj is not None:
				(obj.close if name == "daemon" else obj.stop)()
		shutil.rmtree(cls.work, ignore_errors=True)

	def test_events(self):
		ok, table = compare_events(self.meta["expected_events"],
		    self.events, self.meta["date"])
		if not ok:
			self.fail("%s: events differ (times local, %s):\n%s\n\n"
			    "recorded:\n%s\n\ntrips (scenario): %s" % (self.SCENARIO,
			    self.meta["date"], table, json.dumps(self.events,
			    indent=1, ensure_ascii=False), ", ".join("%s-%s" % (
			    t["start"][11:19], t["end"][11:19]) for t in self.trips)))

	def test_event_fields(self):
		ids = set()
		for ev in self.events:
			with self.subTest(event=ev.get("id")):
				for k in ("id", "seq", "type", "severity", "start", "end",
				    "trip_id", "lat", "lon", "fence_id", "details"):
					self.assertIn(k, ev)
				self.assertIn(ev["severity"], ("info", "warning",
				    "violation", "critical"))
				self.assertTrue(ev["start"].endswith("+08:00"), ev)
				if ev["end"] is not None:
					self.assertTrue(ev["end"].endswith("+08:00"), ev)
					self.assertGreaterEqual(_ms(ev["end"]), _ms(ev["start"]))
				self.assertIsInstance(ev["details"], dict)
				self.assertNotIn(ev["id"], ids, "one row per episode")
				ids.add(ev["id"])

	def test_clean_exit(self):
		harness.check_sanitizer(self.daemon.log_text())
		self.assertEqual(self.rc, 0, self.daemon.log_tail())


class RulesWeekday(_RulesScenario, unittest.TestCase):
	"""Working day: speeding under a lowered limit, fuel drained while
	parked; everything else legal."""
	SCENARIO = "rules-weekday"


class RulesHoliday(_RulesScenario, unittest.TestCase):
	"""2026-10-02: an order covers one trip and half of another."""
	SCENARIO = "rules-holiday"


class RulesTiaoxiu(_RulesScenario, unittest.TestCase):
	"""2026-10-10, a Saturday worked (调休): after hours only after 17:30."""
	SCENARIO = "rules-tiaoxiu"


class RulesRegionExit(_RulesScenario, unittest.TestCase):
	"""Leaves a small region fence; the second time under an order."""
	SCENARIO = "rules-region-exit"


class RulesFatigue(_RulesScenario, unittest.TestCase):
	"""Continuous driving past a 15-minute limit, a too-short break."""
	SCENARIO = "rules-fatigue"


class RulesTamper(_RulesScenario, unittest.TestCase):
	"""Antenna pulled while moving; a spoofed position jump."""
	SCENARIO = "rules-tamper"


class ScenarioFiles(unittest.TestCase):
	"""The rule scenarios load, and their expected events fall inside
	the data (runs without the daemon)."""

	def test_scenarios(self):
		work = tempfile.mkdtemp(prefix="fleetgw-rules-scen-")
		self.addCleanup(shutil.rmtree, work, True)
		for cls in (RulesWeekday, RulesHoliday, RulesTiaoxiu,
		    RulesRegionExit, RulesFatigue, RulesTamper):
			with self.subTest(scenario=cls.SCENARIO):
				scen = os.path.join(SCENARIO_DIR, cls.SCENARIO + ".json")
				evs = os.path.join(work, cls.SCENARIO + ".events.json")
				_nmea, rows = harness.synth(scen, work, "--events", evs)
				with open(evs, encoding="utf-8") as f:
					meta = json.load(f)
				self.assertTrue(meta["expected_events"])
				lo, hi = rows[0]["t_utc_ms"], rows[-1]["t_utc_ms"]
				for e in meta["expected_events"]:
					self.assertGreaterEqual(e["start_ms"], lo - 3600000, e)
					self.assertLessEqual(e["end_ms"] or e["start_ms"], hi, e)
				groups, extra = scenario_conf(meta, work)
				self.assertEqual(groups["rules"]["clock_jump"],
				    {"enabled": False})
				# the expected list matches itself exactly
				got = [{"type": e["type"], "fence_id": e["fence_id"],
				    "start": e["start"], "end": e["end"]}
				    for e in meta["expected_events"]]
				ok, table = compare_events(meta["expected_events"], got,
				    meta["date"])
				self.assertTrue(ok, table)


# ------------------------------------------- device rules (rules-device.json)
#
# power_loss, obd_lost, dtc and clock_jump need more than a replay: the
# adapter unplugged and plugged back, the daemon killed and restarted, the
# system clock declared synchronised.  The classes below drive those from
# the scenario's GNSS timeline: each action waits until the simulator's
# time (the latest TPV from gpsd, the same time the daemon's fixes carry)
# reaches the planned local time, then acts.  Expectations that only the
# run can know (the power_loss span, the clock offset) are computed from
# what the run left in the database and from the wall clock.

DEVICE_SCENARIO = "rules-device"
ACTION_LATE_S = 3	# an action this far past its planned GNSS time: the
			# test could not keep up (a harness problem, reported)


def _local_ms(meta, hms):
	"""Epoch ms of HH:MM:SS on the scenario's date (Asia/Shanghai)."""
	return int(dt.datetime.fromisoformat("%sT%s+08:00" % (meta["date"],
	    hms)).timestamp() * 1000)


def sim_gnss_ms(sim):
	"""The simulator's scenario time (its latest TPV), epoch ms, or None
	before the first TPV."""
	line = sim.control("status")
	m = re.search(r"\bt=(\S+)", line)
	if m is None or m.group(1) == "none":
		return None
	return int(dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ")
	    .replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def last_record_ms(d):
	"""What store_last_record_utc_ms() will find at the next start: the
	newest position, trip end or event start committed."""
	best = 0
	for sql in ("SELECT max(t_utc_ms) FROM positions",
	    "SELECT max(end_utc_ms) FROM trips",
	    "SELECT max(start_utc_ms) FROM events"):
		try:
			v = d.query(sql)[0][0]
		except sqlite3.OperationalError:
			v = None
		best = max(best, v or 0)
	return best


class _DeviceScenario(_RulesScenario):
	"""rules-device replayed with actions at planned GNSS times.

	UNPLUG: (from, to) local times the adapter is unplugged (simulator
	"fault disconnect" / "clear disconnect").  KILLS: local times at
	which fleetgwd is killed with SIGKILL and started again on the same
	database.  TIMESYNC: FLEETGW_TIMESYNC_FLAG names an existing file
	(the system clock counts as synchronised) or a missing one."""

	SCENARIO = DEVICE_SCENARIO
	UNPLUG = ("10:02:30", "10:03:10")
	KILLS = ()
	TIMESYNC = False
	SPEEDING = ("10:09:26", "10:11:11")	# as expected_events

	@classmethod
	def _setup(cls):
		scen = os.path.join(SCENARIO_DIR, cls.SCENARIO + ".json")
		w = cls.work
		obd = os.path.join(w, "obd.jsonl")
		trips = os.path.join(w, "trips.json")
		evs = os.path.join(w, "events.json")
		cls.nmea, cls.rows = harness.synth(scen, w, "--obd", obd,
		    "--trips", trips, "--events", evs)
		with open(evs, encoding="utf-8") as f:
			cls.meta = json.load(f)
		with open(trips, encoding="utf-8") as f:
			cls.trips = json.load(f)
		nsent = nep = 0
		with open(cls.nmea, encoding="ascii") as f:
			for line in f:
				nsent += line.startswith("$")
				nep += line[3:6] == "RMC"
		pace = cls.meta["replay"]["pace"]
		cls.speedup = max(1.0, 1.0 / (pace * nsent / max(1, nep)))
		replay_s = pace * nsent
		groups, extra = scenario_conf(cls.meta, w)
		port = harness.free_port()
		cls.sim = harness.ElmSim(obd, w, follow="127.0.0.1:%d" % port,
		    time_scale=cls.speedup).start()
		gnss = dict({"port": port, "retry_min_ms": 20, "retry_max_ms": 50},
		    **groups.pop("gnss", {}))
		obdg = dict(OBD_FAST, device=cls.sim.device, **groups.pop("obd", {}))
		d = cls.daemon = harness.Daemon(None, w, extra_conf=extra,
		    gnss=gnss, obd=obdg, **groups)
		cls.flag = os.path.join(w, "timesync-synchronized")
		if cls.TIMESYNC:
			open(cls.flag, "w").close()
		d.env["FLEETGW_TIMESYNC_FLAG"] = cls.flag
		d.start()
		d.wait_ready()
		harness.wait_until(lambda: d.status_json()["obd"]["state"] ==
		    "no_ecu", CONNECT_TIMEOUT_S, interval=0.1,
		    msg=lambda: "obd state no_ecu; log:\n%s" % d.log_tail())
		cls.fake = harness.Gpsfake(cls.nmea, port, pace=pace)
		cls.wall_start = time.time()
		cls.fake.start()
		d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
		harness.wait_until(lambda: d.committed_positions() > 0,
		    CONNECT_TIMEOUT_S, interval=0.05, msg="the first fix stored")
		cls.wall_first = time.time()
		deadline = time.monotonic() + replay_s * 1.5 + 60
		cls.actions = []
		cls.kills = []
		plan = [(cls.UNPLUG[0], "unplug"), (cls.UNPLUG[1], "replug")] + \
		    [(k, "kill") for k in cls.KILLS]
		for hms, what in sorted(plan):
			cls.act(hms, what, deadline)
		d.wait_replay_done(cls.fake, max(10.0, deadline - time.monotonic()))
		cls.fake.stop()
		harness.wait_until(lambda: d.status_json().get("trip") is None,
		    TRIP_END_TIMEOUT_S, interval=0.2,
		    msg=lambda: "the last trip to end; log:\n%s" % d.log_tail())
		cls.expected = cls.expectations()
		try:
			harness.wait_until(lambda: compare_events(cls.expected,
			    d.events_json(), cls.meta["date"])[0], SETTLE_TIMEOUT_S,
			    interval=0.5)
		except harness.WaitTimeout:
			pass		# test_events reports the difference
		cls.rc = d.terminate()
		cls.sim.stop()
		cls.events = d.events_json()
		cls.trips_db = d.query("SELECT id, start_utc_ms, end_utc_ms, "
		    "ended_by FROM trips ORDER BY id")
		cls.dtcs_db = d.query("SELECT code, mode, first_utc_ms, "
		    "last_utc_ms FROM dtcs ORDER BY seq")

	@classmethod
	def _teardown(cls):
		"""As the other scenarios; FLEETGW_KEEP=1 keeps the work directory
		(daemon.log, fleetgw.db, elm327_sim.log) for a look."""
		if not os.environ.get("FLEETGW_KEEP"):
			return super()._teardown()
		for name in ("fake", "sim", "daemon"):
			obj = getattr(cls, name, None)
			if obj is not None:
				(obj.close if name == "daemon" else obj.stop)()
		harness.eprint("\nkept: %s" % cls.work)
		return None

	@classmethod
	def wait_gnss(cls, target_ms, deadline):
		"""Wait until the simulator's GNSS time reaches target_ms."""
		state = {"t": None}

		def reached():
			state["t"] = sim_gnss_ms(cls.sim)
			return state["t"] is not None and state["t"] >= target_ms
		harness.wait_until(reached, max(1.0, deadline - time.monotonic()),
		    interval=0.01, msg=lambda: "GNSS time %s (now %s); log:\n%s" % (
		    _hms(target_ms, cls.meta["date"]), _hms(state["t"],
		    cls.meta["date"]), cls.daemon.log_tail()))
		return state["t"]

	@classmethod
	def act(cls, hms, what, deadline):
		d = cls.daemon
		planned = _local_ms(cls.meta, hms)
		t = cls.wait_gnss(planned, deadline)
		if what == "unplug":
			cls.sim.control("fault disconnect")
		elif what == "replug":
			cls.sim.control("clear disconnect")
		else:
			d.kill9()
			last = last_record_ms(d)
			nmax = d.query("SELECT count(*), max(seq) FROM positions")[0]
			d.start()
			d.wait_ready()
			d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
			first = harness.wait_until(lambda: d.query("SELECT min(t_utc_ms) "
			    "FROM positions WHERE seq > ?", (nmax[1] or 0,))[0][0],
			    CONNECT_TIMEOUT_S, interval=0.05, msg=lambda: "a fix stored "
			    "after the restart; log:\n%s" % d.log_tail())
			cls.kills.append({"planned": planned, "at": t, "last": last,
			    "first": first})
		cls.actions.append((what, planned, t))

	@classmethod
	def expectations(cls):
		"""The scenario's expected events plus what the run decides."""
		out = [dict(e) for e in cls.meta["expected_events"]]
		if cls.TIMESYNC:
			out.append({"type": "clock_jump", "fence_id": None,
			    "start_ms": cls.rows[0]["t_utc_ms"], "end_ms": None,
			    "tolerance_s": 2, "why": "the first fix disagrees with "
			    "the synchronised system clock; never agrees again"})
		for k in cls.kills:
			out.append({"type": "power_loss", "fence_id": None,
			    "start_ms": k["last"], "end_ms": k["first"],
			    "tolerance_s": 1, "why": "last record before the kill -> "
			    "first fix after the restart"})
		return out

	# -- checks on top of test_event_fields / test_clean_exit

	def test_events(self):
		ok, table = compare_events(self.expected, self.events,
		    self.meta["date"])
		if not ok:
			self.fail("%s: events differ (times local, %s):\n%s\n\n"
			    "actions (planned -> GNSS time done): %s\nkills: %s\n\n"
			    "recorded:\n%s\n\ntrips (scenario): %s\ntrips (db): %s" % (
			    self.SCENARIO, self.meta["date"], table, ", ".join(
			    "%s %s->%s" % (w, _hms(p, self.meta["date"]), _hms(t,
			    self.meta["date"])) for w, p, t in self.actions),
			    ", ".join("last %s first %s" % (_hms(k["last"],
			    self.meta["date"]), _hms(k["first"], self.meta["date"]))
			    for k in self.kills), json.dumps(self.events, indent=1,
			    ensure_ascii=False), ", ".join("%s-%s" % (
			    t["start"][11:19], t["end"][11:19]) for t in self.trips),
			    ", ".join("%s-%s %s" % (_hms(r[1], self.meta["date"]),
			    _hms(r[2], self.meta["date"]), r[3]) for r in
			    self.trips_db)))

	def of_type(self, typ):
		return [e for e in self.events if e.get("type") == typ]

	def test_actions_on_time(self):
		"""The test itself acted when planned (else the tolerances of the
		expectations do not hold)."""
		for what, planned, t in self.actions:
			with self.subTest(action=what, planned=_hms(planned,
			    self.meta["date"])):
				self.assertLessEqual(t - planned, ACTION_LATE_S * 1000,
				    "acted at %s" % _hms(t, self.meta["date"]))

	def test_dtc(self):
		"""One dtc event for P0171 (pending) at the first scan after it
		appeared; the later scans that read it again add none."""
		appear = _local_ms(self.meta, "10:01:00")
		ev = self.of_type("dtc")
		self.assertEqual(len(ev), 1, json.dumps(ev, indent=1))
		ev = ev[0]
		self.assertGreaterEqual(_ms(ev["start"]), appear, ev)
		self.assertEqual(ev["start"], ev["end"], "instant: %s" % ev)
		self.assertEqual(ev["details"].get("new"),
		    [{"code": "P0171", "mode": 7}], ev)
		self.assertIn("P0171", ev["details"].get("active", []), ev)
		# store_dtc_scan() moved last_utc_ms on: a later scan read it again
		rows = [r for r in self.dtcs_db if r[0] == "P0171"]
		self.assertEqual(len(rows), 1, self.dtcs_db)
		self.assertGreater(rows[0][3], rows[0][2], "P0171 read by one "
		    "scan only: %s" % (rows,))

	def test_clock_jump(self):
		ev = self.of_type("clock_jump")
		if not self.TIMESYNC:
			self.assertEqual(ev, [], "no synchronised clock, no "
			    "clock_jump")
			return
		self.assertEqual(len(ev), 1, json.dumps(ev, indent=1))
		off = ev[0]["details"].get("offset_s")
		g = self.rows[0]["t_utc_ms"] / 1000.0
		lo, hi = self.wall_start - g - 1, self.wall_first - g + 1
		self.assertIsNotNone(off, ev)
		self.assertTrue(lo <= off <= hi, "offset_s %s, want %.1f..%.1f "
		    "(system clock at the first fix - its GNSS time)" % (off, lo,
		    hi))


class RulesDevice(_DeviceScenario, unittest.TestCase):
	"""Weekday drive: a pending DTC, the adapter unplugged 40 s while
	driving, a speeding stretch; the system clock not synchronised (no
	clock_jump although the rule is on)."""


class RulesDeviceClock(_DeviceScenario, unittest.TestCase):
	"""The same drive with the system clock synchronised (flag file
	present): its 2026-11-24 GNSS time disagrees with the system clock."""
	TIMESYNC = True


class RulesDeviceRestart(_DeviceScenario, unittest.TestCase):
	"""The same drive (clock synchronised), fleetgwd killed with SIGKILL
	twice: 15 s after the engine stopped at the end of trip 1 (the trip
	still open, waiting for ign_off_end_s), and 44 s into the speeding
	stretch of trip 2 (speeding and clock_jump episodes open)."""
	TIMESYNC = True
	KILLS = ("10:05:45", "10:10:10")

	@classmethod
	def expectations(cls):
		out = super().expectations()
		# An episode open at a kill continues with its id (the scenario's
		# end) or is closed at the kill, i.e. at the recovered trip's end,
		# the last record: either end is right, a second event is not.
		s0 = _local_ms(cls.meta, cls.SPEEDING[0])
		s1 = _local_ms(cls.meta, cls.SPEEDING[1])
		got = [e for e in cls.daemon.events_json() if e["type"] ==
		    "speeding" and abs(_ms(e["start"]) - s0) <= 5000]
		for k in cls.kills:
			if s0 <= k["at"] <= s1 and got and got[0]["end"] is not None \
			    and abs(_ms(got[0]["end"]) - k["last"]) <= 5000:
				for e in out:
					if e["type"] == "speeding":
						e["end_ms"] = k["last"]
						e["why"] += " (closed at the kill)"
		return out

	def test_not_reported_twice(self):
		"""Episodes open at a kill (speeding, clock_jump) and the DTC known
		before it are not reported again after the restart."""
		for typ in ("speeding", "clock_jump", "dtc"):
			with self.subTest(type=typ):
				ev = self.of_type(typ)
				self.assertEqual(len(ev), 1, "%s reported %d times:\n%s" % (
				    typ, len(ev), "\n".join("  id %s %s - %s" % (e["id"],
				    e["start"], e["end"]) for e in ev)))

	def test_power_loss(self):
		ev = sorted(self.of_type("power_loss"), key=lambda e: e["start"])
		self.assertEqual(len(ev), len(self.KILLS), json.dumps(ev,
		    indent=1))
		for e, k in zip(ev, self.kills):
			with self.subTest(kill=_hms(k["at"], self.meta["date"])):
				self.assertTrue(e["details"].get("in_trip"), e)
				self.assertEqual(e["details"].get("gap_s"),
				    (k["first"] - k["last"]) // 1000, e)

	def test_trips_closed_by_power_loss(self):
		"""The trip open at each kill is closed as power_loss; the last
		one ends normally."""
		rows = self.trips_db
		by = [r[3] for r in rows]
		for k in self.kills:
			before = [r for r in rows if r[1] <= k["at"]]
			self.assertTrue(before and before[-1][3] == "power_loss",
			    "the trip open at the kill at %s: %s" % (_hms(k["at"],
			    self.meta["date"]), rows))
		self.assertEqual(by.count("power_loss"), len(self.KILLS), rows)
		self.assertEqual(by[-1], "ignition_off", rows)


class DeviceScenarioFile(unittest.TestCase):
	"""rules-device loads, and the classes' action times agree with its
	expected events (runs without the daemon)."""

	def test_scenario(self):
		work = tempfile.mkdtemp(prefix="fleetgw-rules-dev-")
		self.addCleanup(shutil.rmtree, work, True)
		scen = os.path.join(SCENARIO_DIR, DEVICE_SCENARIO + ".json")
		evs = os.path.join(work, "events.json")
		_nmea, rows = harness.synth(scen, work, "--events", evs)
		with open(evs, encoding="utf-8") as f:
			meta = json.load(f)
		exp = {e["type"]: e for e in meta["expected_events"]}
		self.assertEqual(sorted(exp), ["dtc", "obd_lost", "speeding"])
		self.assertEqual(len(exp), len(meta["expected_events"]))
		for typ, (a, b) in (("obd_lost", _DeviceScenario.UNPLUG),
		    ("speeding", _DeviceScenario.SPEEDING)):
			self.assertEqual((exp[typ]["start_ms"], exp[typ]["end_ms"]),
			    (_local_ms(meta, a), _local_ms(meta, b)), typ)
		lo, hi = rows[0]["t_utc_ms"], rows[-1]["t_utc_ms"]
		for k in RulesDeviceRestart.KILLS + _DeviceScenario.UNPLUG:
			self.assertTrue(lo < _local_ms(meta, k) < hi, k)
		groups, _extra = scenario_conf(meta, work)
		self.assertEqual(groups["rules"]["clock_jump"], {"enabled": True})
		# GNSS time is days before the system clock (clock_jump classes)
		self.assertGreater(time.time() * 1000 - lo, 86400 * 1000)


if __name__ == "__main__":
	unittest.main()
