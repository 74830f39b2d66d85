#!/usr/bin/env bash
# Install Autobahn|Testsuite 25.10.1 (wstest, Python 2.7) on Debian 12 (bookworm), for
# scripts/autobahn.sh. .ci/install.sh runs it; a second run only checks (< 1 s, no root).
#
#   sudo bash scripts/autobahn/install.sh           # wstest into /opt/autobahn-py2
#   sudo bash scripts/autobahn/install.sh --force   # rebuild the Python 2 venv
#
# Env: AUTOBAHN_PREFIX  (default /opt/autobahn-py2)
#      AUTOBAHN_PYTHON2 (optional: an existing python2.7 to use instead of
#                        Debian bullseye's, e.g. /root/.pyenv/versions/2.7.18/bin/python2.7)
#
# What it does (idempotent; a second run only checks and exits):
#   1. adds Debian *bullseye* as an apt source with Pin-Priority 100, so only
#      packages that bookworm lacks (python2.7, libssl1.1, libffi7, ...) come
#      from it and nothing from bookworm is replaced or upgraded;
#   2. apt-installs python2.7 python2.7-dev gcc libc6-dev openssl ca-certificates;
#   3. fetches virtualenv 16.7.12 (legacy single-module virtualenv: no deps, runs on Python 2, bundles
#      pip 20.3.4 + setuptools 44.1.1) with a Python 3 `pip download`;
#   4. creates a Python 2.7 virtualenv in $PREFIX and pip-installs the exact
#      pins of autobahntestsuite 25.10.1 (plus a lock of their transitive deps);
#   5. checks that $PREFIX/bin/wstest runs and writes a stamp file.
set -euo pipefail

PREFIX="${AUTOBAHN_PREFIX:-/opt/autobahn-py2}"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[autobahn-install] %s\n' "$*"; }
die() { printf '[autobahn-install] ERROR: %s\n' "$*" >&2; exit 1; }


ATS_VERSION=25.10.1
VIRTUALENV_VERSION=16.7.12
PY2_OVERRIDE="${AUTOBAHN_PYTHON2:-}"
PY2="${PY2_OVERRIDE:-/usr/bin/python2.7}"

# Pins from autobahntestsuite-25.10.1's own requirements.txt (the sdist's
# setup.py fails to find that file and declares *no* install_requires, so they
# must be installed explicitly), followed by the transitive dependencies that
# resolved on 2025 PyPI for Python 2.7 (locked so that reinstalls are identical).
read -r -d '' REQS <<'EOF' || true
setuptools==44.0.0
txaio==2.1.0
incremental==16.10.1
pyOpenSSL==19.1.0
cryptography==3.3.2
Twisted==19.10.0
zope.interface==4.6.0
jinja2==2.11.3
markupsafe==1.1.1
Werkzeug==1.0.1
klein==17.10.0
service_identity==18.1.0
unittest2==1.1.0
six==1.16.0
autobahn[accelerate,twisted]==0.10.9
attrs==21.4.0
Automat==22.10.0
cffi==1.15.1
constantly==15.1.0
enum34==1.1.10
hyperlink==21.0.0
idna==2.10
ipaddress==1.0.23
linecache2==1.0.0
pyasn1==0.5.1
pyasn1-modules==0.3.0
pycparser==2.21
PyHamcrest==1.10.1
traceback2==1.4.0
typing==3.10.0.0
ujson==2.0.3
wsaccel==0.6.6
EOF

FINGERPRINT="$(printf '%s\n%s\n%s\n' "ats=$ATS_VERSION venv=$VIRTUALENV_VERSION" "$REQS" "v2" | sha256sum | cut -c1-16)"
STAMP="$PREFIX/.autobahn-installed"

# ---------------------------------------------------------------- fast path
if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] \
   && [ "$(cat "$STAMP" 2>/dev/null)" = "$FINGERPRINT" ] \
   && "$PREFIX/bin/python" -c 'import autobahntestsuite, autobahn, twisted, OpenSSL' 2>/dev/null; then
  log "already installed: $PREFIX/bin/wstest (autobahntestsuite $ATS_VERSION) - nothing to do"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (installs apt packages and $PREFIX)"
[ -r /etc/debian_version ] || die "this script is for Debian 12 (bookworm)"

T0=$(date +%s)

# ---------------------------------------------------------------- 1. apt source
APT_PKGS="gcc libc6-dev openssl ca-certificates"
if [ -n "$PY2_OVERRIDE" ]; then
  log "using AUTOBAHN_PYTHON2=$PY2 (no bullseye apt source needed)"
else
  APT_PKGS="python2.7 python2.7-dev $APT_PKGS"
  SRC=/etc/apt/sources.list.d/bullseye-py2.sources
  PIN=/etc/apt/preferences.d/bullseye-py2.pref
  want_src='Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
  want_pin='# Only take from bullseye what bookworm does not have (python2.7 and its libs).
Package: *
Pin: release n=bullseye
Pin-Priority: 100'
  # The pin must exist before the source is ever used.
  if [ "$(cat "$PIN" 2>/dev/null)" != "$want_pin" ]; then
    log "writing apt pin $PIN (bullseye priority 100)"
    printf '%s\n' "$want_pin" > "$PIN"
  fi
  if [ "$(cat "$SRC" 2>/dev/null)" != "$want_src" ]; then
    log "adding apt source $SRC (Debian bullseye main)"
    printf '%s\n' "$want_src" > "$SRC"
    rm -f /var/lib/apt/lists/*bullseye* 2>/dev/null || true   # force a fresh apt-get update below
  fi
fi

# ---------------------------------------------------------------- 2. apt packages
missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ -z "$(ls /var/lib/apt/lists 2>/dev/null | grep -i -e bullseye -e bookworm)" ] \
     || { [ -z "$PY2_OVERRIDE" ] && ! apt-cache policy python2.7 2>/dev/null | grep -q 'Candidate: 2\.7'; }; then
    log "apt-get update"
    apt-get update -q >/dev/null || log "WARNING: apt-get update reported errors"
  fi
  log "apt: installing$missing"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null; then
    # bullseye may some day leave deb.debian.org (moved to archive.debian.org,
    # which is not reachable here): fall back to a pyenv-built 2.7 if present.
    alt="$(ls -d /root/.pyenv/versions/2.7.*/bin/python2.7 2>/dev/null | tail -n1)"
    if [ -z "$PY2_OVERRIDE" ] && [ -n "$alt" ]; then
      log "WARNING: apt could not install python2.7 from bullseye; falling back to $alt"
      PY2="$alt"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev openssl ca-certificates >/dev/null \
        || die "apt-get install gcc libc6-dev openssl ca-certificates failed"
    else
      die "apt-get install$missing failed (set AUTOBAHN_PYTHON2=/path/to/python2.7 to use another Python 2.7)"
    fi
  fi
else
  log "apt packages already present ($APT_PKGS)"
fi
[ -x "$PY2" ] || die "$PY2 missing after apt install"
log "python2: $("$PY2" -c 'import sys,ssl; print("%s / %s" % (sys.version.split()[0], ssl.OPENSSL_VERSION))')"

# ---------------------------------------------------------------- 3. virtualenv bootstrap
WORK="$(mktemp -d /tmp/autobahn-install.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

find_py3_pip() {
  local c
  for c in python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -m pip --version >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}
PY3PIP="$(find_py3_pip || true)"
if [ -z "$PY3PIP" ]; then
  log "apt: installing python3-pip (only used for 'pip download')"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip >/dev/null
  PY3PIP="$(find_py3_pip)" || die "no python3 with pip available"
fi

if [ "$FORCE" = 1 ] || ! "$PREFIX/bin/python" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null; then
  log "downloading virtualenv==$VIRTUALENV_VERSION wheel (with $PY3PIP -m pip download)"
  "$PY3PIP" -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: \
      -d "$WORK/dl" "virtualenv==$VIRTUALENV_VERSION"
  "$PY3PIP" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$WORK"/dl/virtualenv-"$VIRTUALENV_VERSION"-*.whl "$WORK/venvboot"
  log "creating Python 2.7 virtualenv $PREFIX (bundled pip 20.3.4, setuptools 44.1.1)"
  if [ -d "$PREFIX" ]; then   # keep an existing Python 3 refclient venv
    find "$PREFIX" -mindepth 1 -maxdepth 1 ! -name refclient -exec rm -rf {} +
  fi
  "$PY2" "$WORK/venvboot/virtualenv.py" --no-download -p "$PY2" "$PREFIX" >"$WORK/venv.log" 2>&1 \
      || { cat "$WORK/venv.log" >&2; die "virtualenv creation failed"; }
else
  log "Python 2.7 virtualenv $PREFIX exists"
fi
PIP=("$PREFIX/bin/python" -m pip --disable-pip-version-check --no-python-version-warning)
log "venv pip: $("${PIP[@]}" --version)"

# ---------------------------------------------------------------- 4. pinned packages
printf '%s\n' "$REQS" > "$WORK/requirements.txt"
export PYTHONWARNINGS=ignore
log "pip install pinned requirements (Twisted 19.10.0, autobahn 0.10.9, ...; builds wsaccel from source, ~1 min)"
if ! "${PIP[@]}" install -q --prefer-binary \
      --only-binary cryptography,cffi,Twisted,zope.interface \
      -r "$WORK/requirements.txt" >"$WORK/pip.log" 2>&1; then
  tail -n 30 "$WORK/pip.log" >&2
  log "WARNING: install with autobahn[accelerate] failed - retrying without wsaccel/ujson"
  grep -v -E '^(wsaccel|ujson)==' "$WORK/requirements.txt" \
    | sed 's/^autobahn\[accelerate,twisted\]/autobahn[twisted]/' > "$WORK/requirements-noaccel.txt"
  "${PIP[@]}" install -q --prefer-binary --only-binary cryptography,cffi,Twisted,zope.interface \
      -r "$WORK/requirements-noaccel.txt" >"$WORK/pip.log" 2>&1 \
      || { tail -n 40 "$WORK/pip.log" >&2; die "pip install of pinned requirements failed"; }
fi
log "pip install autobahntestsuite==$ATS_VERSION (--no-deps)"
"${PIP[@]}" install -q --no-deps "autobahntestsuite==$ATS_VERSION" >"$WORK/pip2.log" 2>&1 \
  || { tail -n 30 "$WORK/pip2.log" >&2; die "pip install autobahntestsuite failed"; }
"${PIP[@]}" check >/dev/null 2>&1 || log "WARNING: pip check reports problems: $("${PIP[@]}" check 2>&1 | tr '\n' ' ')"
"${PIP[@]}" freeze 2>/dev/null | grep -v '^-f ' > "$PREFIX/installed-versions.txt" || true

# ---------------------------------------------------------------- 5. verify
[ -x "$PREFIX/bin/wstest" ] || die "$PREFIX/bin/wstest not created"
"$PREFIX/bin/wstest" --autobahnversion >"$WORK/ver.txt" 2>&1 || { cat "$WORK/ver.txt" >&2; die "wstest does not run"; }
"$PREFIX/bin/python" -c 'import twisted.internet.ssl, OpenSSL.SSL, autobahntestsuite.fuzzing' \
  || die "TLS / fuzzing modules not importable"
printf '%s\n' "$FINGERPRINT" > "$STAMP"
log "$(tr '\n' ' ' < "$WORK/ver.txt")"
log "OK: $PREFIX/bin/wstest ready ($(( $(date +%s) - T0 ))s); versions in $PREFIX/installed-versions.txt"
