#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench_sync.sh - run bench_sync (tests/bench/bench_sync.c) against the
# fake platform over loopback TLS.
#
#   sh tests/bench/bench_sync.sh BUILD/tests/bench/bench_sync [OPTIONS]
#
# Makes the test PKI (tests/platform/mkpki.sh: CA, server and client
# certificates, the device's Ed25519 signing key, mode 600) in a
# temporary directory, starts tests/platform/fakeplatform.py on
# 127.0.0.1 with the device registered, waits for its ready line, runs
# bench_sync with the URL, certificate paths and control port, then
# stops the platform and removes the directory.  OPTIONS go to bench_sync
# (-n RECORDS, --batch-records N, ...).  Prints bench_sync's BENCH lines;
# exits with its status.  The platform's log is shown when it fails.

set -u

if [ $# -lt 1 ]; then
	echo "usage: sh bench_sync.sh BENCH_SYNC [OPTIONS]" >&2
	exit 2
fi
bin=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
dev=SC-0001
python=/usr/bin/python3
[ -x "$python" ] || python=python3

work=$(mktemp -d "${TMPDIR:-/var/tmp}/bench_sync_sh.XXXXXX") || exit 1
pid=
cleanup()
{
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! sh "$top/tests/platform/mkpki.sh" "$work/pki" "$dev"; then
	echo "bench_sync.sh: mkpki.sh failed" >&2
	exit 1
fi
chmod 600 "$work/pki/signing.key"

"$python" "$top/tests/platform/fakeplatform.py" --dir "$work/platform" \
    --pki "$work/pki" --device "$dev=$work/pki/signing.pub.pem" \
    >"$work/ready" 2>"$work/platform.log" &
pid=$!

# The ready line: {"https_port":P,"control_port":Q,...}
i=0
while :; do
	line=$(head -n 1 "$work/ready" 2>/dev/null)
	case $line in
	*'"control_port"'*) break ;;
	esac
	if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 200 ]; then
		echo "bench_sync.sh: the fake platform did not start:" >&2
		cat "$work/platform.log" >&2
		exit 1
	fi
	i=$((i + 1))
	sleep 0.1
done
hport=$(printf '%s\n' "$line" | sed -n 's/.*"https_port": *\([0-9][0-9]*\).*/\1/p')
cport=$(printf '%s\n' "$line" | sed -n 's/.*"control_port": *\([0-9][0-9]*\).*/\1/p')
if [ -z "$hport" ] || [ -z "$cport" ]; then
	echo "bench_sync.sh: cannot read the ready line: $line" >&2
	exit 1
fi

"$bin" --url "https://127.0.0.1:$hport" --ca "$work/pki/ca.pem" \
    --cert "$work/pki/client.pem" --key "$work/pki/client.key" \
    --signing-key "$work/pki/signing.key" --control-port "$cport" \
    --device "$dev" "$@"
rc=$?
if [ $rc -ne 0 ]; then
	echo "bench_sync.sh: bench_sync failed ($rc); platform log:" >&2
	tail -n 40 "$work/platform.log" >&2
fi
exit $rc
