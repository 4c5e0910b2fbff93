"""Replay the real gpsd regression logs (../shared/testdata/gnss) through
gpsfake into fleetgwd and check what it stored against SOURCES.md.

For each log: the daemon starts first (retrying gps_open every 20-50 ms),
then `gpsfake -1 -n -q -W 1 -P PORT LOG` (the brief's recipe, §3.4); when
the daemon has logged the device deactivation that follows the log's end
(or gpsfake is gone and the stored count has settled), SIGTERM, which
commits what is pending.  Checks:

* stored rows == the "fix epochs" of SOURCES.md (max_hdop 100, so that the
  quality gate keeps every fix epoch);
* maximum BeiDou visible / used over the stored rows == SOURCES.md;
* seq is dense 1..N; exit status 0; no sanitizer report;
* bt451: the backward UTC step is stored (a t_utc_ms decreasing along seq)
  and the daemon went on storing;
* nl2008u: forward gaps of 150 s and 1185 s between stored fixes;
* unicore-um621 with max_hdop 5: the reacquisition epoch (hdop 99.99,
  eph ~1900 m) is rejected and everything else is stored.
"""

import os
import shutil
import tempfile
import unittest

import harness

# SOURCES.md: fix epochs, BeiDou (visible, used) maxima (None: no BeiDou).
EXPECTED = {
	"beidou-bd.log": (4, (12, 3)),
	"beidou-gb.log": (1, (11, 1)),
	"unicore-um621.log": (16, (12, 0)),
	"quectel-l76k-nmea.log": (150, (3, 0)),
	"ublox-neo-m9n-nmea.log": (61, (6, 0)),
	"bt451.log": (12, None),
	"nl2008u.log": (9, None),
	"ublox-zed-f9r.log": (30, (14, 4)),
}

CONNECT_TIMEOUT_S = 15
REPLAY_TIMEOUT_S = 60
UNICORE_BAD_HDOP = 99.0
BT451_AFTER_STEP = 1


def replay(test, log, **gnss):
	"""Daemon + gpsfake for one log; returns (daemon, rows, exit status)."""
	work = tempfile.mkdtemp(prefix="fleetgw-replay-")
	port = harness.free_port()
	conf = {"port": port, "max_hdop": 100.0, "retry_min_ms": 20,
	    "retry_max_ms": 50}
	conf.update(gnss)
	d = harness.Daemon(None, work, gnss=conf)
	test.addCleanup(_cleanup, d, work)
	d.start()
	d.wait_ready()
	fake = harness.Gpsfake(log, port)
	test.addCleanup(fake.stop)
	fake.start()
	d.wait_log(r"gnss: .*\bconnected", CONNECT_TIMEOUT_S)
	d.wait_replay_done(fake, REPLAY_TIMEOUT_S)
	fake.stop()
	rc = d.terminate()
	rows = d.positions()
	return d, rows, rc


def _cleanup(d, work):
	d.close()
	shutil.rmtree(work, ignore_errors=True)


def bds_maxima(rows):
	return (max((r["bds_vis"] or 0) for r in rows),
	    max((r["bds_used"] or 0) for r in rows))


class Replay(unittest.TestCase):
	"""One test per log in ../shared/testdata/gnss."""

	@classmethod
	def setUpClass(cls):
		cls.gnss_dir = harness.require_shared("gnss")

	def test_every_log_has_expectations(self):
		logs = sorted(f for f in os.listdir(self.gnss_dir)
		    if f.endswith(".log"))
		self.assertEqual(logs, sorted(EXPECTED), "logs in %s vs the table "
		    "taken from SOURCES.md" % self.gnss_dir)

	def check_common(self, name, d, rows, rc):
		log = d.log_text()
		harness.check_sanitizer(log)
		self.assertEqual(rc, 0, "exit status after SIGTERM; log tail:\n%s" %
		    d.log_tail())
		fixes, bds = EXPECTED[name]
		seqs = [r["seq"] for r in rows]
		self.assertEqual(len(rows), fixes, "%s: stored fixes (SOURCES.md "
		    "fix epochs); times: %s" % (name, [r["t_utc_ms"] for r in rows]))
		self.assertEqual(seqs, list(range(1, len(rows) + 1)),
		    "seq dense from 1")
		if bds is not None:
			self.assertEqual(bds_maxima(rows), bds, "%s: BeiDou visible/used "
			    "maxima over stored fixes" % name)
		for r in rows:
			self.assertIn(r["mode"], (2, 3))
			self.assertTrue(-90 <= r["lat_deg"] <= 90 and
			    -180 <= r["lon_deg"] <= 180)
		self.assertIn(("STOPPING", "1"), d.notify_fields())

	def run_log(self, name, **gnss):
		log = os.path.join(self.gnss_dir, name)
		if not os.path.exists(log):
			self.fail("%s missing from %s" % (name, self.gnss_dir))
		return replay(self, log, **gnss)


def _make_test(name):
	def test(self):
		d, rows, rc = self.run_log(name)
		self.check_common(name, d, rows, rc)
		extra = EXTRA.get(name)
		if extra:
			extra(self, rows)
	test.__doc__ = "replay %s: stored fixes and BeiDou counts as in " \
	    "SOURCES.md" % name
	return test


def _bt451(self, rows):
	t = [r["t_utc_ms"] for r in rows]
	back = [i for i in range(1, len(t)) if t[i] < t[i - 1]]
	self.assertTrue(back, "bt451: the backward UTC step is not in the "
	    "stored times %s" % t)
	# the rows from back[0] on were stored after the step: it went on
	self.assertGreaterEqual(len(t) - back[0], BT451_AFTER_STEP,
	    "bt451: fixes stored after the backward step: %s" % t[back[0]:])


def _nl2008u(self, rows):
	t = [r["t_utc_ms"] for r in rows]
	gaps = [(b - a) / 1000.0 for a, b in zip(t, t[1:]) if b - a > 60000]
	self.assertEqual(len(gaps), 2, "nl2008u: gaps %s" % gaps)
	self.assertAlmostEqual(gaps[0], 150.0, delta=2.0)
	self.assertAlmostEqual(gaps[1], 1185.0, delta=2.0)


EXTRA = {"bt451.log": _bt451, "nl2008u.log": _nl2008u}

for _name in EXPECTED:
	_meth = "test_%s" % _name[:-4].replace("-", "_")
	setattr(Replay, _meth, _make_test(_name))


class QualityGate(unittest.TestCase):
	"""unicore-um621: the first fix after reacquisition has hdop 99.99."""

	@classmethod
	def setUpClass(cls):
		cls.log = os.path.join(harness.require_shared("gnss"),
		    "unicore-um621.log")

	def test_unicore_max_hdop_5_rejects_reacquisition_epoch(self):
		d, loose, rc = replay(self, self.log, max_hdop=100.0)
		self.assertEqual(rc, 0)
		bad = [r for r in loose if r["hdop"] is not None and
		    r["hdop"] >= UNICORE_BAD_HDOP]
		self.assertEqual(len(bad), 1, "with max_hdop 100 exactly one stored "
		    "fix has hdop >= %.0f: %s" % (UNICORE_BAD_HDOP,
		    [(r["t_utc_ms"], r["hdop"]) for r in loose]))
		d2, strict, rc2 = replay(self, self.log, max_hdop=5.0)
		harness.check_sanitizer(d2.log_text())
		self.assertEqual(rc2, 0)
		self.assertEqual(len(strict), len(loose) - 1,
		    "max_hdop 5 drops exactly the reacquisition epoch")
		self.assertNotIn(bad[0]["t_utc_ms"], [r["t_utc_ms"] for r in strict])
		self.assertEqual(sorted(r["t_utc_ms"] for r in strict),
		    sorted(r["t_utc_ms"] for r in loose if r is not bad[0]))
		self.assertTrue(all(r["hdop"] is None or r["hdop"] <= 5.0
		    for r in strict))
		self.assertEqual([r["seq"] for r in strict],
		    list(range(1, len(strict) + 1)))


if __name__ == "__main__":
	unittest.main()
