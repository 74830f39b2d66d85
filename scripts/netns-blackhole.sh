#!/usr/bin/env bash
# Runs a command inside a private network namespace with a real black hole, for the
# Happy Eyeballs test of the C# driver. Start it as root of a new user+network+mount
# namespace (no privileges needed on Debian 12):
#
#   unshare -rnm bash scripts/netns-blackhole.sh COMMAND [ARGS...]
#
# Inside: lo is up; 10.9.9.9/32 is routed into lo, so a SYN to it is looped back and
# dropped by the kernel (not a local address, no forwarding): a connect gets no answer
# at all (no RST, no ICMP), as with a broken path. The host name he.test resolves to
# 10.9.9.9 first and ::1 second (a hosts file bind-mounted over /etc/hosts, and a
# gai.conf that ranks IPv4 first, as an admin preferring IPv4 would). Exports
# WSM_BLACKHOLE_HOST=he.test and WSM_BLACKHOLE_ADDR=10.9.9.9. Nothing outside the
# namespace changes; everything ends with the command.
set -euo pipefail
HOLE=10.9.9.9
NAME=he.test
ip link set lo up
ip route add "$HOLE/32" dev lo
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsm-netns.XXXXXX")
{ cat /etc/hosts; printf '%s %s\n::1 %s\n' "$HOLE" "$NAME" "$NAME"; } >"$TMP/hosts"
mount --bind "$TMP/hosts" /etc/hosts
printf 'precedence ::ffff:0:0/96 100\nprecedence ::1/128 50\nprecedence ::/0 40\n' >"$TMP/gai.conf"
[ -e /etc/gai.conf ] || { echo "netns-blackhole.sh: /etc/gai.conf missing (libc-bin)" >&2; exit 1; }
mount --bind "$TMP/gai.conf" /etc/gai.conf
export WSM_BLACKHOLE_HOST="$NAME" WSM_BLACKHOLE_ADDR="$HOLE"
exec "$@"
