"""kill -9 of fleetgwd in the middle of a drive, then a restart, repeated.

A real gpsd (gpsdpty) reads NMEA from a pty at 25 epochs/s for the whole
test; the daemon is started, SIGKILLed at a random moment and started
again, FLEETGW_CRASH_CYCLES times (default 20, about 15 s; more for soak
runs).  The moments come from a seeded RNG (FLEETGW_CRASH_SEED, else
random; the seed is printed and named in every failure):

  early      20-420 ms after the spawn: during start-up, store open or
             schema creation, or the first commits
  commit     0-600 ms after the run's first acknowledged commit
  stopping   0-50 ms after SIGTERM: during the final commit

commit_rows changes between cycles (1, 3, 8: commits by row count; 60:
by the 1 s interval), so kills land in both kinds of commit.

"Acknowledged" = the daemon logged "store: committed N positions, seq
A..B" (seqs of the positions stream), which it does only after COMMIT
returned OK.  Each of the two record streams has its own seq (schema
version 5): positions; and the events stream, closed trips (trips.seq),
events (seq, and end_seq unless an instant's, which is its seq) and
command results.  DTC rows are in no stream.  After every kill:

* PRAGMA integrity_check is "ok";
* every acknowledged seq is in positions;
* each stream's seqs run 1..max without gaps or duplicates, and meta
  agrees (meta.seq_floor_<stream> in 1..max + 1);
* GNSS time increases with the positions' seq (no fix stored twice);
* the next run's first commit starts at the positions' max + 1;
* the log of the killed run so far has no sanitizer report.

The last run ends with SIGTERM: exit 0 and a clean sanitizer log.
"""

import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import unittest

import gpsdpty
import harness
from harness import wait_until

RE_COMMIT = re.compile(r"store: committed (\d+) positions?, seq (\d+)\.\.(\d+)")

CYCLES = int(os.environ.get("FLEETGW_CRASH_CYCLES", "20"))
FEED_HZ = 25.0
COMMIT_ROWS = (1, 3, 8, 60)
READY_TIMEOUT_S = 20
COMMIT_TIMEOUT_S = 20


def seed_from_env():
	s = os.environ.get("FLEETGW_CRASH_SEED")
	return int(s) if s else random.SystemRandom().randrange(1 << 31)


def commits(text):
	"""[(n, first, last)] of the acknowledged commits in a log."""
	return [tuple(int(x) for x in m.groups()) for m in RE_COMMIT.finditer(
	    text)]


def read_db(path):
	"""(integrity, [(seq, t_utc_ms)] of the positions, {meta}, [seqs of
	the events stream]) of a database the daemon left behind, read-only
	(its own recovery is under test).  The events stream: closed trips,
	events (seq and end_seq) and command results (a trip left open by a
	kill is closed, and gets its seq, at the next start; the restart
	reports a power_loss event)."""
	if not os.path.exists(path):
		return "ok", [], {}, []
	c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
	try:
		integrity = "\n".join(r[0] for r in
		    c.execute("PRAGMA integrity_check"))
		tables = {r[0] for r in c.execute(
		    "SELECT name FROM sqlite_master WHERE type = 'table'")}
		if "positions" not in tables:
			return integrity, [], {}, []
		rows = c.execute("SELECT seq, t_utc_ms FROM positions "
		    "ORDER BY seq").fetchall()
		meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
		events = []
		queries = (("trips", "SELECT seq FROM trips WHERE seq IS NOT NULL"),
		    ("events", "SELECT seq FROM events WHERE seq IS NOT NULL"),
		    # an instant event's end_seq is its seq
		    ("events", "SELECT end_seq FROM events WHERE end_seq IS "
		    "NOT NULL AND end_seq <> seq"),
		    ("command_results", "SELECT seq FROM command_results"))
		for t, q in queries:
			if t in tables:
				events += [r[0] for r in c.execute(q)]
		return integrity, rows, meta, sorted(events)
	finally:
		c.close()


def floor_problem(meta, stream, max_seq):
	"""Why meta.seq_floor_<stream> does not agree with the stream's
	max(seq), or None.  The floor moves only with retention, which never
	runs here: it must be in 1..max + 1, else seqs would skip."""
	key = "seq_floor_" + stream
	if key not in meta:
		return "meta has no %s: %r" % (key, meta)
	if not 1 <= int(meta[key]) <= max_seq + 1:
		return "meta %s %s not in 1..max(seq) + 1 = %d" % (key,
		    meta[key], max_seq + 1)
	return None


class CrashLoop(unittest.TestCase):

	def setUp(self):
		self.seed = seed_from_env()
		self.rng = random.Random(self.seed)
		print("\ncrash: seed %d, %d cycles (FLEETGW_CRASH_SEED, "
		    "FLEETGW_CRASH_CYCLES)" % (self.seed, CYCLES), file=sys.stderr)
		self.work = tempfile.mkdtemp(prefix="fleetgw-crash-")
		if os.environ.get("FLEETGW_KEEP"):
			print("\nkept: %s" % self.work, file=sys.stderr)
		else:
			self.addCleanup(shutil.rmtree, self.work, True)
		self.gpsd = gpsdpty.PtyGpsd(self.work)
		self.addCleanup(self.gpsd.close)
		self.gpsd.start()
		self.feed = gpsdpty.Feeder(self.gpsd, FEED_HZ)
		self.addCleanup(self.feed.stop)
		self.feed.start()
		self.d = harness.Daemon(None, self.work,
		    gnss={"port": self.gpsd.port},
		    storage={"commit_interval_s": 1, "commit_rows": 8})
		self.addCleanup(self.d.close)
		self.acked = set()
		self.max_seq = 0	# positions stream
		self.max_ev_seq = 0	# events stream
		self.history = []

	def where(self, cycle, what):
		return "seed %d, cycle %d (%s): %s\nhistory: %s\nlog tail:\n%s" % (
		    self.seed, cycle, what, self.history[-1] if self.history else
		    "", self.history, self.d.log_tail(15))

	def set_commit_rows(self, n):
		groups = dict(self.d.groups)
		groups["storage"] = dict(groups["storage"], commit_rows=n)
		self.d.groups = groups
		harness.write_conf(self.d.conf, groups)

	def wait_first_commit(self, cycle):
		"""Wait for this run's first acknowledged commit."""
		def acked():
			c = commits(self.d.log_text(True))
			if c:
				return c
			if not self.d.running():
				self.fail(self.where(cycle, "exited before its first "
				    "commit"))
			# Rows well past what the previous runs left, and still no
			# acknowledgement line: the daemon does not log it.
			if self.d.committed_positions() >= self.max_seq + 60:
				self.fail(self.where(cycle, "rows are committed but "
				    "the daemon logs no \"store: committed N positions, "
				    "seq A..B\" line (the acknowledgement this test and "
				    "the contract rely on)"))
			return None
		return wait_until(acked, COMMIT_TIMEOUT_S, interval=0.05,
		    msg=lambda: self.where(cycle, "first commit"))

	def check_run(self, cycle, mode):
		"""After a run ended (killed or not): the checks of the module
		docstring."""
		runlog = self.d.log_text(True)
		try:
			harness.check_sanitizer(runlog)
		except AssertionError as e:
			self.fail(self.where(cycle, str(e)))
		run_commits = commits(runlog)
		for n, a, b in run_commits:
			self.assertEqual(b - a + 1, n, self.where(cycle,
			    "commit line count"))
			self.acked.update(range(a, b + 1))
		integrity, rows, meta, events = read_db(self.d.db)
		if run_commits:
			# The positions stream alone: trips closed at start-up
			# (power_loss) take the events stream's seqs.
			first = run_commits[0][1]
			self.assertEqual(first, self.max_seq + 1, self.where(cycle,
			    "first commit of the run does not continue at the "
			    "positions' max(seq) + 1"))
		self.assertEqual(integrity, "ok", self.where(cycle,
		    "integrity_check"))
		seqs = [s for s, _ in rows]
		missing = sorted(self.acked - set(seqs))
		self.assertEqual(missing, [], self.where(cycle,
		    "acknowledged seqs lost"))
		self.assertEqual(seqs, list(range(1, len(seqs) + 1)),
		    self.where(cycle, "positions seq not contiguous from 1"))
		self.assertEqual(events, list(range(1, len(events) + 1)),
		    self.where(cycle, "events stream seq (trips, events, "
		    "command results) not contiguous from 1, or a seq shared: "
		    "%s" % events))
		if meta:
			for stream, m in (("positions", len(seqs)),
			    ("events", len(events))):
				problem = floor_problem(meta, stream, m)
				self.assertIsNone(problem, self.where(cycle,
				    str(problem)))
		self.assertGreaterEqual(len(events), self.max_ev_seq,
		    self.where(cycle, "events stream records lost"))
		ts = [t for _, t in rows]
		self.assertTrue(all(a < b for a, b in zip(ts, ts[1:])),
		    self.where(cycle, "GNSS time not increasing with seq"))
		self.max_seq = seqs[-1] if seqs else 0
		self.max_ev_seq = len(events)
		self.history.append("%d:%s/%d commits/max %d, events %d" % (cycle,
		    mode, len(run_commits), self.max_seq, self.max_ev_seq))

	def test_kill9_restart_cycles(self):
		d = self.d
		for cycle in range(CYCLES):
			rows = self.rng.choice(COMMIT_ROWS)
			mode = self.rng.choice(("early", "commit", "commit",
			    "stopping"))
			self.set_commit_rows(rows)
			t_spawn = time.monotonic()
			d.start()
			if mode == "early":
				delay = self.rng.uniform(0.02, 0.42)
				time.sleep(max(0.0, t_spawn + delay - time.monotonic()))
				d.kill9()
			elif mode == "commit":
				self.wait_first_commit(cycle)
				time.sleep(self.rng.uniform(0.0, 0.6))
				d.kill9()
			else:
				d.wait_ready(READY_TIMEOUT_S)
				self.wait_first_commit(cycle)
				time.sleep(self.rng.uniform(0.0, 0.3))
				os.kill(d.proc.pid, signal.SIGTERM)
				time.sleep(self.rng.uniform(0.0, 0.05))
				d.kill9()
			mode = "%s/rows=%d" % (mode, rows)
			self.check_run(cycle, mode)

		# A last, clean run: continues the sequence, exits 0.
		self.set_commit_rows(8)
		d.start()
		d.wait_ready(READY_TIMEOUT_S)
		self.wait_first_commit(CYCLES)
		n0 = self.max_seq
		wait_until(lambda: d.committed_positions() >= n0 + 20,
		    COMMIT_TIMEOUT_S, msg=lambda: self.where(CYCLES, "20 rows"))
		rc = d.terminate()
		self.check_run(CYCLES, "clean")
		self.assertEqual(rc, 0, self.where(CYCLES, "exit status"))
		wait_until(lambda: ("STOPPING", "1") in d.notify_fields(), 2,
		    msg="STOPPING=1 on NOTIFY_SOCKET")
		self.assertGreater(self.max_seq, n0)
		print("crash: %d runs, %d acknowledged rows, max seq %d, events "
		    "stream %d" % (CYCLES + 1, len(self.acked), self.max_seq,
		    self.max_ev_seq), file=sys.stderr)


if __name__ == "__main__":
	unittest.main()
