"""fleetgwctl report end to end: a simulated working day through real gpsd
(gpsfake), the ELM327 simulator and fleetgwd, then the HTML report.

The day is tests/sim/scenarios/rules-weekday.json (test_rules.py replays
it too): four trips around the compound in Chengdu, a speeding episode
(warning) and a fuel drop while parked (critical), with the unit's example
fences (the Chengdu region, the office circle, the lot polygon, forbidden
places far away).  Once the last trip has ended and the events are in,
the report is written three ways:

* through the daemon, ``-s SOCKET``: records from the database the daemon
  names, fences from its ``fences`` reply (circles exact, polygons as
  their bounding box, which the report says);
* with ``-c CONFIG``: the same database, the configuration's fences with
  their outlines;
* with ``--db`` on a copy of the database taken after the daemon stopped:
  no fences, and the report says so.

Each report is checked against ``fleetgwctl --json trips`` and ``events``
of the same window (numbers of trips and events, distance, driving time,
violations and other events by type), for self-containment (no http:,
https:, "//", src=, href=, url(), script, link, import, font-face:
nothing a browser could fetch), and for its structure.  The report with
the configuration's fences is then rendered by headless Chromium (Debian
``chromium``; those tests skip with a message when it is missing) and
the screenshot is searched, with PIL, for the map's frame colour, and
inside it for pixels of the first day's track colour and of the
violation marker colour.

Run:  /usr/bin/python3 tests/integration/run.py test_report
(FLEETGW_REPORT_KEEP=DIR keeps the three reports and the screenshots.)
"""

import collections
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
import test_rules as rules_it

SCENARIO = "rules-weekday"
DATE_FROM = "2026-10-13"
DATE_TO = "2026-10-14"
CHROMIUM_TIMEOUT_S = 120
# The colours report.h fixes (REPORT_FRAME_COLOUR, REPORT_DAY_COLOUR0,
# REPORT_VIOLATION_COLOUR).
FRAME_RGB = (0x0a, 0x0b, 0x0c)
TRACK_RGB = (0x15, 0x65, 0xc0)
VIOLATION_RGB = (0xd5, 0x00, 0x00)
WINDOW = (1240, 1754)		# A4 at 150 dpi
# A directory to keep the reports and screenshots in (to look at them).
KEEP = os.environ.get("FLEETGW_REPORT_KEEP")


def chromium_path():
	for name in ("chromium", "chromium-browser", "google-chrome"):
		p = shutil.which(name)
		if p:
			return p
	return None


class _Summary(html.parser.HTMLParser):
	"""The figures of a report: elements with an id (their text and
	attributes), the per-type rows of the two type tables, every tag's
	attributes (for the reference check)."""

	def __init__(self):
		super().__init__(convert_charrefs=True)
		self.by_id = {}
		self.types = {"violations": {}, "other-events": {}}
		self.attrs = []
		self._open = []		# ids whose text is being collected
		self._table = None

	def handle_starttag(self, tag, attrs):
		a = dict(attrs)
		self.attrs.append((tag, attrs))
		if tag == "table" and a.get("id") in self.types:
			self._table = a["id"]
		if tag == "tr" and self._table and "data-count" in a:
			self.types[self._table][a["data-type"]] = int(a["data-count"])
		if "id" in a:
			self.by_id[a["id"]] = {"attrs": a, "text": ""}
			self._open.append((tag, a["id"]))

	def handle_endtag(self, tag):
		if tag == "table":
			self._table = None
		if self._open and self._open[-1][0] == tag:
			self._open.pop()

	def handle_data(self, data):
		for _, i in self._open:
			self.by_id[i]["text"] += data


def parse_report(text):
	p = _Summary()
	p.feed(text)
	p.close()
	return p


# Everything a browser could fetch, on the raw bytes, case-insensitive.
FORBIDDEN = [r"http:", r"https:", r"//", r"\bsrc\s*=", r"\bhref\s*=",
    r"\bsrcset\s*=", r"url\s*\(", r"<script", r"<link", r"<img",
    r"<iframe", r"<object", r"<embed", r"@import", r"@font-face",
    r"\bxlink:", r"\baction\s*=", r"\bposter\s*="]
# Attributes that load something; only data: would be acceptable.
LOADING_ATTRS = {"src", "href", "xlink:href", "srcset", "action", "poster",
    "data", "background"}


class ReportDay(harness.Prefetched, unittest.TestCase):
	"""One replay of rules-weekday, three reports of the day."""

	@classmethod
	def prefetch(cls):
		why = rules_it.rules_support()
		if why:
			raise unittest.SkipTest(why)
		cls.work = tempfile.mkdtemp(prefix="fleetgw-report-")
		try:
			cls._setup()
		except BaseException:
			cls._teardown()
			raise

	@classmethod
	def _setup(cls):
		w = cls.work
		scen = os.path.join(rules_it.SCENARIO_DIR, SCENARIO + ".json")
		obd = os.path.join(w, "obd.jsonl")
		trips = os.path.join(w, "trips.json")
		evs = os.path.join(w, "events.json")
		cls.nmea, _rows = harness.synth(scen, w, "--obd", obd, "--trips",
		    trips, "--events", evs)
		with open(evs, encoding="utf-8") as f:
			meta = json.load(f)
		nsent = nep = 0
		with open(cls.nmea, encoding="ascii") as f:
			for line in f:
				nsent += line.startswith("$")
				nep += line[3:6] == "RMC"
		pace = meta["replay"]["pace"]
		speedup = max(1.0, 1.0 / (pace * nsent / max(1, nep)))
		groups, extra = rules_it.scenario_conf(meta, w)
		port = harness.free_port()
		cls.sim = harness.ElmSim(obd, w, follow="127.0.0.1:%d" % port,
		    time_scale=speedup).start()
		gnss = dict({"port": port, "retry_min_ms": 20, "retry_max_ms": 50},
		    **groups.pop("gnss", {}))
		obdg = dict(rules_it.OBD_FAST, device=cls.sim.device,
		    **groups.pop("obd", {}))
		dev = dict(groups.pop("device", {}))
		dev.setdefault("unit", "成都市机关事务管理局")
		d = cls.daemon = harness.Daemon(None, w, extra_conf=extra,
		    gnss=gnss, obd=obdg, device=dev, **groups)
		d.start()
		d.wait_ready()
		harness.wait_until(lambda: d.status_json()["obd"]["state"] ==
		    "no_ecu", rules_it.CONNECT_TIMEOUT_S, interval=0.1,
		    msg=lambda: "obd state no_ecu; log:\n%s" % d.log_tail())
		cls.fake = harness.Gpsfake(cls.nmea, port, pace=pace)
		cls.fake.start()
		d.wait_log(r"gnss: .*\bconnected", rules_it.CONNECT_TIMEOUT_S)
		d.wait_replay_done(cls.fake, pace * nsent * 1.5 + 60)
		cls.fake.stop()
		harness.wait_until(lambda: d.status_json().get("trip") is None,
		    rules_it.TRIP_END_TIMEOUT_S, interval=0.2,
		    msg=lambda: "the last trip to end; log:\n%s" % d.log_tail())
		# The day's events must be in before the report is taken: a
		# violation (critical fuel_drop) and the speeding warning.
		harness.wait_until(lambda: {"fuel_drop", "speeding"} <= {e["type"]
		    for e in d.events_json()}, rules_it.SETTLE_TIMEOUT_S,
		    interval=0.5, msg=lambda: "fuel_drop and speeding events; "
		    "got %s" % [e["type"] for e in d.events_json()])
		win = ("--from", DATE_FROM, "--to", DATE_TO)
		cls.out = {}
		cls.runs = {}
		for how, args in (("socket", ("-s", d.sock)),
		    ("config", ("-c", d.conf))):
			path = os.path.join(w, "report-%s.html" % how)
			cls.runs[how] = d.ctl(*(args + ("report",) + win +
			    ("-o", path)), timeout=120)
			cls.out[how] = path
		cls.trips = cls.listing(d.db, "trips", win)
		cls.events = cls.listing(d.db, "events", win)
		cls.rc = d.terminate()
		cls.sim.stop()
		# A copy, as an inspector pulls it off a gateway.
		cls.copy = os.path.join(w, "copy", "fleetgw.db")
		os.makedirs(os.path.dirname(cls.copy))
		for suffix in ("", "-wal"):
			if os.path.exists(d.db + suffix):
				shutil.copyfile(d.db + suffix, cls.copy + suffix)
		path = os.path.join(w, "copy", "report-db.html")
		cls.runs["db"] = d.ctl("--db", cls.copy, "--json", "report", *win,
		    "-o", path, timeout=120)
		cls.out["db"] = path
		cls.copy_trips = cls.listing(cls.copy, "trips", win)
		cls.copy_events = cls.listing(cls.copy, "events", win)
		cls.text = {}
		if KEEP:
			os.makedirs(KEEP, exist_ok=True)
		for how, path in cls.out.items():
			if KEEP and os.path.exists(path):
				shutil.copyfile(path, os.path.join(KEEP,
				    os.path.basename(path)))
			if os.path.exists(path):
				with open(path, "rb") as f:
					cls.text[how] = f.read().decode("utf-8")

	@classmethod
	def listing(cls, db, what, win):
		p = cls.daemon.ctl("--db", db, "--json", what, *win)
		if p.returncode != 0:
			raise AssertionError("fleetgwctl %s: exit %d: %s" % (what,
			    p.returncode, p.stderr.strip()))
		return json.loads(p.stdout)

	@classmethod
	def tearDownClass(cls):
		cls._teardown()

	@classmethod
	def _teardown(cls):
		for name in ("fake", "sim", "daemon"):
			obj = getattr(cls, name, None)
			if obj is not None:
				(obj.close if name == "daemon" else obj.stop)()
		shutil.rmtree(cls.work, ignore_errors=True)

	# ---------------------------------------------------------- checks

	def report(self, how):
		run = self.runs[how]
		harness.check_sanitizer(run.stderr)
		self.assertEqual(run.returncode, 0, "report %s: %s" % (how,
		    run.stderr))
		self.assertIn(how, self.text, "report %s not written" % how)
		return self.text[how]

	def test_written(self):
		for how in ("socket", "config", "db"):
			with self.subTest(how=how):
				text = self.report(how)
				self.assertTrue(text.startswith("<!DOCTYPE html>"))
				self.assertTrue(text.rstrip().endswith("</html>"))
				# no temporary file left beside it
				d = os.path.dirname(self.out[how])
				left = [f for f in os.listdir(d) if
				    f.startswith(os.path.basename(self.out[how]) + ".")]
				self.assertEqual(left, [])
		self.assertRegex(self.runs["socket"].stdout, r"^report written to "
		    r".*report-socket\.html: \d+ trips, \d+ events")
		j = json.loads(self.runs["db"].stdout)
		self.assertEqual(j["trips"], len(self.copy_trips))
		self.assertEqual(j["events"], len(self.copy_events))
		self.assertGreater(j["points_drawn"], 10)
		self.assertLess(j["points_drawn"], j["positions"])
		self.assertEqual(j["fences_drawn"], 0)
		self.assertEqual(self.rc, 0)
		harness.check_sanitizer(self.daemon.log_text())

	def check_summary(self, how, trips, events):
		p = parse_report(self.report(how))
		ids = p.by_id
		self.assertGreaterEqual(len(trips), 4, "the scenario has 4 trips")
		self.assertEqual(int(ids["sum-trips"]["text"]), len(trips))
		dist_m = sum(t["distance_m"] for t in trips)
		self.assertAlmostEqual(float(ids["sum-distance-km"]["attrs"]
		    ["data-m"]), dist_m, delta=0.2)
		self.assertEqual(ids["sum-distance-km"]["text"],
		    "%.2f" % (dist_m / 1000.0))
		drive = sum(t["driving_s"] for t in trips)
		self.assertAlmostEqual(float(ids["sum-driving"]["attrs"]["data-s"]),
		    drive, delta=0.01)
		s = int(round(drive))
		self.assertEqual(ids["sum-driving"]["text"], "%d:%02d:%02d" % (
		    s // 3600, s // 60 % 60, s % 60))
		self.assertEqual(int(ids["sum-events"]["text"]), len(events))
		bysev = collections.Counter(e["severity"] for e in events)
		for sev in ("info", "warning", "violation", "critical"):
			self.assertEqual(int(ids["sum-sev-" + sev]["text"]),
			    bysev[sev], sev)
		viol = collections.Counter(e["type"] for e in events if
		    e["severity"] in ("violation", "critical"))
		other = collections.Counter(e["type"] for e in events if
		    e["severity"] in ("info", "warning"))
		self.assertEqual(p.types["violations"], dict(viol))
		self.assertEqual(p.types["other-events"], dict(other))
		self.assertIn("fuel_drop", p.types["violations"])
		self.assertIn("speeding", p.types["other-events"])
		# per day: one section, one trip row per trip, one event row each
		text = self.report(how)
		self.assertIn('id="day-%s"' % DATE_FROM, text)
		self.assertEqual(len(re.findall(r'<tr data-trip="\d+">', text)),
		    len(trips))
		self.assertEqual(len(re.findall(r'<tr data-type="[a-z_]+" '
		    r'data-severity=', text)), len(events))
		for t in trips:
			self.assertIn('<tr data-trip="%d">' % t["id"], text)

	def test_summary_through_daemon(self):
		self.check_summary("socket", self.trips, self.events)

	def test_summary_with_config(self):
		self.check_summary("config", self.trips, self.events)

	def test_summary_from_copy(self):
		self.check_summary("db", self.copy_trips, self.copy_events)
		self.assertEqual(self.copy_trips, self.trips)
		self.assertEqual(self.copy_events, self.events)

	def test_same_content_daemon_and_copy(self):
		"""Header aside (data source, generation time), the daemon's
		report and the copy's hold the same summary, map and days."""
		def body(how):
			t = self.report(how)
			s = t[t.index('<section id="summary">'):]
			# Fences differ (the daemon's circles and boxes, none):
			# drop the map, and the fence a trip starts or ends in.
			s = s[:s.index('<section id="map-section">')] + \
			    s[s.index('<section id="days">'):]
			return re.sub(r'<td>[^<]*<br><span class="note">',
			    '<td><span class="note">', s)
		self.assertEqual(body("socket"), body("db"))

	def test_self_contained(self):
		for how in ("socket", "config", "db"):
			with self.subTest(how=how):
				text = self.report(how)
				for rx in FORBIDDEN:
					m = re.search(rx, text, re.IGNORECASE)
					self.assertIsNone(m, "%s: %r at %d: %r" % (how, rx,
					    m.start() if m else 0, text[max(0, m.start() -
					    60):m.start() + 60] if m else ""))
				for tag, attrs in parse_report(text).attrs:
					for k, v in attrs:
						if k.lower() in LOADING_ATTRS:
							self.assertTrue((v or "").startswith("data:"),
							    "%s: <%s %s=%r>" % (how, tag, k, v))
				self.assertIn('<meta charset="utf-8">', text)
				self.assertNotIn("<script", text.lower())

	def test_structure(self):
		for how in ("socket", "config", "db"):
			with self.subTest(how=how):
				text = self.report(how)
				ids = parse_report(text).by_id
				for i in ("vehicle", "period", "summary", "map",
				    "map-frame", "scale-bar", "north-arrow", "legend",
				    "tracks", "event-markers", "days", "violations",
				    "other-events"):
					self.assertIn(i, ids, "%s: no id=%s" % (how, i))
				self.assertIn("@page { size: A4", text)
				self.assertIn("SC-0001", text)
				# the plate is in the configuration, not the database
				if how != "db":
					self.assertIn("川A12345", text)
				# one polyline per trip that has positions
				self.assertEqual(len(re.findall(r'class="track"', text)),
				    len(self.trips))
				self.assertRegex(text, r'<circle class="violation"[^>]*'
				    r'fill="#d50000"')
				self.assertRegex(text, r">#\d+ \d\d:\d\d</text>")
				self.assertRegex(text, r"\d+ (m|km)</text>\s*</g>")
		self.assertIn("成都市机关事务管理局", self.report("config"))
		self.assertIn("LFGAB3C50RC012345", self.report("db"))

	def test_fences(self):
		cfg = parse_report(self.report("config"))
		self.assertIn("fence-list", cfg.by_id)
		for fid in ("office", "lot-a", "chengdu"):
			self.assertIn("<td>%s</td>" % fid, self.report("config"))
		self.assertIn("Fences from the configuration", self.report("config"))
		self.assertNotIn("bounding box (dashed)", self.report("config"))
		self.assertIn('<path fill-rule="evenodd"', self.report("config"))
		sock = self.report("socket")
		self.assertIn("Fences from the daemon", sock)
		self.assertIn("bounding box (dashed)", sock)
		self.assertIn("<title>office", sock)
		db = parse_report(self.report("db"))
		self.assertIn("no-fences", db.by_id)
		self.assertIn("--db", db.by_id["no-fences"]["text"])
		self.assertNotIn("fence-list", db.by_id)
		# the first trip leaves from the lot (or the office circle)
		self.assertRegex(self.report("config"), r"<td>(lot-a|office) \(")

	def test_usage_and_failures(self):
		d = self.daemon
		win = ["--from", DATE_FROM, "--to", DATE_TO]
		p = d.ctl("--db", self.copy, "report", *win)
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertIn("-o FILE", p.stderr)
		p = d.ctl("--db", self.copy, "report", "--from", DATE_FROM, "-o",
		    os.path.join(self.work, "x.html"))
		self.assertEqual(p.returncode, 2, p.stderr)
		p = d.ctl("--db", self.copy, "report", "--from", DATE_TO, "--to",
		    DATE_FROM, "-o", os.path.join(self.work, "x.html"))
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertFalse(os.path.exists(os.path.join(self.work, "x.html")))
		missing = os.path.join(self.work, "no-such-dir", "r.html")
		p = d.ctl("--db", self.copy, "report", *win, "-o", missing)
		self.assertEqual(p.returncode, 1, p.stderr)
		self.assertIn("no-such-dir", p.stderr)
		harness.check_sanitizer(p.stderr)
		p = d.ctl("--db", os.path.join(self.work, "none.db"), "report",
		    *win, "-o", os.path.join(self.work, "y.html"))
		self.assertEqual(p.returncode, 1, p.stderr)
		self.assertFalse(os.path.exists(os.path.join(self.work, "y.html")))

	# ------------------------------------------------------- rendering

	def screenshot(self, how):
		"""PNG of the report as headless Chromium shows it at A4 size."""
		exe = chromium_path()
		if exe is None:
			raise unittest.SkipTest("chromium not installed (Debian "
			    "package chromium; scripts/deps.sh installs it): the "
			    "report is not rendered")
		try:
			import PIL.Image  # noqa: F401 (python3-pil)
		except ImportError:
			raise unittest.SkipTest("PIL not available (Debian package "
			    "python3-pil) for /usr/bin/python3")
		tmp = tempfile.mkdtemp(prefix="fleetgw-chromium-")
		self.addCleanup(shutil.rmtree, tmp, True)
		png = os.path.join(tmp, "shot.png")
		env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp,
		    XDG_CACHE_HOME=tmp)
		args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
		    "--hide-scrollbars", "--no-first-run", "--disable-extensions",
		    "--disable-background-networking", "--user-data-dir=" +
		    os.path.join(tmp, "profile"), "--window-size=%d,%d" % WINDOW,
		    "--screenshot=" + png, "file://" + self.out[how]]
		proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
		    start_new_session=True)
		try:
			out, _ = proc.communicate(timeout=CHROMIUM_TIMEOUT_S)
		except subprocess.TimeoutExpired:
			os.killpg(proc.pid, signal.SIGKILL)
			proc.communicate()
			self.fail("chromium did not finish within %d s" %
			    CHROMIUM_TIMEOUT_S)
		self.assertEqual(proc.returncode, 0, out.decode(errors="replace"))
		self.assertTrue(os.path.exists(png), "no screenshot: %s" %
		    out.decode(errors="replace")[-2000:])
		if KEEP:
			shutil.copyfile(png, os.path.join(KEEP, "report-%s.png" % how))
		return png

	@staticmethod
	def near(px, rgb, tol):
		return abs(px[0] - rgb[0]) <= tol and abs(px[1] - rgb[1]) <= tol \
		    and abs(px[2] - rgb[2]) <= tol

	def test_render_map_pixels(self):
		import PIL.Image
		png = self.screenshot("config")
		im = PIL.Image.open(png).convert("RGB")
		self.assertEqual(im.size, WINDOW)
		w, h = im.size
		px = im.load()
		# The map's frame: rows and columns that are mostly of its
		# colour (text is never that dark: the report's darkest is #222).
		rows = [0] * h
		cols = [0] * w
		for y in range(h):
			for x in range(w):
				if self.near(px[x, y], FRAME_RGB, 6):
					rows[y] += 1
					cols[x] += 1
		ys = [y for y in range(h) if rows[y] >= 0.5 * w]
		xs = [x for x in range(w) if cols[x] >= 0.3 * h]
		self.assertTrue(xs and ys, "no map frame (%s) in the screenshot" %
		    (FRAME_RGB,))
		box = (min(xs), min(ys), max(xs), max(ys))
		bw, bh = box[2] - box[0], box[3] - box[1]
		self.assertGreater(bw, 0.6 * w, "map frame %s too narrow" % (box,))
		self.assertAlmostEqual(bh / bw, 0.7, delta=0.03, msg="map frame "
		    "%s is not the 1000 x 700 map" % (box,))
		counts = {"track": 0, "violation": 0, "other": 0}
		for y in range(box[1] + 4, box[3] - 3):
			for x in range(box[0] + 4, box[2] - 3):
				p = px[x, y]
				if self.near(p, TRACK_RGB, 24):
					counts["track"] += 1
				elif self.near(p, VIOLATION_RGB, 24):
					counts["violation"] += 1
				elif p != (255, 255, 255) and p != (0xfb, 0xfc, 0xfc):
					counts["other"] += 1
		# four trips of a few km at about 4 px width; one marker of r 8
		self.assertGreater(counts["track"], 300, counts)
		self.assertGreater(counts["violation"], 40, counts)
		self.assertGreater(counts["other"], 1000, counts)
		# and nothing of either colour outside the map area
		outside = 0
		for y in range(0, box[1], 2):
			for x in range(0, w, 2):
				if self.near(px[x, y], VIOLATION_RGB, 10):
					outside += 1
		self.assertEqual(outside, 0, "violation colour above the map")

	def test_render_without_fences(self):
		"""The --db report renders too (no fences: track and marker)."""
		import PIL.Image
		png = self.screenshot("db")
		im = PIL.Image.open(png).convert("RGB")
		data = list(im.getdata())
		track = sum(1 for p in data if self.near(p, TRACK_RGB, 24))
		viol = sum(1 for p in data if self.near(p, VIOLATION_RGB, 24))
		self.assertGreater(track, 300)
		self.assertGreater(viol, 40)


if __name__ == "__main__":
	unittest.main()
