"""harness - shared helpers for fleetgw's integration tests.

    free_port()                       a free TCP port on 127.0.0.1
    wait_until(pred, timeout, ...)    poll a condition; WaitTimeout on expiry
    Gpsfake(log, port, pace=None)     a private gpsd replaying a log
    ElmSim(obd_jsonl, ...)            tests/sim/elm327_sim.py on a pty or
                                      TCP, faults switched through stdin
    Daemon(build_dir, workdir, ...)   fleetgwd under test, with its config,
                                      log, notify socket and database
    check_sanitizer(text)             no ASan/LSan/UBSan report in a log
    require_shared(sub)               ../shared/testdata/SUB or SkipTest
    conf_text(groups)                 any nesting of dicts and lists as
                                      libconfig text (fences, rules)

Binaries: $FLEETGWD and $FLEETGWCTL (tests/run.sh sets them), else
build/san/fleetgwd and build/san/fleetgwctl.  The sanitizer options are
taken from the environment when set (tests/run.sh sets them) and default
to halt-on-error with leak detection.

Every wait is on a condition with a deadline; every process the harness
starts runs in its own session and is killed, as a group, by its owner
(stop(), terminate(), close()), which the tests register with
addCleanup.  Standard library only; run with /usr/bin/python3.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "testdata")
SIM = os.path.join(ROOT, "tests", "sim")

FLEETGWD = os.environ.get("FLEETGWD") or os.path.join(ROOT, "build", "san",
    "fleetgwd")
FLEETGWCTL = os.environ.get("FLEETGWCTL") or os.path.join(ROOT, "build",
    "san", "fleetgwctl")
GPSFAKE = shutil.which("gpsfake") or "/usr/bin/gpsfake"
PYTHON = "/usr/bin/python3"	# has the gps module gpsfake needs

ASAN_DEFAULT = "halt_on_error=1:abort_on_error=0:detect_leaks=1:" \
    "print_stacktrace=1"
UBSAN_DEFAULT = "halt_on_error=1:print_stacktrace=1"

SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")

# How long a killed process group gets between SIGTERM and SIGKILL.
KILL_GRACE_S = 5.0


class WaitTimeout(AssertionError):
	"""A condition did not come true before its deadline (a test failure,
	not an error)."""


def free_port():
	"""A TCP port on 127.0.0.1 that was free a moment ago."""
	s = socket.socket()
	try:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]
	finally:
		s.close()


def wait_until(pred, timeout, interval=0.02, msg=None):
	"""Call pred until it returns something true, and return that; raise
	WaitTimeout (with msg, or pred's name) after timeout seconds."""
	end = time.monotonic() + timeout
	while True:
		v = pred()
		if v:
			return v
		if time.monotonic() >= end:
			what = msg if msg is not None else getattr(pred, "__name__",
			    repr(pred))
			if callable(what):
				what = what()
			raise WaitTimeout("timed out after %.1f s waiting for %s" %
			    (timeout, what))
		time.sleep(interval)


def require_shared(sub=""):
	"""Path of ../shared/testdata/SUB, or skip the test when absent."""
	p = os.path.join(SHARED, sub)
	if not os.path.exists(p):
		raise unittest.SkipTest("shared test data absent: %s (tests that "
		    "use ../shared/testdata skip without it)" % os.path.normpath(p))
	return p


def check_sanitizer(log_text):
	"""AssertionError listing the lines of any sanitizer report."""
	bad = [l for l in log_text.splitlines() if SANITIZER_RE.search(l)]
	if bad:
		raise AssertionError("sanitizer report in the daemon log:\n  " +
		    "\n  ".join(bad[:20]))


def sanitizer_env(env=None):
	env = dict(os.environ if env is None else env)
	env.setdefault("ASAN_OPTIONS", ASAN_DEFAULT)
	env.setdefault("UBSAN_OPTIONS", UBSAN_DEFAULT)
	return env


def _exited(pid):
	"""True once pid (our child) has exited; leaves the zombie in place so
	its process group id cannot be reused before we kill the group."""
	try:
		r = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
	except ChildProcessError:
		return True
	return r is not None and r.si_pid == pid


def _kill_group(proc, grace_s=KILL_GRACE_S):
	"""SIGTERM the process group led by proc (start_new_session), SIGKILL
	it after grace_s, then reap proc.  Returns proc's exit status."""
	if proc.returncode is not None:
		return proc.returncode
	pgid = proc.pid
	for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, grace_s)):
		try:
			os.killpg(pgid, sig)
		except ProcessLookupError:
			pass
		end = time.monotonic() + wait_s
		while time.monotonic() < end and not _exited(proc.pid):
			time.sleep(0.02)
		if _exited(proc.pid):
			break
	# The leader is gone or a zombie: sweep stragglers of the group (gpsd
	# under gpsfake), then reap.
	try:
		os.killpg(pgid, signal.SIGKILL)
	except ProcessLookupError:
		pass
	return proc.wait(timeout=grace_s)


class Gpsfake:
	"""gpsfake -1 -n -q -W 1 -P PORT LOG: a private gpsd on PORT that adds
	the log as a device at once and plays it (pace: seconds between
	sentences, gpsfake -c).  Each instance has its own TMPDIR (gpsd's
	control socket goes there).  stop() is idempotent.

	Start the client first: gpsd reads the device as soon as it is added,
	and what it reads before a client watches is lost for that client
	(../shared/reference/gpsd-brief.md §3.5)."""

	def __init__(self, log, port, pace=None, extra_args=()):
		self.log = log
		self.port = port
		self.pace = pace
		self.extra_args = list(extra_args)
		self.proc = None
		self.tmpdir = None
		self.returncode = None

	def cmd(self):
		c = [GPSFAKE, "-1", "-n", "-q", "-W", "1", "-P", str(self.port)]
		if self.pace is not None:
			c += ["-c", str(self.pace)]
		return c + self.extra_args + [self.log]

	def start(self):
		assert self.proc is None, "gpsfake already started"
		if not os.path.exists(GPSFAKE):
			raise AssertionError("gpsfake not found (Debian package "
			    "gpsd-clients; make check installs it)")
		self.tmpdir = tempfile.mkdtemp(prefix="fleetgw-gpsfake-")
		env = dict(os.environ, TMPDIR=self.tmpdir)
		self._out = open(os.path.join(self.tmpdir, "gpsfake.out"), "wb")
		self.proc = subprocess.Popen(self.cmd(), env=env,
		    stdin=subprocess.DEVNULL, stdout=self._out,
		    stderr=subprocess.STDOUT, start_new_session=True)
		return self

	def running(self):
		return self.proc is not None and self.returncode is None and \
		    not _exited(self.proc.pid)

	def wait_done(self, timeout):
		"""Wait until gpsfake has played the log and exited (with -1 and
		no pipe it exits 1, "Test timed out", which is normal)."""
		wait_until(lambda: not self.running(), timeout,
		    msg="gpsfake to finish %s" % os.path.basename(self.log))
		return self.stop()

	def output(self):
		if self.tmpdir is None:
			return ""
		try:
			with open(os.path.join(self.tmpdir, "gpsfake.out"), "rb") as f:
				return f.read().decode(errors="replace")
		except OSError:
			return self._saved_output if hasattr(self, "_saved_output") \
			    else ""

	def stop(self):
		if self.proc is None:
			return None
		if self.returncode is None:
			self.returncode = _kill_group(self.proc)
			self._saved_output = self.output()
			self._out.close()
		if self.tmpdir is not None:
			shutil.rmtree(self.tmpdir, ignore_errors=True)
			self.tmpdir = None
		return self.returncode

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()


class ElmSim:
	"""tests/sim/elm327_sim.py --stdin-control: an ELM327 adapter in a
	simulated car.  transport "pty" (device = the symlink self.device) or
	"tcp" (device = "tcp:127.0.0.1:PORT").  Scenario time follows gpsd at
	follow ("HOST:PORT") or the wall clock from start (ISO) at speed.
	control("fault silence") waits for the simulator's "ok" line.
	stop() is idempotent."""

	def __init__(self, obd_jsonl, workdir, transport="pty", follow=None,
	    start=None, speed=1.0, faults=(), time_scale=None, verbose=False):
		self.args = [PYTHON, os.path.join(SIM, "elm327_sim.py"), "--obd",
		    obd_jsonl, "--stdin-control"]
		self.link = os.path.join(workdir, "obd-pty")
		if transport == "pty":
			self.args += ["--pty", self.link]
		else:
			self.args += ["--tcp", "127.0.0.1:0"]
		if follow is not None:
			self.args += ["--follow-gpsd", follow]
		elif start is not None:
			self.args += ["--start", start, "--speed", str(speed)]
		for f in faults:
			self.args += ["--fault", f]
		if time_scale is not None:
			self.args += ["--time-scale", str(time_scale)]
		if verbose:
			self.args.append("-v")
		self.errpath = os.path.join(workdir, "elm327_sim.log")
		self.proc = None
		self.device = None
		self.lines = []
		self._cv = threading.Condition()

	def start(self, timeout=15):
		self._err = open(self.errpath, "wb")
		self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE,
		    stdout=subprocess.PIPE, stderr=self._err,
		    start_new_session=True, encoding="utf-8", bufsize=1)
		threading.Thread(target=self._reader, daemon=True).start()
		line = self.wait_line(r"^READY ", timeout)
		where = line.split(None, 1)[1].strip()
		if where.startswith("pty="):
			self.device = self.link
		elif where.startswith("tcp="):
			self.device = "tcp:" + where[4:]
		else:
			raise AssertionError("elm327_sim: unexpected %r" % line)
		return self

	def _reader(self):
		for line in self.proc.stdout:
			with self._cv:
				self.lines.append(line.rstrip("\n"))
				self._cv.notify_all()

	def wait_line(self, regex, timeout, after=0):
		"""The first stdout line from index after matching regex."""
		rx = re.compile(regex)
		deadline = time.monotonic() + timeout
		with self._cv:
			while True:
				for line in self.lines[after:]:
					if rx.search(line):
						return line
				left = deadline - time.monotonic()
				if left <= 0 or self.proc.poll() is not None:
					raise WaitTimeout("elm327_sim: no line matching %r "
					    "within %.0f s (exit %s); stdout %r; stderr:\n%s"
					    % (regex, timeout, self.proc.poll(),
					    self.lines[-5:], self.stderr_tail()))
				self._cv.wait(min(left, 0.2))

	def control(self, cmd, timeout=10):
		"""Send one control line; returns the simulator's "ok ..." line."""
		with self._cv:
			n = len(self.lines)
		self.proc.stdin.write(cmd + "\n")
		self.proc.stdin.flush()
		line = self.wait_line(r"^(ok|error)\b", timeout, after=n)
		if line.startswith("error"):
			raise AssertionError("elm327_sim %r: %s" % (cmd, line))
		return line

	def stderr_tail(self, n=20):
		try:
			with open(self.errpath, encoding="utf-8",
			    errors="replace") as f:
				return "".join(f.readlines()[-n:])
		except OSError:
			return ""

	def stop(self):
		if self.proc is None:
			return
		if self.proc.poll() is None:
			try:
				self.proc.stdin.close()
			except OSError:
				pass
			try:
				self.proc.wait(5)
			except subprocess.TimeoutExpired:
				_kill_group(self.proc)
		self.proc = None
		self._err.close()


def _conf_value(v):
	if isinstance(v, bool):
		return "true" if v else "false"
	if isinstance(v, int):
		return str(v)
	if isinstance(v, float):
		r = repr(v)
		return r if ("." in r or "e" in r or "n" in r) else r + ".0"
	if isinstance(v, str):
		return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
	if isinstance(v, dict):
		# a group: rules = { speeding = { limit_kmh = 60.0; }; }
		return "{ %s}" % "".join("%s = %s; " % (k, _conf_value(x))
		    for k, x in v.items() if x is not None)
	if isinstance(v, (list, tuple)):
		if any(isinstance(x, (dict, list, tuple)) for x in v):
			# a list: ( { ... }, { ... } ) or ( [ lon, lat ], ... )
			return "( %s )" % ", ".join(_conf_value(x) for x in v)
		return "[ %s ]" % ", ".join(_conf_value(x) for x in v)
	raise TypeError("config value %r" % (v,))


def conf_text(groups):
	"""Top-level settings of any shape as libconfig text, one a line:
	{"fences": [{"id": "x", "circle": {"center": [104.0, 30.5],
	"radius_m": 150.0}}]} -> 'fences = ( { id = "x"; circle = { ... }; } );'.
	For Daemon(extra_conf=...): the top-level fences list is not a group."""
	return "".join("%s = %s;\n" % (k, _conf_value(v))
	    for k, v in groups.items() if v is not None)


def write_conf(path, groups, extra=""):
	"""groups: {"device": {"id": "SC-0001", ...}, ...} as libconfig."""
	lines = ["# written by tests/integration/harness.py"]
	for g, kv in groups.items():
		lines.append("%s = {" % g)
		for k, v in kv.items():
			if v is None:
				continue
			lines.append("\t%s = %s;" % (k, _conf_value(v)))
		lines.append("};")
	with open(path, "w", encoding="utf-8") as f:
		f.write("\n".join(lines) + "\n" + extra)


class NotifyListener:
	"""A unix datagram socket standing in for systemd's NOTIFY_SOCKET.  A
	thread drains it at once so the daemon's (blocking) sd_notify never
	waits on a full queue."""

	def __init__(self, path):
		self.path = path
		self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		self.sock.bind(path)
		self.messages = []
		self._lock = threading.Lock()
		self._stop = threading.Event()
		self._thread = threading.Thread(target=self._run, daemon=True)
		self._thread.start()

	def _run(self):
		while not self._stop.is_set():
			r, _, _ = select.select([self.sock], [], [], 0.05)
			if not r:
				continue
			try:
				data = self.sock.recv(65536)
			except OSError:
				return
			with self._lock:
				self.messages.append(data.decode(errors="replace"))

	def get(self):
		with self._lock:
			return list(self.messages)

	def close(self):
		self._stop.set()
		self._thread.join(timeout=2)
		self.sock.close()
		try:
			os.unlink(self.path)
		except OSError:
			pass


class Daemon:
	"""fleetgwd -d -v -c WORKDIR/fleetgw.conf with stderr (and stdout) in
	WORKDIR/daemon.log.

	Config groups are built from defaults and the keyword arguments, one
	dict per group: Daemon(None, wd, gnss={"port": p, "max_hdop": 100.0}).
	A value None removes a default key.  extra_conf is appended verbatim.
	"""

	def __init__(self, build_dir, workdir, extra_conf="", **groups):
		if build_dir:
			self.fleetgwd = os.path.join(build_dir, "fleetgwd")
			self.fleetgwctl = os.path.join(build_dir, "fleetgwctl")
		else:
			self.fleetgwd = FLEETGWD
			self.fleetgwctl = FLEETGWCTL
		self.workdir = workdir
		self.db = os.path.join(workdir, "fleetgw.db")
		self.sock = os.path.join(workdir, "ctl.sock")
		self.conf = os.path.join(workdir, "fleetgw.conf")
		self.logpath = os.path.join(workdir, "daemon.log")
		conf = {
			"device": {"id": "SC-0001", "plate": "川A12345",
			    "timezone": "Asia/Shanghai"},
			"gnss": {"host": "127.0.0.1", "port": 2947, "max_hdop": 5.0,
			    "retry_min_ms": 20, "retry_max_ms": 50, "stale_s": 30},
			"storage": {"path": self.db, "commit_interval_s": 1,
			    "commit_rows": 256, "max_size_mb": 512, "keep_days": 180},
			"ctl": {"socket": self.sock},
		}
		for g, kv in groups.items():
			conf.setdefault(g, {}).update(kv)
		self.groups = conf
		write_conf(self.conf, conf, extra_conf)
		self.proc = None
		self.notify = None
		self.returncode = None
		self.log_offset = 0	# wait_log looks from here (set by start)
		# Extra environment for fleetgwd, e.g. FLEETGW_TIMESYNC_FLAG
		# (read at every start; the process otherwise inherits ours).
		self.env = {}

	# -- process

	def start(self):
		assert self.proc is None or self.returncode is not None, \
		    "daemon already running"
		if not os.access(self.fleetgwd, os.X_OK):
			raise AssertionError("%s not built (make SANITIZE=1 all)" %
			    self.fleetgwd)
		if self.notify is None:
			self.notify = NotifyListener(os.path.join(self.workdir,
			    "notify.sock"))
		env = sanitizer_env()
		env.update(self.env)
		env["NOTIFY_SOCKET"] = self.notify.path
		try:
			self.log_offset = os.path.getsize(self.logpath)
		except OSError:
			self.log_offset = 0
		self._log = open(self.logpath, "ab")
		self.returncode = None
		self.proc = subprocess.Popen([self.fleetgwd, "-d", "-v", "-c",
		    self.conf], env=env, stdin=subprocess.DEVNULL, stdout=self._log,
		    stderr=self._log, start_new_session=True, cwd=self.workdir)
		return self

	def running(self):
		return self.proc is not None and self.returncode is None and \
		    not _exited(self.proc.pid)

	def _reap(self):
		self.returncode = self.proc.wait()
		self._log.close()
		return self.returncode

	def terminate(self, timeout=15):
		"""SIGTERM; wait for the exit; returns the exit status.  Kills it
		and fails if it does not exit in time."""
		if self.proc is None:
			raise AssertionError("daemon never started")
		if self.returncode is not None:
			return self.returncode
		try:
			self.proc.send_signal(signal.SIGTERM)
		except ProcessLookupError:
			pass
		try:
			wait_until(lambda: _exited(self.proc.pid), timeout,
			    msg="fleetgwd to exit after SIGTERM")
		except WaitTimeout:
			_kill_group(self.proc, grace_s=1)
			self._log.close()
			self.returncode = self.proc.returncode
			raise
		return self._reap()

	def kill9(self):
		if self.proc is None or self.returncode is not None:
			return self.returncode
		try:
			os.killpg(self.proc.pid, signal.SIGKILL)
		except ProcessLookupError:
			pass
		return self._reap()

	def restart(self, timeout=15):
		"""terminate() (if running) and start again on the same config."""
		rc = None
		if self.proc is not None and self.returncode is None:
			rc = self.terminate(timeout)
		self.start()
		return rc

	def close(self):
		"""Cleanup: kill whatever is left; never raises for a dead daemon."""
		if self.proc is not None and self.returncode is None:
			self.returncode = _kill_group(self.proc, grace_s=2)
			self._log.close()
		if self.notify is not None:
			self.notify.close()
			self.notify = None

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.close()

	# -- observation

	def log_text(self, since_start=False):
		try:
			with open(self.logpath, "rb") as f:
				if since_start:
					f.seek(self.log_offset)
				return f.read().decode(errors="replace")
		except OSError:
			return ""

	def log_tail(self, n=30):
		return "\n".join(self.log_text().splitlines()[-n:])

	def wait_log(self, regex, timeout, since_start=True):
		"""Wait for a log line (of this run) matching regex; returns the
		match.  Fails early, with the log tail, if the daemon exits."""
		rx = re.compile(regex)

		def seen():
			m = rx.search(self.log_text(since_start))
			if m:
				return m
			if not self.running():
				raise AssertionError("fleetgwd exited (status %s) while "
				    "waiting for /%s/ in its log:\n%s" % (
				    self.proc.poll(), regex, self.log_tail()))
			return None
		return wait_until(seen, timeout,
		    msg=lambda: "/%s/ in the daemon log; last lines:\n%s" % (
		    regex, self.log_tail()))

	def notify_messages(self):
		"""Every datagram received on NOTIFY_SOCKET, in order."""
		return self.notify.get() if self.notify else []

	def notify_fields(self):
		"""[(key, value)] of all notify messages, in order."""
		out = []
		for m in self.notify_messages():
			for line in m.split("\n"):
				if "=" in line:
					k, v = line.split("=", 1)
					out.append((k, v))
		return out

	def wait_ready(self, timeout=15):
		def ready():
			if ("READY", "1") in self.notify_fields():
				return True
			if not self.running():
				raise AssertionError("fleetgwd exited (status %s) before "
				    "READY=1:\n%s" % (self.proc.poll(), self.log_tail()))
			return False
		return wait_until(ready, timeout, msg=lambda: "READY=1 on "
		    "NOTIFY_SOCKET; log:\n%s" % self.log_tail())

	def _ro(self):
		return sqlite3.connect("file:%s?mode=ro" % self.db, uri=True,
		    timeout=5)

	def query(self, sql, args=()):
		"""Rows of a read-only query on the daemon's database."""
		c = self._ro()
		try:
			return c.execute(sql, args).fetchall()
		finally:
			c.close()

	def committed_positions(self):
		"""Committed rows in positions (0 while the table is absent)."""
		if not os.path.exists(self.db):
			return 0
		try:
			return self.query("SELECT count(*) FROM positions")[0][0]
		except sqlite3.OperationalError:
			return 0

	def event_seqs(self):
		"""Seqs of the events stream (schema version 5): closed trips,
		events (seq, and end_seq unless an instant's) and command
		results.  Positions have a stream of their own; DTC rows are in
		none."""
		out = []
		for q in ("SELECT seq FROM trips WHERE seq IS NOT NULL",
		    "SELECT seq FROM events",
		    "SELECT end_seq FROM events WHERE end_seq <> seq",
		    "SELECT seq FROM command_results"):
			try:
				out += [r[0] for r in self.query(q)]
			except sqlite3.OperationalError:
				pass
		return sorted(out)

	def positions(self):
		"""Stored rows as dicts, in seq order."""
		c = self._ro()
		c.row_factory = sqlite3.Row
		try:
			return [dict(r) for r in
			    c.execute("SELECT * FROM positions ORDER BY seq")]
		finally:
			c.close()

	def ctl(self, *args, timeout=30):
		"""Run fleetgwctl ARGS; CompletedProcess with text output."""
		if not os.access(self.fleetgwctl, os.X_OK):
			raise AssertionError("%s not built" % self.fleetgwctl)
		return subprocess.run([self.fleetgwctl] + list(args),
		    env=sanitizer_env(), stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
		    encoding="utf-8", errors="replace")

	def positions_json(self, *args):
		"""fleetgwctl --db DB --json positions ARGS, parsed."""
		p = self.ctl("--db", self.db, "--json", "positions", *args)
		if p.returncode != 0:
			raise AssertionError("fleetgwctl positions %s: exit %d: %s" % (
			    " ".join(args), p.returncode, p.stderr.strip()))
		check_sanitizer(p.stderr)
		return json.loads(p.stdout)

	def events_json(self, *args):
		"""fleetgwctl --db DB --json events ARGS, parsed."""
		p = self.ctl("--db", self.db, "--json", "events", *args)
		if p.returncode != 0:
			raise AssertionError("fleetgwctl events %s: exit %d: %s" % (
			    " ".join(args), p.returncode, p.stderr.strip()))
		check_sanitizer(p.stderr)
		return json.loads(p.stdout)

	def status_json(self):
		p = self.ctl("-s", self.sock, "--json", "status")
		if p.returncode != 0:
			raise AssertionError("fleetgwctl status: exit %d: %s" % (
			    p.returncode, p.stderr.strip()))
		return json.loads(p.stdout)

	def wait_stored_stable(self, quiet_s, timeout, at_least=0):
		"""Wait until at least at_least rows are committed and the count
		has not changed for quiet_s; returns the count."""
		state = {"n": -1, "since": time.monotonic()}

		def stable():
			n = self.committed_positions()
			now = time.monotonic()
			if n != state["n"]:
				state["n"], state["since"] = n, now
				return False
			return n >= at_least and now - state["since"] >= quiet_s
		wait_until(stable, timeout, interval=0.1,
		    msg=lambda: "the stored count to settle (now %d)" % state["n"])
		return state["n"]

	def wait_replay_done(self, fake, timeout, quiet_s=2.5):
		"""Wait until the daemon has consumed a gpsfake replay: it logged
		the device deactivation gpsd sends after the log's end (the
		daemon flushes its open epoch then), or, failing that, gpsfake
		has exited and the stored count has not moved for quiet_s.
		Returns "deactivated" or "settled"."""
		rx = re.compile(r"gnss: .*device .*deactivated")
		state = {"n": -1, "since": time.monotonic()}

		def done():
			if rx.search(self.log_text(since_start=True)):
				return "deactivated"
			if not self.running():
				raise AssertionError("fleetgwd exited (status %s) during "
				    "the replay:\n%s" % (self.proc.poll(), self.log_tail()))
			now = time.monotonic()
			n = self.committed_positions()
			if fake.running() or n != state["n"]:
				state["n"], state["since"] = n, now
				return False
			return "settled" if now - state["since"] >= quiet_s else False
		return wait_until(done, timeout, interval=0.05,
		    msg=lambda: "the end of the replay (device deactivated, or "
		    "gpsfake gone and the count settled); log:\n%s" %
		    self.log_tail())


class Prefetched:
	"""Mixin for a TestCase class whose set-up is one long replay:
	prefetch() (a classmethod) does it; run.py calls it in a worker
	thread, several classes at once, and leaves the future in
	cls.prefetch_future; setUpClass waits for it (or, run some other
	way, calls prefetch() itself)."""

	@classmethod
	def setUpClass(cls):
		fut = getattr(cls, "prefetch_future", None)
		if fut is not None:
			fut.result()
		else:
			cls.prefetch()


def synth(scenario, outdir, *args):
	"""Run tests/sim/nmea_synth.py; returns (nmea path, expected rows)."""
	name = os.path.splitext(os.path.basename(scenario))[0]
	nmea = os.path.join(outdir, name + ".nmea")
	exp = os.path.join(outdir, name + ".expected.jsonl")
	p = subprocess.run([PYTHON, os.path.join(SIM, "nmea_synth.py"), scenario,
	    "-o", nmea, "-e", exp] + list(args), stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, encoding="utf-8", timeout=120)
	if p.returncode != 0:
		raise AssertionError("nmea_synth.py failed: %s" % p.stderr)
	with open(exp, encoding="utf-8") as f:
		rows = [json.loads(l) for l in f if l.strip()]
	return nmea, rows


def eprint(*a):
	print(*a, file=sys.stderr)
