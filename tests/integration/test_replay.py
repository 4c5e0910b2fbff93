"""Replay the real gpsd regression logs (../shared/testdata/gnss) through
gpsfake into fleetgwd and check what it stored against SOURCES.md.

For each log: the daemon starts first (retrying its connect every 20-50 ms),
then `gpsfake -1 -n -q -W 1 -P PORT LOG` (the brief's recipe, §3.4); when
the daemon has logged the device deactivation that follows the log's end
(or gpsfake is gone and the stored count has settled), SIGTERM, which
commits what is pending.  Checks:

* stored rows == the "fix epochs" of SOURCES.md (max_hdop 100 and
  max_eph_m 0, so that the quality gates keep every fix epoch);
* maximum BeiDou visible / used over the stored rows == SOURCES.md;
* seq is dense 1..N; exit status 0; no sanitizer report;
* bt451: the backward UTC step is stored (a t_utc_ms decreasing along seq)
  and the daemon went on storing;
* nl2008u: forward gaps of 150 s and 1185 s between stored fixes;
* unicore-um621 with the default gates (max_hdop 5, max_eph_m 200):
  exactly the fix whose own epoch's hdop is above 5 and the 1.9 km
  reacquisition fix are dropped (see QualityGate).
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

# Where a stored fix cannot match SOURCES.md, and why (measured with
# gpsfake -1 -p on gpsd 3.22):
#  ublox-zed-f9r: SOURCES.md's 14 BeiDou visible is the maximum over all
#  SKY reports.  Each epoch has a series of NMEA GSV SKYs (up to 14 BeiDou,
#  4 of them untracked, none used) and then the UBX NAV-SAT SKY (12 BeiDou,
#  4 used), which is the epoch's last SKY and the one a fix is stored with.
STORED_BDS = {"ublox-zed-f9r.log": (12, 4)}

CONNECT_TIMEOUT_S = 15
REPLAY_TIMEOUT_S = 60
STRICT_HDOP = 5.0
UNICORE_OUTAGE_MS = 5000		# 00:07:05 -> 00:07:10
STRICT_EPH_M = 200.0			# the default gnss.max_eph_m
UNICORE_REACQ_EPH_M = 1000.0		# 1899.8 m measured
UNICORE_REACQ_HDOP = 2.62
UNICORE_HIGH_HDOP_T = 1717891625000	# 2024-06-09T00:07:05Z
UNICORE_HIGH_HDOP = 10.16
BT451_AFTER_STEP = 4		# 14:33:06.5-14:33:08 after the step back (measured)


def replay(test, log, **gnss):
	"""Daemon + gpsfake for one log; returns (daemon, rows, exit status)."""
	work = tempfile.mkdtemp(prefix="fleetgw-replay-")
	port = harness.free_port()
	conf = {"port": port, "max_hdop": 100.0, "max_eph_m": 0.0,
	    "retry_min_ms": 20, "retry_max_ms": 50}
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
		bds = STORED_BDS.get(name, bds)
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
	"""unicore-um621: fix lost 00:07:06-09, regained 00:07:10 with eph
	1899.8 m.

	Measured with gpsfake -p (gpsd 3.22): the SKY reports of the
	reacquisition epoch carry hdop 2.62; the hdop 99.99 that SOURCES.md
	mentions is in the SKYs of the no-fix epochs before it.  A daemon that
	pairs each fix with the SKY of its own epoch therefore stores 2.62 for
	it, and max_hdop 5 rejects the 00:07:05 epoch (hdop 10.16) instead.
	The 1.9 km fix is rejected by the eph gate (gnss.max_eph_m, default
	200 m)."""

	@classmethod
	def setUpClass(cls):
		cls.log = os.path.join(harness.require_shared("gnss"),
		    "unicore-um621.log")

	def test_unicore_max_hdop_5(self):
		d, loose, rc = replay(self, self.log, max_hdop=100.0)
		self.assertEqual(rc, 0)
		self.assertEqual(len(loose), 16)
		t = [r["t_utc_ms"] for r in loose]
		gap = max(range(1, len(t)), key=lambda i: t[i] - t[i - 1])
		reacq = loose[gap]
		self.assertEqual(t[gap] - t[gap - 1], UNICORE_OUTAGE_MS,
		    "the fix outage 00:07:06-09")
		self.assertGreater(reacq["eph_m"], UNICORE_REACQ_EPH_M,
		    "eph of the reacquisition fix")
		self.assertAlmostEqual(reacq["hdop"], UNICORE_REACQ_HDOP, places=2,
		    msg="the reacquisition fix carries its own epoch's hdop, not "
		    "the 99.99 of the no-fix SKYs before it")
		high = [r for r in loose if r["hdop"] is not None and
		    r["hdop"] > STRICT_HDOP]
		self.assertEqual([(r["t_utc_ms"], r["hdop"]) for r in high],
		    [(UNICORE_HIGH_HDOP_T, UNICORE_HIGH_HDOP)],
		    "stored fixes with hdop above %.1f at max_hdop 100" % STRICT_HDOP)

		d2, strict, rc2 = replay(self, self.log, max_hdop=STRICT_HDOP,
		    max_eph_m=STRICT_EPH_M)
		harness.check_sanitizer(d2.log_text())
		self.assertEqual(rc2, 0)
		self.assertEqual([r["t_utc_ms"] for r in strict],
		    [r["t_utc_ms"] for r in loose if r not in high and
		    r is not reacq],
		    "max_hdop %.1f and max_eph_m %.0f drop exactly the fix above "
		    "the hdop limit and the reacquisition fix" %
		    (STRICT_HDOP, STRICT_EPH_M))
		self.assertEqual([r["seq"] for r in strict],
		    list(range(1, len(strict) + 1)))


if __name__ == "__main__":
	unittest.main()
