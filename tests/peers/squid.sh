#!/usr/bin/env bash
# Runs Debian's squid as a throw-away forward proxy for the tests, in the foreground, as
# the unprivileged test user (wsmproxy, see .ci/install.sh), with its own config and logs
# in DIR (never the system service).
#
#   tests/peers/squid.sh DIR PORT [--auth USER PASSWORD] [--https CERT KEY] [--deny-port N]
#
#   --auth       Basic auth through basic_ncsa_auth and an htpasswd file (realm
#                "wsmachine-test"); without it any client on localhost may CONNECT
#   --https      an HTTPS proxy: https_port with this certificate and key (TLS to the proxy)
#   --deny-port  CONNECT to port N is answered 403
# Logs: DIR/access.log (one line per CONNECT, naming the origin), DIR/cache.log.
# Needs root (to drop to wsmproxy); exec's squid (through setpriv, which leaves no parent
# behind). squid forks helpers: start it with setsid and stop its process group.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DIR PORT [--auth USER PASSWORD] [--https CERT KEY] [--deny-port N]" >&2; exit 2; }
D=$1 PORT=$2; shift 2
AUTH=0 HTTPS="" DENY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --auth) AUTH=1; htpasswd -b -c "$D/htpasswd" "$2" "$3" >/dev/null 2>&1; shift 3 ;;
    --https) HTTPS="tls-cert=$2 tls-key=$3"; shift 3 ;;
    --deny-port) DENY=$2; shift 2 ;;
    *) echo "squid.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$D"
if [ -n "$HTTPS" ]; then echo "https_port 127.0.0.1:$PORT $HTTPS"; else echo "http_port 127.0.0.1:$PORT"; fi >"$D/squid.conf"
cat >>"$D/squid.conf" <<CONF
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
visible_hostname wsm-test-squid
acl CONNECT method CONNECT
CONF
[ -n "$DENY" ] && printf 'acl denied_port port %s\nhttp_access deny CONNECT denied_port\n' "$DENY" >>"$D/squid.conf"
if [ "$AUTH" = 1 ]; then
  cat >>"$D/squid.conf" <<CONF
auth_param basic program /usr/lib/squid/basic_ncsa_auth $D/htpasswd
auth_param basic realm wsmachine-test
acl authed proxy_auth REQUIRED
http_access deny !authed
CONF
fi
printf 'http_access allow localhost\nhttp_access deny all\n' >>"$D/squid.conf"
chown -R wsmproxy "$D"
exec setpriv --reuid=wsmproxy --regid=wsmproxy --init-groups -- squid -N -f "$D/squid.conf"
