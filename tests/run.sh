#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run.sh - run fleetgw's tests against one build directory.
#
#   sh tests/run.sh BUILD_DIR [unit|integration|all]     (default all)
#
#   unit         every Criterion binary BUILD_DIR/tests/unit/test_*
#   integration  the system checks below, then tests/integration/run.py
#                with FLEETGWD and FLEETGWCTL pointing into BUILD_DIR
#   all          both
#
# System checks: "fleetgwd -n" accepts conf/fleetgw.conf; the systemd
# unit scores <= 2.0 in "systemd-analyze security"; the man pages have no
# groff warnings.
#
# Counting: each unit binary and each system check is one test; the
# integration runner reports its own totals on its last line
# ("N passed, N failed, N skipped"), which are added in.  The last line
# printed is the summary "N passed, N failed, N skipped"; the exit status
# is 0 only if nothing failed and something ran.
#
# Environment: ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS are set
# unless already set; UNIT_TIMEOUT_S (default 300) and
# INTEGRATION_TIMEOUT_S (default 2400) bound each binary and the runner.

set -u

usage()
{
	echo "usage: sh tests/run.sh BUILD_DIR [unit|integration|all]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
build=$1
mode=${2:-all}
case $mode in
unit|integration|all) ;;
*) usage ;;
esac

# Everything runs from the repository root; BUILD_DIR may be relative to
# the directory we were started in.
case $build in
/*) ;;
*) build=$(pwd)/$build ;;
esac
cd "$(dirname "$0")/.." || exit 2
if [ ! -d "$build" ]; then
	echo "run.sh: $build: no such build directory (make SANITIZE=1 all units)" >&2
	exit 2
fi

# Sanitizers: stop at the first error with a stack trace, and report
# leaks at exit.  abort_on_error=0 keeps the exit status (1) instead of a
# core dump; the tests look at exit codes.
: "${ASAN_OPTIONS:=halt_on_error=1:abort_on_error=0:detect_leaks=1:print_stacktrace=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1}"
: "${LSAN_OPTIONS:=print_suppressions=0}"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

# First line of an ASan/LSan report, and UBSan's diagnostic.
SANITIZER_REPORT='ERROR: (Address|Leak)Sanitizer|: runtime error: '

: "${UNIT_TIMEOUT_S:=300}"
: "${INTEGRATION_TIMEOUT_S:=2400}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fleetgw-run.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
skipped=0
failures=""

pass()
{
	passed=$((passed + 1))
	echo "PASS: $1"
}

fail()
{
	failed=$((failed + 1))
	failures="$failures
  $1"
	echo "FAIL: $1${2:+ ($2)}"
}

skip()
{
	skipped=$((skipped + 1))
	echo "SKIP: $1 ($2)"
}

run_units()
{
	found=0
	for t in "$build"/tests/unit/test_*; do
		# Only the linked binaries, not test_*.o / test_*.d.
		case $t in
		*.o|*.d) continue ;;
		esac
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then
			continue
		fi
		found=1
		name=unit/$(basename "$t")
		echo "== $name"
		# A sanitizer report (a leak above all) in one of Criterion's
		# workers does not change the binary's exit status, so the
		# output is scanned for reports as well.
		{
			timeout -k 10 "$UNIT_TIMEOUT_S" "$t" </dev/null
			echo $? >"$tmp/unit.rc"
		} 2>&1 | tee "$tmp/unit.out"
		rc=$(cat "$tmp/unit.rc")
		if [ "$rc" -eq 124 ]; then
			fail "$name" "timed out after ${UNIT_TIMEOUT_S}s"
		elif [ "$rc" -ne 0 ]; then
			fail "$name" "exit $rc"
		elif grep -q -E "$SANITIZER_REPORT" "$tmp/unit.out"; then
			fail "$name" "sanitizer report"
		else
			pass "$name"
		fi
	done
	if [ $found -eq 0 ]; then
		fail "unit" "no test binaries in $build/tests/unit (make SANITIZE=1 units)"
	fi
}

check_config()
{
	name="config: fleetgwd -n -c conf/fleetgw.conf"
	if [ ! -x "$build/fleetgwd" ]; then
		fail "$name" "$build/fleetgwd not built"
		return
	fi
	if [ ! -f conf/fleetgw.conf ]; then
		fail "$name" "conf/fleetgw.conf missing"
		return
	fi
	"$build/fleetgwd" -n -c conf/fleetgw.conf >"$tmp/conf.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^configuration OK$' "$tmp/conf.out"; then
		pass "$name"
	else
		cat "$tmp/conf.out"
		fail "$name" "exit $rc"
	fi
}

# Goal G9 of the reliability brief: exposure <= 2.0.  --threshold takes
# ten times the shown value; the command exits 1 above it.  --offline=yes
# needs no running systemd.
HARDENING_THRESHOLD=20

check_hardening()
{
	unit=systemd/fleetgwd.service
	name="systemd: $unit exposure <= 2.0"
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		fail "$name" "systemd-analyze not found (package systemd)"
		return
	fi
	systemd-analyze security --offline=yes \
	    --threshold=$HARDENING_THRESHOLD "$unit" >"$tmp/sec.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "  $(grep 'Overall exposure' "$tmp/sec.out")"
		pass "$name"
	else
		cat "$tmp/sec.out"
		fail "$name" "exit $rc"
	fi
}

# Man pages: groff must render them without a warning (-ww all warnings,
# -k for the UTF-8 Chinese terms, -z no output).
check_man()
{
	set -- docs/man/*.[1-8]
	if [ ! -f "$1" ]; then
		skip "man pages" "none in docs/man"
		return
	fi
	if ! command -v groff >/dev/null 2>&1; then
		skip "man pages" "groff not found (package groff-base)"
		return
	fi
	for page in "$@"; do
		name="man: $page"
		LC_ALL=C.UTF-8 groff -k -man -Tutf8 -ww -z "$page" \
		    >"$tmp/man.out" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && [ ! -s "$tmp/man.out" ]; then
			pass "$name"
		else
			cat "$tmp/man.out"
			fail "$name" "groff warnings"
		fi
	done
}

run_integration()
{
	name="integration: tests/integration/run.py"
	if [ ! -f tests/integration/run.py ]; then
		fail "$name" "missing"
		return
	fi
	echo "== $name"
	# The runner's output is shown as it comes and kept for its totals.
	{
		FLEETGWD=$build/fleetgwd FLEETGWCTL=$build/fleetgwctl \
		    timeout -k 30 "$INTEGRATION_TIMEOUT_S" \
		    /usr/bin/python3 tests/integration/run.py </dev/null
		echo $? >"$tmp/int.rc"
	} 2>&1 | tee "$tmp/int.out"
	rc=$(cat "$tmp/int.rc")
	totals=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' \
	    "$tmp/int.out" | tail -n 1)
	if [ -z "$totals" ]; then
		if [ "$rc" -eq 124 ]; then
			fail "$name" "timed out after ${INTEGRATION_TIMEOUT_S}s"
		else
			fail "$name" "exit $rc without a totals line"
		fi
		return
	fi
	# "N passed, N failed[, N skipped]" -> three numbers
	# shellcheck disable=SC2046 # split on purpose
	set -- $(echo "$totals" | tr -c '0-9\n' ' ')
	passed=$((passed + $1))
	failed=$((failed + $2))
	skipped=$((skipped + ${3:-0}))
	if [ "$2" -gt 0 ]; then
		failures="$failures
  $name: $2 failed"
	fi
	if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then
		# The runner failed though it counted no failure (crash after
		# the totals, a timeout): that is a failure too.
		fail "$name" "exit $rc"
	fi
}

case $mode in
unit)
	run_units
	;;
integration)
	check_config
	check_hardening
	check_man
	run_integration
	;;
all)
	run_units
	check_config
	check_hardening
	check_man
	run_integration
	;;
esac

if [ -n "$failures" ]; then
	echo
	echo "failed:$failures"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
