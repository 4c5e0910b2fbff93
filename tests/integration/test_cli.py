"""Command line contract of fleetgwd -n and fleetgwctl (DESIGN.md §4).

* every tests/data/conf/bad_*.conf: `fleetgwd -n -c FILE` exits 1, prints
  nothing on stdout and exactly the lines of bad_*.err on stderr;
* every tests/data/conf/good_*.conf: exit 0, stdout exactly
  "configuration OK" (good_*.ok when present), stderr empty;
* the documented example conf/fleetgw.conf passes;
* fleetgwctl usage errors exit 2 with a message on stderr;
* fleetgwctl --db on a missing file exits 1, names the file, and does not
  create it;
* fleetgwctl events / dispatch: unknown types and severities are usage
  errors naming the valid ones; dispatch add and remove send exactly the
  documented control-socket requests (to a scripted fake daemon), print
  the daemon's refusal and exit 1, and exit 1 when no daemon listens.

Paths are given relative to the repository root, as the .err files spell
them ("tests/data/conf/bad_x.conf:3: ...").
"""

import glob
import json
import os
import socket
import subprocess
import tempfile
import threading
import unittest

import harness

CONF_DIR = os.path.join("tests", "data", "conf")
TIMEOUT_S = 30


def run(argv, **kw):
	return subprocess.run(argv, cwd=harness.ROOT, env=harness.sanitizer_env(),
	    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
	    timeout=TIMEOUT_S, **kw)


def need(binary):
	if not os.access(binary, os.X_OK):
		raise AssertionError("%s not built (make SANITIZE=1 all)" % binary)


class ConfigCheck(unittest.TestCase):
	"""fleetgwd -n against the golden config files."""

	def fixtures(self, prefix):
		files = sorted(glob.glob(os.path.join(harness.ROOT, CONF_DIR,
		    prefix + "*.conf")))
		self.assertTrue(files, "no %s*.conf fixtures in %s" % (prefix,
		    CONF_DIR))
		return [os.path.relpath(f, harness.ROOT) for f in files]

	def test_every_fixture_is_bad_or_good(self):
		names = [os.path.basename(f) for f in glob.glob(os.path.join(
		    harness.ROOT, CONF_DIR, "*.conf"))]
		self.assertTrue(names, "no fixtures in %s" % CONF_DIR)
		self.assertEqual([n for n in names if not n.startswith(("bad_",
		    "good_"))], [], "fixtures are bad_*.conf or good_*.conf")

	def test_bad_configs_exact_stderr(self):
		need(harness.FLEETGWD)
		for conf in self.fixtures("bad_"):
			with self.subTest(conf=conf):
				err_file = os.path.join(harness.ROOT, conf[:-5] + ".err")
				self.assertTrue(os.path.exists(err_file),
				    "%s has no .err file" % conf)
				with open(err_file, encoding="utf-8") as f:
					want = f.read().splitlines()
				p = run([harness.FLEETGWD, "-n", "-c", conf])
				harness.check_sanitizer(p.stderr)
				self.assertEqual(p.returncode, 1, "exit status of fleetgwd "
				    "-n -c %s; stderr:\n%s" % (conf, p.stderr))
				self.assertEqual(p.stdout, "", "stdout of a failed check")
				self.assertEqual(p.stderr.splitlines(), want,
				    "stderr of fleetgwd -n -c %s" % conf)

	def test_good_configs_ok(self):
		need(harness.FLEETGWD)
		for conf in self.fixtures("good_"):
			with self.subTest(conf=conf):
				want = ["configuration OK"]
				ok_file = os.path.join(harness.ROOT, conf[:-5] + ".ok")
				if os.path.exists(ok_file):
					with open(ok_file, encoding="utf-8") as f:
						want = f.read().splitlines()
				p = run([harness.FLEETGWD, "-n", "-c", conf])
				harness.check_sanitizer(p.stderr)
				self.assertEqual(p.returncode, 0, "exit status of fleetgwd "
				    "-n -c %s; stderr:\n%s" % (conf, p.stderr))
				self.assertEqual(p.stdout.splitlines(), want)
				self.assertEqual(p.stderr, "")

	def test_example_conf_ok(self):
		need(harness.FLEETGWD)
		p = run([harness.FLEETGWD, "-n", "-c", os.path.join("conf",
		    "fleetgw.conf")])
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.splitlines(), ["configuration OK"])

	def test_missing_config_file(self):
		need(harness.FLEETGWD)
		with tempfile.TemporaryDirectory() as d:
			missing = os.path.join(d, "nope.conf")
			p = run([harness.FLEETGWD, "-n", "-c", missing])
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 1, p.stderr)
		self.assertIn(missing, p.stderr)
		self.assertNotIn("configuration OK", p.stdout)


class CtlUsage(unittest.TestCase):
	"""fleetgwctl: usage errors exit 2, runtime errors exit 1."""

	USAGE_ERRORS = [
		[],					# no command
		["frobnicate"],				# unknown command
		["--bogus-option", "positions"],	# unknown option
		["--db"],				# option without its value
		["--db", "x.db", "positions", "--limit"],	# missing value
		["--db", "x.db", "positions", "--limit", "ten"],
		["--db", "x.db", "positions", "--from", "yesterday"],
		["--db", "x.db", "positions", "surplus-argument"],
		["--db", "x.db", "events", "--type", "speed"],
		["--db", "x.db", "events", "--severity", "severe"],
		["--db", "x.db", "events", "--limit", "0"],
		["--db", "x.db", "events", "--to", "2026-02-30"],
		["--db", "x.db", "dispatch"],
		["--db", "x.db", "dispatch", "frobnicate"],
		["--db", "x.db", "dispatch", "list", "--limit", "5"],
		["--db", "x.db", "dispatch", "list", "surplus-argument"],
		["--db", "x.db", "dispatch", "remove", "JD-1"],	# needs the daemon
		["-s", "x.sock", "dispatch", "remove"],
		["-s", "x.sock", "dispatch", "remove", "JD/1"],
		["-s", "x.sock", "dispatch", "remove", "JD-1", "JD-2"],
		["-s", "x.sock", "dispatch", "add", "--from", "2026-10-02T09:00",
		    "--to", "2026-10-02T10:00", "--purpose", "p", "--approver", "a"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD 1", "--from",
		    "2026-10-02T09:00", "--to", "2026-10-02T10:00", "--purpose", "p",
		    "--approver", "a"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-02T10:00", "--to", "2026-10-02T09:00", "--purpose", "p",
		    "--approver", "a"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-01", "--to", "2026-11-02", "--purpose", "p",
		    "--approver", "a"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-02T09:00", "--to", "2026-10-02T10:00", "--purpose", "p",
		    "--approver", "a", "--dest", "104.07"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-02T09:00", "--to", "2026-10-02T10:00", "--purpose", "p",
		    "--approver", "a", "--dest", "104.07,30.55,5"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-02T09:00", "--to", "2026-10-02T10:00", "--purpose", "p",
		    "--approver", "a", "--crs", "gcj02"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-02T09:00", "--to", "2026-10-02T10:00", "--purpose", "p",
		    "--approver", "a", "--dest", "104.07,30.55", "--crs", "utm"],
		["-s", "x.sock", "dispatch", "add", "--id", "JD-1", "--from",
		    "2026-10-02T09:00", "--to", "2026-10-02T10:00", "--purpose", "",
		    "--approver", "a"],
	]

	def test_usage_errors_exit_2(self):
		need(harness.FLEETGWCTL)
		with tempfile.TemporaryDirectory() as d:
			for args in self.USAGE_ERRORS:
				with self.subTest(args=args):
					p = subprocess.run([harness.FLEETGWCTL] + args, cwd=d,
					    env=harness.sanitizer_env(),
					    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
					    stderr=subprocess.PIPE, encoding="utf-8",
					    errors="replace", timeout=TIMEOUT_S)
					harness.check_sanitizer(p.stderr)
					self.assertEqual(p.returncode, 2, "fleetgwctl %s: "
					    "stdout %r stderr %r" % (" ".join(args), p.stdout,
					    p.stderr))
					self.assertTrue(p.stderr.strip(),
					    "a usage error explains itself on stderr")
					self.assertEqual(p.stdout, "")
					# usage errors are found before any database is opened
					self.assertFalse(os.path.exists(os.path.join(d, "x.db")))

	def test_missing_db_exit_1(self):
		need(harness.FLEETGWCTL)
		with tempfile.TemporaryDirectory() as d:
			missing = os.path.join(d, "missing.db")
			for extra in ([], ["--json"]):
				with self.subTest(json=bool(extra)):
					p = subprocess.run([harness.FLEETGWCTL, "--db", missing] +
					    extra + ["positions"], env=harness.sanitizer_env(),
					    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
					    stderr=subprocess.PIPE, encoding="utf-8",
					    errors="replace", timeout=TIMEOUT_S)
					harness.check_sanitizer(p.stderr)
					self.assertEqual(p.returncode, 1, p.stderr)
					self.assertIn(missing, p.stderr,
					    "the message names the file")
					self.assertEqual(p.stdout, "")
					self.assertFalse(os.path.exists(missing),
					    "fleetgwctl --db must not create a database")

	def test_unknown_type_lists_the_valid_ones(self):
		need(harness.FLEETGWCTL)
		for opt, bad, valid in (("--type", "speed", ("after_hours_use",
		    "forbidden_place", "gnss_lost_while_moving", "clock_jump")),
		    ("--severity", "severe", ("info", "warning", "violation",
		    "critical"))):
			with self.subTest(opt=opt):
				p = run([harness.FLEETGWCTL, "--db", "x.db", "events", opt,
				    bad])
				harness.check_sanitizer(p.stderr)
				self.assertEqual(p.returncode, 2, p.stderr)
				first = p.stderr.splitlines()[0]
				self.assertIn('"%s"' % bad, first)
				for name in valid:
					self.assertIn(name, first)

	def test_missing_db_events_and_orders_exit_1(self):
		need(harness.FLEETGWCTL)
		with tempfile.TemporaryDirectory() as d:
			missing = os.path.join(d, "missing.db")
			for cmd in (["events"], ["dispatch", "list"]):
				with self.subTest(cmd=cmd):
					p = run([harness.FLEETGWCTL, "--db", missing, "--json"] +
					    cmd)
					harness.check_sanitizer(p.stderr)
					self.assertEqual(p.returncode, 1, p.stderr)
					self.assertIn(missing, p.stderr)
					self.assertEqual(p.stdout, "")
					self.assertFalse(os.path.exists(missing))


class FakeCtl:
	"""A scripted control socket: answers each request with the next
	reply of the script and keeps the requests it received."""

	def __init__(self, path, replies):
		self.path = path
		self.replies = list(replies)
		self.requests = []
		self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		self.sock.bind(path)
		self.sock.listen(4)
		self.sock.settimeout(TIMEOUT_S)
		self.thread = threading.Thread(target=self._serve, daemon=True)
		self.thread.start()

	def _serve(self):
		while self.replies:
			try:
				conn, _ = self.sock.accept()
			except OSError:
				return
			with conn:
				conn.settimeout(TIMEOUT_S)
				data = b""
				while not data.endswith(b"\n"):
					chunk = conn.recv(4096)
					if not chunk:
						break
					data += chunk
				self.requests.append(json.loads(data.decode("utf-8")))
				conn.sendall((json.dumps(self.replies.pop(0),
				    ensure_ascii=False) + "\n").encode("utf-8"))

	def close(self):
		self.sock.close()
		self.thread.join(TIMEOUT_S)


ORDER_ARGS = ["--id", "JD-20261002-01", "--from", "2026-10-02T09:00",
    "--to", "2026-10-02T10:30", "--purpose", "国庆假期值班巡查",
    "--approver", "王主任"]

ORDER_REPLY = {"id": "JD-20261002-01",
    "valid_from": "2026-10-02T09:00:00+08:00",
    "valid_to": "2026-10-02T10:30:00+08:00", "dest": None,
    "dest_fence": None, "corridor_fence": None, "purpose": "国庆假期值班巡查",
    "approver": "王主任", "source": "ctl",
    "created": "2026-10-01T18:00:00+08:00"}


class CtlDispatch(unittest.TestCase):
	"""fleetgwctl dispatch add/remove against a scripted control socket:
	the exact requests of the protocol (include/dispatch.h), the replies
	shown, refusals exit 1."""

	def setUp(self):
		need(harness.FLEETGWCTL)
		self.dir = tempfile.TemporaryDirectory()
		self.addCleanup(self.dir.cleanup)
		self.sock = os.path.join(self.dir.name, "ctl.sock")

	def fake(self, replies):
		f = FakeCtl(self.sock, replies)
		self.addCleanup(f.close)
		return f

	def ctl(self, *args):
		p = run([harness.FLEETGWCTL, "-s", self.sock] + list(args))
		harness.check_sanitizer(p.stderr)
		return p

	def test_add_sends_the_order(self):
		f = self.fake([{"ok": True, "order": ORDER_REPLY}])
		p = self.ctl("dispatch", "add", *ORDER_ARGS, "--dest",
		    "104.0785,30.5548,300", "--crs", "gcj02", "--dest-fence", "lot-a",
		    "--corridor", "ring-3")
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(f.requests, [{"cmd": "dispatch_add", "order": {
		    "id": "JD-20261002-01", "valid_from": "2026-10-02T09:00",
		    "valid_to": "2026-10-02T10:30", "purpose": "国庆假期值班巡查",
		    "approver": "王主任", "dest_fence": "lot-a",
		    "corridor_fence": "ring-3", "dest": {"lon": 104.0785,
		    "lat": 30.5548, "radius_m": 300.0, "crs": "gcj02"}}}])
		self.assertEqual(p.stdout, "order JD-20261002-01 added: "
		    "2026-10-02T09:00:00+08:00 to 2026-10-02T10:30:00+08:00\n")

	def test_add_default_radius_and_json(self):
		f = self.fake([{"ok": True, "order": ORDER_REPLY}])
		p = self.ctl("--json", "dispatch", "add", *ORDER_ARGS, "--dest",
		    "104.0785,30.5548")
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(f.requests[0]["order"]["dest"], {"lon": 104.0785,
		    "lat": 30.5548, "radius_m": 500.0, "crs": "wgs84"})
		self.assertNotIn("dest_fence", f.requests[0]["order"])
		self.assertEqual(json.loads(p.stdout), {"ok": True,
		    "order": ORDER_REPLY})

	def test_add_refused(self):
		f = self.fake([{"ok": False, "error": "permission denied: dispatch "
		    "orders are changed by administrators only"}])
		p = self.ctl("dispatch", "add", *ORDER_ARGS)
		self.assertEqual(p.returncode, 1, p.stderr)
		self.assertEqual(len(f.requests), 1)
		self.assertIn("permission denied", p.stderr)
		self.assertEqual(p.stdout, "")

	def test_remove(self):
		f = self.fake([{"ok": True},
		    {"ok": False, "error": "no such order: JD-9"}])
		p = self.ctl("dispatch", "remove", "JD-1")
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout, "order JD-1 removed\n")
		p = self.ctl("dispatch", "remove", "JD-9", "--json")
		self.assertEqual(p.returncode, 1)
		self.assertIn("no such order: JD-9", p.stderr)
		self.assertEqual(json.loads(p.stdout), {"ok": False,
		    "error": "no such order: JD-9"})
		self.assertEqual(f.requests, [
		    {"cmd": "dispatch_remove", "id": "JD-1"},
		    {"cmd": "dispatch_remove", "id": "JD-9"}])

	def test_no_daemon_exit_1(self):
		for args in (["dispatch", "add"] + ORDER_ARGS,
		    ["dispatch", "remove", "JD-1"], ["dispatch", "list"]):
			with self.subTest(args=args[:2]):
				p = self.ctl(*args)
				self.assertEqual(p.returncode, 1, p.stderr)
				self.assertIn("is fleetgwd running?", p.stderr)
				self.assertEqual(p.stdout, "")


if __name__ == "__main__":
	unittest.main()
