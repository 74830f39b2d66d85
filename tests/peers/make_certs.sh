#!/usr/bin/env bash
# Create a throw-away test PKI with the openssl CLI (OpenSSL 3.0 on Debian 12).
#
#   bash tests/peers/make_certs.sh OUTDIR [--force]
#
# Writes into OUTDIR (EC P-256 keys, PKCS#8 PEM):
#   ca.pem        ca.key         private CA: CA:TRUE, keyUsage keyCertSign+cRLSign,
#                                valid from 2019-01-01 for 10 years from today
#   server.pem    server.key     leaf: SAN DNS:localhost, IP:127.0.0.1; EKU serverAuth;
#                                CA:FALSE; valid from yesterday for 825 days
#   expired.pem   expired.key    same as server, but valid 2020-01-01 .. 2020-02-01 only
#   wronghost.pem wronghost.key  same as server, but SAN DNS:example.com only
# All leaves are signed by ca.pem and contain only the leaf (no chain): trust ca.pem.
#
# Idempotent: if OUTDIR already holds a complete set whose server/wronghost leaves
# verify against ca.pem and are valid for at least one more day, it does nothing.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [--force]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT="$1"; shift
FORCE=0
for a in "$@"; do case "$a" in --force) FORCE=1 ;; *) usage ;; esac; done
command -v openssl >/dev/null || { echo "make_certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$OUT"

FILES="ca.pem ca.key server.pem server.key expired.pem expired.key wronghost.pem wronghost.key"

complete() {
  local f
  for f in $FILES; do [ -s "$OUT/$f" ] || return 1; done
  openssl x509 -noout -checkend 86400 -in "$OUT/ca.pem" >/dev/null 2>&1 || return 1
  openssl x509 -noout -checkend 86400 -in "$OUT/server.pem" >/dev/null 2>&1 || return 1
  openssl x509 -noout -checkend 86400 -in "$OUT/wronghost.pem" >/dev/null 2>&1 || return 1
  openssl verify -CAfile "$OUT/ca.pem" "$OUT/server.pem" "$OUT/wronghost.pem" >/dev/null 2>&1 || return 1
}

if [ "$FORCE" = 0 ] && complete; then
  echo "make_certs.sh: certificates in $OUT are up to date"
  exit 0
fi

W="$(mktemp -d "${TMPDIR:-/tmp}/make_certs.XXXXXX")"
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/newcerts"
: > "$W/index.txt"
echo 1000 > "$W/serial"

cat > "$W/openssl.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir              = $W
database         = $W/index.txt
new_certs_dir    = $W/newcerts
serial           = $W/serial
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
[ policy_any ]
commonName       = supplied
organizationName = optional
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = placeholder
[ ca_ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
[ server_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ wronghost_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF

ts() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/$1.key" 2>/dev/null; }

# sign NAME CN EXT START END [-selfsign]
sign() {
  local name="$1" cn="$2" ext="$3" start="$4" end="$5"; shift 5
  newkey "$name"
  openssl req -new -config "$W/openssl.cnf" -key "$W/$name.key" -subj "/O=wsmachine tests/CN=$cn" \
    -out "$W/$name.csr"
  local signer=(-cert "$W/ca.pem" -keyfile "$W/ca.key")
  if [ "${1:-}" = -selfsign ]; then signer=(-selfsign -keyfile "$W/ca.key"); fi
  openssl ca -batch -notext -config "$W/openssl.cnf" "${signer[@]}" -extensions "$ext" \
    -startdate "$start" -enddate "$end" -in "$W/$name.csr" -out "$W/$name.pem" 2>"$W/$name.log" \
    || { cat "$W/$name.log" >&2; exit 1; }
}

sign ca "wsmachine test CA" ca_ext 20190101000000Z "$(ts '+3650 days')" -selfsign
sign server localhost server_ext "$(ts '-1 day')" "$(ts '+825 days')"
sign expired localhost server_ext 20200101000000Z 20200201000000Z
sign wronghost example.com wronghost_ext "$(ts '-1 day')" "$(ts '+825 days')"

openssl verify -CAfile "$W/ca.pem" "$W/server.pem" "$W/wronghost.pem" >/dev/null
if openssl verify -CAfile "$W/ca.pem" "$W/expired.pem" >/dev/null 2>&1; then
  echo "make_certs.sh: expired.pem unexpectedly verifies" >&2; exit 1
fi

for f in $FILES; do
  case "$f" in *.key) chmod 600 "$W/$f" ;; *) chmod 644 "$W/$f" ;; esac
  mv -f "$W/$f" "$OUT/$f"
done
echo "make_certs.sh: wrote $FILES to $OUT"
