"""Command line contract of fleetgwd -n and fleetgwctl (DESIGN.md §4).

* every tests/data/conf/bad_*.conf: `fleetgwd -n -c FILE` exits 1, prints
  nothing on stdout and exactly the lines of bad_*.err on stderr;
* every tests/data/conf/good_*.conf: exit 0, stdout exactly
  "configuration OK" (good_*.ok when present), stderr empty;
* the documented example conf/fleetgw.conf passes;
* fleetgwctl usage errors exit 2 with a message on stderr;
* fleetgwctl --db on a missing file exits 1, names the file, and does not
  create it.

Paths are given relative to the repository root, as the .err files spell
them ("tests/data/conf/bad_x.conf:3: ...").
"""

import glob
import os
import subprocess
import tempfile
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


if __name__ == "__main__":
	unittest.main()
