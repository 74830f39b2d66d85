#!/usr/bin/env bash
# Make a Debian 12 machine (rustup cargo/rustc, gcc, pyenv python3+pip, Node.js+npm, git)
# ready for every wsmachine test. Idempotent: a second run only checks (a few seconds)
# and needs no root; installing apt packages and Autobahn needs root (or sudo).
# scripts/test.sh runs it first (WSM_NO_INSTALL=1 skips that). Everything it uses is in
# this repository: nothing outside the checkout is read.
#
#   bash .ci/install.sh
#
# Installs:
#   apt    mono-runtime mono-mcs nunit-console libnunit-cil-dev  (C# binding tests: mcs, NUnit 2.6.4)
#          openssl valgrind
#          iproute2 util-linux (ip, unshare: the C# tests' private network namespace with a black hole)
#          squid-openssl tinyproxy dante-server apache2-utils  (scripts/test-proxy.sh: real
#          proxies; squid-openssl also for scripts/test-trust-squid.sh, ssl_bump re-signing;
#          proxies, started unprivileged by the test on ephemeral ports; their system services
#          are stopped and disabled here so that they hold no ports)
#          cmake pkgconf  (C++ wrapper and example, CMake package and pkg-config tests: scripts/test-native.sh)
#          gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 wine gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#          (cross tests; optional: a failure prints "SKIPPED: <pkg>: <reason>" and goes on)
#          clang-14 lld-14 llvm-14  (Apple builds on Linux, scripts/lib-apple.sh; optional too)
#   pip    websockets==$WEBSOCKETS_VERSION (for the python3 on PATH; tests/peers/echo_server.py)
#   pip    ziglang==$ZIGLANG_VERSION (optional: its Apple libc headers, libSystem stub and -r linker
#          for the Apple builds, scripts/lib-apple.sh; SKIPPED on failure)
#   npm    ws (tests/peers/node, npm ci; also the C# reconnect test's restart_server.js)
#   apt    emscripten chromium   (WebGL jslib tests: emcc builds the test page, headless Chromium runs it)
#   npm    playwright-core (tests/webgl, npm ci; drives /usr/bin/chromium, downloads no browser)
#   cargo  cbindgen $CBINDGEN_VERSION (cargo install --locked)
#   rustup targets x86_64-pc-windows-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin
#          x86_64-apple-darwin aarch64-apple-ios (optional, SKIPPED on failure)
#   Autobahn|Testsuite 25.10.1 (pinned, Python 2.7, /opt/autobahn-py2) via
#          scripts/autobahn/install.sh
set -euo pipefail

WEBSOCKETS_VERSION=17.4
CBINDGEN_VERSION=0.29.4
ZIGLANG_VERSION=0.17.1

APT_REQUIRED="mono-runtime mono-mcs nunit-console libnunit-cil-dev openssl valgrind iproute2 util-linux squid-openssl tinyproxy dante-server apache2-utils cmake pkgconf"
APT_OPTIONAL="gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 wine gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user clang-14 lld-14 llvm-14"
RUST_TARGETS="x86_64-pc-windows-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin x86_64-apple-darwin aarch64-apple-ios"

log() { printf '[install] %s\n' "$*"; }
skip() { printf 'SKIPPED: %s\n' "$*"; SKIPPED_COUNT=$((SKIPPED_COUNT + 1)); }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }
SKIPPED_COUNT=0
T_START=$(date +%s)

# Root for apt and Autobahn, only when something is missing.
if [ "$(id -u)" = 0 ]; then AS_ROOT=(); elif command -v sudo >/dev/null 2>&1; then AS_ROOT=(sudo -E); else AS_ROOT=(no-root); fi
as_root() {
  [ "${AS_ROOT[0]:-}" = no-root ] && die "not root and no sudo: cannot run $*"
  "${AS_ROOT[@]}" "$@"
}
export DEBIAN_FRONTEND=noninteractive
[ -d "$HOME/.cargo/bin" ] && case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
export PATH

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/.." && pwd))"

# ------------------------------------------------------------------ apt
# (no `cmd | grep -q` under pipefail: grep exiting early would SIGPIPE the writer)
is_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
has_candidate() { local c; c="$(apt-cache policy "$1" 2>/dev/null || true)"; [[ "$c" == *"Candidate: "[0-9]* ]]; }

missing_req=""; missing_opt=""
for p in $APT_REQUIRED; do is_installed "$p" || missing_req="$missing_req $p"; done
for p in $APT_OPTIONAL; do is_installed "$p" || missing_opt="$missing_opt $p"; done

if [ -z "$missing_req$missing_opt" ]; then
  log "apt: all packages present ($APT_REQUIRED $APT_OPTIONAL)"
else
  log "apt-get update"
  as_root apt-get update -q >/dev/null || log "WARNING: apt-get update reported errors"
  APT_INSTALL=(as_root apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0)
  if [ -n "$missing_req" ]; then
    log "apt: installing$missing_req"
    "${APT_INSTALL[@]}" $missing_req >/tmp/wsm-apt.log 2>&1 \
      || { tail -n 30 /tmp/wsm-apt.log >&2; die "apt-get install$missing_req failed"; }
  fi
  avail=""
  for p in $missing_opt; do
    if has_candidate "$p"; then avail="$avail $p"; else skip "$p: no installation candidate in apt"; fi
  done
  if [ -n "$avail" ]; then
    log "apt: installing$avail"
    if ! "${APT_INSTALL[@]}" $avail >/tmp/wsm-apt.log 2>&1; then
      log "apt: group install failed, trying one package at a time"
      for p in $avail; do
        if ! "${APT_INSTALL[@]}" "$p" >/tmp/wsm-apt.log 2>&1; then
          skip "$p: apt-get install failed: $(grep -E '^E:' /tmp/wsm-apt.log | head -n1)"
        fi
      done
    fi
  fi
fi
# The proxies' system services are not used: the proxy tests start their own instances.
for svc in squid tinyproxy danted; do
  if [ -x "/etc/init.d/$svc" ] && pgrep -x "$svc" >/dev/null 2>&1; then
    log "stopping the $svc system service (the tests start their own)"
    "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done
command -v squid >/dev/null && command -v tinyproxy >/dev/null && command -v danted >/dev/null \
  && command -v htpasswd >/dev/null || die "squid/tinyproxy/danted/htpasswd missing after apt install"
# The proxy tests run squid, tinyproxy and dante as this unprivileged user; dante's
# username/password method checks system accounts, so the user has this fixed test
# password (a system account without a shell or home) and reads /etc/shadow through
# the shadow group. scripts/test-proxy.sh uses the same name and password.
PROXY_TEST_USER=wsmproxy PROXY_TEST_PASSWORD=wsm-socks-test
if ! id "$PROXY_TEST_USER" >/dev/null 2>&1; then
  log "adding the proxy test user $PROXY_TEST_USER"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --groups shadow "$PROXY_TEST_USER"
fi
[[ " $(id -nG "$PROXY_TEST_USER") " == *" shadow "* ]] || usermod -aG shadow "$PROXY_TEST_USER"
echo "$PROXY_TEST_USER:$PROXY_TEST_PASSWORD" | chpasswd
command -v mcs >/dev/null && command -v nunit-console >/dev/null && command -v mono >/dev/null \
  || die "mono/mcs/nunit-console missing after apt install"
NUNIT_DLL="$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll 2>/dev/null | head -n1 || true)"
[ -n "$NUNIT_DLL" ] || die "nunit.framework.dll not found under /usr/lib/cli (libnunit-cil-dev)"
log "mono: $(mono --version | head -n1); mcs $(mcs --version | awk '{print $NF}'); NUnit framework: $NUNIT_DLL"

# Wine: create the prefix once, so the first test run does not spend ~10-20 s in wineboot.
if command -v wine >/dev/null 2>&1 && [ ! -f "${WINEPREFIX:-$HOME/.wine}/system.reg" ]; then
  log "wine: initialising prefix ${WINEPREFIX:-$HOME/.wine}"
  WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" timeout 180 wine wineboot --init >/dev/null 2>&1 || true
  timeout 60 wineserver -w 2>/dev/null || true
  [ -f "${WINEPREFIX:-$HOME/.wine}/system.reg" ] || log "WARNING: wine prefix not created (wine will create it on first use)"
fi

# ------------------------------------------------------------------ pip
PY=python3
have_ws="$("$PY" -c 'import websockets; print(websockets.__version__)' 2>/dev/null || true)"
if [ "$have_ws" = "$WEBSOCKETS_VERSION" ]; then
  log "pip: websockets $WEBSOCKETS_VERSION present ($(command -v "$PY"))"
else
  log "pip: installing websockets==$WEBSOCKETS_VERSION into $("$PY" -c 'import sys; print(sys.executable)') (had: ${have_ws:-none})"
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore "websockets==$WEBSOCKETS_VERSION"
  command -v pyenv >/dev/null 2>&1 && pyenv rehash 2>/dev/null || true
  "$PY" -c "import websockets.asyncio.server, sys; sys.exit(websockets.__version__ != '$WEBSOCKETS_VERSION')" \
    || die "websockets $WEBSOCKETS_VERSION not importable"
fi

# Apple builds (optional): ziglang's Apple libc headers and libSystem stub, and its Mach-O -r.
have_zig="$("$PY" -c 'import importlib.metadata as m; print(m.version("ziglang"))' 2>/dev/null || true)"
if [ "$have_zig" = "$ZIGLANG_VERSION" ]; then
  log "pip: ziglang $ZIGLANG_VERSION present"
else
  log "pip: installing ziglang==$ZIGLANG_VERSION (had: ${have_zig:-none}; Apple builds only)"
  if ! "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore "ziglang==$ZIGLANG_VERSION" >/tmp/wsm-pip.log 2>&1; then
    skip "pip ziglang==$ZIGLANG_VERSION: $(tail -n1 /tmp/wsm-pip.log) (scripts/test-apple.sh will skip)"
  fi
fi

# ------------------------------------------------------------------ cargo
if [ "$(cbindgen --version 2>/dev/null || true)" = "cbindgen $CBINDGEN_VERSION" ]; then
  log "cargo: cbindgen $CBINDGEN_VERSION present"
else
  log "cargo: installing cbindgen $CBINDGEN_VERSION (cargo install --locked, ~1 min)"
  cargo install -q --locked cbindgen --version "=$CBINDGEN_VERSION" --force
  [ "$(cbindgen --version)" = "cbindgen $CBINDGEN_VERSION" ] || die "cbindgen $CBINDGEN_VERSION not on PATH"
fi

# ------------------------------------------------------------------ rustup targets
# Run in the repo so that a rust-toolchain.toml there (if any) picks the toolchain.
installed_targets="$(cd "$REPO" && rustup target list --installed 2>/dev/null || true)"
for t in $RUST_TARGETS; do
  if [[ $'\n'"$installed_targets"$'\n' == *$'\n'"$t"$'\n'* ]]; then
    log "rustup: target $t present"
  else
    log "rustup: adding target $t"
    if ! out="$(cd "$REPO" && rustup target add "$t" 2>&1)"; then
      skip "rust target $t: rustup target add failed: $(printf '%s\n' "$out" | grep -i error | head -n1)"
    fi
  fi
done

# ------------------------------------------------------------------ npm
# Node's `ws` for the permessage-deflate interop test (tests/interop.rs); Node.js and npm
# come with the machine image. `npm ci` installs exactly package-lock.json.
if [ -d "$REPO/tests/peers/node/node_modules/ws" ]; then
  log "npm: tests/peers/node already installed"
else
  command -v npm >/dev/null || die "npm not found (Node.js is needed for tests/peers/node)"
  log "npm: npm ci in tests/peers/node"
  (cd "$REPO/tests/peers/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ------------------------------------------------------------------ WebGL (scripts/test-webgl.sh)
# Debian's emscripten (emcc compiles the jslib into a test page) and Debian's Chromium
# (runs it headless), driven by playwright-core pinned in tests/webgl/package-lock.json.
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: we use /usr/bin/chromium, never a downloaded browser.
WEBGL_APT="emscripten chromium"
missing_webgl=""
for p in $WEBGL_APT; do is_installed "$p" || missing_webgl="$missing_webgl $p"; done
if [ -z "$missing_webgl" ]; then
  log "apt: $WEBGL_APT present"
else
  log "apt: installing$missing_webgl (apt-get update first)"
  as_root apt-get update -q >/dev/null || log "WARNING: apt-get update reported errors"
  as_root apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 $missing_webgl >/tmp/wsm-apt.log 2>&1 \
    || { tail -n 30 /tmp/wsm-apt.log >&2; die "apt-get install$missing_webgl failed"; }
fi
command -v emcc >/dev/null && [ -x /usr/bin/chromium ] || die "emcc or /usr/bin/chromium missing after apt install"
if [ -d "$REPO/tests/webgl/node_modules/playwright-core" ]; then
  log "npm: tests/webgl already installed"
else
  log "npm: npm ci in tests/webgl"
  (cd "$REPO/tests/webgl" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# ------------------------------------------------------------------ Autobahn
# The repository's own installer (pinned versions; < 1 s and no root when present).
AB="$REPO/scripts/autobahn/install.sh"
[ -f "$AB" ] || die "$AB missing"
if [ "$(id -u)" = 0 ]; then
  bash "$AB"
else
  bash "$AB" 2>/dev/null || as_root bash "$AB"
fi

log "done in $(( $(date +%s) - T_START ))s; SKIPPED items: $SKIPPED_COUNT"
