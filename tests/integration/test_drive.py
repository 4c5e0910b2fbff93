"""A synthesized ten-minute drive in Chengdu, end to end.

tests/sim/nmea_synth.py turns tests/sim/scenarios/chengdu-short.json into
an NMEA log and the list of fixes it carries (values computed back from
the NMEA text).  The log goes through gpsfake (a real gpsd 3.22) into
fleetgwd; then:

* every epoch is stored once, in order, seq 1..N, with its time, lat/lon
  (to NMEA precision), altitude, speed, course (none while standing),
  hdop, and the visible/used satellites of GPS and BeiDou (talker-style
  GSA, so BeiDou "used" survives gpsd 3.22);
* fleetgwctl --json positions returns them with +08:00 times, and
  --from/--to/--limit select the right rows; text mode prints a table;
* fleetgwctl status answers while the daemon runs; the daemon reports
  READY=1 and STOPPING=1, exits 0 on SIGTERM, and the sanitizers are quiet.

test_gpsd_decodes_synth checks the synthesizer against gpsd alone
(tests/sim/gpsd_check.py): if it passes and the others fail, look at the
daemon.
"""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

SCENARIO = os.path.join(harness.SIM, "scenarios", "chengdu-short.json")
TZ_OFFSET = "+08:00"

# Tolerances: what NMEA and gpsd's JSON can carry.
LATLON_TOL_DEG = 1e-8		# ddmm.mmmmm is exact; gpsd prints 9 decimals
SPEED_TOL_MPS = 0.001		# knots %.3f -> gpsd m/s %.3f
HEADING_TOL_DEG = 0.001
HDOP_TOL = 0.006
ALT_TOL_M = 0.001
CTL_TOL = 1e-6			# fleetgwctl prints 12 significant digits

CONNECT_TIMEOUT_S = 15
REPLAY_TIMEOUT_S = 120

SYS_COLUMNS = {"gps": ("gps_vis", "gps_used"),
    "beidou": ("bds_vis", "bds_used"), "glonass": ("glo_vis", "glo_used"),
    "galileo": ("gal_vis", "gal_used")}


def local_iso(t_ms):
	t = dt.datetime.fromtimestamp(t_ms / 1000.0, dt.timezone(
	    dt.timedelta(hours=8)))
	return t.strftime("%Y-%m-%dT%H:%M:%S") + TZ_OFFSET


def close(a, b, tol):
	return a is not None and b is not None and abs(a - b) <= tol


class Drive(unittest.TestCase):

	@classmethod
	def setUpClass(cls):
		cls.work = tempfile.mkdtemp(prefix="fleetgw-drive-")
		try:
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def _setup(cls):
		cls.nmea, cls.expected = harness.synth(SCENARIO, cls.work)
		assert len(cls.expected) > 400, "short drive too short"
		port = harness.free_port()
		cls.daemon = harness.Daemon(None, os.path.join(cls.work),
		    gnss={"port": port, "max_hdop": 5.0, "retry_min_ms": 20,
		    "retry_max_ms": 50})
		cls.fake = harness.Gpsfake(cls.nmea, port)
		d = cls.daemon
		d.start()
		d.wait_ready()
		cls.fake.start()
		d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
		d.wait_replay_done(cls.fake, REPLAY_TIMEOUT_S)
		cls.fake.stop()
		cls.status = d.ctl("-s", d.sock, "--json", "status")
		cls.rc = d.terminate()
		cls.rows = d.positions()

	@classmethod
	def tearDownClass(cls):
		cls._teardown()

	@classmethod
	def _teardown(cls):
		for name in ("fake", "daemon"):
			obj = getattr(cls, name, None)
			if obj is not None:
				(obj.stop if name == "fake" else obj.close)()
		shutil.rmtree(cls.work, ignore_errors=True)

	# -- the daemon as a process

	def test_clean_exit_and_notify(self):
		harness.check_sanitizer(self.daemon.log_text())
		self.assertEqual(self.rc, 0, self.daemon.log_tail())
		keys = self.daemon.notify_fields()
		self.assertIn(("READY", "1"), keys)
		self.assertIn(("STOPPING", "1"), keys)
		self.assertLess(keys.index(("READY", "1")),
		    keys.index(("STOPPING", "1")))
		self.assertTrue(any(k == "STATUS" for k, _ in keys),
		    "STATUS= sent over NOTIFY_SOCKET")

	def test_commits_logged(self):
		# contract: each committed batch is logged (debug) as
		# "store: committed N positions, seq A..B"; together they cover
		# seq 1..N without holes or overlaps
		batches = [(int(n), int(a), int(b)) for n, a, b in re.findall(
		    r"store: committed (\d+) positions?, seq (\d+)\.\.(\d+)",
		    self.daemon.log_text())]
		self.assertTrue(batches, "no \"store: committed N positions, seq "
		    "A..B\" line in the daemon log (fleetgwd -v)")
		nxt = 1
		for n, a, b in batches:
			self.assertEqual((a, b - a + 1), (nxt, n), "batch %r" % ((n, a,
			    b),))
			nxt = b + 1
		self.assertEqual(nxt - 1, len(self.rows))

	def test_status_while_running(self):
		p = self.status
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		st = json.loads(p.stdout)
		self.assertIsInstance(st, dict)
		self.assertTrue(st, "status object is empty")

	# -- the synthesizer against gpsd alone

	def test_gpsd_decodes_synth(self):
		p = subprocess.run([harness.PYTHON, os.path.join(harness.SIM,
		    "gpsd_check.py"), self.nmea, self.nmea[:-5] +
		    ".expected.jsonl"], stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE, encoding="utf-8", timeout=300)
		self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

	# -- what was stored

	def test_every_epoch_stored_once_in_order(self):
		got = [r["t_utc_ms"] for r in self.rows]
		want = [e["t_utc_ms"] for e in self.expected]
		missing = sorted(set(want) - set(got))
		extra = sorted(set(got) - set(want))
		self.assertEqual((len(got), missing[:10], extra[:10]),
		    (len(want), [], []), "stored vs generated epochs")
		self.assertEqual(got, want, "order")
		self.assertEqual([r["seq"] for r in self.rows],
		    list(range(1, len(want) + 1)), "seq dense from 1")

	def test_stored_values(self):
		bad = []
		by_t = {r["t_utc_ms"]: r for r in self.rows}
		for e in self.expected:
			r = by_t.get(e["t_utc_ms"])
			if r is None:
				continue	# reported by the test above
			diffs = []
			if not close(r["lat_deg"], e["lat"], LATLON_TOL_DEG):
				diffs.append("lat %r != %r" % (r["lat_deg"], e["lat"]))
			if not close(r["lon_deg"], e["lon"], LATLON_TOL_DEG):
				diffs.append("lon %r != %r" % (r["lon_deg"], e["lon"]))
			if not close(r["alt_m"], e["alt_m"], ALT_TOL_M):
				diffs.append("alt %r != %r" % (r["alt_m"], e["alt_m"]))
			if not close(r["speed_mps"], e["speed_mps"], SPEED_TOL_MPS):
				diffs.append("speed %r != %r" % (r["speed_mps"],
				    e["speed_mps"]))
			if e["heading_deg"] is None:
				if r["heading_deg"] is not None:
					diffs.append("heading %r while standing" %
					    r["heading_deg"])
			elif not close(r["heading_deg"], e["heading_deg"],
			    HEADING_TOL_DEG):
				diffs.append("heading %r != %r" % (r["heading_deg"],
				    e["heading_deg"]))
			if not close(r["hdop"], e["hdop"], HDOP_TOL):
				diffs.append("hdop %r != %r" % (r["hdop"], e["hdop"]))
			if r["mode"] != 3:
				diffs.append("mode %r" % r["mode"])
			if (r["sats_used"], r["sats_visible"]) != (e["sats_used"],
			    e["sats_visible"]):
				diffs.append("sats used/visible %r/%r != %r/%r" % (
				    r["sats_used"], r["sats_visible"], e["sats_used"],
				    e["sats_visible"]))
			for sysname, (cv, cu) in SYS_COLUMNS.items():
				c = e["constellations"][sysname]
				if (r[cv], r[cu]) != (c["visible"], c["used"]):
					diffs.append("%s visible/used %r/%r != %r/%r" % (
					    sysname, r[cv], r[cu], c["visible"], c["used"]))
			if diffs:
				bad.append("epoch %d %s: %s" % (e["i"], e["local"],
				    "; ".join(diffs)))
		self.assertEqual(bad[:15], [], "%d of %d epochs differ" % (len(bad),
		    len(self.expected)))

	def test_beidou_used_reaches_the_store(self):
		# the point of talker-style $GBGSA: BeiDou used counts are not 0
		self.assertTrue(self.rows)
		self.assertGreater(max(r["bds_used"] for r in self.rows), 0)
		self.assertEqual(max(r["bds_used"] for r in self.rows),
		    max(e["constellations"]["beidou"]["used"]
		    for e in self.expected))

	# -- fleetgwctl

	def check_ctl_rows(self, got, want):
		self.assertEqual(len(got), len(want))
		bad = []
		for g, e in zip(got, want):
			diffs = []
			if g.get("time") != local_iso(e["t_utc_ms"]):
				diffs.append("time %r != %r" % (g.get("time"),
				    local_iso(e["t_utc_ms"])))
			if g.get("seq") != e["i"]:
				diffs.append("seq %r != %r" % (g.get("seq"), e["i"]))
			for k, ek, tol in (("lat", "lat", LATLON_TOL_DEG + CTL_TOL),
			    ("lon", "lon", LATLON_TOL_DEG + CTL_TOL),
			    ("alt_m", "alt_m", ALT_TOL_M + CTL_TOL),
			    ("speed_kmh", "speed_kmh", SPEED_TOL_MPS * 3.6 + CTL_TOL),
			    ("hdop", "hdop", HDOP_TOL)):
				if not close(g.get(k), e[ek], tol):
					diffs.append("%s %r != %r" % (k, g.get(k), e[ek]))
			if e["heading_deg"] is None:
				if g.get("heading_deg", "absent") is not None:
					diffs.append("heading_deg %r, want null" %
					    g.get("heading_deg"))
			elif not close(g.get("heading_deg"), e["heading_deg"],
			    HEADING_TOL_DEG + CTL_TOL):
				diffs.append("heading_deg %r != %r" % (g.get("heading_deg"),
				    e["heading_deg"]))
			if g.get("sats_used") != e["sats_used"]:
				diffs.append("sats_used %r != %r" % (g.get("sats_used"),
				    e["sats_used"]))
			if g.get("constellations") != e["constellations"]:
				diffs.append("constellations %r != %r" % (
				    g.get("constellations"), e["constellations"]))
			if diffs:
				bad.append("seq %s: %s" % (g.get("seq"), "; ".join(diffs)))
		self.assertEqual(bad[:10], [], "%d rows differ" % len(bad))

	def test_ctl_json_positions(self):
		got = self.daemon.positions_json()
		self.assertIsInstance(got, list)
		self.check_ctl_rows(got, self.expected)
		self.assertTrue(all(g["time"].endswith(TZ_OFFSET) for g in got))

	def window(self, t0, t1):
		return [e for e in self.expected if t0 <= e["t_utc_ms"] < t1]

	def test_ctl_from_to_local(self):
		# local times without offset are in the zone recorded in the db
		t0 = self.expected[100]["t_utc_ms"]
		t1 = (t0 + 120 * 1000) // 60000 * 60000	# a whole local minute
		got = self.daemon.positions_json("--from", local_iso(t0)[:19],
		    "--to", local_iso(t1)[:16])
		want = self.window(t0, t1)
		self.assertGreater(len(want), 60)
		self.check_ctl_rows(got, want)

	def test_ctl_from_to_rfc3339(self):
		t0 = self.expected[200]["t_utc_ms"]
		t1 = self.expected[260]["t_utc_ms"]
		utc = lambda t: dt.datetime.fromtimestamp(t / 1000.0,
		    dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
		got = self.daemon.positions_json("--from", utc(t0), "--to",
		    local_iso(t1))
		want = self.window(t0, t1)
		self.assertEqual(len(want), 60)
		self.check_ctl_rows(got, want)

	def test_ctl_date_and_empty_window(self):
		day = self.expected[0]["local"][:10]
		got = self.daemon.positions_json("--from", day)
		self.assertEqual(len(got), len(self.expected))
		got = self.daemon.positions_json("--to", day)
		self.assertEqual(got, [], "nothing before the day starts")
		nxt = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
		self.assertEqual(self.daemon.positions_json("--from", nxt), [])

	def test_ctl_limit(self):
		got = self.daemon.positions_json("--limit", "5")
		self.check_ctl_rows(got, self.expected[:5])
		t0 = self.expected[300]["t_utc_ms"]
		got = self.daemon.positions_json("--from", local_iso(t0), "--limit",
		    "3")
		self.check_ctl_rows(got, self.expected[300:303])

	def test_ctl_text_table(self):
		p = self.daemon.ctl("--db", self.daemon.db, "positions", "--limit",
		    "4")
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		lines = [l for l in p.stdout.splitlines() if l.strip()]
		self.assertEqual(lines[-1], "4 positions", p.stdout)
		body = lines[1:-1]		# header, rows, summary
		self.assertEqual(len(body), 4, p.stdout)
		for line, e in zip(body, self.expected):
			self.assertIn(e["local"][11:19], line, "local time in row")
		self.assertNotIn("{", p.stdout, "text mode is not JSON")
		p = self.daemon.ctl("--db", self.daemon.db, "positions")
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.strip().splitlines()[-1],
		    "%d positions" % len(self.expected))


if __name__ == "__main__":
	unittest.main()
