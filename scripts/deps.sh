#!/bin/sh
# SPDX-License-Identifier: MIT
#
# deps.sh - install the Debian 12 packages fleetgw needs to build, test
# and demo.
#
#   sh scripts/deps.sh          install what is missing (root), or print
#                               the apt-get line and exit 1 (not root)
#   sh scripts/deps.sh --list   print the package list, one per line
#   sh scripts/deps.sh --fuzz   the same as without arguments, plus the
#                               optional FUZZ_PACKAGES ("make fuzz")
#
# Silent and exit 0 when everything is installed.  Called by "make deps",
# which "make check", "make demo" and "make bench" depend on.

set -eu

# The one list, every package used by the code and tests of this
# release; the notes below say what for.
PACKAGES="
build-essential
pkg-config
libgps-dev
libsqlite3-dev
libconfig-dev
libjansson-dev
libsystemd-dev
libcriterion-dev
libgeos-dev
libcurl4-openssl-dev
libssl-dev
zlib1g-dev
gpsd
gpsd-clients
python3-gps
python3
sqlite3
systemd
openssl
curl
groff-base
tzdata
chromium
fonts-wqy-zenhei
python3-pil
"
# now   build-essential pkg-config     compiler (with ASan/UBSan), make
# now   libgps-dev libsqlite3-dev libconfig-dev libjansson-dev
#       libsystemd-dev                 the daemon's libraries
# now   libcriterion-dev               unit tests
# now   libgeos-dev                    GEOS, the geofence oracle of
#                                      test_fence_geos and the baseline of
#                                      bench_fence (never the daemon)
# now   libcurl4-openssl-dev libssl-dev zlib1g-dev
#                                      platform sync (HTTPS), Ed25519
#                                      request signatures (sign.c), gzip
#                                      bodies: libcurl, libcrypto, zlib in
#                                      the Makefile's PKGS
# now   gpsd gpsd-clients python3-gps python3
#                                      integration tests and demo:
#                                      gpsfake (gpsd-clients) runs under
#                                      /usr/bin/python3 with the gps
#                                      module (python3-gps)
# now   sqlite3                        the CLI, for ".backup" and looking
#                                      at a database by hand
# now   systemd                        systemd-analyze for the unit's
#                                      hardening score in "make check"
# now   openssl                        the CLI makes the keys of
#                                      test_sign and checks its signatures,
#                                      and the test CA of the fake platform
# now   curl                           the CLI is the HTTPS client of the
#                                      fake platform's self-test
#                                      (test_platform_fake.py)
# now   groff-base                     man page lint in "make check"
# now   tzdata                         Asia/Shanghai and the other zones
#                                      times are shown in
# now   chromium                       headless rendering of the HTML report
#                                      (test_report.py screenshots it)
# now   fonts-wqy-zenhei               a CJK font, so that 川A12345 and the
#                                      Chinese labels render in that test
# now   python3-pil                    PIL, which finds the track and the
#                                      markers in the screenshot

# Optional, only with --fuzz ("make fuzz-build", "make fuzz").
FUZZ_PACKAGES="
clang
libclang-rt-14-dev
"
# fuzz  clang                          clang 14, the compiler of the
#                                      -fsanitize=fuzzer builds
# fuzz  libclang-rt-14-dev             libFuzzer (libclang_rt.fuzzer*.a)
#                                      and the sanitizer runtimes for
#                                      clang; only a Recommends of clang,
#                                      so --no-install-recommends skips it

# Lock wait for apt/dpkg, in seconds: another apt run (unattended-upgrades,
# a second build) must not fail the install.
LOCK_TIMEOUT_S=600

fuzz=0
if [ "${1:-}" = "--list" ]; then
	for p in $PACKAGES; do
		echo "$p"
	done
	exit 0
elif [ "${1:-}" = "--fuzz" ] && [ $# -eq 1 ]; then
	fuzz=1
	PACKAGES="$PACKAGES $FUZZ_PACKAGES"
elif [ $# -ne 0 ]; then
	echo "usage: sh scripts/deps.sh [--list | --fuzz]" >&2
	exit 2
fi

# Installed means dpkg status "install ok installed"; half-installed,
# config-files only and unknown packages count as missing.
missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=""
	if [ "$status" != "install ok installed" ]; then
		missing="$missing $p"
	fi
done
missing=${missing# }

# gpsfake is a /usr/bin/python3 script that imports gps.fake; with a
# python3 from elsewhere first in PATH it may not find the module, so the
# integration tests run it with /usr/bin/python3.  Check that this works,
# as it is the dependency most easily broken by --no-install-recommends
# or a partial install.
selfcheck()
{
	if ! /usr/bin/python3 -c 'import gps, gps.fake' 2>/dev/null; then
		echo "deps.sh: /usr/bin/python3 cannot import gps.fake (package python3-gps), gpsfake will not run" >&2
		return 1
	fi
	for c in gpsfake gpsd systemd-analyze pkg-config cc; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "deps.sh: $c not found in PATH after installing the packages" >&2
			return 1
		fi
	done
	if [ $fuzz -eq 1 ] && ! command -v clang >/dev/null 2>&1; then
		echo "deps.sh: clang not found in PATH after installing the packages" >&2
		return 1
	fi
	return 0
}

if [ -z "$missing" ]; then
	selfcheck
	exit $?
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages; install them with:" >&2
	echo "sudo apt-get install --no-install-recommends $missing"
	exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/fleetgw-deps.XXXXXX")
trap 'rm -f "$log"' EXIT

export DEBIAN_FRONTEND=noninteractive

apt_update()
{
	apt-get -q -o DPkg::Lock::Timeout=$LOCK_TIMEOUT_S update \
	    </dev/null >>"$log" 2>&1
}

apt_install()
{
	# shellcheck disable=SC2086 # $missing is a list of package names
	apt-get -q -y -o DPkg::Lock::Timeout=$LOCK_TIMEOUT_S \
	    install --no-install-recommends $missing </dev/null >>"$log" 2>&1
}

fail()
{
	echo "deps.sh: $1; apt-get said:" >&2
	tail -n 30 "$log" >&2
	exit 1
}

# Update the package lists only if needed: when there are none (fresh
# container), or when the install fails with the lists we have (a
# package unknown to them, or .deb files gone from the mirror).
echo "deps.sh: installing $missing" >&2
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
	apt_update || fail "apt-get update failed"
	apt_install || fail "apt-get install failed"
elif ! apt_install; then
	apt_update || fail "apt-get update failed"
	apt_install || fail "apt-get install failed"
fi

selfcheck
