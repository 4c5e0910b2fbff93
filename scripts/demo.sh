#!/bin/sh
# SPDX-License-Identifier: MIT
#
# demo.sh - a simulated working day of an official car in Chengdu
# (tests/sim/scenarios/chengdu-workday.json), replayed through a private
# gpsd (gpsfake) and the ELM327 simulator (OBD-II on a pty) into fleetgwd,
# with the unit's geofences, the work calendar and two dispatch orders;
# at lunch the gateway loses power (kill -9) and comes back.  It uploads
# to the fake supervision platform (tests/platform, HTTPS with mutual
# TLS), which is out of reach all morning and answers an online check
# (点名) in the afternoon.  Then it shows what was recorded with
# fleetgwctl (positions with their OBD values, trips, fences, the
# usage-rule events), checks the events against the scenario's expected
# list, and what the platform received against what the gateway
# committed, record by record.  Run by "make demo":
#
#	sh scripts/demo.sh BUILD_DIR		(default: build)
#
# Exit status 0 when the events match the scenario (the multiset of
# (type, fence) exactly, start and end within each event's tolerance)
# and the platform holds exactly the gateway's records, 1 otherwise or on
# any failure.  Needs gpsfake (Debian package
# gpsd-clients) and /usr/bin/python3.  Works as root or as a normal user;
# everything lives in a temporary directory that is removed at the end
# (KEEP=1 keeps it).  About four minutes: the day's 5000 one-second
# epochs are played at PACE seconds per NMEA sentence (10 a second of
# GNSS time), 25 times faster than real time, and the simulated adapter's
# timing and the OBD polling are scaled to match.

set -u

build=${1:-build}
case $build in
/*) ;;
*) build=$(pwd)/$build ;;
esac
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

py=/usr/bin/python3
fleetgwd=$build/fleetgwd
fleetgwctl=$build/fleetgwctl
scenario=tests/sim/scenarios/chengdu-workday.json

# Deadlines, seconds.
READY_S=15
CONNECT_S=15
REPLAY_S=300		# one half of the day at 25x: about 2 minutes
TRIP_END_S=90		# trips.ign_off_end_s (60) of GNSS time
SETTLE_S=30		# events committed after the replay
# gpsfake -c (seconds between sentences, 10 sentences per GNSS second)
# comes from the scenario's replay.pace: 0.004, 25x real time.

say()
{
	printf '%s\n' "$*"
}

die()
{
	say "demo: $*" >&2
	exit 1
}

t0=$(date +%s)
for f in "$fleetgwd" "$fleetgwctl"; do
	[ -x "$f" ] || die "$f not built (run make)"
done
command -v gpsfake >/dev/null 2>&1 ||
	die "gpsfake not found: apt-get install gpsd gpsd-clients python3-gps"
[ -x $py ] || die "$py not found"
command -v setsid >/dev/null 2>&1 || die "setsid not found (util-linux)"

work=$(mktemp -d "${TMPDIR:-/tmp}/fleetgw-demo.XXXXXX") || exit 1
dpid=
gpid=
spid=
ppid_=
dlog=$work/daemon.log
pctl()
{
	$py "$root/tests/platform/platformctl.py" --control-port "$cport" "$@"
}

# Stop what we started (each runs in its own session, so the process
# group id is its pid), then remove the work directory.
stop_group()
{
	pid=$1
	[ -n "$pid" ] || return 0
	if ! kill -TERM "-$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		return 0
	fi
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup()
{
	stop_group "$gpid"
	stop_group "$spid"
	stop_group "$dpid"
	stop_group "$ppid_"
	if [ "${KEEP:-0}" = 1 ]; then
		say "demo: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

# wait_for DEADLINE_S WHAT COMMAND...: run COMMAND every 0.1 s until it
# succeeds; give up after DEADLINE_S.
wait_for()
{
	limit=$(($1 * 10))
	what=$2
	shift 2
	n=0
	until "$@"; do
		n=$((n + 1))
		if [ $n -ge $limit ]; then
			say "demo: timed out waiting for $what" >&2
			[ -f "$dlog" ] && tail -n 20 "$dlog" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# exited PID: our child PID has exited (gone, or a zombie not yet reaped).
exited()
{
	[ ! -e "/proc/$1/stat" ] ||
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# The number of positions committed to the database.
stored()
{
	$py - "$work/fleetgw.db" <<'EOF'
import sqlite3, sys
try:
	c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
	print(c.execute("SELECT count(*) FROM positions").fetchone()[0])
except sqlite3.Error:
	print(0)
EOF
}

ctl()
{
	"$fleetgwctl" -s "$work/ctl.sock" "$@"
}

# status_ok PYTHON-EXPRESSION: true when the expression holds for the
# daemon's status (st: fleetgwctl --json status).
status_ok()
{
	ctl --json status 2>/dev/null | $py -c '
import json, sys
try:
	st = json.load(sys.stdin)
except ValueError:
	sys.exit(1)
sys.exit(0 if eval("(%s)" % sys.argv[1]) else 1)' "$1"
}

no_trip()
{
	status_ok 'st["trip"] is None'
}

# --------------------------------------------------------------- the day

say "== 1. The day: $scenario"
$py tests/sim/nmea_synth.py "$scenario" -o "$work/day.nmea" \
    -e "$work/day.expected.jsonl" --obd "$work/day.obd.jsonl" \
    --trips "$work/day.trips.json" --events "$work/day.events.json" \
    --summary 2>"$work/summary.json" ||
	die "nmea_synth.py failed: $(cat "$work/summary.json")"
# Print the legs; cut the log in two at the scenario's demo.power_cut
# (the gateway is off from there until the next fix), and write what the
# shell needs to vars.sh.
$py - "$work" "$scenario" <<'EOF' || die "cannot split the day's log"
import datetime as dt, json, os, sys
work, scen = sys.argv[1], sys.argv[2]
s = json.load(open(os.path.join(work, "summary.json")))
meta = json.load(open(os.path.join(work, "day.events.json")))
sc = json.load(open(scen, encoding="utf-8"))
tz = dt.timezone(dt.timedelta(hours=8))
day = dt.date.fromisoformat(meta["date"])
print("   %s, %s (a Tuesday; an ordinary workday in conf/calendar/cn-2026.conf)"
    % (sc["name"], meta["date"]))
for leg in s["legs"]:
	print("   %s  %-72.72s %5.1f km  %4d epochs" % (leg["depart"][11:16],
	    leg["name"], leg["length_m"] / 1000.0, leg["epochs"]))
print("   %d one-second NMEA epochs (GPS + BeiDou), %.1f km, and the car's "
    "OBD-II data" % (s["epochs"], s["distance_m"] / 1000.0))
print("   for every second (engine, speed, fuel level, odometer, trouble "
    "codes)")
cut = dt.datetime.combine(day, dt.time.fromisoformat(sc["demo"]["power_cut"]),
    tz)
cut_ms = int(cut.timestamp()) * 1000
fixes = [json.loads(l) for l in open(os.path.join(work, "day.expected.jsonl"))]
na = sum(1 for f in fixes if f["t_utc_ms"] < cut_ms)
a = open(os.path.join(work, "a.nmea"), "w", newline="")
b = open(os.path.join(work, "b.nmea"), "w", newline="")
out = a
for line in open(os.path.join(work, "day.nmea"), newline=""):
	if line.startswith("$GNRMC,") and out is a:
		f = line.split(",")
		t = dt.datetime.strptime(f[9] + f[1][:6], "%d%m%y%H%M%S").replace(
		    tzinfo=dt.timezone.utc)
		if t >= cut:
			out = b
	out.write(line)
a.close()
b.close()
pace = meta["replay"]["pace"]
with open(os.path.join(work, "vars.sh"), "w") as v:
	v.write("PACE=%s\nSPEEDUP=%d\nNA=%d\nNALL=%d\n" % (pace,
	    round(1.0 / (10 * pace)), na, len(fixes)))
	v.write("A_LAST='%s'\nB_FIRST='%s'\n" % (
	    fixes[na - 1]["local"][11:19], fixes[na]["local"][11:19]))
EOF
. "$work/vars.sh"

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say
say "== 2. An ELM327 adapter in that car: tests/sim/elm327_sim.py on a pty"
setsid $py tests/sim/elm327_sim.py --obd "$work/day.obd.jsonl" \
    --pty "$work/obd-tty" --follow-gpsd "127.0.0.1:$port" \
    --time-scale $SPEEDUP </dev/null >"$work/sim.out" 2>"$work/sim.log" &
spid=$!
wait_for $READY_S "the ELM327 simulator" grep -q '^READY' "$work/sim.out"
say "   $(cat "$work/sim.out"), following gpsd's time on port $port"

# ---------------------------------------------------------- the daemon

say
say "== 3. The supervision platform (省级公务用车监管平台): tests/platform/fakeplatform.py"
sh tests/platform/mkpki.sh "$work/pki" SC-0001 ||
	die "tests/platform/mkpki.sh failed"
setsid $py tests/platform/fakeplatform.py --dir "$work/platform" \
    --pki "$work/pki" --device "SC-0001=$work/pki/signing.pub.pem" \
    </dev/null >"$work/platform.ready" 2>"$work/platform.log" &
ppid_=$!
wait_for $READY_S "the fake platform" test -s "$work/platform.ready"
hport=$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["https_port"])' "$work/platform.ready")
cport=$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["control_port"])' "$work/platform.ready")
say "   https://localhost:$hport: a test CA, the server's certificate, the"
say "   gateway's client certificate (mutual TLS) and its Ed25519 signing key,"
say "   made now with the openssl CLI (tests/platform/mkpki.sh)."
say "   No coverage this morning: the platform is out of reach until lunch."
pctl down >/dev/null || die "platformctl down"

say
say "== 4. fleetgwd: its configuration, then two dispatch orders (派车单)"
# OBD polled 25 times faster than on the road (the day runs 25x).
cat >"$work/fleetgw.conf" <<EOF
# demo configuration written by scripts/demo.sh
device = { id = "SC-0001"; plate = "川A12345"; class = "general";
	   timezone = "Asia/Shanghai"; fuel = "gasoline"; tank_l = 55.0; };
gnss = { host = "127.0.0.1"; port = $port; max_hdop = 5.0;
	 retry_min_ms = 20; retry_max_ms = 50; stale_s = 30; };
obd = { driver = "elm327"; device = "$work/obd-tty"; baud = 38400;
	timeout_ms = 1000; poll_fast_ms = 40; poll_slow_ms = 400;
	dtc_interval_s = 10; retry_min_ms = 100; retry_max_ms = 1000; };
storage = { path = "$work/fleetgw.db"; commit_interval_s = 1;
	    commit_rows = 256; max_size_mb = 512; keep_days = 180; };
ctl = { socket = "$work/ctl.sock"; };
# The supervision platform; retries quicker than on the road (the day
# runs 25x).
platform = { url = "https://localhost:$hport"; ca_file = "pki/ca.pem";
	     cert_file = "pki/client.pem"; key_file = "pki/client.key";
	     start_delay_max_s = 0.0; backoff_base_s = 0.2;
	     backoff_cap_s = 2.0; retry_after_max_s = 2; poll_wait_s = 5; };
# Checkpoints every 12 s: the default 5 minutes of a day played 25x.
signing = { key_file = "pki/signing.key"; checkpoint_interval_s = 12; };
# The work calendar of conf/fleetgw.conf: Monday to Friday, 08:30-12:00
# and 13:30-17:30, the 2025 and 2026 holidays and adjusted workdays.
EOF
# (@include paths are taken from the directory of the file, and libconfig
# 1.5 prepends that even to an absolute path: hence the link.)
ln -s "$root/conf/calendar" "$work/calendar"
sed -n '/^calendar = {/,/^};/p' conf/fleetgw.conf | grep -v '^[[:space:]]*#' |
    grep -v '^[[:space:]]*$' >>"$work/fleetgw.conf"
# The scenario's fences and rules (its "conf"; geojson paths made absolute).
$py - "$work" "$root" <<'EOF' >>"$work/fleetgw.conf" || die "conf"
import json, os, sys
work, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "tests", "integration"))
import harness
conf = json.load(open(os.path.join(work, "day.events.json")))["conf"]
for f in conf.get("fences", []):
	if f.get("geojson") and not os.path.isabs(f["geojson"]):
		f["geojson"] = os.path.join(root, "conf", f["geojson"])
print("# The scenario's fences and rules (its \"conf\"):")
for k in ("fences", "rules"):
	if k in conf:
		print(harness.conf_text({k: conf[k]}), end="")
EOF
"$fleetgwd" -n -c "$work/fleetgw.conf" >"$work/check.out" 2>&1 ||
	die "fleetgwd -n rejected the demo configuration: $(cat "$work/check.out")"
$py - "$work" "$scenario" <<'EOF'
import json, os, sys
work, scen = sys.argv[1], sys.argv[2]
conf = json.load(open(os.path.join(work, "day.events.json")))["conf"]
why = json.load(open(scen, encoding="utf-8"))["demo"].get("conf_why", {})
print("   config: the calendar of conf/fleetgw.conf; the fences of the "
    "scenario: %s" % ", ".join(f["id"] for f in conf.get("fences", [])))
print("   (conf/fleetgw.conf's example fences, plus ring3-south: the 3rd "
    "Ring Road's 80 km/h limit);")
print("   the adapter polled every 40 ms (1 s of the day at 25x), DTCs read at "
    "each engine start and every 10 s;")
print("   every rule at its default (conf/fleetgw.conf) except:")
def flat(prefix, v):
	if isinstance(v, dict):
		for k, x in v.items():
			yield from flat(prefix + "." + k, x)
	else:
		yield prefix, v
for k, v in flat("rules", conf.get("rules", {})):
	print("     %s = %s: %s" % (k, json.dumps(v), why.get(k, "")))
EOF

setsid "$fleetgwd" -d -v -c "$work/fleetgw.conf" \
    </dev/null >"$dlog" 2>&1 &
dpid=$!
wait_for $READY_S "the control socket" test -S "$work/ctl.sock"
wait_for $READY_S "the adapter (obd: ... ready)" \
    grep -q 'obd: .*ready' "$dlog"
$py - "$work" "$fleetgwctl" <<'EOF' || die "fleetgwctl dispatch add failed"
import json, os, subprocess, sys
work, ctl = sys.argv[1], sys.argv[2]
for o in json.load(open(os.path.join(work, "day.events.json")))["orders"]:
	args = ["dispatch", "add", "--id", o["id"], "--from", o["from_arg"],
	    "--to", o["to_arg"], "--purpose", o["purpose"], "--approver",
	    o["approver"]]
	if o.get("dest_arg"):
		args += ["--dest", o["dest_arg"]]
	print("   fleetgwctl -s CTL.SOCK %s" % " ".join(
	    "'%s'" % a if " " in a else a for a in args))
	p = subprocess.run([ctl, "-s", os.path.join(work, "ctl.sock")] + args,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8")
	if p.returncode != 0:
		print("   " + p.stdout.strip())
		sys.exit(1)
EOF
say "   fleetgwctl -s CTL.SOCK dispatch list"
ctl dispatch list | sed 's/^/   | /'

# ---------------------------------------------------------- the morning

# replay_over LOG N: gpsd told the daemon the device went away after the
# log's last line and N positions are committed (or gpsfake has exited
# and the count has stopped moving: the daemon then reports the gap).
last=-1
same=0
replay_over()
{
	now=$(stored)
	[ "$now" -ge "$2" ] && grep -q 'gnss: .*device .*deactivated' "$1" &&
	    return 0
	exited "$gpid" || return 1
	if [ "$now" = "$last" ]; then
		same=$((same + 1))
	else
		same=0
		last=$now
	fi
	[ $same -ge 25 ]
}

# play LOG: gpsfake runs a private gpsd on $port and plays LOG into it.
play()
{
	rm -rf "$work/gpsfake"
	mkdir "$work/gpsfake"
	TMPDIR=$work/gpsfake setsid gpsfake -1 -n -q -W 1 -c "$PACE" \
	    -P "$port" "$1" </dev/null >>"$work/gpsfake.log" 2>&1 &
	gpid=$!
	wait_for $CONNECT_S "fleetgwd to connect to gpsd" \
	    grep -q 'gnss: .*\bconnected' "$dlog"
}

say
say "== 5. The morning, 07:05-$A_LAST: gpsfake plays it into a private gpsd (${SPEEDUP}x)"
play "$work/a.nmea"
# During the meeting: the driver has idled for more than 10 minutes
# (excessive_idle is open) under the morning's order.  Should the replay
# already be past it, show the status anyway.
waiting()
{
	status_ok '(st["trip"] and st["rules"]["episodes_open"] >= 1 and
	    st["rules"]["dispatch_order"]) or
	    st["gnss"].get("last_fix", "") > "2026-11-17T09:17:32"'
}
wait_for $REPLAY_S "the morning meeting" waiting
say "   09:16, the driver waits at the meeting with the engine running:"
say "   fleetgwctl -s CTL.SOCK status | grep ..."
ctl status | grep -E '^ *(last fix|state|engine|fuel|ongoing|so far|from|episodes open|dispatch order) ' |
    sed 's/^/   | /'
wait_for $REPLAY_S "the end of the morning's log" replay_over "$dlog" "$NA"
stop_group "$gpid"		# with -1 it would wait -W 1 s, then exit 1
gpid=
wait_for $TRIP_END_S "the lunch trip to end" no_trip
n=$(stored)
[ "$n" -eq "$NA" ] || die "recorded $n positions in the morning, sent $NA"
say "   $n positions; the car stands at the restaurant, ignition off."
say "   fleetgwctl -s CTL.SOCK status: what waits for the platform"
ctl --json status | $py -c '
import json, sys
st = json.load(sys.stdin)["sync"]["streams"]
for s in ("events", "positions"):
	x = st[s]
	print("   | %-9s %5d pending since %s; last error: %s" % (s,
	    x["pending"], x["oldest_pending"], (x["last_error"] or "-")[:60]))'


# ------------------------------------------------------- the power cut

say
say "== 6. $A_LAST: someone pulls the gateway's fuse while the car is parked (kill -9)"
kill -KILL "-$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
dpid=
rm -f "$work/ctl.sock"
say "   ... and 40 minutes later, before the driver comes back, it has power again:"
dlog=$work/daemon-2.log
setsid "$fleetgwd" -d -v -c "$work/fleetgw.conf" \
    </dev/null >"$dlog" 2>&1 &
dpid=$!
wait_for $READY_S "the control socket" test -S "$work/ctl.sock"
wait_for $READY_S "the adapter (obd: ... ready)" \
    grep -q 'obd: .*ready' "$dlog"
grep -E 'did not stop cleanly|rules state restored' "$dlog" |
    sed 's/^[^ ]* /   | /'

say
say "   Coverage again: the backlog goes up, the events stream (violations"
say "   first) ahead of the positions."
pctl clear >/dev/null || die "platformctl clear"
drained()
{
	status_ok 'all(st["sync"]["streams"][s]["pending"] == 0 for s in
	    ("events", "positions"))'
}
wait_for $REPLAY_S "the morning's backlog to reach the platform" drained
pctl requests | $py -c '
import json, sys
first = {}
for r in json.load(sys.stdin):
	if r.get("status") == 200 and r.get("stream") and \
	    r.get("n_records") and r["stream"] not in first:
		first[r["stream"]] = r
for s, r in sorted(first.items(), key=lambda x: x[1]["n"]):
	print("   | first accepted %-9s batch: request %d, seq %d..%d" % (
	    s, r["n"], r["first_seq"], r["last_seq"]))'

say
say "== 7. The rest of the day, $B_FIRST-22:00"
play "$work/b.nmea"
wait_for $REPLAY_S "the afternoon's first positions" status_ok \
    'st["gnss"].get("last_fix", "") > "2026-11-17T13:00"'
cid=$(pctl command locate | $py -c 'import json, sys; print(json.load(sys.stdin)["id"])') ||
	die "platformctl command locate"
pctl --timeout 20 wait result "$cid" | $py -c '
import json, sys
r = json.load(sys.stdin)
x = r["result"]["result"]
print("   the platform asks where the car is (locate, 点名); %.0f ms later:" %
    (r["latency_s"] * 1000))
print("   | %s  %.5f,%.5f  %s km/h  fix %s, %s satellites; trip %s" % (
    x["time"], x["lat"], x["lon"], x["speed_kmh"], x["fix"],
    x["sats_used"], x["trip"]["state"]))' || die "no answer to locate"
wait_for $REPLAY_S "the end of the day's log" replay_over "$dlog" "$NALL"
say "   at the first fix after the cut:"
grep -E 'rules: power_loss' "$dlog" | sed 's/^[^ ]* /   | /'
stop_group "$gpid"
gpid=
wait_for $TRIP_END_S "the last trip to end" no_trip

# The events are final once they are committed (violations at once, the
# others with the next commit, a second later).
cat >"$work/compare.py" <<'EOF'
"""compare.py META EVENTS [-q]: the scenario's expected_events against
fleetgwctl --json events, as tests/integration/test_rules.py compares
them: the multiset of (type, fence_id) exactly, each start and end
within the event's tolerance_s (an expected end null: still open).
Within a (type, fence_id) the expected events are paired with the
recorded ones nearest in start time.  Prints a table unless -q; exit
status 0 when they match."""
import datetime as dt, json, sys

meta = json.load(open(sys.argv[1]))
try:
	got = json.load(open(sys.argv[2]))
except (OSError, ValueError):
	sys.exit(1)
# The inspectors' own audit trail is not one of the rules' events.
got = [g for g in got if g["type"] not in ("inspection_export",
    "inspection")]
quiet = "-q" in sys.argv[3:]
tz = dt.timezone(dt.timedelta(hours=8))

def ms(text):
	return None if text is None else \
	    int(dt.datetime.fromisoformat(text).timestamp() * 1000)

def hms(v):
	if v is None:
		return "ongoing"
	t = dt.datetime.fromtimestamp(v / 1000.0, tz)
	s = t.strftime("%H:%M:%S")
	return s if t.date().isoformat() == meta["date"] else \
	    t.strftime("%m-%d ") + s

left = list(range(len(got)))
pairs = []
for e in sorted(meta["expected_events"], key=lambda x: x["start_ms"]):
	key = (e["type"], e.get("fence_id") or "")
	cand = [i for i in left if (got[i]["type"], got[i].get("fence_id") or
	    "") == key]
	if not cand:
		pairs.append((e, None))
		continue
	i = min(cand, key=lambda i: abs(ms(got[i]["start"]) - e["start_ms"]))
	left.remove(i)
	pairs.append((e, got[i]))
pairs += [(None, got[i]) for i in left]
ok = True
rows = []
for e, g in sorted(pairs, key=lambda p: p[0]["start_ms"] if p[0] else
    ms(p[1]["start"])):
	x = e or g
	name = x["type"]
	fence = x.get("fence_id") or "-"
	if e is None:
		ok = False
		rows.append((name, fence, "-", "", "%s - %s" % (hms(ms(g["start"])),
		    hms(ms(g["end"]))), "UNEXPECTED"))
		continue
	tol = e.get("tolerance_s", 5)
	exp = "%s - %s" % (hms(e["start_ms"]), hms(e["end_ms"]))
	if g is None:
		ok = False
		rows.append((name, fence, exp, "%gs" % tol, "-", "MISSING"))
		continue
	gs, ge = ms(g["start"]), ms(g["end"])
	bad = []
	if abs(gs - e["start_ms"]) > tol * 1000:
		bad.append("start %+.1f s" % ((gs - e["start_ms"]) / 1000.0))
	if e["end_ms"] is None:
		if ge is not None:
			bad.append("should be ongoing")
	elif ge is None:
		bad.append("still open")
	elif abs(ge - e["end_ms"]) > tol * 1000:
		bad.append("end %+.1f s" % ((ge - e["end_ms"]) / 1000.0))
	ok = ok and not bad
	rows.append((name, fence, exp, "%gs" % tol, "%s - %s" % (hms(gs),
	    hms(ge)), ", ".join(bad) if bad else "ok"))
if not quiet:
	head = ("type", "fence", "expected", "+-", "recorded", "")
	w = [max(len(r[k]) for r in rows + [head]) for k in range(6)]
	for r in [head] + rows:
		print("   " + "  ".join(x.ljust(w[k]) for k, x in
		    enumerate(r)).rstrip())
	print("   %d expected, %d recorded: %s" % (len(meta["expected_events"]),
	    len(got), "they match" if ok else "MISMATCH"))
sys.exit(0 if ok else 1)
EOF
events_match()
{
	"$fleetgwctl" --db "$work/fleetgw.db" --json events \
	    >"$work/events.json" 2>/dev/null &&
	    $py "$work/compare.py" "$work/day.events.json" "$work/events.json" -q
}
n=0
while ! events_match && [ $n -lt $((SETTLE_S * 10)) ]; do
	sleep 0.1
	n=$((n + 1))
done
say "   at the end (the car parked for the night at the driver's home):"
say "   fleetgwctl -s CTL.SOCK status | grep ..."
ctl status | grep -E '^ *(last fix|state|fixes|time steps|positions|trips|trouble codes|events|events open|episodes open) |^trip|^  none' |
    sed 's/^/   | /'

wait_for $REPLAY_S "the day's records to reach the platform" drained

# An inspector (检查人员) turns up at the car park: the day's bundle,
# through the daemon (recorded as an inspection_export event).
bundle=$work/SC-0001-20261117.fgb
say
say "   22:05, an inspector at the car park takes the day away:"
say "   fleetgwctl -s CTL.SOCK export --from 2026-11-17 --to 2026-11-18 -o SC-0001-20261117.fgb"
ctl export --from 2026-11-17 --to 2026-11-18 -o "$bundle" >"$work/export.out" ||
	die "fleetgwctl export failed"
sed 's/^/   | /; s|'"$work"'/||' "$work/export.out"

# SIGTERM: the daemon commits what is pending and exits 0.
kill -TERM "$dpid"
wait_for $READY_S "fleetgwd to exit after SIGTERM" exited "$dpid"
wait "$dpid"
rc=$?
dpid=
[ $rc -eq 0 ] || die "fleetgwd exited with status $rc"
n=$(stored)

# ------------------------------------------------------------ the record

db=$work/fleetgw.db
say
say "== 8. What the gateway recorded: $n positions ($NALL epochs were sent)"
say
say "   fleetgwctl --db fleetgw.db trips      (the scenario has these trips:)"
$py - "$work/day.trips.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
print("   | scenario: " + ", ".join("%s-%s" % (x["start"][11:16],
    x["end"][11:16]) for x in t))
EOF
"$fleetgwctl" --db "$db" trips | sed 's/^/   /'
say
say "   fleetgwctl --db fleetgw.db positions --from 2026-11-17T17:24:48 --limit 5   (the 3rd Ring Road)"
"$fleetgwctl" --db "$db" positions --from 2026-11-17T17:24:48 --limit 5 |
    sed 's/^/   /'
say
say "   fleetgwctl --db fleetgw.db --json positions --from 2026-11-17T11:52:10 --limit 1   (with its OBD values)"
"$fleetgwctl" --db "$db" --json positions --from 2026-11-17T11:52:10 \
    --limit 1 | $py -c '
import json, sys, textwrap
for r in json.load(sys.stdin):
	print(textwrap.fill(json.dumps(r, ensure_ascii=False), 96,
	    initial_indent="   ", subsequent_indent="     "))'
say
say "   the fences: fleetgwctl -c fleetgw.conf fences --from-config"
"$fleetgwctl" -c "$work/fleetgw.conf" fences --from-config | sed 's/^/   | /'
say
say "   where is the KTV?  A point read off Amap (GCJ-02):"
say "   fleetgwctl -c fleetgw.conf fences --from-config --at 104.0843,30.6277 --crs gcj02"
"$fleetgwctl" -c "$work/fleetgw.conf" fences --from-config \
    --at 104.0843,30.6277 --crs gcj02 | sed 's/^/   | /'

say
say "== 9. The usage rules' events: fleetgwctl --db fleetgw.db events"
"$fleetgwctl" --db "$db" events | sed 's/^/   /'
say
say "   against the scenario's expected_events (times local, tolerance +-):"
"$fleetgwctl" --db "$db" --json events >"$work/events.json" ||
	die "fleetgwctl --json events failed"
if $py "$work/compare.py" "$work/day.events.json" "$work/events.json"; then
	match=1
else
	match=0
fi
say
say "== 10. What the platform received (tests/platform/platformctl.py state, records)"
for s in events positions; do
	"$fleetgwctl" --db "$db" --json records $s >"$work/dev-$s.json" ||
		die "fleetgwctl records $s failed"
	pctl records $s >"$work/plat-$s.json" || die "platformctl records $s"
done
pctl state >"$work/plat-state.json" || die "platformctl state"
if $py - "$work" <<'PYEOF'
import json, os, sys
w = sys.argv[1]
st = json.load(open(os.path.join(w, "plat-state.json")))
c = st["counters"]
ok = True
for s in ("events", "positions"):
	dev = json.load(open(os.path.join(w, "dev-%s.json" % s)))
	plat = json.load(open(os.path.join(w, "plat-%s.json" % s)))["records"]
	ps = st["devices"]["SC-0001"]["streams"][s]
	same = dev == plat
	ok = ok and same
	kinds = {}
	for r in plat:
		kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
	print("   %-9s gateway %5d committed, platform %5d unique (%s), "
	    "acked through %d, %d duplicates dropped: %s" % (s, len(dev),
	    ps["records"], ", ".join("%d %s" % (n, k) for k, n in
	    sorted(kinds.items())), ps["acked_through"], ps["duplicates"],
	    "the same, record by record" if same else "DIFFERENT"))
print("   %d requests (%s); signatures checked: %d" % (c["requests"],
    ", ".join("HTTP %s: %d" % kv for kv in sorted(c["by_status"].items())),
    st["signature"]["verifications"]))
sys.exit(0 if ok else 1)
PYEOF
then
	synced=1
else
	synced=0
fi

# ------------------------------------------------------------ inspection

say
say "== 11. Offline inspection: the bundle checked, the report written"
say
say "   the gateway's public key, as registered with the platform:"
say "   fleetgwctl pubkey --key pki/signing.key > signing.pub"
"$fleetgwctl" pubkey --key "$work/pki/signing.key" >"$work/signing.pub" ||
	die "fleetgwctl pubkey failed"
say "   fleetgwctl verify SC-0001-20261117.fgb --pubkey signing.pub"
if "$fleetgwctl" verify "$bundle" --pubkey "$work/signing.pub" \
    >"$work/verify.out"; then
	verified=1
else
	verified=0
fi
sed 's/^/   | /' "$work/verify.out"
say
say "   someone edits the evening's after_hours_use in a copy of the database"
say "   (sqlite3: UPDATE events SET severity = 'info' ...), exports it with"
say "   --db and verifies again:"
cp "$db" "$work/edited.db"
sqlite3 "$work/edited.db" "UPDATE events SET severity = 'info' WHERE type = 'after_hours_use'" ||
	die "sqlite3 failed"
"$fleetgwctl" --db "$work/edited.db" export --from 2026-11-17 --to 2026-11-18 \
    -o "$work/edited.fgb" >/dev/null 2>&1 || die "export --db failed"
if "$fleetgwctl" verify "$work/edited.fgb" --pubkey "$work/signing.pub" \
    >"$work/verify-edited.out"; then
	caught=0
else
	caught=1
fi
grep -E '^(PROBLEM|FAILED|OK)' "$work/verify-edited.out" |
    awk 'NR <= 6 || /^(FAILED|OK)/' | sed 's/^/   | /'
say
say "   the day's report for the inspector (one HTML file, map included):"
say "   fleetgwctl -c fleetgw.conf report --from 2026-11-17 --to 2026-11-18 -o SC-0001-20261117.html"
report=$work/SC-0001-20261117.html
if "$fleetgwctl" -c "$work/fleetgw.conf" report --from 2026-11-17 \
    --to 2026-11-18 -o "$report" >"$work/report.out" 2>&1; then
	reported=1
	sed 's/^/   | /; s|'"$work"'/||' "$work/report.out"
	say "   ($(wc -c <"$report") bytes; open it in a browser or print it on A4)"
else
	reported=0
	sed 's/^/   | /' "$work/report.out"
fi

cat <<'EOF'

   Not on this day (each has its own scenario or unit test):
     holiday_use              rules-holiday: a statutory holiday, 2026-10-02
     region_exit              rules-region-exit: a loop out of a small region
                              fence (the city outline here is 30 km across)
     fatigue_driving          rules-fatigue: 4 hours without a rest (shrunk
                              to 15 min there)
     gnss_lost_while_moving   rules-tamper: needs the replay at 2x or slower
                              (the daemon's clock runs on the wall clock
                              while there is no fix); this day runs at 25x
     position_jump            rules-tamper: a spoofer
       (the five above: /usr/bin/python3 tests/integration/run.py test_rules)
     obd_lost, clock_jump     rules-device: the adapter unplugged mid-trip;
                              a synchronised system clock (clock_jump is
                              off in this replay of a past day)
EOF

t1=$(date +%s)
cat <<EOF

== What you just saw ($((t1 - t0)) s)
   * tests/sim/nmea_synth.py wrote what a GPS+BeiDou (北斗) receiver in the
     car would have sent on Tuesday 2026-11-17, and what its OBD-II port
     says every second: nine trips in Chengdu with traffic lights, the
     receiver off while the car is parked.  The ELM327 simulator served
     the OBD data on a pty in step with gpsd's time; gpsfake ran a private
     gpsd and played the day ${SPEEDUP} times faster than real time.
   * fleetgwd stored one row per second of driving with its OBD values,
     cut trips at the ignition, loaded the fences (converting those drawn
     on Amap, GCJ-02, to WGS-84 once), and ran the usage rules (公务用车
     使用规定) on every fix, OBD sample and trip boundary, with the work
     calendar of conf/calendar/cn-2026.conf and the dispatch orders added
     through its control socket.
   * The day triggers, or narrowly avoids, each rule a workday can raise:
     - 07:05 a commute run (接送上下班): out of the compound, a 2-minute
       pick-up, back at 07:13: commute_pattern, and after_hours_use (before
       08:30).  The lunch run (11:08-11:55) is out and back too, but
       outside the commute windows and with a 40-minute stop: nothing.
     - 09:00 the meeting under order JD-20261117-01 reaches its
       destination: nothing; the driver idles 12 minutes there with the
       engine on: excessive_idle (an 8-minute wait at 13:39: nothing).
     - While the car stood at lunch, 8 L were drained from the tank:
       fuel_drop, from the parking to the next start; the thief also cut
       the gateway's power: power_loss, from the last record before to
       the first fix after; and left the fuel cap loose: the ECU's
       leak test set P0457 (pending), read at the next start: dtc.  The
       level before the cut came from the rules' state, which fleetgwd
       commits with its records and restored after the kill.
     - 13:35 under order JD-20261117-02, but never at its destination:
       dispatch_mismatch, told when the window (14:30 + 15 min grace) is
       over.
     - 17:24 on the 3rd Ring Road (ring3-south, 80 km/h): 92 km/h for 11 s
       overtaking: nothing (min_s 30); 100 km/h for 50 s: speeding.  That
       trip's engine stops at 17:31, one minute after work: nothing
       (min_s 120).
     - 19:40 past the KTV (ktv-kehua) without stopping: nothing; round
       the block and into its car park for two hours: forbidden_place;
       both evening trips: after_hours_use.
     - 21:58 parked at the driver's home, not in the compound's lot
       (lot-a): overnight_parking at the 22:00 check, ongoing until the
       car moves or the night ends at 06:00.
   * Every record was linked onto its stream's hash chain as it was
     committed, and the chains' heads signed with the gateway's key every
     few minutes and at each export.  The inspector's bundle verified
     offline against the public key alone; the copy with one event edited
     in SQL did not, and verify named the records changed.  The report is
     one HTML file with the day's map (inline SVG, no network).
   * fleetgwctl read it back from the database file (--db) as a table for
     people or as JSON (--json) for programs, in the vehicle's zone
     (+08:00).  The replay is deterministic: running it again gives the
     same rows and events (trip starts may differ by a second: the
     adapter is polled in real time).
EOF
[ "$n" -eq "$NALL" ] || die "recorded $n positions, expected $NALL"
want=$($py -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' \
    "$work/day.trips.json")
got=$("$fleetgwctl" --db "$db" --json trips |
    $py -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$got" -eq "$want" ] || die "recorded $got trips, the scenario has $want"
[ $match -eq 1 ] || die "the events differ from the scenario's expected_events"
[ $synced -eq 1 ] || die "the platform's records differ from the gateway's"
[ $verified -eq 1 ] || die "the day's bundle does not verify"
[ $caught -eq 1 ] || die "verify did not catch the edited event"
[ $reported -eq 1 ] || die "fleetgwctl report failed"
exit 0
