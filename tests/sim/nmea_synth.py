#!/usr/bin/python3
"""nmea_synth - turn a drive scenario into an NMEA 0183 log and the fixes
the daemon should store from it.

    nmea_synth.py SCENARIO.json -o DRIVE.nmea [-e EXPECTED.jsonl]
                  [--obd OBD.jsonl] [--trips TRIPS.json]
                  [--gsa-style talker|gn] [--bd-talker GB|BD]
                  [--gap N:S] [--time-step N:S] [--no-fix N:S]
                  [--legs I,J] [--events EVENTS.json] [--summary]

The log is a 1 Hz receiver: every epoch is $GNRMC, $GNGGA, one GSA per
constellation and the GSV groups ($GPGSV, and $GBGSV or $BDGSV for BeiDou).
Feed it to gpsd with gpsfake (tests/sim/README.md).

The expected file has one JSON object per *fix epoch* the daemon must
store, in order.  Every value is computed back from the NMEA text that was
written (ddmm.mmmmm minutes, knots with three decimals, course with one,
hdop with two, altitude with one), so it is exact to what the log can
represent.  Fields: i (1-based), leg, t_utc_ms, utc, local (RFC 3339 in
the scenario zone), lat, lon, alt_m, speed_mps, speed_kmh, heading_deg
(null when standing: the receiver leaves the course empty), hdop,
sats_used, sats_visible, constellations {gps, beidou, glonass, galileo:
{visible, used}}, mode.

--obd writes what the car's ECUs would report, one JSON line per second of
scenario time (engine off, parked and gaps between legs included), from the
same motion, so GNSS and OBD agree; --trips writes the trips the daemon
must record (one per engine-on period).  tests/sim/elm327_sim.py serves
the --obd file as an ELM327 adapter.  These only add files: the NMEA log
and the expected fixes do not depend on them.

A scenario's "gnss_events" (and a leg's) make the receiver lose the fix
(antenna pulled: no-fix sentences), fall silent (nothing written) or
report positions offset by some metres (a spoofer or a glitch: a position
jump) for a span of time, whatever the car does; the OBD truth keeps the
car's real motion.  "obd": {"fuel_changes": [...]} drains or fills the
tank at a given time (fuel theft while parked).  The rule-test fields
"expected_events", "orders", "conf" and "replay" are checked here and
written, resolved to absolute times, by --events; the synthesis does not
use them.

Scenario format: tests/sim/README.md.  Standard library only.
"""

import argparse
import datetime as dt
import json
import math
import random
import sys
import zoneinfo

EARTH_R_M = 6371008.8
KNOT_MPS = 1852.0 / 3600.0
# Snap to a stop when the remaining distance is this small (m): avoids a
# crawl of ever smaller steps in front of a traffic light.
STOP_SNAP_M = 0.5
# A bend sharper than this (degrees) needs the turn speed.
DEFAULT_TURN_ANGLE_DEG = 35.0
# GSA and GSV carry at most 12 and 4 satellites per sentence.
GSA_MAX_PRN = 12
GSV_PER_SENTENCE = 4

# name -> (NMEA talker, NMEA 4.10 system id, gpsd gnssid)
SYSTEMS = {
	"gps": ("GP", 1, 0),
	"glonass": ("GL", 2, 6),
	"galileo": ("GA", 3, 2),
	"beidou": ("GB", 4, 3),
}
SYSTEM_ORDER = ("gps", "glonass", "galileo", "beidou")
# gpsd 3.22 files NMEA BeiDou PRNs 33-63 ($GB/$BD talker) under SBAS
# (measured, tests/sim/README.md); the scenarios use C01-C32 only.
BDS_PRN_MAX_GPSD322 = 32
PRN_RANGE = {
	"gps": (1, 32),
	"glonass": (65, 96),
	"galileo": (1, 36),
	"beidou": (1, 63),
}


class ScenarioError(Exception):
	pass


# ---------------------------------------------------------------- NMEA text

def checksum(body):
	c = 0
	for ch in body.encode("ascii"):
		c ^= ch
	return "%02X" % c


def sentence(body):
	"""body without '$' and '*hh'; returns the full line with CRLF."""
	return "$%s*%s\r\n" % (body, checksum(body))


def fmt_lat(lat):
	hemi = "N" if lat >= 0 else "S"
	lat = abs(lat)
	deg = int(lat)
	minutes = round((lat - deg) * 60.0, 5)
	if minutes >= 60.0:
		deg += 1
		minutes -= 60.0
	return "%02d%08.5f" % (deg, minutes), hemi


def fmt_lon(lon):
	hemi = "E" if lon >= 0 else "W"
	lon = abs(lon)
	deg = int(lon)
	minutes = round((lon - deg) * 60.0, 5)
	if minutes >= 60.0:
		deg += 1
		minutes -= 60.0
	return "%03d%08.5f" % (deg, minutes), hemi


def parse_coord(text, hemi, degdigits):
	"""ddmm.mmmmm / dddmm.mmmmm back to degrees, as a reader would."""
	deg = int(text[:degdigits])
	minutes = float(text[degdigits:])
	v = deg + minutes / 60.0
	return -v if hemi in ("S", "W") else v


def split_fields(line):
	line = line.strip()
	assert line.startswith("$") and line[-3] == "*", line
	body = line[1:-3]
	assert checksum(body) == line[-2:], line
	return body.split(",")


# ---------------------------------------------------------------- geometry

def local_xy(lon0, lat0, lon, lat):
	"""metres east/north of (lon0, lat0), equirectangular (short legs)."""
	k = math.pi / 180.0 * EARTH_R_M
	return ((lon - lon0) * k * math.cos(math.radians((lat + lat0) / 2.0)),
	    (lat - lat0) * k)


def seg_length_m(a, b):
	x, y = local_xy(a[0], a[1], b[0], b[1])
	return math.hypot(x, y)


def bearing_deg(a, b):
	x, y = local_xy(a[0], a[1], b[0], b[1])
	return math.degrees(math.atan2(x, y)) % 360.0


def turn_angle(b1, b2):
	d = abs(b2 - b1) % 360.0
	return 360.0 - d if d > 180.0 else d


# ---------------------------------------------------------------- scenario

def parse_hms(text, what):
	try:
		t = dt.time.fromisoformat(text)
	except (TypeError, ValueError):
		raise ScenarioError("%s: bad time %r (want HH:MM[:SS])" % (what, text))
	return t


class Path:
	"""A leg's polyline with per-vertex distances and speed constraints."""

	def __init__(self, points):
		self.pts = points
		self.cum = [0.0]
		for a, b in zip(points, points[1:]):
			self.cum.append(self.cum[-1] + seg_length_m(a, b))
		self.length = self.cum[-1]

	def seg_index(self, s):
		# last segment whose start <= s (segments of zero length skipped)
		lo, hi = 0, len(self.pts) - 2
		while lo < hi:
			mid = (lo + hi + 1) // 2
			if self.cum[mid] <= s:
				lo = mid
			else:
				hi = mid - 1
		while lo < len(self.pts) - 2 and self.cum[lo + 1] <= s:
			lo += 1
		return lo

	def at(self, s):
		"""(lon, lat, bearing of the segment) at distance s."""
		s = min(max(s, 0.0), self.length)
		i = self.seg_index(s)
		a, b = self.pts[i], self.pts[i + 1]
		seg = self.cum[i + 1] - self.cum[i]
		f = 0.0 if seg <= 0 else (s - self.cum[i]) / seg
		return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f,
		    bearing_deg(a, b))


def load_scenario(path):
	with open(path, encoding="utf-8") as f:
		sc = json.load(f)
	for key in ("date", "timezone", "legs", "skies", "vehicle", "gnss"):
		if key not in sc:
			raise ScenarioError("%s: missing key %r" % (path, key))
	try:
		sc["_tz"] = zoneinfo.ZoneInfo(sc["timezone"])
	except (zoneinfo.ZoneInfoNotFoundError, ValueError):
		raise ScenarioError("unknown timezone %r" % sc["timezone"])
	try:
		sc["_date"] = dt.date.fromisoformat(sc["date"])
	except ValueError:
		raise ScenarioError("bad date %r" % sc["date"])
	for name, sky in sc["skies"].items():
		check_sky(name, sky)
	for sch in sc.get("sky_schedule", []):
		if sch["sky"] not in sc["skies"]:
			raise ScenarioError("sky_schedule: unknown sky %r" % sch["sky"])
	if not sc.get("sky_schedule"):
		raise ScenarioError("sky_schedule: at least one entry needed")
	prev_end = None
	for n, leg in enumerate(sc["legs"]):
		check_leg(sc, n, leg, prev_end)
		prev_end = leg["_path"].pts[-1]
	sc["_gnss_events"] = gnss_events(sc)
	check_rules_meta(sc)
	return sc


# ---------------------------------------------------------------- GNSS events

GNSS_EVENT_KINDS = ("nofix", "silent", "offset")


def local_dt(sc, text, what):
	"""'HH:MM[:SS]' on the scenario's date, or a full ISO date-time (a
	naive one in the scenario's zone) -> aware datetime."""
	if isinstance(text, str) and "T" in text:
		try:
			d = dt.datetime.fromisoformat(text)
		except ValueError:
			raise ScenarioError("%s: bad date-time %r" % (what, text))
		return d if d.tzinfo is not None else d.replace(tzinfo=sc["_tz"])
	return dt.datetime.combine(sc["_date"], parse_hms(text, what),
	    tzinfo=sc["_tz"])


def gnss_events(sc):
	"""[(from_s, until_s or None, kind, east_m, north_m)] in UTC seconds:
	the receiver's troubles, whatever the car does.  Scenario-level
	entries take "from"/"to" (local times) or "for_s"; leg entries
	"at_s"/"for_s" (seconds after the leg's depart).  No "to"/"for_s":
	until the end."""
	out = []
	entries = [("gnss_events", e, None) for e in sc.get("gnss_events", [])]
	for n, leg in enumerate(sc["legs"]):
		entries += [("leg %d gnss_events" % (n + 1), e, leg)
		    for e in leg.get("gnss_events", [])]
	for what, e, leg in entries:
		if not isinstance(e, dict) or e.get("kind") not in GNSS_EVENT_KINDS:
			raise ScenarioError("%s: %r: want {\"kind\": %s, ...}" % (
			    what, e, "|".join(GNSS_EVENT_KINDS)))
		if leg is None:
			frm = int(local_dt(sc, e.get("from"), what + ": from").timestamp())
		else:
			if not isinstance(e.get("at_s"), int) or e["at_s"] < -86400:
				raise ScenarioError("%s: at_s: want whole seconds after the "
				    "leg's depart" % what)
			frm = int(dt.datetime.combine(sc["_date"], leg["_depart"],
			    tzinfo=sc["_tz"]).timestamp()) + e["at_s"]
		until = None
		if "for_s" in e:
			if not isinstance(e["for_s"], int) or e["for_s"] < 1:
				raise ScenarioError("%s: for_s: want whole seconds >= 1" %
				    what)
			until = frm + e["for_s"]
		elif "to" in e:
			until = int(local_dt(sc, e["to"], what + ": to").timestamp())
			if until <= frm:
				raise ScenarioError("%s: to must be after from" % what)
		east = e.get("east_m", 0.0)
		north = e.get("north_m", 0.0)
		if e["kind"] == "offset" and (not isinstance(east, (int, float)) or
		    not isinstance(north, (int, float)) or
		    math.hypot(east, north) <= 0):
			raise ScenarioError("%s: offset: want east_m/north_m" % what)
		out.append((frm, until, e["kind"], float(east), float(north)))
	return out


def gnss_state_at(sc, utc_s):
	"""(silent, nofix, (east_m, north_m) or None) at true UTC second."""
	silent = nofix = False
	off = None
	for frm, until, kind, east, north in sc["_gnss_events"]:
		if utc_s < frm or (until is not None and utc_s >= until):
			continue
		if kind == "silent":
			silent = True
		elif kind == "nofix":
			nofix = True
		else:
			off = (east, north)
	return silent, nofix, off


def offset_point(lon, lat, east, north):
	k = math.pi / 180.0 * EARTH_R_M
	return (lon + east / (k * math.cos(math.radians(lat))), lat + north / k)


# ---------------------------------------------------------------- rule tests

# DESIGN.md section 6 (contract).
EVENT_TYPES = ("after_hours_use", "holiday_use", "region_exit",
    "forbidden_place", "overnight_parking", "commute_pattern",
    "dispatch_mismatch", "speeding", "fatigue_driving", "excessive_idle",
    "fuel_drop", "gnss_lost_while_moving", "position_jump", "power_loss",
    "obd_lost", "dtc", "clock_jump", "storage_pressure",
    "inspection_export")
DEFAULT_TOLERANCE_S = 5


def check_rules_meta(sc):
	"""The rule-test fields: expected_events, orders, conf, replay."""
	if "conf" in sc and not isinstance(sc["conf"], dict):
		raise ScenarioError("conf: want an object of config groups")
	rp = sc.get("replay", {})
	if not isinstance(rp, dict) or not isinstance(rp.get("pace", 0.01),
	    (int, float)) or not 0 < rp.get("pace", 0.01) <= 1:
		raise ScenarioError("replay: want {\"pace\": seconds per sentence "
		    "(gpsfake -c), 0 < pace <= 1}")
	evs = sc.get("expected_events", [])
	if not isinstance(evs, list):
		raise ScenarioError("expected_events: want a list")
	sc["_expected_events"] = []
	for n, e in enumerate(evs):
		what = "expected_events[%d]" % n
		if not isinstance(e, dict) or e.get("type") not in EVENT_TYPES:
			raise ScenarioError("%s: type must be one of DESIGN.md section "
			    "6: %r" % (what, e))
		for key in e:
			if key not in ("type", "fence_id", "start", "end",
			    "tolerance_s", "why"):
				raise ScenarioError("%s: unknown key %r" % (what, key))
		start = local_dt(sc, e.get("start"), what + ": start")
		end = None
		if e.get("end") is not None:
			end = local_dt(sc, e["end"], what + ": end")
			if end < start:
				raise ScenarioError("%s: end before start" % what)
		tol = e.get("tolerance_s", DEFAULT_TOLERANCE_S)
		if not isinstance(tol, (int, float)) or tol < 0:
			raise ScenarioError("%s: tolerance_s: want seconds >= 0" % what)
		fid = e.get("fence_id")
		if fid is not None and not isinstance(fid, str):
			raise ScenarioError("%s: fence_id: want a string" % what)
		sc["_expected_events"].append({
			"type": e["type"], "fence_id": fid or None,
			"start": start.isoformat(), "start_ms": int(start.timestamp()) *
			    1000,
			"end": end.isoformat() if end else None,
			"end_ms": int(end.timestamp()) * 1000 if end else None,
			"tolerance_s": tol, "why": e.get("why", "")})
	orders = sc.get("orders", [])
	if not isinstance(orders, list):
		raise ScenarioError("orders: want a list")
	sc["_orders"] = []
	ids = set()
	for n, o in enumerate(orders):
		what = "orders[%d]" % n
		if not isinstance(o, dict):
			raise ScenarioError("%s: want an object" % what)
		for key in ("id", "valid_from", "valid_to", "purpose", "approver"):
			if not isinstance(o.get(key), str) or not o[key]:
				raise ScenarioError("%s: %s: want a non-empty string" % (
				    what, key))
		if o["id"] in ids:
			raise ScenarioError("%s: id %r repeated" % (what, o["id"]))
		ids.add(o["id"])
		frm = local_dt(sc, o["valid_from"], what + ": valid_from")
		to = local_dt(sc, o["valid_to"], what + ": valid_to")
		if to <= frm:
			raise ScenarioError("%s: valid_to must be after valid_from" %
			    what)
		dest = o.get("dest")
		if dest is not None and (not isinstance(dest, list) or
		    len(dest) not in (2, 3) or
		    any(not isinstance(x, (int, float)) for x in dest) or
		    not 73 <= dest[0] <= 136 or not 3 <= dest[1] <= 54 or
		    (len(dest) == 3 and dest[2] <= 0)):
			raise ScenarioError("%s: dest: want [lon, lat] or [lon, lat, "
			    "radius_m] (WGS-84)" % what)
		sc["_orders"].append({
			"id": o["id"], "purpose": o["purpose"],
			"approver": o["approver"],
			"valid_from": frm.isoformat(), "valid_to": to.isoformat(),
			"valid_from_ms": int(frm.timestamp()) * 1000,
			"valid_to_ms": int(to.timestamp()) * 1000,
			# fleetgwctl's T: local time in the configured zone
			"from_arg": frm.astimezone(sc["_tz"]).strftime(
			    "%Y-%m-%dT%H:%M:%S"),
			"to_arg": to.astimezone(sc["_tz"]).strftime(
			    "%Y-%m-%dT%H:%M:%S"),
			"dest": dest,
			"dest_arg": None if dest is None else ",".join(
			    ("%.7f" % x).rstrip("0").rstrip(".") if i < 2 else
			    ("%g" % x) for i, x in enumerate(dest)),
		})


def rules_meta(sc):
	"""What --events writes."""
	return {
		"scenario": sc.get("name"),
		"date": sc["date"],
		"timezone": sc["timezone"],
		"replay": dict({"pace": 0.01}, **sc.get("replay", {})),
		"conf": sc.get("conf", {}),
		"orders": sc["_orders"],
		"expected_events": sc["_expected_events"],
	}


def check_sky(name, sky):
	for key in ("hdop", "pdop", "vdop"):
		if not isinstance(sky.get(key), (int, float)) or sky[key] <= 0:
			raise ScenarioError("sky %s: %s must be a positive number" %
			    (name, key))
	nsys = 0
	for sysname in SYSTEM_ORDER:
		sats = sky.get(sysname, [])
		lo, hi = PRN_RANGE[sysname]
		used = 0
		seen = set()
		for sat in sats:
			if len(sat) != 5:
				raise ScenarioError("sky %s: %s satellite %r: want "
				    "[prn, elevation, azimuth, snr, used]" %
				    (name, sysname, sat))
			prn, el, az, snr, u = sat
			if not lo <= prn <= hi or prn in seen:
				raise ScenarioError("sky %s: %s PRN %r out of %d-%d "
				    "or repeated" % (name, sysname, prn, lo, hi))
			if not (0 <= el <= 90 and 0 <= az < 360 and 0 <= snr <= 99):
				raise ScenarioError("sky %s: %s PRN %d: elevation, "
				    "azimuth or snr out of range" % (name, sysname, prn))
			seen.add(prn)
			if sysname == "beidou" and prn > BDS_PRN_MAX_GPSD322:
				print("nmea_synth: warning: sky %s: gpsd 3.22 decodes "
				    "BeiDou PRN %d (above %d) as SBAS" % (name, prn,
				    BDS_PRN_MAX_GPSD322), file=sys.stderr)
			used += 1 if u else 0
		if used > GSA_MAX_PRN:
			raise ScenarioError("sky %s: more than %d %s satellites used" %
			    (name, GSA_MAX_PRN, sysname))
		nsys += 1 if used else 0
	if nsys == 0:
		raise ScenarioError("sky %s: no satellite used" % name)


def check_leg(sc, n, leg, prev_end):
	what = "leg %d (%s)" % (n + 1, leg.get("name", "?"))
	leg["_depart"] = parse_hms(leg.get("depart"), what + ": depart")
	pts = []
	constraints = []	# (s, max speed m/s)
	stops = []		# (s, seconds, why)
	speeds = []		# (s_start, target m/s)
	if not leg.get("sections"):
		raise ScenarioError(what + ": no sections")
	for k, sec in enumerate(leg["sections"]):
		sp = sec.get("points")
		if not sp or len(sp) < 2:
			raise ScenarioError("%s section %d: need 2+ points" %
			    (what, k + 1))
		for p in sp:
			if (len(p) != 2 or not 73 <= p[0] <= 136 or
			    not 3 <= p[1] <= 54):
				raise ScenarioError("%s section %d: %r is not a "
				    "[lon, lat] in China" % (what, k + 1, p))
		if pts:
			if seg_length_m(pts[-1], sp[0]) > 1.0:
				raise ScenarioError("%s section %d starts %.0f m from "
				    "where section %d ended" % (what, k + 1,
				    seg_length_m(pts[-1], sp[0]), k))
			sp = sp[1:]
		start_idx = max(len(pts) - 1, 0)
		pts.extend(sp)
		sec["_start_idx"] = start_idx
		sec["_end_idx"] = len(pts) - 1
		if not 0 < sec.get("speed_kmh", 0) <= 130:
			raise ScenarioError("%s section %d: speed_kmh 1-130" %
			    (what, k + 1))
		if "sky" in sec and sec["sky"] not in sc["skies"]:
			raise ScenarioError("%s section %d: unknown sky %r" %
			    (what, k + 1, sec["sky"]))
	if prev_end is not None and seg_length_m(prev_end, pts[0]) > 1.0:
		raise ScenarioError("%s starts %.0f m from where the previous leg "
		    "ended" % (what, seg_length_m(prev_end, pts[0])))
	path = Path(pts)
	for k, sec in enumerate(leg["sections"]):
		s0 = path.cum[sec["_start_idx"]]
		s1 = path.cum[sec["_end_idx"]]
		sec["_s0"], sec["_s1"] = s0, s1
		v = sec["speed_kmh"] / 3.6
		speeds.append((s0, v))
		constraints.append((s0, v))
		if sec.get("stop_s", 0) > 0 and k < len(leg["sections"]) - 1:
			stops.append((s1, int(sec["stop_s"]), sec.get("stop", "stop")))
	veh = sc["vehicle"]
	turn_v = veh.get("turn_speed_kmh", 20.0) / 3.6
	turn_a = veh.get("turn_angle_deg", DEFAULT_TURN_ANGLE_DEG)
	for i in range(1, len(pts) - 1):
		b1 = bearing_deg(pts[i - 1], pts[i])
		b2 = bearing_deg(pts[i], pts[i + 1])
		ang = turn_angle(b1, b2)
		if ang > turn_a:
			# 90 degrees at turn speed; gentler bends a bit faster
			constraints.append((path.cum[i], turn_v * (1.0 + max(
			    0.0, 90.0 - ang) / 90.0)))
	stops.append((path.length, 0, "arrival"))
	for key in ("parked_before_s", "parked_after_s", "idle_before_s",
	    "idle_after_s", "engine_on_before_s", "engine_off_after_s"):
		if key in leg and (not isinstance(leg[key], int) or
		    isinstance(leg[key], bool) or leg[key] < 0):
			raise ScenarioError("%s: %s must be a whole number >= 0" %
			    (what, key))
	if leg.get("engine_off_after_s", 1) < 1:
		raise ScenarioError("%s: engine_off_after_s must be >= 1 (the "
		    "engine runs at the arrival epoch)" % what)
	for d in leg.get("dtcs", []):
		check_dtc(d, what, "at_s")
	leg["_path"] = path
	leg["_constraints"] = sorted(constraints)
	leg["_stops"] = sorted(stops)
	leg["_speeds"] = speeds


# ---------------------------------------------------------------- motion

def target_speed(leg, s):
	v = leg["_speeds"][0][1]
	for s0, sv in leg["_speeds"]:
		if s0 <= s + 1e-6:
			v = sv
	return v


def section_at(leg, s):
	cur = leg["sections"][0]
	for sec in leg["sections"]:
		if sec["_s0"] <= s + 1e-6:
			cur = sec
	return cur


def brake_limit(dist, v_limit, v, decel):
	"""Highest speed at the end of this second from which the car can
	still slow to v_limit within dist metres (braking at decel, the speed
	changing linearly from v during the second)."""
	room = dist - v / 2.0
	if room <= 0.0:
		return v_limit
	return -decel / 2.0 + math.sqrt(decel * decel / 4.0 + 2.0 * decel * room +
	    v_limit * v_limit)


def drive_leg(sc, leg):
	"""Yield (seconds since departure, s, v, state) at 1 Hz; state is
	'parked' (standing before the idle epochs or after them; t < 0
	before), 'idle' (standing around the drive, engine on by default),
	'drive' or 'stop' (traffic light)."""
	veh = sc["vehicle"]
	accel = leg.get("accel_mps2", veh.get("accel_mps2", 1.2))
	decel = leg.get("decel_mps2", veh.get("decel_mps2", 1.8))
	t = -int(leg.get("parked_before_s", 0))
	while t < 0:
		yield t, 0.0, 0.0, "parked"
		t += 1
	for _ in range(int(leg.get("idle_before_s", 0))):
		yield t, 0.0, 0.0, "idle"
		t += 1
	s, v = 0.0, 0.0
	stops = list(leg["_stops"])
	done_stops = 0
	path = leg["_path"]
	max_epochs = 6 * 3600
	while True:
		yield t, s, v, ("drive" if v > 0 else "stop")
		t += 1
		if t > max_epochs:
			raise ScenarioError("leg %s does not finish" % leg.get("name"))
		stop_s, stop_dwell, _ = stops[done_stops]
		dist = stop_s - s
		# Speeds change linearly over the second, so the car covers
		# (v + vnew) / 2; vnew is the highest speed from which it can
		# still brake at decel to each limit ahead (0 at the stop).
		vnew = min(target_speed(leg, s), v + accel,
		    brake_limit(dist, 0.0, v, decel))
		for cs, cv in leg["_constraints"]:
			if cs > s + 1e-6:
				vnew = min(vnew, max(cv, brake_limit(cs - s, cv, v, decel)))
		vnew = max(vnew, 0.0)
		step = (v + vnew) / 2.0
		if step <= 0.0 and dist > STOP_SNAP_M:
			vnew = min(accel, dist)	# never stall short of a stop
			step = vnew / 2.0
		if dist - step <= STOP_SNAP_M:
			s, v = stop_s, 0.0
			done_stops += 1
			if done_stops == len(stops):
				break
			for _ in range(stop_dwell):
				yield t, s, 0.0, "stop"
				t += 1
			continue
		s += step
		v = vnew
	# arrival epoch, then standing with the engine on
	yield t, path.length, 0.0, "idle"
	t += 1
	for _ in range(int(leg.get("idle_after_s", 0))):
		yield t, path.length, 0.0, "idle"
		t += 1
	for _ in range(int(leg.get("parked_after_s", 0))):
		yield t, path.length, 0.0, "parked"
		t += 1


# ---------------------------------------------------------------- sky

def sky_name_at(sc, local_time, sec):
	if sec is not None and "sky" in sec:
		return sec["sky"]
	name = sc["sky_schedule"][0]["sky"]
	for sch in sc["sky_schedule"]:
		if parse_hms(sch["from"], "sky_schedule") <= local_time:
			name = sch["sky"]
	return name


def epoch_sky(sc, sky, rng):
	"""Per-epoch satellites: low satellites (elevation below
	flicker_below_deg) drop out of the solution with flicker_p."""
	fl_el = sc["gnss"].get("flicker_below_deg", 0)
	fl_p = sc["gnss"].get("flicker_p", 0.0)
	out = {}
	for sysname in SYSTEM_ORDER:
		sats = []
		for prn, el, az, snr, used in sorted(sky.get(sysname, [])):
			snr_now = max(0, min(99, snr + rng.randint(-2, 2))) if snr else 0
			u = bool(used)
			if u and el < fl_el and rng.random() < fl_p:
				u = False
			sats.append((prn, el, az, snr_now, u))
		out[sysname] = sats
	return out


# ---------------------------------------------------------------- epochs

class Options:
	def __init__(self, gsa_style="talker", bd_talker="GB", gaps=(),
	    steps=(), nofix=(), legs=None):
		self.gsa_style = gsa_style
		self.bd_talker = bd_talker
		self.gaps = dict(gaps)
		self.steps = dict(steps)
		self.nofix = dict(nofix)
		self.legs = legs


def epoch_sentences(opts, utc, fix, lon, lat, v_mps, course, alt, sep,
    dops, sats):
	hms = utc.strftime("%H%M%S") + ".00"
	dmy = utc.strftime("%d%m%y")
	la, lah = fmt_lat(lat)
	lo, loh = fmt_lon(lon)
	pdop, hdop, vdop = dops
	nused = sum(1 for ss in sats.values() for x in ss if x[4])
	out = []
	if fix:
		knots = "%.3f" % (v_mps / KNOT_MPS)
		crs = "" if course is None else "%.1f" % course
		out.append(sentence("GNRMC,%s,A,%s,%s,%s,%s,%s,%s,%s,,,A,V" %
		    (hms, la, lah, lo, loh, knots, crs, dmy)))
		out.append(sentence("GNGGA,%s,%s,%s,%s,%s,1,%02d,%.2f,%.1f,M,%.1f,M,,"
		    % (hms, la, lah, lo, loh, min(nused, 99), hdop, alt, sep)))
	else:
		out.append(sentence("GNRMC,%s,V,,,,,,,%s,,,N,V" % (hms, dmy)))
		out.append(sentence("GNGGA,%s,,,,,0,00,99.99,,,,,," % hms))
	for sysname in SYSTEM_ORDER:
		ss = sats.get(sysname, [])
		if not ss:
			continue
		talker, sysid, _ = SYSTEMS[sysname]
		if sysname == "beidou":
			talker = opts.bd_talker
		used = [x[0] for x in ss if x[4]] if fix else []
		prns = ["%02d" % p for p in used] + [""] * (GSA_MAX_PRN - len(used))
		if fix:
			dop = "%.2f,%.2f,%.2f" % (pdop, hdop, vdop)
		else:
			dop = "99.99,99.99,99.99"
		if opts.gsa_style == "gn":
			out.append(sentence("GNGSA,A,%d,%s,%s,%d" % (3 if fix else 1,
			    ",".join(prns), dop, sysid)))
		else:
			out.append(sentence("%sGSA,A,%d,%s,%s" % (talker,
			    3 if fix else 1, ",".join(prns), dop)))
	for sysname in SYSTEM_ORDER:
		ss = sats.get(sysname, [])
		if not ss:
			continue
		talker = SYSTEMS[sysname][0]
		if sysname == "beidou":
			talker = opts.bd_talker
		nmsg = (len(ss) + GSV_PER_SENTENCE - 1) // GSV_PER_SENTENCE
		for m in range(nmsg):
			chunk = ss[m * GSV_PER_SENTENCE:(m + 1) * GSV_PER_SENTENCE]
			parts = []
			for prn, el, az, snr, _u in chunk:
				parts.append("%02d,%02d,%03d,%s" % (prn, el, az,
				    ("%02d" % snr) if snr else ""))
			out.append(sentence("%sGSV,%d,%d,%02d,%s" % (talker, nmsg, m + 1,
			    len(ss), ",".join(parts))))
	return out


def expected_from_text(lines, tz, sats):
	"""Decode our own RMC/GGA/GSA text back into what a store keeps."""
	rmc = gga = None
	dops = None
	for line in lines:
		f = split_fields(line)
		if f[0].endswith("RMC"):
			rmc = f
		elif f[0].endswith("GGA"):
			gga = f
		elif f[0].endswith("GSA") and dops is None:
			dops = f
	hh, mm, ss = int(rmc[1][0:2]), int(rmc[1][2:4]), float(rmc[1][4:])
	d, mo, y = int(rmc[9][0:2]), int(rmc[9][2:4]), 2000 + int(rmc[9][4:6])
	utc = dt.datetime(y, mo, d, hh, mm, int(ss), tzinfo=dt.timezone.utc)
	t_ms = int(utc.timestamp()) * 1000 + round((ss - int(ss)) * 1000)
	knots = float(rmc[7])
	cons = {}
	for name in ("gps", "beidou", "glonass", "galileo"):
		ss_ = sats.get(name, [])
		cons[name] = {"visible": len(ss_),
		    "used": sum(1 for x in ss_ if x[4])}
	return {
		"t_utc_ms": t_ms,
		"utc": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
		"local": utc.astimezone(tz).isoformat(),
		"lat": parse_coord(rmc[3], rmc[4], 2),
		"lon": parse_coord(rmc[5], rmc[6], 3),
		"alt_m": float(gga[9]),
		"speed_mps": knots * KNOT_MPS,
		"speed_kmh": knots * 1.852,
		"heading_deg": float(rmc[8]) if rmc[8] else None,
		"hdop": float(gga[8]),
		"sats_used": sum(c["used"] for c in cons.values()),
		"sats_visible": sum(c["visible"] for c in cons.values()),
		"constellations": cons,
		"mode": 3,
	}


def generate(sc, opts, track=None):
	"""Returns (list of NMEA lines, list of expected dicts, summary).
	With a list as track, every epoch the simulation makes (dropped ones
	included) is appended to it as a dict: true UTC seconds, leg index,
	leg time t, s, v, state, fix (a fix was written) and exp (the
	expected dict, or None)."""
	tz = sc["_tz"]
	rng = random.Random(sc.get("seed", 1))
	g = sc["gnss"]
	name = sc.get("name", "?").encode("ascii", "replace").decode()
	lines = ["# Synthesized by tests/sim/nmea_synth.py from scenario %s "
	    "(%s, %s); BeiDou talker %s, GSA style %s\r\n" % (name,
	    sc["date"], sc["timezone"], opts.bd_talker, opts.gsa_style)]
	expected = []
	summary = {"legs": [], "epochs": 0, "fix_epochs": 0, "distance_m": 0.0}
	n = 0			# epochs written (1-based after increment)
	shift_s = 0		# --time-step accumulated
	gap_left = 0		# --gap epochs still to drop
	nofix_left = 0
	prev_utc = None
	for li, leg in enumerate(sc["legs"]):
		if opts.legs is not None and li + 1 not in opts.legs:
			continue
		depart = dt.datetime.combine(sc["_date"], leg["_depart"], tzinfo=tz)
		first = depart - dt.timedelta(seconds=int(leg.get(
		    "parked_before_s", 0)))
		if prev_utc is not None and first.astimezone(dt.timezone.utc) <= \
		    prev_utc:
			raise ScenarioError("leg %d departs before the previous leg "
			    "ended" % (li + 1))
		path = leg["_path"]
		leg_epochs = 0
		prev = None
		for t, s, v, state in drive_leg(sc, leg):
			local = depart + dt.timedelta(seconds=t)
			utc = local.astimezone(dt.timezone.utc)
			prev_utc = utc
			lon, lat, brg = path.at(s)
			sec = section_at(leg, s) if state not in ("idle", "parked") \
			    else None
			sky = sc["skies"][sky_name_at(sc, local.time(), sec)]
			sats = epoch_sky(sc, sky, rng)
			jit = rng.uniform(-0.1, 0.1)
			dops = (round(sky["pdop"] + jit * 1.5, 2),
			    round(sky["hdop"] + jit, 2), round(sky["vdop"] + jit, 2))
			alt = g["alt_m"] + 2.0 * math.sin(s / 1500.0) + \
			    rng.uniform(-0.4, 0.4)
			course = brg if v > 0 else None
			if prev is not None:
				summary["distance_m"] += seg_length_m(prev, (lon, lat))
			prev = (lon, lat)
			n += 1
			if n in opts.gaps:
				gap_left = opts.gaps[n]
			if n in opts.nofix:
				nofix_left = opts.nofix[n]
			if n in opts.steps:
				shift_s += opts.steps[n]
			if track is not None:
				track.append({"utc_s": int(utc.timestamp()), "leg": li,
				    "t": t, "s": s, "v": v, "state": state, "fix": False,
				    "exp": None})
			if gap_left > 0:
				gap_left -= 1
				continue
			ev_silent, ev_nofix, ev_off = gnss_state_at(sc,
			    int(utc.timestamp())) if sc.get("_gnss_events") else \
			    (False, False, None)
			if ev_silent:
				continue
			fix = nofix_left <= 0
			if not fix:
				nofix_left -= 1
			if ev_nofix:
				fix = False
			rlon, rlat = (lon, lat) if ev_off is None else \
			    offset_point(lon, lat, ev_off[0], ev_off[1])
			out_utc = utc + dt.timedelta(seconds=shift_s)
			ep = epoch_sentences(opts, out_utc, fix, rlon, rlat, v, course,
			    alt, g.get("geoid_sep_m", 0.0), dops, sats)
			lines.extend(ep)
			summary["epochs"] += 1
			leg_epochs += 1
			if fix:
				e = expected_from_text(ep, tz, sats)
				summary["fix_epochs"] += 1
				e["i"] = summary["fix_epochs"]
				e["leg"] = leg.get("name", str(li + 1))
				expected.append(e)
				if track is not None:
					track[-1]["fix"] = True
					track[-1]["exp"] = e
		summary["legs"].append({"name": leg.get("name"),
		    "depart": depart.isoformat(), "epochs": leg_epochs,
		    "length_m": round(path.length)})
	summary["distance_m"] = round(summary["distance_m"])
	return lines, expected, summary


# ---------------------------------------------------------------- OBD truth
#
# The same scenario drives the OBD side: one record per second of scenario
# time (engine off, parked and between legs included) and one trip per
# engine-on period.  tests/sim/README.md ("OBD truth") documents the model;
# tests/sim/elm327_sim.py serves the records as an ELM327 would.

GASOLINE_AFR = 14.7		# stoichiometric air/fuel mass ratio (lambda 1)
GASOLINE_G_PER_L = 740.0	# the constants of the transcripts' MAF estimate
AIR_G_PER_L = 1.184		# air at 25 degC, 1 atm: a cylinder's full charge
# Work from a litre of gasoline at part load: 32 MJ/L x 30 % efficiency.
WORK_J_PER_L = 32.0e6 * 0.30
DRIVELINE_EFF = 0.90
GRAVITY = 9.81
AIR_DENSITY = 1.2
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_LETTERS = {c: v for v, cs in ((1, "AJ"), (2, "BKS"), (3, "CLT"),
    (4, "DMU"), (5, "ENV"), (6, "FW"), (7, "GPX"), (8, "HY"), (9, "RZ"))
    for c in cs}
DTC_MODES = (3, 7, 10)		# 0x03 stored, 0x07 pending, 0x0A permanent
OBD_DEFAULTS = {
	"vin": "LFGAB3C50RC012345",	# synthetic, valid check digit
	"fuel": "gasoline",
	"tank_l": 55.0,
	"fuel_start_pct": 62.0,
	"odometer_start_km": 48213.4,
	"dist_since_clear_km": 3120.0,	# PID 31 at the start
	"idle_rpm": 750.0,
	"cold_idle_add_rpm": 300.0,	# extra idle rpm with the coolant at 0..
	"gears_kmh_per_1000rpm": [8.0, 14.5, 22.0, 30.0, 37.5, 45.0],
	"shift_rpm": 2200.0,		# accelerating: highest gear above this
	"cruise_rpm": 1300.0,		# otherwise: highest gear above this
	"displacement_l": 1.8,
	"mass_kg": 1600.0,
	"crr": 0.012,			# rolling resistance
	"cda_m2": 0.68,			# drag area
	"max_power_kw": 100.0,		# throttle scale
	"idle_fuel_lph": 0.8,		# warm idle; engine friction scales with rpm
	"ambient_c": 12.0,		# or [{"from": "HH:MM", "c": N}, ...]
	"coolant_start_c": None,	# default: ambient (cold start)
	"thermostat_c": 90.0,
	"battery_v_on": 14.1,
	"battery_v_off": 12.4,
	"dtcs": [],			# [{"at": "HH:MM:SS", "code", "mode", ...}]
	"fuel_changes": [],		# [{"at": "HH:MM:SS", "delta_l": -8.0}]
}


def vin_check_digit(vin):
	total = 0
	for ch, w in zip(vin, VIN_WEIGHTS):
		total += w * (int(ch) if ch.isdigit() else VIN_LETTERS[ch])
	r = total % 11
	return "X" if r == 10 else str(r)


def check_vin(vin):
	if (not isinstance(vin, str) or len(vin) != 17 or
	    any(c not in "0123456789" and c not in VIN_LETTERS for c in vin)):
		raise ScenarioError("obd.vin %r: want 17 characters of "
		    "[A-HJ-NPR-Z0-9]" % (vin,))
	if vin_check_digit(vin) != vin[8]:
		print("nmea_synth: warning: obd.vin %s: check digit %s, computed "
		    "%s" % (vin, vin[8], vin_check_digit(vin)), file=sys.stderr)


def dtc_bytes(code):
	"""'P0301' -> (0x03, 0x01)."""
	a = ("PCBU".index(code[0]) << 6) | (int(code[1]) << 4) | int(code[2], 16)
	return a, int(code[3:5], 16)


def check_dtc(d, what, at_key):
	if not isinstance(d, dict) or at_key not in d or "code" not in d:
		raise ScenarioError("%s: dtc %r: want {\"%s\": ..., \"code\": "
		    "\"P0301\", \"mode\": 3}" % (what, d, at_key))
	code = d["code"]
	if (not isinstance(code, str) or len(code) != 5 or code[0] not in "PCBU"
	    or code[1] not in "0123" or
	    any(c not in "0123456789ABCDEF" for c in code[2:])):
		raise ScenarioError("%s: dtc code %r: want e.g. P0301" % (what, code))
	if d.get("mode", 3) not in DTC_MODES:
		raise ScenarioError("%s: dtc %s: mode 3 (stored), 7 (pending) or "
		    "10 (permanent, 0A)" % (what, code))
	if "mil" in d and not isinstance(d["mil"], bool):
		raise ScenarioError("%s: dtc %s: mil is true or false" % (what, code))
	if at_key == "at_s":
		for key in ("at_s", "until_s"):
			if key in d and (not isinstance(d[key], (int, float)) or
			    isinstance(d[key], bool) or d[key] < 0):
				raise ScenarioError("%s: dtc %s: %s must be seconds >= 0" %
				    (what, code, key))
		if d.get("until_s", math.inf) <= d["at_s"]:
			raise ScenarioError("%s: dtc %s: until_s must be after at_s" %
			    (what, code))
	else:
		at = parse_hms(d["at"], "%s: dtc %s: at" % (what, code))
		if "until" in d and parse_hms(d["until"], "%s: dtc %s: until" %
		    (what, code)) <= at:
			raise ScenarioError("%s: dtc %s: until must be after at" %
			    (what, code))


def obd_config(sc):
	"""The scenario's "obd" object over the defaults, checked."""
	given = sc.get("obd", {})
	if not isinstance(given, dict):
		raise ScenarioError("obd: want an object")
	for key in given:
		if key not in OBD_DEFAULTS and not key.startswith("_") and \
		    key not in ("notes", "description"):
			raise ScenarioError("obd: unknown key %r" % key)
	cfg = dict(OBD_DEFAULTS)
	cfg.update(given)
	check_vin(cfg["vin"])
	if cfg["fuel"] != "gasoline":
		raise ScenarioError("obd.fuel: only \"gasoline\" is modelled")
	for key, val in cfg.items():
		if key in ("vin", "fuel", "dtcs", "ambient_c", "coolant_start_c",
		    "gears_kmh_per_1000rpm", "notes", "description",
		    "fuel_changes"):
			continue
		if not isinstance(val, (int, float)) or isinstance(val, bool) or \
		    val < 0:
			raise ScenarioError("obd.%s: want a number >= 0" % key)
	for key in ("tank_l", "idle_rpm", "displacement_l", "mass_kg",
	    "max_power_kw"):
		if cfg[key] <= 0:
			raise ScenarioError("obd.%s: want a number > 0" % key)
	if not 0 <= cfg["fuel_start_pct"] <= 100:
		raise ScenarioError("obd.fuel_start_pct: 0-100")
	g = cfg["gears_kmh_per_1000rpm"]
	if (not isinstance(g, list) or not g or
	    any(not isinstance(x, (int, float)) or x <= 0 for x in g) or
	    g != sorted(g)):
		raise ScenarioError("obd.gears_kmh_per_1000rpm: want rising "
		    "positive numbers, one per gear")
	amb = cfg["ambient_c"]
	if isinstance(amb, (int, float)) and not isinstance(amb, bool):
		cfg["_ambient"] = [(dt.time(0, 0), float(amb))]
	elif isinstance(amb, list) and amb:
		cfg["_ambient"] = []
		for a in amb:
			if not isinstance(a, dict) or not isinstance(a.get("c"),
			    (int, float)):
				raise ScenarioError("obd.ambient_c: want a number or "
				    "[{\"from\": \"HH:MM\", \"c\": N}, ...]")
			cfg["_ambient"].append((parse_hms(a.get("from"),
			    "obd.ambient_c"), float(a["c"])))
		cfg["_ambient"].sort()
	else:
		raise ScenarioError("obd.ambient_c: want a number or a schedule")
	if cfg["coolant_start_c"] is not None and not isinstance(
	    cfg["coolant_start_c"], (int, float)):
		raise ScenarioError("obd.coolant_start_c: want a number")
	if not isinstance(cfg["dtcs"], list):
		raise ScenarioError("obd.dtcs: want a list")
	for d in cfg["dtcs"]:
		check_dtc(d, "obd", "at")
	if not isinstance(cfg["fuel_changes"], list):
		raise ScenarioError("obd.fuel_changes: want a list")
	for c in cfg["fuel_changes"]:
		if not isinstance(c, dict) or not isinstance(c.get("delta_l"),
		    (int, float)) or isinstance(c.get("delta_l"), bool) or \
		    c["delta_l"] == 0:
			raise ScenarioError("obd.fuel_changes: want [{\"at\": "
			    "\"HH:MM:SS\", \"delta_l\": -8.0}, ...] (negative: "
			    "drained, positive: filled)")
		parse_hms(c.get("at"), "obd.fuel_changes: at")
	return cfg


def ambient_at(cfg, local_time):
	c = cfg["_ambient"][0][1]
	for frm, val in cfg["_ambient"]:
		if frm <= local_time:
			c = val
	return c


def q_pct(x):
	"""A percentage as PID 04/11/2F carry it (A*100/255), 2 decimals."""
	a = min(255, max(0, int(round(x * 255.0 / 100.0))))
	return round(a * 100.0 / 255.0, 2)


def q_step(x, step, lo, hi, nd):
	return round(min(hi, max(lo, round(x / step) * step)), nd)


def haversine_m(lat1, lon1, lat2, lon2):
	p1, p2 = math.radians(lat1), math.radians(lat2)
	dp, dl = p2 - p1, math.radians(lon2 - lon1)
	a = math.sin(dp / 2) ** 2 + \
	    math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
	return 2.0 * EARTH_R_M * math.atan2(math.sqrt(a), math.sqrt(
	    max(0.0, 1.0 - a)))


def engine_windows(sc, track):
	"""[(on_s, off_s, leg index)]: the engine runs for on_s <= T < off_s
	(UTC seconds), one window per generated leg."""
	tz = sc["_tz"]
	byleg = {}
	for e in track:
		byleg.setdefault(e["leg"], []).append(e)
	out = []
	for li in sorted(byleg):
		leg = sc["legs"][li]
		eps = byleg[li]
		depart = dt.datetime.combine(sc["_date"], leg["_depart"], tzinfo=tz)
		idle_b = int(leg.get("idle_before_s", 0))
		move_off = int(depart.timestamp()) + idle_b
		arrive = None
		for e in eps:
			if e["state"] == "idle" and e["t"] >= idle_b:
				arrive = e["utc_s"]
				break
		on = move_off - int(leg.get("engine_on_before_s", idle_b))
		off = arrive + int(leg.get("engine_off_after_s",
		    int(leg.get("idle_after_s", 0)) + 1))
		if out and on <= out[-1][1]:
			raise ScenarioError("leg %d: the engine starts before it "
			    "stopped after leg %d (engine_on_before_s / "
			    "engine_off_after_s)" % (li + 1, out[-1][2] + 1))
		out.append((on, off, li))
	return out


def dtc_events(sc, cfg, windows):
	"""[(from_s, until_s or None, code, mode, mil)] in UTC seconds."""
	tz = sc["_tz"]
	ev = []
	for d in cfg["dtcs"]:
		at = dt.datetime.combine(sc["_date"], parse_hms(d["at"], "obd.dtcs"),
		    tzinfo=tz)
		until = None
		if "until" in d:
			until = int(dt.datetime.combine(sc["_date"], parse_hms(
			    d["until"], "obd.dtcs"), tzinfo=tz).timestamp())
		ev.append((int(at.timestamp()), until, d))
	for _on, _off, li in windows:
		leg = sc["legs"][li]
		depart = int(dt.datetime.combine(sc["_date"], leg["_depart"],
		    tzinfo=tz).timestamp())
		for d in leg.get("dtcs", []):
			until = depart + int(d["until_s"]) if "until_s" in d else None
			ev.append((depart + int(d["at_s"]), until, d))
	out = []
	for frm, until, d in ev:
		mode = d.get("mode", 3)
		out.append((frm, until, d["code"], mode, d.get("mil", mode == 3)))
	out.sort(key=lambda x: (x[0], x[3], x[2]))
	return out


def obd_truth(sc, track):
	"""Returns (records, trips) for the epochs in track (generate())."""
	cfg = obd_config(sc)
	tz = sc["_tz"]
	if not track:
		return [], []
	windows = engine_windows(sc, track)
	events = dtc_events(sc, cfg, windows)
	epmap = {e["utc_s"]: e for e in track}
	legbase = {}
	base = 0.0
	for li, leg in enumerate(sc["legs"]):
		if any(w[2] == li for w in windows):
			legbase[li] = base
			base += leg["_path"].length
	start = min(track[0]["utc_s"], windows[0][0])
	end = max(track[-1]["utc_s"], windows[-1][1])
	rng = random.Random("obd:%s" % sc.get("seed", 1))
	gears = cfg["gears_kmh_per_1000rpm"]
	disp = cfg["displacement_l"]
	idle_w = cfg["idle_rpm"]
	coolant = cfg["coolant_start_c"]
	if coolant is None:
		coolant = ambient_at(cfg, dt.datetime.fromtimestamp(start,
		    tz).time())
	fuel_l = cfg["tank_l"] * cfg["fuel_start_pct"] / 100.0
	fuel_at = {}
	for c in cfg["fuel_changes"]:
		at = int(dt.datetime.combine(sc["_date"], parse_hms(c["at"],
		    "obd.fuel_changes"), tzinfo=tz).timestamp())
		fuel_at[at] = fuel_at.get(at, 0.0) + float(c["delta_l"])
	odo0 = cfg["odometer_start_km"]
	odo_prev = None
	dist_mil = 0.0
	cur_leg, cur_s = windows[0][2], 0.0
	wi = 0
	records = []
	for T in range(start, end + 1):
		if T in fuel_at:	# drained or filled from this second on
			fuel_l = min(cfg["tank_l"], max(0.0, fuel_l + fuel_at[T]))
		e = epmap.get(T)
		if e is not None:
			cur_leg, cur_s = e["leg"], e["s"]
		while wi < len(windows) - 1 and T >= windows[wi][1]:
			wi += 1
		on_s, off_s, wleg = windows[wi]
		ign = on_s <= T < off_s
		v = e["v"] if e is not None else 0.0
		nxt = epmap.get(T + 1)
		a = (nxt["v"] - v) if (nxt is not None and e is not None and
		    nxt["leg"] == e["leg"]) else 0.0
		local = dt.datetime.fromtimestamp(T, tz)
		amb = ambient_at(cfg, local.time())
		odo = odo0 + (legbase[cur_leg] + cur_s) / 1000.0
		active = []
		seen = set()
		for frm, until, code, mode, mil in events:
			if frm <= T and (until is None or T < until) and \
			    (code, mode) not in seen:
				seen.add((code, mode))
				active.append((code, mode, mil))
		mil_on = any(x[2] for x in active)
		if mil_on and odo_prev is not None:
			dist_mil += odo - odo_prev
		odo_prev = odo
		heat = min(1.0, max(0.0, (coolant - amb) /
		    max(1.0, cfg["thermostat_c"] - amb)))
		kmh = v * 3.6
		if ign:
			cold = min(1.0, max(0.0, (50.0 - coolant) / 50.0))
			idle = idle_w + cfg["cold_idle_add_rpm"] * cold
			if kmh < 0.5:
				rpm = idle + rng.uniform(-6.0, 6.0)
			else:
				want = cfg["shift_rpm"] if a > 0.3 else cfg["cruise_rpm"]
				gear = 0
				for gi, k in enumerate(gears):
					if kmh / k * 1000.0 >= want:
						gear = gi
				rpm = kmh / gears[gear] * 1000.0
				if gear == 0 and a > 0.1:
					rpm = max(rpm, idle + 350.0)	# clutch / converter slip
				rpm = max(rpm, idle)
			p_wheel = cfg["mass_kg"] * v * (a + GRAVITY * cfg["crr"]) + \
			    0.5 * AIR_DENSITY * cfg["cda_m2"] * v ** 3
			p_eng = max(p_wheel, 0.0) / DRIVELINE_EFF
			for _ in range(2):
				fuel = cfg["idle_fuel_lph"] * (1.0 + 0.5 * cold) * \
				    rpm / idle_w + p_eng * 3600.0 / WORK_J_PER_L
				maf = fuel / 3600.0 * GASOLINE_G_PER_L * GASOLINE_AFR
				cap = rpm / 120.0 * disp * AIR_G_PER_L
				if maf <= 0.9 * cap:
					break
				rpm = maf / (0.9 * disp * AIR_G_PER_L) * 120.0	# downshift
			rpm_q = q_step(rpm, 0.25, 0.0, 16383.75, 2)
			maf_q = q_step(maf, 0.01, 0.0, 655.35, 2)
			rate_q = q_step(maf_q * 3600.0 / (GASOLINE_AFR *
			    GASOLINE_G_PER_L), 0.05, 0.0, 3276.75, 2)
			load = q_pct(min(100.0, maf / cap * 100.0))
			throttle = q_pct(min(100.0, 11.8 + 88.0 * p_eng /
			    (cfg["max_power_kw"] * 1000.0)))
			intake = amb + 2.0 + 6.0 * heat - 3.0 * min(kmh, 60.0) / 60.0
			batt = cfg["battery_v_on"]
			run = T - on_s
			speed = min(255, int(round(kmh)))
		else:
			rpm_q = maf_q = rate_q = load = throttle = 0.0
			intake = amb + 8.0 * heat
			batt = cfg["battery_v_off"]
			run = 0
			speed = 0
		state = "off"
		if ign:
			state = "drive" if v > 0 else (e["state"] if e is not None and
			    e["state"] == "stop" else "idle")
		rec = {
			"t": dt.datetime.fromtimestamp(T, dt.timezone.utc).strftime(
			    "%Y-%m-%dT%H:%M:%SZ"),
			"t_utc_ms": T * 1000,
			"local": local.isoformat(),
			"ignition": ign,
			"state": state,
			"leg": (e["leg"] + 1) if e is not None else
			    ((wleg + 1) if ign else None),
			"fix": bool(e is not None and e["fix"]),
			"rpm": rpm_q,
			"speed_kmh": speed,
			"coolant_c": int(round(min(215.0, max(-40.0, coolant)))),
			"intake_c": int(round(min(215.0, max(-40.0, intake)))),
			"ambient_c": int(round(min(215.0, max(-40.0, amb)))),
			"load_pct": load,
			"throttle_pct": throttle,
			"maf_gps": maf_q,
			"fuel_level_pct": q_pct(fuel_l / cfg["tank_l"] * 100.0),
			"fuel_rate_lph": rate_q,
			"battery_v": batt,
			"odometer_km": math.floor(odo * 10.0 + 1e-6) / 10.0,
			"run_time_s": min(65535, run),
			"dist_mil_km": min(65535, int(dist_mil + 1e-6)),
			"dist_clear_km": min(65535, int(cfg["dist_since_clear_km"] +
			    odo - odo0 + 1e-6)),
			"mil": mil_on,
			"dtcs": [{"code": c, "mode": m} for c, m, _ in active],
			"vin": cfg["vin"],
		}
		records.append(rec)
		# the second that begins at T
		if ign:
			fuel_l = max(0.0, fuel_l - rate_q / 3600.0)
			coolant += fuel * 0.035 - (coolant - amb) / 3000.0
			coolant = min(coolant, cfg["thermostat_c"])
		else:
			coolant += (amb - coolant) / 2400.0
	trips = []
	for n, (on_s, off_s, li) in enumerate(windows):
		fixes = [x["exp"] for x in track if x["fix"] and
		    on_s <= x["utc_s"] < off_s]
		dist = 0.0
		for p, q in zip(fixes, fixes[1:]):
			dist += haversine_m(p["lat"], p["lon"], q["lat"], q["lon"])
		r_on = records[on_s - start]
		r_off = records[off_s - start]
		on_recs = records[on_s - start:off_s - start]
		trips.append({
			"i": n + 1,
			"leg": sc["legs"][li].get("name", str(li + 1)),
			"start": dt.datetime.fromtimestamp(on_s, tz).isoformat(),
			"start_ms": on_s * 1000,
			"end": dt.datetime.fromtimestamp(off_s, tz).isoformat(),
			"end_ms": off_s * 1000,
			"duration_s": off_s - on_s,
			"moving_s": sum(1 for r in on_recs if r["speed_kmh"] > 0),
			"distance_m": round(dist, 1),
			"fixes": len(fixes),
			"max_speed_kmh": round(max((f["speed_kmh"] for f in fixes),
			    default=0.0), 3),
			"obd_max_speed_kmh": max(r["speed_kmh"] for r in on_recs),
			"odometer_start_km": r_on["odometer_km"],
			"odometer_end_km": r_off["odometer_km"],
			"fuel_used_l": round(sum(r["fuel_rate_lph"] for r in on_recs) /
			    3600.0, 4),
			"fuel_level_start_pct": r_on["fuel_level_pct"],
			"fuel_level_end_pct": r_off["fuel_level_pct"],
			"new_dtcs": [{"code": c, "mode": m, "local":
			    dt.datetime.fromtimestamp(frm, tz).isoformat()}
			    for frm, _u, c, m, _mil in events if on_s <= frm < off_s],
		})
	return records, trips


def parse_pairs(values, what):
	out = []
	for v in values or []:
		try:
			a, b = v.split(":")
			out.append((int(a), int(b)))
		except ValueError:
			raise SystemExit("nmea_synth: %s %r: want N:SECONDS" % (what, v))
		if out[-1][0] < 1:
			raise SystemExit("nmea_synth: %s %r: N counts epochs from 1" %
			    (what, v))
	return out


def main(argv=None):
	ap = argparse.ArgumentParser(prog="nmea_synth.py",
	    description="Synthesize a 1 Hz NMEA 0183 drive from a scenario.")
	ap.add_argument("scenario", help="scenario JSON file")
	ap.add_argument("-o", "--output", required=True,
	    help="NMEA log to write ('-' for stdout)")
	ap.add_argument("-e", "--expected",
	    help="write the expected fixes (JSON lines) here")
	ap.add_argument("--gsa-style", choices=("talker", "gn"),
	    default=None, help="talker: $GPGSA + $GBGSA/$BDGSA (default; "
	    "BeiDou used flags decode on gpsd 3.22); gn: $GNGSA with the NMEA "
	    "4.10 system id (gpsd < 3.25 never flags BeiDou used)")
	ap.add_argument("--bd-talker", choices=("GB", "BD"), default=None,
	    help="BeiDou talker for GSV and GSA (default from the scenario, "
	    "else GB)")
	ap.add_argument("--gap", action="append", metavar="N:S",
	    help="from epoch N on, write nothing for S epochs (receiver "
	    "silent; time goes on)")
	ap.add_argument("--time-step", action="append", metavar="N:S",
	    help="from epoch N on, add S seconds (may be negative) to the "
	    "time the receiver reports")
	ap.add_argument("--no-fix", action="append", metavar="N:S",
	    help="from epoch N on, S epochs without a fix (RMC status V)")
	ap.add_argument("--legs", help="only these legs (1-based, comma "
	    "separated)")
	ap.add_argument("--obd", metavar="OUT.jsonl",
	    help="write the OBD truth: one JSON line per second of scenario "
	    "time (engine off, parked and gaps included)")
	ap.add_argument("--trips", metavar="OUT.json",
	    help="write the expected trips (one per engine-on period) as a "
	    "JSON array")
	ap.add_argument("--events", metavar="OUT.json",
	    help="write the rule-test fields (expected_events, orders, conf, "
	    "replay) resolved to absolute times, as one JSON object")
	ap.add_argument("--summary", action="store_true",
	    help="print a JSON summary on stderr")
	a = ap.parse_args(argv)
	try:
		sc = load_scenario(a.scenario)
	except (OSError, ValueError, ScenarioError) as e:
		print("nmea_synth: %s" % e, file=sys.stderr)
		return 1
	g = sc["gnss"]
	legs = None
	if a.legs:
		try:
			legs = {int(x) for x in a.legs.split(",")}
		except ValueError:
			print("nmea_synth: --legs: want numbers", file=sys.stderr)
			return 2
	opts = Options(gsa_style=a.gsa_style or g.get("gsa_style", "talker"),
	    bd_talker=a.bd_talker or g.get("bd_talker", "GB"),
	    gaps=parse_pairs(a.gap, "--gap"),
	    steps=parse_pairs(a.time_step, "--time-step"),
	    nofix=parse_pairs(a.no_fix, "--no-fix"), legs=legs)
	track = [] if (a.obd or a.trips) else None
	try:
		lines, expected, summary = generate(sc, opts, track)
		if track is not None:
			records, trips = obd_truth(sc, track)
	except ScenarioError as e:
		print("nmea_synth: %s" % e, file=sys.stderr)
		return 1
	if a.output == "-":
		sys.stdout.write("".join(lines))
	else:
		with open(a.output, "w", encoding="ascii", newline="") as f:
			f.write("".join(lines))
	if a.expected:
		with open(a.expected, "w", encoding="utf-8") as f:
			for e in expected:
				f.write(json.dumps(e, ensure_ascii=False,
				    sort_keys=True) + "\n")
	if a.obd:
		with open(a.obd, "w", encoding="utf-8") as f:
			for r in records:
				f.write(json.dumps(r, ensure_ascii=False,
				    sort_keys=True) + "\n")
	if a.trips:
		with open(a.trips, "w", encoding="utf-8") as f:
			f.write(json.dumps(trips, ensure_ascii=False, indent=1,
			    sort_keys=True) + "\n")
	if a.events:
		with open(a.events, "w", encoding="utf-8") as f:
			f.write(json.dumps(rules_meta(sc), ensure_ascii=False,
			    indent=1, sort_keys=True) + "\n")
	if a.summary:
		if track is not None:
			summary["obd"] = {"seconds": len(records),
			    "trips": [{"start": t["start"], "end": t["end"],
			    "duration_s": t["duration_s"],
			    "distance_m": t["distance_m"]} for t in trips]}
		print(json.dumps(summary, ensure_ascii=False, indent=1),
		    file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
