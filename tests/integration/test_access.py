"""test_access - who may use the control socket (issue 7, point 6).

A real fleetgwd (as root, like every integration test) with
ctl.inspect_group = "users" (gid 100 on Debian: an existing group, so the
test creates no users or groups).  fleetgwctl runs as other users through
setpriv(1), which execs it in place, so the pid the daemon logs is the pid
of the process we started:

* nobody without groups: the kernel refuses the connection (socket file
  0660, group users); with the file opened up (0666, for this test only)
  the daemon itself refuses every command, inspect and admin, and logs
  each refusal with uid, pid, command and class;
* nobody with the supplementary group users (an inspector): status,
  fences and the other inspect commands are served; dispatch add and
  remove, reload and unknown commands are refused and logged;
* root: everything, including reload, which answers with its outcome (a
  broken file is refused with FILE:LINE and the daemon keeps running;
  a reload that moves the socket still answers on the old one).

Skips when not root or without setpriv.  Every wait is on a condition
with a deadline.
"""

import grp
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import harness

SETPRIV = shutil.which("setpriv")
NOBODY = 65534
INSPECT_GROUP = "users"
CTL_TIMEOUT_S = 30

ORDER_ARGS = ["--id", "JD-ACCESS-1", "--from", "2026-10-02T09:00", "--to",
    "2026-10-02T10:30", "--purpose", "access test", "--approver", "王主任"]

# A raw client, run as the user under test: one request, the reply line.
RAW_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
	b = s.recv(65536)
	if not b:
		break
	buf += b
sys.stdout.write(buf.decode())
"""


def traversable_tmp():
	"""A temporary directory base whose every ancestor others may
	traverse (TMPDIR may be private)."""
	for base in (tempfile.gettempdir(), "/tmp"):
		p, ok = os.path.abspath(base), True
		while True:
			if not os.stat(p).st_mode & stat.S_IXOTH:
				ok = False
				break
			if p == "/":
				break
			p = os.path.dirname(p)
		if ok:
			return base
	return None


class Access(unittest.TestCase):

	@classmethod
	def setUpClass(cls):
		if os.geteuid() != 0:
			raise unittest.SkipTest("needs root: runs fleetgwctl as "
			    "other users with setpriv")
		if SETPRIV is None:
			raise unittest.SkipTest("setpriv not found (Debian package "
			    "util-linux)")
		try:
			cls.gid = grp.getgrnam(INSPECT_GROUP).gr_gid
		except KeyError:
			raise unittest.SkipTest("no group %r on this system to "
			    "configure as ctl.inspect_group" % INSPECT_GROUP)
		base = traversable_tmp()
		if base is None:
			raise unittest.SkipTest("no temporary directory others may "
			    "traverse")
		cls.work = tempfile.mkdtemp(prefix="fleetgw-access-", dir=base)
		# Others may reach the socket by name, not list the directory;
		# the socket file's own mode and group decide the rest.
		os.chmod(cls.work, 0o711)
		cls.d = harness.Daemon(None, cls.work,
		    gnss={"port": harness.free_port()},
		    ctl={"inspect_group": INSPECT_GROUP})
		cls.ctlbin = cls.d.fleetgwctl
		cls.d.start()
		try:
			cls.d.wait_ready()
		except BaseException:
			cls.d.close()
			raise

	@classmethod
	def tearDownClass(cls):
		cls.d.close()
		try:
			harness.check_sanitizer(cls.d.log_text())
		finally:
			shutil.rmtree(cls.work, ignore_errors=True)

	def setUp(self):
		# Each test starts from the configured socket, mode 0660.
		self.sock = self.d.sock
		os.chmod(self.sock, 0o660)

	# -- running fleetgwctl as someone

	def who(self, user):
		"""setpriv prefix: "root" (none), "nobody" (uid/gid 65534, no
		supplementary group), "inspector" (nobody + group users)."""
		if user == "root":
			return []
		pre = [SETPRIV, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY]
		if user == "nobody":
			return pre + ["--clear-groups"]
		return pre + ["--groups=%d" % self.gid]

	def run_as(self, user, argv):
		"""(pid, returncode, stdout, stderr) of argv run as user."""
		p = subprocess.Popen(self.who(user) + argv,
		    env=harness.sanitizer_env(), stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
		    encoding="utf-8", errors="replace")
		try:
			out, err = p.communicate(timeout=CTL_TIMEOUT_S)
		except subprocess.TimeoutExpired:
			p.kill()
			p.communicate()
			raise
		harness.check_sanitizer(err)
		return p.pid, p.returncode, out, err

	def ctl(self, user, *args):
		return self.run_as(user, [self.ctlbin, "-s", self.sock] +
		    list(args))

	def raw(self, user, req):
		"""The reply to one raw request (a dict), sent as user."""
		pid, rc, out, err = self.run_as(user, [harness.PYTHON, "-c",
		    RAW_CLIENT, self.sock, json.dumps(req)])
		self.assertEqual(rc, 0, err)
		return pid, json.loads(out)

	# -- expectations

	def refused(self, user, args, cmd, cls):
		"""fleetgwctl ARGS as user: exit 1, "permission denied" on
		stderr, and the daemon's log line for this very process."""
		pid, rc, out, err = self.ctl(user, *args)
		self.assertEqual(rc, 1, "%s %s: %s%s" % (user, args, out, err))
		self.assertIn("permission denied: %s is an %s command" % (cmd,
		    cls), err)
		self.wait_refusal(pid, cmd, cls)

	def wait_refusal(self, pid, cmd, cls):
		if cls == "inspect":
			rx = r"ctl: %s refused: uid %d \(pid %d\) is not in %s or " \
			    r"an administrator \(inspect command\)" % (
			    re.escape(cmd), NOBODY, pid, INSPECT_GROUP)
		else:
			rx = r"ctl: %s refused: uid %d \(pid %d\) is not an " \
			    r"administrator \(admin command: root, uid 0\)" % (
			    re.escape(cmd), NOBODY, pid)
		self.d.wait_log(rx, 10)

	def no_refusal_for(self, pid):
		self.assertNotRegex(self.d.log_text(), r"refused: uid \d+ \(pid "
		    r"%d\)" % pid)

	# -- tests

	def test_reload_usage(self):
		for args in (["--db", "x.db", "reload"], ["-s", self.sock,
		    "reload", "now"]):
			with self.subTest(args=args):
				p = self.d.ctl(*args)
				self.assertEqual(p.returncode, 2, p.stderr)
				harness.check_sanitizer(p.stderr)
		p = self.d.ctl("--help")
		self.assertIn("  reload ", p.stdout)

	def test_socket_file_mode_and_group(self):
		st = os.stat(self.sock)
		self.assertTrue(stat.S_ISSOCK(st.st_mode))
		self.assertEqual(st.st_mode & 0o7777, 0o660)
		self.assertEqual(st.st_gid, self.gid, "socket not given to "
		    "ctl.inspect_group")

	def test_nobody_cannot_connect(self):
		"""The file system check comes first: nobody without the group
		never reaches the daemon."""
		pid, rc, out, err = self.ctl("nobody", "status")
		self.assertEqual(rc, 1, out + err)
		self.assertIn("Permission denied", err)
		self.no_refusal_for(pid)

	def test_nobody_refused_by_the_daemon(self):
		"""With the socket file opened to everyone (this test only), the
		daemon's own check refuses nobody everything, and logs it."""
		os.chmod(self.sock, 0o666)
		for args, cmd, cls in (
		    (["status"], "status", "inspect"),
		    (["fences"], "fences", "inspect"),
		    (["fences", "--at", "104.0665,30.5723"], "fences_at",
		     "inspect"),
		    (["dispatch", "add"] + ORDER_ARGS, "dispatch_add", "admin"),
		    (["dispatch", "remove", "JD-ACCESS-1"], "dispatch_remove",
		     "admin"),
		    (["reload"], "reload", "admin")):
			with self.subTest(cmd=cmd):
				self.refused("nobody", args, cmd, cls)
		for cmd, cls in (("export", "inspect"), ("check", "inspect"),
		    ("frobnicate", "admin")):
			with self.subTest(cmd=cmd):
				pid, r = self.raw("nobody", {"cmd": cmd})
				self.assertFalse(r["ok"])
				self.assertTrue(r["error"].startswith(
				    "permission denied: %s is an %s command" % (cmd,
				    cls)), r)
				self.wait_refusal(pid, cmd, cls)
		self.assertTrue(self.d.running())

	def test_inspector(self):
		"""nobody with the supplementary group users: inspect commands
		only."""
		pid, rc, out, err = self.ctl("inspector", "--json", "status")
		self.assertEqual(rc, 0, err)
		self.assertTrue(json.loads(out)["ok"])
		self.no_refusal_for(pid)
		pid, rc, out, err = self.ctl("inspector", "fences")
		self.assertEqual(rc, 0, err)
		self.no_refusal_for(pid)
		pid, rc, out, err = self.ctl("inspector", "fences", "--at",
		    "104.0665,30.5723")
		self.assertEqual(rc, 0, err)
		self.no_refusal_for(pid)
		# Inspect commands other engineers add: past the access check
		# (whatever their handler answers), never "permission denied".
		for cmd in ("export", "check", "pubkey"):
			with self.subTest(cmd=cmd):
				pid, r = self.raw("inspector", {"cmd": cmd})
				self.assertFalse(str(r.get("error", "")).startswith(
				    "permission denied"), r)
				self.no_refusal_for(pid)
		for args, cmd in ((["dispatch", "add"] + ORDER_ARGS,
		    "dispatch_add"), (["dispatch", "remove", "JD-ACCESS-1"],
		    "dispatch_remove"), (["reload"], "reload")):
			with self.subTest(cmd=cmd):
				self.refused("inspector", args, cmd, "admin")
		pid, r = self.raw("inspector", {"cmd": "frobnicate"})
		self.assertTrue(r["error"].startswith("permission denied: "
		    "frobnicate is an admin command"), r)
		self.wait_refusal(pid, "frobnicate", "admin")
		# Nothing was changed by the refused requests.
		self.assertEqual(self.d.query("SELECT count(*) FROM "
		    "dispatch_orders WHERE id = 'JD-ACCESS-1'")[0][0], 0)

	def test_root_everything(self):
		pid, rc, out, err = self.ctl("root", "status")
		self.assertEqual(rc, 0, err)
		pid, rc, out, err = self.ctl("root", "dispatch", "add",
		    *ORDER_ARGS)
		self.assertEqual(rc, 0, err)
		self.no_refusal_for(pid)
		pid, rc, out, err = self.ctl("root", "dispatch", "remove",
		    "JD-ACCESS-1")
		self.assertEqual(rc, 0, err)
		pid, rc, out, err = self.ctl("root", "reload")
		self.assertEqual(rc, 0, err)
		self.assertIn("configuration reloaded", out)
		self.no_refusal_for(pid)
		pid, r = self.raw("root", {"cmd": "frobnicate"})
		self.assertEqual(r["error"], "unknown command")
		# The reload gave the socket to the group again.
		self.assertEqual(os.stat(self.sock).st_gid, self.gid)

	def rewrite_conf(self, **ctl):
		groups = {g: dict(kv) for g, kv in self.d.groups.items()}
		groups["ctl"].update(ctl)
		harness.write_conf(self.d.conf, groups)

	def restore_conf(self):
		harness.write_conf(self.d.conf, self.d.groups)
		pid, rc, out, err = self.ctl("root", "reload")
		self.assertEqual(rc, 0, err)

	def test_reload_outcome(self):
		"""reload answers with its outcome; a broken file is refused
		and the running configuration kept."""
		self.addCleanup(self.restore_conf)
		with open(self.d.conf, "a") as f:
			f.write("gnss = { port = \"x\"; };\n")
		pid, rc, out, err = self.ctl("root", "--json", "reload")
		self.assertEqual(rc, 1, out + err)
		self.assertRegex(err, r"fleetgwctl: reload: reload failed, "
		    r"keeping the running configuration: .*fleetgw\.conf:\d+: ")
		self.assertFalse(json.loads(out)["ok"])
		self.assertTrue(self.d.running())
		pid, rc, out, err = self.ctl("inspector", "status")
		self.assertEqual(rc, 0, err)

		# inspect_group "": the socket goes back to the daemon's group
		# and the inspector can no longer connect.
		self.rewrite_conf(inspect_group="")
		pid, rc, out, err = self.ctl("root", "reload")
		self.assertEqual(rc, 0, err)
		self.assertEqual(os.stat(self.sock).st_gid, os.getegid())
		pid, rc, out, err = self.ctl("inspector", "status")
		self.assertEqual(rc, 1)
		self.assertIn("Permission denied", err)

	def test_reload_moves_the_socket(self):
		"""A ctl reload that moves the socket: the old one answers,
		then goes; the new one has the group."""
		new = os.path.join(self.work, "ctl2.sock")
		self.rewrite_conf(socket=new)

		def back():
			harness.write_conf(self.d.conf, self.d.groups)
			p = self.d.ctl("-s", new, "reload")
			self.assertEqual(p.returncode, 0, p.stderr)
			harness.wait_until(lambda: os.path.exists(self.d.sock), 10)
		self.addCleanup(back)
		pid, rc, out, err = self.ctl("root", "reload")
		self.assertEqual(rc, 0, err)
		self.assertIn("configuration reloaded", out)
		harness.wait_until(lambda: not os.path.exists(self.d.sock), 10,
		    msg="the old socket to go")
		self.assertEqual(os.stat(new).st_gid, self.gid)
		self.sock = new
		pid, rc, out, err = self.ctl("inspector", "status")
		self.assertEqual(rc, 0, err)


if __name__ == "__main__":
	unittest.main()
