#!/usr/bin/python3
"""gpsd_check - does gpsd decode a synthesized drive into the expected fixes?

    gpsd_check.py DRIVE.nmea EXPECTED.jsonl [--json FILE] [--keep FILE]

Replays DRIVE.nmea with `gpsfake -1 -p -q -W 1` (pipe mode: gpsfake is the
client), merges the TPVs of each epoch by time, pairs each epoch with the
SKY that follows its TPVs, and compares with nmea_synth.py's expected file:
time, lat/lon, altMSL, speed, track, hdop and visible/used satellites per
constellation (gpsd gnssid 0 GPS, 3 BeiDou, 6 GLONASS, 2 Galileo).  With
--json FILE it reads a saved `gpsfake -p` output instead of running
gpsfake; --keep FILE saves the output.

This checks the synthesizer and gpsd, not the daemon: when the drive test
fails and this passes, look at the daemon.  Exit 0 when every epoch
matches, 1 otherwise (first differences on stderr).  Standard library only.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile

GNSSID = {0: "gps", 3: "beidou", 6: "glonass", 2: "galileo"}
LATLON_TOL_DEG = 1e-8		# gpsd prints 9 decimals
SPEED_TOL_MPS = 0.001		# gpsd prints 3 decimals
TRACK_TOL_DEG = 0.001
ALT_TOL_M = 0.001
HDOP_TOL = 0.006
GPSFAKE_TIMEOUT_S = 300


def run_gpsfake(nmea):
	tmp = tempfile.mkdtemp(prefix="gpsd-check-")
	env = dict(os.environ, TMPDIR=tmp)
	try:
		p = subprocess.run(["gpsfake", "-1", "-p", "-q", "-W", "1", nmea],
		    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
		    timeout=GPSFAKE_TIMEOUT_S, start_new_session=True)
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	if p.returncode != 0:
		raise RuntimeError("gpsfake -p exited %d: %s" % (p.returncode,
		    p.stderr.decode(errors="replace")[-500:]))
	return p.stdout.decode(errors="replace")


def t_ms(iso):
	d = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
	return round(d.timestamp() * 1000)


def decode(text):
	"""[(t_ms, merged TPV dict, SKY dict or None)] in arrival order."""
	epochs = []
	cur_t = None
	for line in text.splitlines():
		if not line.startswith("{"):
			continue
		try:
			o = json.loads(line)
		except ValueError:
			continue
		cls = o.get("class")
		if cls == "TPV":
			# a SKY belongs to the epoch of the TPVs before it, fix or not
			cur_t = t_ms(o["time"]) if "time" in o else None
			if o.get("mode", 0) < 2 or cur_t is None or "lat" not in o:
				continue
			if not epochs or epochs[-1][0] != cur_t:
				epochs.append([cur_t, {}, None])
			epochs[-1][1].update(o)
		elif cls == "SKY" and epochs and "satellites" in o and \
		    epochs[-1][0] == cur_t:
			epochs[-1][2] = o
	return epochs


def sky_counts(sky):
	out = {name: {"visible": 0, "used": 0} for name in GNSSID.values()}
	for s in sky.get("satellites", []):
		name = GNSSID.get(s.get("gnssid"))
		if name is None:
			continue
		out[name]["visible"] += 1
		if s.get("used"):
			out[name]["used"] += 1
	return out


def compare(epochs, expected):
	errs = []
	if len(epochs) != len(expected):
		errs.append("gpsd gave %d fix epochs, expected %d" %
		    (len(epochs), len(expected)))
	for (t, tpv, sky), e in zip(epochs, expected):
		where = "epoch %d (%s)" % (e["i"], e["utc"])
		if t != e["t_utc_ms"]:
			errs.append("%s: gpsd time %d" % (where, t))
			continue
		for key, gkey, tol in (("lat", "lat", LATLON_TOL_DEG),
		    ("lon", "lon", LATLON_TOL_DEG), ("alt_m", "altMSL", ALT_TOL_M),
		    ("speed_mps", "speed", SPEED_TOL_MPS)):
			if gkey not in tpv or abs(tpv[gkey] - e[key]) > tol:
				errs.append("%s: %s gpsd %r expected %r" % (where, gkey,
				    tpv.get(gkey), e[key]))
		if e["heading_deg"] is None:
			if "track" in tpv:
				errs.append("%s: track %r, expected none" % (where,
				    tpv["track"]))
		elif "track" not in tpv or \
		    abs(tpv["track"] - e["heading_deg"]) > TRACK_TOL_DEG:
			errs.append("%s: track %r expected %r" % (where,
			    tpv.get("track"), e["heading_deg"]))
		if sky is None:
			errs.append("%s: no SKY" % where)
			continue
		if abs(sky.get("hdop", -1) - e["hdop"]) > HDOP_TOL:
			errs.append("%s: hdop %r expected %r" % (where, sky.get("hdop"),
			    e["hdop"]))
		got = sky_counts(sky)
		if got != e["constellations"]:
			errs.append("%s: satellites %r expected %r" % (where, got,
			    e["constellations"]))
	return errs


def main(argv=None):
	ap = argparse.ArgumentParser(prog="gpsd_check.py")
	ap.add_argument("nmea")
	ap.add_argument("expected")
	ap.add_argument("--json", help="saved gpsfake -p output to check")
	ap.add_argument("--keep", help="save the gpsfake -p output here")
	a = ap.parse_args(argv)
	with open(a.expected, encoding="utf-8") as f:
		expected = [json.loads(x) for x in f if x.strip()]
	if a.json:
		with open(a.json, encoding="utf-8") as f:
			text = f.read()
	else:
		text = run_gpsfake(a.nmea)
	if a.keep:
		with open(a.keep, "w", encoding="utf-8") as f:
			f.write(text)
	errs = compare(decode(text), expected)
	for e in errs[:20]:
		print("gpsd_check: " + e, file=sys.stderr)
	if errs:
		print("gpsd_check: %d differences" % len(errs), file=sys.stderr)
		return 1
	print("gpsd_check: gpsd decoded all %d epochs as expected" %
	    len(expected))
	return 0


if __name__ == "__main__":
	sys.exit(main())
