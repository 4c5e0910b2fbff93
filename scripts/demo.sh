#!/bin/sh
# SPDX-License-Identifier: MIT
#
# demo.sh - replay a simulated working day in Chengdu through a private
# gpsd (gpsfake) and the ELM327 simulator (OBD-II on a pty) into fleetgwd,
# then show what was recorded with fleetgwctl: positions with their OBD
# values, the day's trips, the live OBD state.  Run by "make demo":
#
#	sh scripts/demo.sh BUILD_DIR		(default: build)
#
# Needs gpsfake (Debian package gpsd-clients) and /usr/bin/python3.  Works
# as root or as a normal user; everything lives in a temporary directory
# that is removed at the end (KEEP=1 keeps it).  About two minutes: the
# day is played at PACE seconds per NMEA sentence (10 a second of GNSS
# time), 25 times faster than real time, and the simulated adapter's
# timing is scaled to match.

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
scenario=tests/sim/scenarios/chengdu-day.json

# Deadlines, seconds.
READY_S=15
CONNECT_S=15
REPLAY_S=400
TRIP_END_S=90	# trips.ign_off_end_s (60) of GNSS time, at 1x once the log is over
# gpsfake -c: seconds between sentences; 10 sentences per GNSS second.
PACE=0.004
SPEEDUP=25

say()
{
	printf '%s\n' "$*"
}

die()
{
	say "demo: $*" >&2
	exit 1
}

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

# Stop what we started (each runs in its own session, so the process
# group id is its pid), then remove the work directory.
stop_group()
{
	pid=$1
	[ -n "$pid" ] || return 0
	if ! kill -TERM -- "-$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		return 0
	fi
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup()
{
	stop_group "$gpid"
	stop_group "$spid"
	stop_group "$dpid"
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
			[ -f "$work/daemon.log" ] && tail -n 20 "$work/daemon.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

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

say "== 1. A simulated day: $scenario"
$py tests/sim/nmea_synth.py "$scenario" -o "$work/day.nmea" \
    -e "$work/day.expected.jsonl" --obd "$work/day.obd.jsonl" \
    --trips "$work/day.trips.json" --summary 2>"$work/summary.json" ||
	die "nmea_synth.py failed: $(cat "$work/summary.json")"
$py - "$work/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for leg in s["legs"]:
	print("   %s  %-40s %5.1f km  %4d epochs" % (leg["depart"][11:16],
	    leg["name"], leg["length_m"] / 1000.0, leg["epochs"]))
print("   %d one-second NMEA epochs ($GNRMC $GNGGA $GPGSA $GBGSA $GPGSV "
    "$GBGSV), %.1f km" % (s["epochs"], s["distance_m"] / 1000.0))
print("   and the car's OBD-II data for every second (engine, speed, fuel, "
    "coolant, odometer, DTCs)")
EOF
expected=$(wc -l <"$work/day.expected.jsonl")

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say
say "== 2. An ELM327 adapter in that car: tests/sim/elm327_sim.py on a pty"
setsid $py tests/sim/elm327_sim.py --obd "$work/day.obd.jsonl" \
    --pty "$work/obd-tty" --follow-gpsd "127.0.0.1:$port" \
    --time-scale $SPEEDUP </dev/null >"$work/sim.out" 2>"$work/sim.log" &
spid=$!
wait_for $READY_S "the ELM327 simulator" grep -q '^READY' "$work/sim.out"
say "   $(cat "$work/sim.out"), following gpsd's time on port $port"

# OBD polled 25 times faster than on the road (the day runs 25x).
cat >"$work/fleetgw.conf" <<EOF
# demo configuration written by scripts/demo.sh
device = { id = "SC-0001"; plate = "川A12345"; timezone = "Asia/Shanghai";
	   fuel = "gasoline"; tank_l = 55.0; };
gnss = { host = "127.0.0.1"; port = $port; max_hdop = 5.0;
	 retry_min_ms = 20; retry_max_ms = 50; stale_s = 30; };
obd = { driver = "elm327"; device = "$work/obd-tty"; baud = 38400;
	timeout_ms = 1000; poll_fast_ms = 40; poll_slow_ms = 400;
	dtc_interval_s = 10; retry_min_ms = 100; retry_max_ms = 1000; };
storage = { path = "$work/fleetgw.db"; commit_interval_s = 1;
	    commit_rows = 256; max_size_mb = 512; keep_days = 180; };
ctl = { socket = "$work/ctl.sock"; };
# The geofences of conf/fleetgw.conf (its fences list, with paths made
# absolute): the city region, the compound and its car park as drawn on
# Amap (GCJ-02), example forbidden places, a dispatch route.
EOF
sed -n '/^fences = (/,/^);/p' conf/fleetgw.conf |
    sed "s|geojson = \"fences/|geojson = \"$root/conf/fences/|" \
    >>"$work/fleetgw.conf"
"$fleetgwd" -n -c "$work/fleetgw.conf" >/dev/null ||
	die "fleetgwd -n rejected the demo configuration"

say
say "== 3. fleetgwd starts, opens the adapter and waits for gpsd on 127.0.0.1:$port"
setsid "$fleetgwd" -d -v -c "$work/fleetgw.conf" \
    </dev/null >"$work/daemon.log" 2>&1 &
dpid=$!
wait_for $READY_S "the control socket" test -S "$work/ctl.sock"
wait_for $READY_S "the adapter (obd: ... ready)" \
    grep -q 'obd: .*ready' "$work/daemon.log"

say "== 4. gpsfake starts a private gpsd and plays the day into it (${SPEEDUP}x)"
mkdir "$work/gpsfake"
TMPDIR=$work/gpsfake setsid gpsfake -1 -n -q -W 1 -c $PACE -P "$port" \
    "$work/day.nmea" </dev/null >"$work/gpsfake.log" 2>&1 &
gpid=$!
wait_for $CONNECT_S "fleetgwd to connect to gpsd" \
    grep -q 'gnss: .*\bconnected' "$work/daemon.log"

# exited PID: our child PID has exited (gone, or a zombie not yet reaped).
exited()
{
	[ ! -e "/proc/$1/stat" ] ||
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# Status while the first trip runs: engine on, some distance done.
driving()
{
	exited "$gpid" && return 0
	"$fleetgwctl" -s "$work/ctl.sock" --json status 2>/dev/null |
	    $py -c '
import json, sys
st = json.load(sys.stdin)
t, o = st.get("trip"), st["obd"]
sys.exit(0 if t and t["distance_m"] > 2000 and o["state"] == "up" and
    o["values"].get("rpm", 0) > 0 else 1)'
}
wait_for $REPLAY_S "a trip under way" driving
say
say "   while the car drives: fleetgwctl -s CTL.SOCK status"
"$fleetgwctl" -s "$work/ctl.sock" status | sed 's/^/   | /'

# The end: gpsd tells the daemon the device went away after the last
# line, and the daemon flushes its last epoch (or, should that line not
# come, gpsfake has exited and the stored count has stopped moving).
last=-1
same=0
replay_over()
{
	grep -q 'gnss: .*device .*deactivated' "$work/daemon.log" && return 0
	exited "$gpid" || return 1
	now=$(stored)
	if [ "$now" = "$last" ]; then
		same=$((same + 1))
	else
		same=0
		last=$now
	fi
	[ $same -ge 25 ]
}
wait_for $REPLAY_S "the end of the replay" replay_over
stop_group "$gpid"		# with -1 it would wait -W 1 s, then exit 1
gpid=
say
# The last trip ends trips.ign_off_end_s of GNSS time after the engine
# stopped; GNSS time goes on with the monotonic clock after the replay,
# so this wait is in real time.
no_trip()
{
	"$fleetgwctl" -s "$work/ctl.sock" --json status 2>/dev/null |
	    $py -c 'import json, sys; sys.exit(json.load(sys.stdin)["trip"] is not None)'
}
say
say "   the log is over; the last trip ends 60 s (trips.ign_off_end_s) after the"
say "   engine stopped, and GNSS time now runs at real speed: about a minute ..."
wait_for $TRIP_END_S "the last trip to end" no_trip
say "   at the end (car parked, ignition off): fleetgwctl -s CTL.SOCK status | grep ..."
"$fleetgwctl" -s "$work/ctl.sock" status |
    grep -E '^ *(state|fixes|rejected|time steps|positions|pending|trips|VIN|trouble codes) |^trip|^  none' |
    sed 's/^/   | /'

say
say "   the geofences it checks fixes against: fleetgwctl -s CTL.SOCK fences"
"$fleetgwctl" -s "$work/ctl.sock" fences | sed 's/^/   | /'
say
say "   where is the car park?  A point read off Amap (GCJ-02):"
say "   fleetgwctl -s CTL.SOCK fences --at 104.0665,30.5723 --crs gcj02"
"$fleetgwctl" -s "$work/ctl.sock" fences --at 104.0665,30.5723 --crs gcj02 |
    sed 's/^/   | /'
say
say "   the morning meeting's parking spot (WGS-84, as the receiver reports it):"
say "   fleetgwctl -s CTL.SOCK fences --at 104.0472,30.6456"
"$fleetgwctl" -s "$work/ctl.sock" fences --at 104.0472,30.6456 |
    sed 's/^/   | /'

# SIGTERM: the daemon commits what is pending and exits 0.
kill -TERM "$dpid"
wait_for $READY_S "fleetgwd to exit after SIGTERM" exited "$dpid"
wait "$dpid"
rc=$?
dpid=
[ $rc -eq 0 ] || die "fleetgwd exited with status $rc"
n=$(stored)

say
say "== 5. What the gateway recorded: $n positions ($expected epochs were sent)"
say
say "   fleetgwctl --db fleetgw.db trips      (the day's trips; the scenario had these:)"
$py - "$work/day.trips.json" <<'EOF'
import json, sys
for t in json.load(open(sys.argv[1])):
	print("   | scenario: %s .. %s  %6.2f km  engine on %4d s  odometer %.1f -> %.1f km"
	    % (t["start"][11:19], t["end"][11:19], t["distance_m"] / 1000.0,
	    t["duration_s"], t["odometer_start_km"], t["odometer_end_km"]))
EOF
"$fleetgwctl" --db "$work/fleetgw.db" trips | sed 's/^/   /'
say
say "   fleetgwctl --db fleetgw.db --json trips --from 2026-03-03T11:00 --to 2026-03-03T12:00"
"$fleetgwctl" --db "$work/fleetgw.db" --json trips --from 2026-03-03T11:00 \
    --to 2026-03-03T12:00 | $py -m json.tool | sed 's/^/   /'
say
say "   fleetgwctl --db fleetgw.db positions --limit 8      (the morning start)"
"$fleetgwctl" --db "$work/fleetgw.db" positions --limit 8 | sed 's/^/   /'
say
say "   fleetgwctl --db fleetgw.db positions --from 2026-03-03T16:11 --to 2026-03-03T16:11:06"
"$fleetgwctl" --db "$work/fleetgw.db" positions --from 2026-03-03T16:11 \
    --to 2026-03-03T16:11:06 | sed 's/^/   /'
say
say "   fleetgwctl --db fleetgw.db --json positions --from 2026-03-03T09:10 --limit 1   (with its OBD values)"
"$fleetgwctl" --db "$work/fleetgw.db" --json positions \
    --from 2026-03-03T09:10 --limit 1 | $py -m json.tool | sed 's/^/   /'
say
say "   Each leg, from fleetgwctl --json positions --from DEPART --to NEXT:"
"$fleetgwctl" --db "$work/fleetgw.db" --json positions >"$work/all.json"
$py - "$work/all.json" "$work/summary.json" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
legs = json.load(open(sys.argv[2]))["legs"]
for i, leg in enumerate(legs):
	end = legs[i + 1]["depart"] if i + 1 < len(legs) else "9999"
	r = [x for x in rows if leg["depart"] <= x["time"] < end]
	if not r:
		print("   %-40s no positions" % leg["name"])
		continue
	print("   %s-%s %-40s %4d positions, top %3.0f km/h, BeiDou used "
	    "up to %d" % (r[0]["time"][11:16], r[-1]["time"][11:16],
	    leg["name"], len(r), max(x["speed_kmh"] or 0 for x in r),
	    max(x["constellations"]["beidou"]["used"] for x in r)))
EOF

cat <<EOF

== What you just saw
   * tests/sim/nmea_synth.py wrote what a GPS+BeiDou (北斗) receiver in the
     car would have sent on 2026-03-03: four trips in Chengdu with traffic
     lights; between trips the car is parked and the receiver is off.  It
     also wrote what the car's OBD-II port says every second; the ELM327
     simulator served that on a pty, in step with gpsd's time, and
     fleetgwd read it as it would read a USB adapter (ATZ ... ATSP0, the
     supported PIDs, VIN, trouble codes, then polling).
   * gpsfake ran a private gpsd, the same gpsd a gateway runs, and fed it
     that log as fast as it could; fleetgwd read the fixes from gpsd like
     it would on the road and stored one row per second of driving in
     SQLite (seq, GNSS time, position, speed, satellites per system).
   * The trips were cut by the ignition the ECU reported (traffic lights
     do not split them), with distance from the filtered fixes, idle time,
     fuel from the fuel rate, odometer from PID A6.
   * fleetgwd loaded the geofences of conf/fleetgw.conf, converting the
     ones drawn on Amap (GCJ-02) to WGS-84 once, and fleetgwctl fences
     --at told which of them contain a point and which are near.
   * fleetgwctl read them back: from the running daemon's socket (status)
     and straight from the database file (--db), in the vehicle's zone
     (+08:00), as a table for people or as JSON (--json) for programs.
   * gpsfake plays the day ${SPEEDUP} times faster than real time, and the
     parked periods (hours of GNSS time with the receiver off) in a moment,
     so they show up as "time steps" in status; on the road the
     receiver's clock and the gateway's agree.
   * $n of $expected epochs were recorded; the replay is deterministic, so
     running it again gives the same rows.  The trips' times may differ by
     a second from run to run: the adapter is polled in real time.
EOF
[ "$n" -eq "$expected" ] || die "recorded $n positions, expected $expected"
want=$($py -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' \
    "$work/day.trips.json")
got=$("$fleetgwctl" --db "$work/fleetgw.db" --json trips |
    $py -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$got" -eq "$want" ] || die "recorded $got trips, the scenario has $want"
exit 0
