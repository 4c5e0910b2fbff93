#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run.sh - run every libFuzzer target built by "make fuzz-build".
#
#   sh tests/fuzz/run.sh BUILDDIR SECONDS [LIBFUZZER-ARGS...]
#
# For each BUILDDIR/fuzz_<name>: replay its seed corpus
# (tests/fuzz/corpus/<name>, read only) and the working corpus
# BUILDDIR/corpus/<name> (where new inputs go), fuzz for SECONDS, then
# replay every saved reproducer tests/fuzz/crashes/<name>-*.  Prints one
# line per target:
#
#   FUZZ <name> runs=<N> crashes=<K>
#
# followed, when K > 0, by the kind of failure and the log and artifact
# paths.  Exit status 1 if any target had a crash, leak, timeout, OOM or
# sanitizer report, else 0.  Logs: BUILDDIR/logs/<name>.log; new crash
# inputs: BUILDDIR/artifacts/<name>-*.  To keep a reproducer, copy it to
# tests/fuzz/crashes/<name>-<sha1 of the input>.

set -u

if [ $# -lt 2 ]; then
	echo "usage: sh tests/fuzz/run.sh BUILDDIR SECONDS [LIBFUZZER-ARGS...]" >&2
	exit 2
fi
builddir=$1
seconds=$2
shift 2

here=$(cd "$(dirname "$0")" && pwd)

# Per-target -max_len: a little over each input's real bound so the
# limit itself is exercised, small enough to stay fast.
#   config      a fleetgw.conf is under 2 KB
#   gpsd_line   a 40-satellite SKY line is about 6 KB
#   ctl_request CTL_MAX_REQUEST is 4096 bytes
#   timefmt     the longest valid T is 35 bytes
#   elm327_reply ELM327_MAX_REPLY is 16384 bytes
#   geojson     small fence files; the 16 MiB cap is a unit test
#   bundle      a header, a checkpoint and a few records: ~3 KB each
max_len()
{
	case $1 in
	config)		echo 8192 ;;
	gpsd_line)	echo 12288 ;;
	ctl_request)	echo 6144 ;;
	timefmt)	echo 128 ;;
	elm327_reply)	echo 17408 ;;
	geojson)	echo 16384 ;;
	bundle)		echo 16384 ;;
	*)		echo 4096 ;;
	esac
}

# libconfig 1.5 (Debian 12) leaks one strbuf on a parse-error path; see
# lsan.supp.  UBSan reports abort like ASan's, with a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}${LSAN_OPTIONS:+:}suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}print_stacktrace=1:halt_on_error=1"

mkdir -p "$builddir/logs" "$builddir/artifacts" "$builddir/corpus"

# Why a libFuzzer run failed, from its log.
failure_kind()
{
	if grep -q 'ERROR: libFuzzer: timeout' "$1"; then echo timeout
	elif grep -q 'ERROR: LeakSanitizer' "$1"; then echo leak
	elif grep -q 'ERROR: AddressSanitizer' "$1"; then echo asan
	elif grep -q 'runtime error:' "$1"; then echo ubsan
	elif grep -q 'ERROR: libFuzzer: out-of-memory' "$1"; then echo oom
	elif grep -q 'ERROR: libFuzzer: deadly signal' "$1"; then echo signal
	else echo "error"
	fi
}

failed=0
found=0
for bin in "$builddir"/fuzz_*; do
	[ -x "$bin" ] || continue
	case $bin in *.d) continue ;; esac
	found=$((found + 1))
	name=${bin##*/fuzz_}
	log=$builddir/logs/$name.log
	work=$builddir/corpus/$name
	seeds=$here/corpus/$name
	mkdir -p "$work"
	dict=""
	[ -f "$here/$name.dict" ] && dict=$here/$name.dict
	crashes=0
	what=""
	"$bin" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=512 \
	    -max_len="$(max_len "$name")" -print_final_stats=1 \
	    -artifact_prefix="$builddir/artifacts/$name-" \
	    ${dict:+"-dict=$dict"} "$@" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	if [ -z "$runs" ]; then
		runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	fi
	runs=${runs:-0}
	if [ $rc -ne 0 ]; then
		crashes=1
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		    tail -n 1)
		what="$(failure_kind "$log") log=$log${art:+ input=$art}"
	fi

	# Saved reproducers must replay clean (fixed bugs stay fixed).
	for r in "$here"/crashes/"$name"-*; do
		[ -f "$r" ] || continue
		rlog=$builddir/logs/$name-replay.log
		if ! "$bin" -timeout=2 -rss_limit_mb=512 "$r" >"$rlog" 2>&1; then
			crashes=$((crashes + 1))
			what="${what:+$what; }replay ${r#"$here"/} $(failure_kind "$rlog") log=$rlog"
		fi
		runs=$((runs + 1))
	done

	echo "FUZZ $name runs=$runs crashes=$crashes"
	if [ $crashes -ne 0 ]; then
		echo "FUZZ $name FAILED: $what"
		failed=1
	fi
done

if [ $found -eq 0 ]; then
	echo "run.sh: no fuzz targets in $builddir (make fuzz-build)" >&2
	exit 1
fi
exit $failed
