#!/usr/bin/env bash
# The corporate-inspection case of docs/SECURITY.md, end to end (tests/corporate.rs):
# Debian's squid (squid-openssl) with ssl_bump re-signs a wss echo server's certificate
# with a throw-away "corporate" CA, placed in a bundle that the client sees as the
# operating system's store (SSL_CERT_FILE). Everything lives in a temporary directory,
# on ephemeral ports; squid runs in the foreground of its own process group as Debian's
# `proxy` user with its own config (never the system service).
#
#   bash scripts/test-trust-squid.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fail() { echo "test-trust-squid.sh: $*" >&2; exit 1; }
for t in squid openssl python3 cargo setsid; do command -v $t >/dev/null || fail "$t not found (bash .ci/install.sh)"; done
CERTGEN=/usr/lib/squid/security_file_certgen
[ -x "$CERTGEN" ] || fail "$CERTGEN missing: squid-openssl is needed (apt-get install squid-openssl)"
[ "$(id -u)" = 0 ] || fail "run as root (squid drops to the proxy user)"

D="$(mktemp -d /tmp/wsm-trust-squid.XXXXXX)"
chmod 755 "$D"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$D"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The origin: the usual test PKI (its CA is what squid trusts upstream).
bash "$ROOT/tests/peers/make_certs.sh" "$D/origin" >/dev/null
python3 "$ROOT/tests/peers/echo_server.py" --port 0 --tls-cert "$D/origin/server.pem" \
  --tls-key "$D/origin/server.key" >"$D/origin.port" 2>"$D/origin.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^PORT ' "$D/origin.port" && break; sleep 0.1; done
ORIGIN=$(awk '/^PORT /{print $2; exit}' "$D/origin.port")
[ -n "$ORIGIN" ] || { cat "$D/origin.log"; fail "origin did not start"; }

# The corporate CA squid re-signs with, and the "system" bundle holding it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/corp.key" -out "$D/corp.pem" -days 30 \
  -subj "/CN=Example Corp TLS Inspection CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "corporate CA"
cp "$D/corp.pem" "$D/system-bundle.pem"

SQUID=$(free_port)
"$CERTGEN" -c -s "$D/ssl_db" -M 4MB >/dev/null || fail "security_file_certgen -c"
cat >"$D/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID ssl-bump tls-cert=$D/corp.pem tls-key=$D/corp.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program $CERTGEN -s $D/ssl_db -M 4MB
sslcrtd_children 2 startup=1 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$D/origin/ca.pem
http_upgrade_request_protocols websocket allow all
pid_filename $D/squid.pid
access_log stdio:$D/access.log
cache_log $D/cache.log
cache_store_log none
cache deny all
coredump_dir $D
pinger_enable off
netdb_filename none
logfile_rotate 0
shutdown_lifetime 0 seconds
visible_hostname wsm-trust-squid
cache_effective_user proxy
http_access allow localhost
http_access deny all
CONF
chown -R proxy "$D"
setsid squid -N -f "$D/squid.conf" >"$D/squid.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $SQUID), 0.2)" 2>/dev/null && break
  sleep 0.1
done

set +e
(cd "$ROOT" && WSM_SQUID_PORT=$SQUID WSM_ORIGIN_PORT=$ORIGIN WSM_CORP_BUNDLE="$D/corp.pem" \
  SSL_CERT_FILE="$D/system-bundle.pem" cargo test --quiet --test corporate -- --ignored)
RC=$?
set -e
if [ $RC != 0 ]; then
  echo "--- squid cache.log"; tail -30 "$D/cache.log" 2>/dev/null; cat "$D/squid.out"
  echo "--- squid access.log"; cat "$D/access.log" 2>/dev/null
  fail "tests/corporate.rs failed"
fi
grep -q "CONNECT localhost:$ORIGIN" "$D/access.log" || fail "squid's access.log shows no CONNECT to the origin"
echo "test-trust-squid.sh: OK (squid ssl_bump, corporate CA via SSL_CERT_FILE)"
