"""fleetgwd against a hostile world: gpsd absent, killed, lying or
babbling; a database it cannot write; bad and good reloads; SIGTERM with
rows in RAM; systemd notification; the control socket.

Two GNSS sources:

* gpsdpty.PtyGpsd + Feeder: a real gpsd 3.22 reading a pty we write NMEA
  into (25 epochs/s, GNSS time +1 s per epoch).  Epoch i carries UTC
  gpsdpty.epoch_time(i), so a stored row tells which epoch it came from.
  gpsd can be SIGKILLed and restarted on the same port mid-drive.
* fakegpsd.FakeGpsd: scripted gpsd JSON for what gpsd never sends on
  demand (TPV without time, lat as a string, NaN, a 25 KB line, a line
  cut in two, silence, accept-then-reset).

Every wait is on a condition with a deadline (harness.wait_until); the
few fixed windows (watchdog absence, CPU use during a stalled line) are
observation windows with the pass criterion stated next to them.

The log wording the tests depend on is collected in the RE_* constants
below; the daemon contract says: the loss of gpsd is logged once, its
recovery once, every retry in between at debug only.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import fakegpsd
import gpsdpty
import harness
from fakegpsd import (Hold, Mark, NoGreet, Raw, Reset, Sleep, WaitWatch,
    render, sky, tpv)
from harness import wait_until

# -- log lines (one place to adjust when the daemon's wording changes)
# the outage, at warning level: once per outage
RE_CONNECT_FAIL_WARN = r"gnss: [^\n]*cannot connect[^\n]*retrying"
# every failed attempt, the first at warning level, the rest at debug (-v)
RE_CONNECT_FAIL_ANY = r"gnss: [^\n]*cannot connect"
RE_LOST_WARN = r"gnss: [^\n]*connection lost[^\n]*reconnecting"
RE_STALE_WARN = r"gnss: [^\n]*no data for \d+ ms, reconnecting"
RE_RECOVERED = r"gnss: [^\n]*connected after (\d+) attempts?"
RE_COMMIT = r"store: committed (\d+) positions?, seq (\d+)\.\.(\d+)"
RE_RELOADED = r"main: configuration reloaded"

FEED_HZ = 25.0
READY_TIMEOUT_S = 15
CONNECT_TIMEOUT_S = 15
STORE_TIMEOUT_S = 20
EXIT_TIMEOUT_S = 15

# Coordinates no good fix in these tests has: a stored row near them is a
# bad fix that got through.
BAD_LAT = 31.9876
BAD_LON = 105.4321
T0 = gpsdpty.BASE_UTC_S		# 2026-03-02 09:00 +08:00


def count(regex, text):
	return len(re.findall(regex, text))


def epoch_of(row):
	"""Feeder epoch index of a stored row (GNSS time - base, seconds)."""
	return row["t_utc_ms"] // 1000 - gpsdpty.BASE_UTC_S


def cpu_seconds(pid):
	"""utime + stime of pid, from /proc."""
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def syn_sent_to(pid, port):
	"""True if process pid has a TCP socket in SYN_SENT towards
	127.0.0.1:port (/proc/net/tcp, matched by socket inode)."""
	inodes = set()
	fddir = "/proc/%d/fd" % pid
	for fd in os.listdir(fddir):
		try:
			link = os.readlink(os.path.join(fddir, fd))
		except OSError:
			continue
		if link.startswith("socket:["):
			inodes.add(link[8:-1])
	with open("/proc/net/tcp") as f:
		next(f)
		for line in f:
			col = line.split()
			rem_port = int(col[2].split(":")[1], 16)
			if col[3] == "02" and rem_port == port and col[9] in inodes:
				return True
	return False


def good(i, t0=T0):
	"""Good fix i of the fake-gpsd scripts: time t0+i, moving east."""
	return tpv(t0 + i, 30.5723, 104.0665 + i * 0.0001)


class Base(unittest.TestCase):

	def setUp(self):
		self.work = tempfile.mkdtemp(prefix="fleetgw-robust-")
		if os.environ.get("FLEETGW_KEEP"):
			print("\nkept: %s" % self.work, file=sys.stderr)
		else:
			self.addCleanup(shutil.rmtree, self.work, True)

	# -- building blocks, each cleaned up by the test case

	def daemon(self, sub=None, **groups):
		wd = self.work if sub is None else os.path.join(self.work, sub)
		os.makedirs(wd, exist_ok=True)
		d = harness.Daemon(None, wd, **groups)
		self.addCleanup(d.close)
		return d

	def pty_gpsd(self, port=None, name="gpsd"):
		g = gpsdpty.PtyGpsd(self.work, port, name=name)
		self.addCleanup(g.close)
		return g

	def feeder(self, g, rate=FEED_HZ, first=0, epoch_fn=None):
		f = gpsdpty.Feeder(g, rate, first=first, epoch_fn=epoch_fn)
		self.addCleanup(f.stop)
		f.start()
		return f

	def fake(self, *scripts, default=None):
		fk = fakegpsd.FakeGpsd(default=default)
		fk.push(*scripts)
		self.addCleanup(fk.stop)
		return fk

	# -- checks

	def log_after(self, d, offset):
		return d.log_text(True)[offset:]

	def wait_log_after(self, d, offset, regex, timeout):
		"""Like Daemon.wait_log, but only in the log after offset (chars
		of this run's log)."""
		rx = re.compile(regex)

		def seen():
			m = rx.search(self.log_after(d, offset))
			if m:
				return m
			if not d.running():
				raise AssertionError("fleetgwd exited while waiting for "
				    "/%s/:\n%s" % (regex, d.log_tail()))
			return None
		return wait_until(seen, timeout, msg=lambda: "/%s/ in the log; "
		    "last lines:\n%s" % (regex, d.log_tail()))

	def wait_stored(self, d, pred, timeout=STORE_TIMEOUT_S, what="rows"):
		"""Wait until pred(rows) holds for the committed rows."""
		def ok():
			if not d.running():
				raise AssertionError("fleetgwd exited:\n" + d.log_tail())
			if d.committed_positions() == 0:
				return False
			return pred(d.positions())
		return wait_until(ok, timeout, interval=0.1, msg=lambda:
		    "%s to be stored; log:\n%s" % (what, d.log_tail()))

	def assert_dense(self, d, rows):
		"""Each stream's seq is 1..N without gaps or duplicates (the
		positions; the events stream: trips, events, command results),
		meta agrees with the positions' (gpsdpty.meta_seq_problem), and
		GNSS time increases with seq (nothing stored twice)."""
		seqs = sorted(r["seq"] for r in rows)
		self.assertEqual(seqs, list(range(1, len(seqs) + 1)),
		    "positions seq not dense from 1")
		evs = d.event_seqs()
		self.assertEqual(evs, list(range(1, len(evs) + 1)),
		    "events stream seq (trips, events, commands) not dense from 1")
		meta = dict(d.query("SELECT key, value FROM meta"))
		self.assertIsNone(gpsdpty.meta_seq_problem(meta, len(seqs)))
		ts = [r["t_utc_ms"] for r in rows]
		self.assertTrue(all(a < b for a, b in zip(ts, ts[1:])),
		    "GNSS time not strictly increasing with seq")

	def assert_no_bad_rows(self, rows):
		bad = [r for r in rows if abs(r["lat_deg"] - BAD_LAT) < 0.01 or
		    abs(r["lon_deg"] - BAD_LON) < 0.01 or
		    not -90 <= r["lat_deg"] <= 90]
		self.assertEqual(bad, [], "invalid fixes were stored")

	def finish(self, d):
		"""SIGTERM: exit 0, STOPPING=1 (from this run), quiet sanitizers."""
		stops = d.notify_fields().count(("STOPPING", "1"))
		rc = d.terminate(EXIT_TIMEOUT_S)
		harness.check_sanitizer(d.log_text())
		self.assertEqual(rc, 0, d.log_tail())
		wait_until(lambda: d.notify_fields().count(("STOPPING", "1")) >
		    stops, 2, msg="STOPPING=1 on NOTIFY_SOCKET")

	def sighup(self, d):
		os.kill(d.proc.pid, signal.SIGHUP)


class GpsdOutages(Base):
	"""gpsd missing at start, and killed in the middle of a drive."""

	def test_gpsd_absent_at_start(self):
		port = harness.free_port()
		d = self.daemon(gnss={"port": port})
		d.start()
		# A car in a garage must not fail: READY=1 without gpsd.
		d.wait_ready(READY_TIMEOUT_S)
		self.assertEqual(d.status_json()["gnss"]["state"], "down")
		# Many attempts (debug lines under -v), one warning.
		wait_until(lambda: count(RE_CONNECT_FAIL_ANY, d.log_text(True)) >=
		    20, 15, msg=lambda: ">= 20 connect attempts; log:\n" +
		    d.log_tail())
		log = d.log_text(True)
		self.assertEqual(count(RE_CONNECT_FAIL_WARN, log), 1,
		    "the outage must be logged once (not per retry):\n" +
		    "\n".join(l for l in log.splitlines() if "gnss:" in l)[:3000])

		g = self.pty_gpsd(port)
		g.start()
		self.feeder(g)
		m = d.wait_log(RE_RECOVERED, CONNECT_TIMEOUT_S)
		self.assertGreaterEqual(int(m.group(1)), 20)
		self.wait_stored(d, lambda rows: len(rows) >= 10, what="10 fixes")
		log = d.log_text(True)
		self.assertEqual(count(RE_CONNECT_FAIL_WARN, log), 1)
		self.assertEqual(count(RE_RECOVERED, log), 1,
		    "the recovery must be logged once")
		self.assertEqual(count(RE_LOST_WARN, log), 0)
		self.finish(d)
		self.assert_dense(d, d.positions())

	def test_gpsd_killed_mid_drive(self):
		g = self.pty_gpsd()
		g.start()
		f = self.feeder(g)
		d = self.daemon(gnss={"port": g.port})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		self.wait_stored(d, lambda rows: len(rows) >= 15, what="15 fixes")
		i_kill = f.next_i
		off = len(d.log_text(True))
		g.kill(signal.SIGKILL)
		i_dead = f.next_i	# epochs from here on had no reader

		self.wait_log_after(d, off, RE_LOST_WARN, 10)
		# gpsd stays down while the daemon retries (debug lines).
		wait_until(lambda: count(RE_CONNECT_FAIL_ANY,
		    self.log_after(d, off)) >= 10, 10,
		    msg="10 reconnect attempts while gpsd is down")
		i_restart = f.next_i
		g.start()
		self.wait_log_after(d, off, RE_RECOVERED, CONNECT_TIMEOUT_S)
		self.wait_stored(d, lambda rows: sum(1 for r in rows
		    if epoch_of(r) >= i_restart) >= 10, what="10 fixes after "
		    "the restart")
		st = d.status_json()
		self.assertTrue(st["ok"])
		self.assertGreaterEqual(st["gnss"]["reconnects"], 1)

		self.finish(d)
		rows = d.positions()
		self.assert_dense(d, rows)
		self.assertTrue(any(epoch_of(r) < i_kill for r in rows))
		self.assertTrue(any(epoch_of(r) >= i_restart for r in rows))
		self.assertFalse(any(i_dead <= epoch_of(r) < i_restart
		    for r in rows), "fixes stored that no gpsd read?")
		log = self.log_after(d, off)
		self.assertEqual(count(RE_LOST_WARN, log), 1,
		    "the loss must be logged once")
		self.assertEqual(count(RE_CONNECT_FAIL_WARN, log), 0,
		    "failed retries during a logged outage must not warn again")
		self.assertEqual(count(RE_RECOVERED, log), 1,
		    "the recovery must be logged once")

	def test_gpsd_not_accepting_does_not_block(self):
		# A hung gpsd still listens, but once its accept queue is full
		# (every stale reconnect leaves one entry) connect() hangs in the
		# SYN retries for about two minutes.  One thread, one loop,
		# nothing blocks: the control socket and SIGTERM must still be
		# served meanwhile.  Stand-in: a listener that never accepts,
		# its queue filled.
		lsock = socket.socket()
		self.addCleanup(lsock.close)
		lsock.bind(("127.0.0.1", 0))
		lsock.listen(0)
		port = lsock.getsockname()[1]
		for _ in range(4):
			c = socket.socket()
			self.addCleanup(c.close)
			c.setblocking(False)
			try:
				c.connect(("127.0.0.1", port))
			except BlockingIOError:
				pass
		probe = socket.socket()
		probe.settimeout(1.0)
		with self.assertRaises(socket.timeout, msg="the queue is not "
		    "full: the test would prove nothing"):
			probe.connect(("127.0.0.1", port))
		probe.close()

		d = self.daemon(gnss={"port": port})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		wait_until(lambda: syn_sent_to(d.proc.pid, port), 10,
		    msg="the daemon's connect() to the listener")
		t = time.monotonic()
		p = d.ctl("-s", d.sock, "--json", "status", timeout=30)
		self.assertEqual(p.returncode, 0, "fleetgwctl status failed after "
		    "%.1f s while gpsd does not accept: %s" % (
		    time.monotonic() - t, p.stderr.strip()))
		self.assertEqual(json.loads(p.stdout)["gnss"]
		    ["state"], "down")
		self.finish(d)


class BadInput(Base):
	"""What gpsd (or something on its port) may send besides good fixes."""

	def start_on(self, fk, **groups):
		gn = {"port": fk.port}
		gn.update(groups.pop("gnss", {}))
		d = self.daemon(gnss=gn, **groups)
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		return d

	def stored_times(self, d):
		return sorted(r["t_utc_ms"] for r in d.positions())

	def test_invalid_fixes_not_stored(self):
		dev = fakegpsd.DEVICE
		iso = fakegpsd.iso_time

		def tpv_raw(t, **kv):
			f = {"class": "TPV", "device": dev}
			if t is not None:
				f["time"] = iso(t)
			f.update(kv)
			return render(f)
		script = [
			WaitWatch(), sky(0.9),
			good(0), good(1),
			# mode 3 without time (seen at receiver start-up)
			tpv(None, BAD_LAT, BAD_LON, mode=3),
			good(2),
			# mode 3, time, no lat/lon
			tpv(T0 + 2.5, None, None, mode=3),
			good(3),
			# lat as a string; lon first, so libgps still sets
			# LATLON_SET (it looks at lon only) and lat stays NaN
			tpv_raw(T0 + 3.5, mode=3, lon=BAD_LON, lat="31.9876"),
			good(4),
			# NaN and infinity where numbers belong
			tpv_raw(T0 + 4.5, mode=3, lat=Raw("nan"), lon=BAD_LON),
			good(5),
			tpv_raw(T0 + 5.5, mode=3, lat=BAD_LAT, lon=Raw("nan")),
			good(6),
			tpv_raw(T0 + 6.5, mode=3, lat=Raw("1e999"), lon=BAD_LON),
			good(7),
			# out of range
			tpv(T0 + 7.5, 95.0, BAD_LON),
			good(8),
			tpv(T0 + 8.5, BAD_LAT, 200.0),
			good(9),
			# mode missing, and mode 1 (no fix) with stale lat/lon
			tpv(T0 + 9.5, BAD_LAT, BAD_LON, mode=None),
			good(10),
			tpv(T0 + 10.5, BAD_LAT, BAD_LON, mode=1),
			good(11),
			# garbage lines
			"this is not json at all",
			'{"class":"TPV","device":"%s","mode":3,"time":' % dev,
			'{"class":"TPV","device":"%s","mode":"three","time":"%s",'
			'"lat":%.4f,"lon":%.4f}' % (dev, iso(T0 + 11.5), BAD_LAT,
			BAD_LON),
			"{}", "[1,2,3]", '{"class":null}',
			'\x00\x01\x02\xff',
			good(12),
			Sleep(0.3), Mark("sent"), Hold(),
		]
		fk = self.fake(script)
		d = self.start_on(fk)
		fk.wait_mark("sent", 15)
		want = [(T0 + i) * 1000 for i in range(13)]
		self.wait_stored(d, lambda rows: len(rows) >= len(want),
		    what="the 13 good fixes")
		self.assertTrue(d.running())
		st = d.status_json()
		self.assertTrue(st["ok"])
		self.assertGreaterEqual(st["gnss"]["rejected"], 1)
		self.finish(d)
		rows = d.positions()
		self.assert_no_bad_rows(rows)
		self.assertEqual(self.stored_times(d), want,
		    "exactly the good fixes must be stored")
		self.assert_dense(d, rows)
		self.assertEqual(fk.connections, 1,
		    "bad reports must not cost the connection")

	def test_far_future_time_keeps_history(self):
		# Retention ages rows by GNSS time.  One report with an absurd
		# date (a receiver glitch; gpsd also moves pre-2017 NMEA dates
		# forward by 1024 weeks) must not make the daemon drop the
		# history it has not even uploaded.
		fk = self.fake([WaitWatch(), sky(0.9)] +
		    [good(i) for i in range(10)] + [Hold()])
		d = self.start_on(fk)
		self.wait_stored(d, lambda rows: len(rows) >= 10, what="10 fixes")
		self.finish(d)
		fk.push([WaitWatch(), sky(0.9),
		    tpv(T0 + 174 * 365 * 86400, 30.5723, 104.0665),	# ~2200
		    good(20), good(21), Hold()])
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		self.wait_stored(d, lambda rows: (T0 + 21) * 1000 in
		    {r["t_utc_ms"] for r in rows}, what="the fixes after the "
		    "glitch")
		self.finish(d)
		kept = [r["t_utc_ms"] for r in d.positions()
		    if r["t_utc_ms"] < (T0 + 10) * 1000]
		self.assertEqual(kept, [(T0 + i) * 1000 for i in range(10)],
		    "one fix dated ~2200 made retention drop earlier, unsynced "
		    "positions:\n" + "\n".join(l for l in
		    d.log_text().splitlines() if "retention" in l))

	def test_oversize_line_reconnects(self):
		junk15k = '{"class":"JUNK","data":"%s"}' % ("y" * 15000)
		over25k = b'{"class":"TPV","device":"/dev/x","junk":"' + \
		    b"x" * 25000 + b'"}\n'
		first = [WaitWatch(), sky(0.9), good(0), good(1),
		    junk15k,			# fits libgps's buffer: skipped
		    good(2), good(3), Sleep(0.5),
		    over25k,			# does not: reconnect
		    tpv(T0 + 4, BAD_LAT, BAD_LON), Hold()]
		second = [WaitWatch(), sky(0.9), good(10), good(11), good(12),
		    Hold()]
		fk = self.fake(first, second)
		d = self.start_on(fk)
		want = [(T0 + i) * 1000 for i in (0, 1, 2, 3, 10, 11, 12)]
		self.wait_stored(d, lambda rows: set(want) <= {r["t_utc_ms"]
		    for r in rows}, what="fixes before and after the 25 KB line")
		self.assertGreaterEqual(fk.connections, 2)
		log = d.log_text(True)
		self.assertEqual(count(RE_LOST_WARN, log), 1)
		self.assertEqual(count(RE_RECOVERED, log), 1)
		self.finish(d)
		rows = d.positions()
		self.assert_dense(d, rows)
		self.assertTrue(set(want) <= set(self.stored_times(d)))

	def test_partial_line_no_spin(self):
		line = good(1).encode() + b"\n"
		cut = len(line) // 2
		fk = self.fake([WaitWatch(), sky(0.9), good(0), Sleep(0.3),
		    line[:cut], Mark("half"), Sleep(2.0), Mark("rest"),
		    line[cut:], good(2), Hold()])
		d = self.start_on(fk)
		fk.wait_mark("half", 15)
		c0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
		fk.wait_mark("rest", 15)
		c1, t1 = cpu_seconds(d.proc.pid), time.monotonic()
		# Waiting for the rest of a line must not busy-loop
		# (gps_waiting() would: ../shared/reference/gpsd-brief.md §1.2).
		self.assertLess(c1 - c0, 0.25 * (t1 - t0),
		    "daemon used %.2f s CPU in %.2f s waiting for half a line" %
		    (c1 - c0, t1 - t0))
		want = [(T0 + i) * 1000 for i in range(3)]
		self.wait_stored(d, lambda rows: len(rows) >= 3, what="3 fixes")
		self.finish(d)
		self.assertEqual(self.stored_times(d), want)
		self.assertEqual(fk.connections, 1)

	def test_silent_gpsd_reconnect(self):
		# gpsd accepts and then says nothing (half-open, wedged): after
		# stale_s the daemon reconnects, once logged.
		fk = self.fake([WaitWatch(), sky(0.9), good(0), Hold()],
		    [WaitWatch(), sky(0.9), good(10), good(11), Hold()])
		d = self.start_on(fk, gnss={"stale_s": 5})
		self.wait_stored(d, lambda rows: len(rows) >= 1, what="fix 0")
		d.wait_log(RE_STALE_WARN, 15)
		self.wait_stored(d, lambda rows: len(rows) >= 3,
		    what="fixes after the reconnect")
		self.assertEqual(fk.connections, 2)
		self.assertEqual(count(RE_STALE_WARN, d.log_text(True)), 1)
		self.finish(d)
		self.assertEqual(self.stored_times(d),
		    [(T0 + i) * 1000 for i in (0, 10, 11)])

	def test_accept_then_reset(self):
		# Something on the port accepts and resets at once (gpsd shutting
		# down does this): retried quietly until a real gpsd answers.
		rst = [NoGreet(), Reset()]
		fk = self.fake(rst, rst, [NoGreet(), Sleep(0.05), Reset()], rst,
		    [WaitWatch(), sky(0.9), good(0), good(1), good(2), Hold()])
		d = self.start_on(fk)
		self.wait_stored(d, lambda rows: len(rows) >= 3, what="3 fixes")
		self.assertEqual(fk.connections, 5)
		log = d.log_text(True)
		self.assertEqual(count(RE_LOST_WARN, log) +
		    count(RE_CONNECT_FAIL_WARN, log), 1,
		    "one outage, logged once")
		self.assertEqual(count(RE_RECOVERED, log), 1)
		self.finish(d)
		self.assertEqual(self.stored_times(d),
		    [(T0 + i) * 1000 for i in range(3)])


class BadDatabase(Base):
	"""A database the daemon cannot open for writing: a clear message
	naming the path and exit 1, before READY=1."""

	def expect_refusal(self, sub, dbpath, mention=None):
		d = self.daemon(sub, storage={"path": dbpath},
		    gnss={"port": harness.free_port()})
		d.start()
		wait_until(lambda: not d.running(), EXIT_TIMEOUT_S,
		    msg=lambda: "fleetgwd to exit; log:\n" + d.log_tail())
		rc = d.terminate()
		log = d.log_text()
		harness.check_sanitizer(log)
		self.assertEqual(rc, 1, log)
		self.assertNotIn(("READY", "1"), d.notify_fields(),
		    "READY=1 sent although the store cannot be opened")
		self.assertIn(mention or dbpath, log,
		    "the message must name the path")
		return log

	def test_parent_is_a_file(self):
		f = os.path.join(self.work, "plainfile")
		with open(f, "w") as fh:
			fh.write("not a directory\n")
		self.expect_refusal("a", os.path.join(f, "fleetgw.db"))

	def test_parent_missing(self):
		self.expect_refusal("b", os.path.join(self.work, "no", "such",
		    "dir", "fleetgw.db"))

	def test_path_is_a_directory(self):
		p = os.path.join(self.work, "dbdir")
		os.mkdir(p)
		self.expect_refusal("c", p)

	def _freeze(self, path):
		"""Make path unwritable even for root: chattr +i (ext4, xfs...);
		for non-root, permission bits suffice.  Undone at cleanup."""
		if os.geteuid() != 0:
			mode = os.stat(path).st_mode
			os.chmod(path, 0o555 if os.path.isdir(path) else 0o444)
			self.addCleanup(os.chmod, path, mode)
			return
		p = subprocess.run(["chattr", "+i", path], stdout=subprocess.PIPE,
		    stderr=subprocess.STDOUT, encoding="utf-8")
		if p.returncode != 0:
			self.skipTest("chattr +i not supported here (%s); as root "
			    "permission bits do not stop writes" % p.stdout.strip())
		self.addCleanup(subprocess.run, ["chattr", "-i", path])

	def test_directory_not_writable(self):
		ro = os.path.join(self.work, "ro")
		os.mkdir(ro)
		self._freeze(ro)
		# The freeze really stops root (else the test proves nothing).
		with self.assertRaises(OSError):
			open(os.path.join(ro, "probe"), "w").close()
		self.expect_refusal("d", os.path.join(ro, "fleetgw.db"))

	def test_database_file_not_writable(self):
		# An existing database that cannot be written: SQLite would fall
		# back to read-only and fail at the first commit; the daemon must
		# refuse at start instead.
		d = self.daemon("e0", gnss={"port": harness.free_port()})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		self.finish(d)
		db = d.db
		for ext in ("-wal", "-shm"):
			if os.path.exists(db + ext):
				os.unlink(db + ext)
		self._freeze(db)
		with self.assertRaises(OSError):
			open(db, "r+b").close()
		self.expect_refusal("e1", db)


class Reload(Base):
	"""SIGHUP: a bad file keeps the running config, a good one applies."""

	def running_drive(self, **gnss):
		g = self.pty_gpsd()
		g.start()
		f = self.feeder(g)
		gn = {"port": g.port}
		gn.update(gnss)
		d = self.daemon(gnss=gn)
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		self.wait_stored(d, lambda rows: len(rows) >= 10, what="10 fixes")
		return g, f, d

	def test_invalid_file_keeps_config(self):
		g, f, d = self.running_drive()
		good_text = open(d.conf, encoding="utf-8").read()
		lines = good_text.split("\n")
		i_port = next(i for i, l in enumerate(lines)
		    if l.strip().startswith("port ="))
		i_hdop = next(i for i, l in enumerate(lines)
		    if l.strip().startswith("max_hdop ="))
		cases = [
			# wrong type (and a port change that must not apply)
			("type", {i_port: "\tport = %d;" % harness.free_port(),
			    i_hdop: '\tmax_hdop = "five";'}, i_hdop + 1),
			# syntax error
			("syntax", {i_hdop: "\tmax_hdop = 5.0 oops"}, None),
			# out of range
			("range", {i_hdop: "\tmax_hdop = -1.0;"}, i_hdop + 1),
			# unknown key
			("unknown", {i_hdop: "\tmax_hdop = 5.0;\n\tno_such_key = 1;"},
			    i_hdop + 2),
		]
		for name, edits, lineno in cases:
			with self.subTest(name):
				bad = list(lines)
				for i, text in edits.items():
					bad[i] = text
				with open(d.conf, "w", encoding="utf-8") as fh:
					fh.write("\n".join(bad))
				off = len(d.log_text(True))
				n0 = d.committed_positions()
				self.sighup(d)
				rx = re.escape(d.conf) + (r":%d\b" % lineno if lineno
				    else r":\d+\b")
				self.wait_log_after(d, off, rx, 10)
				self.assertEqual(count(RE_RELOADED,
				    self.log_after(d, off)), 0)
				# Still alive, still recording, same gpsd, ctl answers.
				self.wait_stored(d, lambda rows: len(rows) >= n0 + 15,
				    what="15 more fixes after the failed reload")
				st = d.status_json()
				self.assertTrue(st["ok"])
				self.assertEqual(st["gnss"]["port"], g.port)
				self.assertIn(st["gnss"]["state"], ("fix2d", "fix3d"))
		with open(d.conf, "w", encoding="utf-8") as fh:
			fh.write(good_text)
		self.finish(d)
		self.assert_dense(d, d.positions())

	def test_lower_max_hdop_applies(self):
		# Every epoch has hdop 3.0: accepted under 5.0, refused under 2.0.
		g = self.pty_gpsd()
		g.start()
		f = self.feeder(g, epoch_fn=lambda i: gpsdpty.nmea_epoch(i,
		    hdop=3.0))
		d = self.daemon(gnss={"port": g.port, "max_hdop": 5.0})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		self.wait_stored(d, lambda rows: len(rows) >= 10, what="10 fixes")
		self.assertAlmostEqual(d.positions()[-1]["hdop"], 3.0, places=2)

		groups = dict(d.groups)
		groups["gnss"] = dict(groups["gnss"], max_hdop=2.0)
		harness.write_conf(d.conf, groups)
		off = len(d.log_text(True))
		self.sighup(d)
		self.wait_log_after(d, off, RE_RELOADED, 10)
		i_reload = f.next_i
		rej0 = d.status_json()["gnss"]["rejected"]
		wait_until(lambda: d.status_json()["gnss"]["rejected"] >=
		    rej0 + 25, 15, interval=0.2, msg="25 rejected epochs")
		self.finish(d)
		rows = d.positions()
		late = [epoch_of(r) for r in rows if epoch_of(r) >= i_reload]
		self.assertEqual(late, [], "fixes with hdop 3.0 stored after "
		    "max_hdop was lowered to 2.0")
		self.assert_dense(d, rows)

	def test_new_gpsd_port_applies(self):
		g1, f1, d = self.running_drive()
		g2 = self.pty_gpsd(name="gpsd2")
		g2.start()
		FIRST2 = 100000		# gpsd 2's epochs: distinct GNSS times
		self.feeder(g2, first=FIRST2)
		groups = dict(d.groups)
		groups["gnss"] = dict(groups["gnss"], port=g2.port)
		harness.write_conf(d.conf, groups)
		off = len(d.log_text(True))
		self.sighup(d)
		self.wait_log_after(d, off, RE_RELOADED, 10)
		self.wait_stored(d, lambda rows: sum(1 for r in rows
		    if epoch_of(r) >= FIRST2) >= 10, what="10 fixes from the "
		    "new gpsd")
		st = d.status_json()
		self.assertEqual(st["gnss"]["port"], g2.port)
		self.finish(d)
		rows = d.positions()
		self.assert_dense(d, rows)
		# Once switched, nothing more from the old gpsd.
		k = next(i for i, r in enumerate(rows) if epoch_of(r) >= FIRST2)
		self.assertTrue(all(epoch_of(r) >= FIRST2 for r in rows[k:]))


class Lifecycle(Base):
	"""SIGTERM with rows in RAM; systemd notification; fleetgwctl."""

	def test_sigterm_commits_pending(self):
		# Parked fixes: a moving vehicle would start a trip, and a trip
		# start commits the batch at once.
		n = 30
		fk = self.fake([WaitWatch(), sky(0.9)] +
		    [tpv(T0 + i, 30.5723, 104.0665, speed=0.0)
		    for i in range(n)] + [Hold()])
		d = self.daemon(gnss={"port": fk.port},
		    storage={"commit_interval_s": 60, "commit_rows": 10000})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		wait_until(lambda: d.status_json()["store"]["pending"] == n, 15,
		    interval=0.1, msg="30 pending rows")
		st = d.status_json()["store"]
		self.assertEqual(st["positions"], 0, "committed before the "
		    "interval or row limit")
		self.assertEqual(d.committed_positions(), 0)
		self.finish(d)
		rows = d.positions()
		self.assertEqual([r["t_utc_ms"] for r in rows],
		    [(T0 + i) * 1000 for i in range(n)])
		self.assert_dense(d, rows)
		m = re.findall(RE_COMMIT, d.log_text(True))
		self.assertIn(("30", "1", "30"), m, "commit at exit not logged "
		    "as acknowledged")
		keys = d.notify_fields()
		self.assertLess(keys.index(("READY", "1")),
		    keys.index(("STOPPING", "1")))

	def test_notify_ready_and_status(self):
		g = self.pty_gpsd()
		g.start()
		self.feeder(g)
		d = self.daemon(gnss={"port": g.port})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)

		def status_with_fix():
			for k, v in d.notify_fields():
				m = re.search(r"\b(\d+) records", v)
				if k == "STATUS" and m and int(m.group(1)) > 0 and \
				    re.search(r"\bfix\b", v) and "no fix" not in v:
					return v
			return None
		v = wait_until(status_with_fix, 20, interval=0.1,
		    msg=lambda: "STATUS= with a fix and records; got %r" %
		    [x for x in d.notify_fields() if x[0] == "STATUS"])
		self.assertRegex(v, r"\bsats\b")
		# Before gpsd delivered anything, STATUS said so.
		first = next(v for k, v in d.notify_fields() if k == "STATUS")
		self.assertIn("no fix", first)
		self.finish(d)

	def start_with_env(self, d, env):
		saved = {k: os.environ.get(k) for k in env}
		try:
			for k, v in env.items():
				if v is None:
					os.environ.pop(k, None)
				else:
					os.environ[k] = v
			d.start()
		finally:
			for k, v in saved.items():
				if v is None:
					os.environ.pop(k, None)
				else:
					os.environ[k] = v

	def test_watchdog(self):
		fk = self.fake(default=[WaitWatch()] + [x for i in range(200)
		    for x in (sky(0.9), good(i), Sleep(0.05))] + [Hold()])
		d = self.daemon("on", gnss={"port": fk.port})
		self.start_with_env(d, {"WATCHDOG_USEC": "200000",
		    "WATCHDOG_PID": None})
		d.wait_ready(READY_TIMEOUT_S)
		wait_until(lambda: d.notify_fields().count(("WATCHDOG", "1")) >=
		    10, 10, interval=0.05, msg=lambda: "10 WATCHDOG=1; log:\n" +
		    d.log_tail())
		self.finish(d)

		# WATCHDOG_PID names another process: sd_watchdog_enabled() says
		# no, so no pings.  Observation window: 1.5 s, in which the
		# daemon above sent >= 10.
		d2 = self.daemon("other", gnss={"port": fk.port})
		self.start_with_env(d2, {"WATCHDOG_USEC": "200000",
		    "WATCHDOG_PID": "1"})
		d2.wait_ready(READY_TIMEOUT_S)
		t_end = time.monotonic() + 1.5
		while time.monotonic() < t_end and d2.running():
			time.sleep(0.05)
		self.assertNotIn(("WATCHDOG", "1"), d2.notify_fields())
		self.finish(d2)

	def test_ctl_status(self):
		n = 20
		fk = self.fake([WaitWatch(), sky(0.9)] +
		    [good(i) for i in range(n)] + [Hold()])
		d = self.daemon(gnss={"port": fk.port})
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		wait_until(lambda: (lambda s: s["store"]["positions"] == n and
		    s["store"]["pending"] == 0)(d.status_json()), 15, interval=0.1,
		    msg="20 committed")
		st = d.status_json()
		self.assertIs(st["ok"], True)
		self.assertIsInstance(st["gnss"]["state"], str)
		self.assertIn(st["gnss"]["state"], ("fix2d", "fix3d", "nodata",
		    "nofix"))
		self.assertIsInstance(st["gnss"]["reconnects"], int)
		self.assertEqual(st["gnss"]["port"], fk.port)
		rows = d.positions()
		self.assertEqual(st["store"]["positions"], len(rows))
		# The status shows the positions stream's next seq.
		self.assertEqual(st["store"]["next_seq"], rows[-1]["seq"] + 1)
		# --json may stand after the command; text mode works too.
		p = d.ctl("-s", d.sock, "status", "--json")
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(json.loads(p.stdout)["store"]
		    ["positions"], n)
		p = d.ctl("-s", d.sock, "status")
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertTrue(p.stdout.strip())
		harness.check_sanitizer(p.stderr)
		self.finish(d)


if __name__ == "__main__":
	unittest.main()
