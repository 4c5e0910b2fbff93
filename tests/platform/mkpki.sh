#!/bin/sh
# SPDX-License-Identifier: MIT
#
# mkpki.sh - make the fake platform's test PKI with the openssl CLI.
#
#   sh tests/platform/mkpki.sh DIR [DEVICE_ID]      (default SC-0001)
#
# Writes into DIR (created, mode 700):
#
#   ca.pem ca.key                 the platform's test CA
#   server.pem server.key         CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   client.pem client.key         CN=DEVICE_ID, signed by the CA (mutual TLS)
#   other-ca.pem other-ca.key     a second, unrelated CA
#   wrong-server.pem/.key         the same names, signed by the other CA
#   wrong-client.pem/.key         CN=DEVICE_ID, signed by the other CA
#   signing.key                   the device's Ed25519 key (PKCS#8 PEM, 600)
#   signing.pub.pem               its public key (SPKI PEM)
#   server.pin wrong-server.pin   sha256//BASE64 of the certificate's SPKI
#                                 (libcurl CURLOPT_PINNEDPUBKEY syntax)
#
# TLS keys are EC P-256.  Idempotent: when DIR already holds a complete
# PKI for DEVICE_ID nothing is done; otherwise everything is made again.
# Quiet unless it fails (then the openssl output goes to stderr, exit 1).
# Generated keys are test material: never commit them.

set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh mkpki.sh DIR [DEVICE_ID]" >&2
	exit 2
fi
dir=$1
dev=${2:-SC-0001}
case $dev in
''|*[!A-Za-z0-9._-]*)
	echo "mkpki.sh: device id '$dev': letters, digits, '.', '_', '-' only" >&2
	exit 2 ;;
esac

FILES="ca.pem ca.key server.pem server.key client.pem client.key
other-ca.pem other-ca.key wrong-server.pem wrong-server.key wrong-client.pem
wrong-client.key signing.key signing.pub.pem server.pin wrong-server.pin"

umask 077
mkdir -p "$dir"

complete=yes
for f in $FILES; do
	[ -s "$dir/$f" ] || complete=no
done
if [ $complete = yes ] && [ -f "$dir/pki.stamp" ] &&
    [ "$(cat "$dir/pki.stamp")" = "device=$dev" ]; then
	exit 0
fi

tmp=$(mktemp -d "$dir/.mkpki.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
log=$tmp/log
: >"$log"

run()
{
	if ! "$@" >>"$log" 2>&1; then
		echo "mkpki.sh: failed: $*" >&2
		cat "$log" >&2
		exit 1
	fi
}

cat >"$tmp/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
cnf=$tmp/openssl.cnf

eckey()		# eckey OUT
{
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1"
}

mkca()		# mkca NAME CN
{
	eckey "$tmp/$1.key"
	run openssl req -config "$cnf" -x509 -new -key "$tmp/$1.key" \
	    -subj "/O=fleetgw tests/CN=$2" -days 3650 -sha256 \
	    -extensions ca -out "$tmp/$1.pem"
}

mkcert()	# mkcert NAME CA PROFILE CN
{
	eckey "$tmp/$1.key"
	run openssl req -config "$cnf" -new -key "$tmp/$1.key" \
	    -subj "/O=fleetgw tests/CN=$4" -out "$tmp/$1.csr"
	serial=0x$(openssl rand -hex 15)
	run openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.pem" \
	    -CAkey "$tmp/$2.key" -set_serial "$serial" -days 3650 -sha256 \
	    -extfile "$cnf" -extensions "$3" -out "$tmp/$1.pem"
	rm -f "$tmp/$1.csr"
}

mkpin()		# mkpin NAME: sha256//BASE64 of the certificate's SPKI
{
	run openssl x509 -in "$tmp/$1.pem" -pubkey -noout -out "$tmp/$1.spki.pem"
	run openssl pkey -pubin -in "$tmp/$1.spki.pem" -outform DER \
	    -out "$tmp/$1.spki.der"
	run openssl dgst -sha256 -binary -out "$tmp/$1.spki.sha" \
	    "$tmp/$1.spki.der"
	run openssl base64 -A -in "$tmp/$1.spki.sha" -out "$tmp/$1.b64"
	printf 'sha256//%s\n' "$(cat "$tmp/$1.b64")" >"$tmp/$1.pin"
	rm -f "$tmp/$1.spki.pem" "$tmp/$1.spki.der" "$tmp/$1.spki.sha" \
	    "$tmp/$1.b64"
}

mkca ca "fleetgw test platform CA"
mkcert server ca server localhost
mkcert client ca client "$dev"
mkca other-ca "unrelated test CA"
mkcert wrong-server other-ca server localhost
mkcert wrong-client other-ca client "$dev"
mkpin server
mkpin wrong-server
run openssl genpkey -algorithm ED25519 -out "$tmp/signing.key"
run openssl pkey -in "$tmp/signing.key" -pubout -out "$tmp/signing.pub.pem"

chmod 600 "$tmp"/*.key
chmod 644 "$tmp"/*.pem "$tmp"/*.pin
rm -f "$dir/pki.stamp"
for f in $FILES; do
	mv -f "$tmp/$f" "$dir/$f"
done
echo "device=$dev" >"$dir/pki.stamp"
