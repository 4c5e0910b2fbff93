"""Geofences through the real binaries (issue 4).

* the example fences of conf/fleetgw.conf load in the daemon, and
  `fleetgwctl fences [--json]` lists them over the control socket;
* `fleetgwctl fences --at LON,LAT --crs gcj02` finds the fences that
  contain a point read off Amap, and the same numbers taken as WGS-84
  miss the compound (the GCJ-02 trap);
* SIGHUP swaps in a valid new set and keeps the old one when the new
  fences are bad;
* `fleetgwd -n` names the file, line and fence of a bad geometry, warns
  about a fence outside China, and the daemon refuses to start on bad
  fences;
* fleetgwctl reads the configuration's fences itself when no daemon runs.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness

EXAMPLE = os.path.join(harness.ROOT, "conf", "fleetgw.conf")
FENCES_DIR = os.path.join(harness.ROOT, "conf", "fences")
EXAMPLE_IDS = ["chengdu", "office", "lot-a", "jinli", "ktv-kehua",
    "golf-south", "spa-east", "route-century-city"]
TIMEOUT_S = 30


def example_fences(fences_dir=FENCES_DIR):
	"""The fences list of conf/fleetgw.conf, GeoJSON paths made absolute."""
	with open(EXAMPLE, encoding="utf-8") as f:
		text = f.read()
	m = re.search(r"^fences = \(.*?^\);\n", text, re.S | re.M)
	assert m, "conf/fleetgw.conf has no fences list"
	return m.group(0).replace('geojson = "fences/',
	    'geojson = "%s/' % fences_dir)


def run(argv):
	return subprocess.run(argv, env=harness.sanitizer_env(),
	    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
	    timeout=TIMEOUT_S)


class Base(unittest.TestCase):
	def setUp(self):
		self.wd = tempfile.mkdtemp(prefix="fleetgw-fences.")

	def tearDown(self):
		shutil.rmtree(self.wd, ignore_errors=True)

	def ctl_json(self, d, *args):
		p = d.ctl("-s", d.sock, "--json", "fences", *args)
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		return json.loads(p.stdout)


class Live(Base):
	"""The daemon with the example fences."""

	def test_list_and_at(self):
		with harness.Daemon(None, self.wd,
		    extra_conf=example_fences()) as d:
			d.wait_ready()
			d.wait_log(r"main: 8 fences loaded", 10)
			fences = self.ctl_json(d)
			self.assertEqual([f["id"] for f in fences], EXAMPLE_IDS)
			byid = {f["id"]: f for f in fences}
			self.assertEqual(byid["office"]["shape"], "circle")
			self.assertEqual(byid["office"]["crs"], "gcj02")
			self.assertEqual(byid["jinli"]["kind"], "forbidden")
			self.assertEqual(byid["jinli"]["dwell_s"], 600)
			self.assertEqual(byid["route-century-city"]["shape"],
			    "corridor")
			self.assertGreater(byid["chengdu"]["vertices"], 30)
			# The office centre, drawn at GCJ-02 [104.0665, 30.5723],
			# is stored in WGS-84 some 350 m south-west of it.
			lon, lat = byid["office"]["center"]
			self.assertAlmostEqual(lon, 104.0640, delta=2e-4)
			self.assertAlmostEqual(lat, 30.5748, delta=2e-4)

			# The car park read off Amap.
			at = self.ctl_json(d, "--at", "104.0665,30.5723", "--crs",
			    "gcj02")
			inside = {f["id"]: f for f in at["inside"]}
			self.assertEqual(sorted(inside), sorted(["chengdu",
			    "office", "lot-a", "route-century-city"]))
			self.assertLess(inside["office"]["distance_m"], -100)
			self.assertEqual(inside["lot-a"]["location"], "in")
			self.assertAlmostEqual(at["wgs84"][0], 104.0640, delta=1e-4)
			self.assertAlmostEqual(at["gcj02"][0], 104.0665, delta=1e-6)
			self.assertAlmostEqual(at["gcj02"][1], 30.5723, delta=1e-6)

			# The same numbers taken as WGS-84 are 350 m off: not in
			# the compound, not in its car park.
			at = self.ctl_json(d, "--at", "104.0665,30.5723")
			ids = [f["id"] for f in at["inside"]]
			self.assertNotIn("office", ids)
			self.assertNotIn("lot-a", ids)
			self.assertIn("chengdu", ids)

			# Near Wuhou Shrine: inside the city only, Jinli nearby.
			at = self.ctl_json(d, "--at", "104.0472,30.6456")
			self.assertEqual([f["id"] for f in at["inside"]],
			    ["chengdu"])
			near = {f["id"]: f for f in at["nearby"]}
			self.assertIn("jinli", near)
			self.assertGreater(near["jinli"]["distance_m"], 100)
			self.assertLess(near["jinli"]["distance_m"], 1000)

			# Text forms.
			p = d.ctl("-s", d.sock, "fences", "--at", "104.0665,30.5723",
			    "--crs", "gcj02")
			self.assertEqual(p.returncode, 0, p.stderr)
			self.assertIn("inside 4 fences:", p.stdout)
			self.assertRegex(p.stdout, r"(?m)^office +office .* m inside")
			p = d.ctl("-s", d.sock, "fences")
			self.assertEqual(p.returncode, 0, p.stderr)
			self.assertIn("8 fences", p.stdout)
			self.assertRegex(p.stdout, r"(?m)^lot-a +parking +- +gcj02 "
			    r"+polygon 4 vertices")
			st = d.status_json()
			self.assertEqual(st["fences"]["count"], 8)

	def test_reload(self):
		fdir = os.path.join(self.wd, "fences")
		shutil.copytree(FENCES_DIR, fdir)
		with harness.Daemon(None, self.wd,
		    extra_conf=example_fences(fdir)) as d:
			d.wait_ready()
			before = self.ctl_json(d)

			# A broken file: the reload is refused, the set kept.
			path = os.path.join(fdir, "forbidden-chengdu.geojson")
			with open(path, encoding="utf-8") as f:
				good = f.read()
			with open(path, "w", encoding="utf-8") as f:
				f.write(good.replace('"type": "Point"',
				    '"type": "Pointy"', 1))
			off = os.path.getsize(d.logpath)
			os.kill(d.proc.pid, signal.SIGHUP)
			d.wait_log(r"reload failed \(fences\)", 10)
			log = d.log_text()[off:]
			self.assertRegex(log, r"forbidden-chengdu\.geojson: fence "
			    r"\"jinli\": features\[0\]: geometry: type \"Pointy\" "
			    r"is not supported")
			self.assertEqual(self.ctl_json(d), before)
			self.assertTrue(d.running())

			# A valid change: swapped in.
			data = json.loads(good)
			data["features"].append({"type": "Feature",
			    "properties": {"id": "new-ktv", "radius_m": 40},
			    "geometry": {"type": "Point",
			    "coordinates": [104.07, 30.60]}})
			with open(path, "w", encoding="utf-8") as f:
				json.dump(data, f)
			os.kill(d.proc.pid, signal.SIGHUP)
			d.wait_log(r"main: 9 fences loaded", 10)
			after = self.ctl_json(d)
			self.assertEqual([f["id"] for f in after],
			    EXAMPLE_IDS[:7] + ["new-ktv", EXAMPLE_IDS[7]])


class Check(Base):
	"""fleetgwd -n and start-up with bad fences; fleetgwctl offline."""

	def write(self, fences, name="fleetgw.conf"):
		path = os.path.join(self.wd, name)
		harness.write_conf(path, {"device": {"id": "SC-0001"},
		    "ctl": {"socket": os.path.join(self.wd, "ctl.sock")},
		    "storage": {"path": os.path.join(self.wd, "fleetgw.db")}},
		    fences)
		return path

	def test_bad_geometry_is_named(self):
		conf = self.write('fences = (\n'
		    '  { id = "tie"; kind = "parking";\n'
		    '    polygon = ( [ 104.0, 30.0 ], [ 104.1, 30.1 ],'
		    ' [ 104.1, 30.0 ], [ 104.0, 30.1 ] ); }\n);\n')
		p = run([harness.FLEETGWD, "-n", "-c", conf])
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 1, p.stderr)
		self.assertEqual(p.stdout, "")
		lines = p.stderr.splitlines()
		self.assertEqual(len(lines), 1, p.stderr)
		# The fence starts on the line after "fences = (": count them.
		with open(conf, encoding="utf-8") as f:
			n = f.read().splitlines().index('  { id = "tie"; '
			    'kind = "parking";') + 1
		self.assertTrue(lines[0].startswith('%s:%d: fence "tie": ' %
		    (conf, n)), lines[0])
		self.assertIn("cross", lines[0])

		# The daemon refuses to start on it, saying why.
		p = run([harness.FLEETGWD, "-d", "-c", conf])
		self.assertEqual(p.returncode, 1)
		self.assertIn('fence "tie"', p.stderr)
		self.assertIn("invalid fences", p.stderr)
		self.assertFalse(os.path.exists(os.path.join(self.wd,
		    "fleetgw.db")))

	def test_outside_china_is_a_warning(self):
		conf = self.write('fences = (\n'
		    '  { id = "paris"; kind = "forbidden";\n'
		    '    circle = { center = [ 2.35, 48.85 ]; radius_m = 100.0; };'
		    ' }\n);\n')
		p = run([harness.FLEETGWD, "-n", "-c", conf])
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout, "configuration OK\n")
		self.assertRegex(p.stderr, r'^warning: %s:\d+: fence "paris": '
		    r'lies outside China' % re.escape(conf))

	def test_example_checks(self):
		p = run([harness.FLEETGWD, "-n", "-v", "-c", EXAMPLE])
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertIn("# 8 fences", p.stdout)
		self.assertTrue(p.stdout.endswith("configuration OK\n"))

	def test_fleetgwctl_without_daemon(self):
		conf = self.write(example_fences())
		p = run([harness.FLEETGWCTL, "-c", conf, "--json", "fences"])
		harness.check_sanitizer(p.stderr)
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertIn("daemon not running", p.stderr)
		self.assertEqual([f["id"] for f in json.loads(p.stdout)],
		    EXAMPLE_IDS)
		p = run([harness.FLEETGWCTL, "-c", conf, "fences", "--from-config",
		    "--at", "104.0665,30.5723", "--crs", "gcj02"])
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stderr, "")
		self.assertIn("inside 4 fences:", p.stdout)

	def test_fleetgwctl_usage(self):
		conf = self.write("")
		for args, want in (
		    (["--at", "104.0"], "--at wants LON,LAT"),
		    (["--at", "30.6,104.1"], "--at wants LON,LAT"),
		    (["--at", "104,30", "--crs", "utm"], "is not one of"),
		    (["--crs", "gcj02"], "--crs goes with --at"),
		    (["extra"], "unexpected argument")):
			with self.subTest(args=args):
				p = run([harness.FLEETGWCTL, "-c", conf, "fences"] +
				    args)
				self.assertEqual(p.returncode, 2, p.stderr)
				self.assertIn(want, p.stderr)
		p = run([harness.FLEETGWCTL, "--db", os.path.join(self.wd,
		    "x.db"), "fences"])
		self.assertEqual(p.returncode, 2)
		self.assertIn("not in the database", p.stderr)


if __name__ == "__main__":
	unittest.main()
