# shellcheck shell=bash
# Helpers shared by scripts/install.sh and scripts/test.sh. Sourced, never run: it sets no
# shell options of its own and expects ROOT (the checkout) to be set by the caller.
: "${ROOT:?ROOT (the checkout) must be set before sourcing scripts/lib/common.sh}"

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

require_root() {
  # $1: the command to suggest, e.g. "sudo ./scripts/install.sh"
  if [ "$(id -u)" -ne 0 ]; then
    die "this must run as root (berthd needs namespaces, cgroups, mounts and a bridge): $1"
  fi
}

# Finds node (NODE=/path/to/node overrides the PATH lookup; sudo resets PATH, so a node from nvm
# or similar needs it) and checks it is Node.js 20 or newer. Sets NODE_BIN.
require_node() {
  NODE_BIN=${NODE:-}
  if [ -z "$NODE_BIN" ]; then
    NODE_BIN=$(command -v node || true)
  fi
  if [ -n "${NODE:-}" ] && [ ! -x "$NODE_BIN" ]; then
    die "NODE=$NODE is not an executable node"
  fi
  if [ -z "$NODE_BIN" ]; then
    die "Node.js 20 or newer is required and no 'node' was found in root's PATH ($PATH).
Install Node.js 20+ (for example from NodeSource's apt repository), or if it is installed for
another user, pass its path: sudo NODE=\"\$(command -v node)\" $0"
  fi
  case $NODE_BIN in
    /*) ;;
    *) NODE_BIN="$(cd "$(dirname "$NODE_BIN")" && pwd -P)/$(basename "$NODE_BIN")" ;;
  esac
  local version major
  version=$("$NODE_BIN" -p 'process.versions.node' 2>/dev/null) || die "$NODE_BIN does not run"
  major=${version%%.*}
  if ! [ "$major" -ge 20 ] 2>/dev/null; then
    die "Node.js 20 or newer is required; $NODE_BIN is $version. Install Node.js 20+ and run this again."
  fi
  # npm sits beside node in every normal install; put that directory first so npm and the
  # scripts it runs use this node.
  PATH="$(dirname "$NODE_BIN"):$PATH"
  export PATH
  command -v npm >/dev/null 2>&1 || die "npm was not found beside $NODE_BIN; install npm (it comes with Node.js from NodeSource or nodejs.org)"
  log "node $version ($NODE_BIN), npm $(npm --version 2>/dev/null </dev/null)"
}

# --- apt ----------------------------------------------------------------------------------
APT_MISSING=()

# need_cmd COMMAND PACKAGE: PACKAGE is wanted when COMMAND is not on PATH.
need_cmd() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$1" ] && [ ! -x "/sbin/$1" ]; then
    APT_MISSING+=("$2")
  fi
}

# need_pkg PACKAGE: wanted when dpkg does not have it installed.
need_pkg() {
  if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; then
    APT_MISSING+=("$1")
  fi
}

# Installs what need_cmd/need_pkg collected. apt-get update runs only when something is missing,
# so a machine that has everything needs no network at all.
apt_install_missing() {
  [ ${#APT_MISSING[@]} -eq 0 ] && return 0
  local pkgs
  # De-duplicate while keeping the order.
  read -r -a pkgs <<<"$(printf '%s\n' "${APT_MISSING[@]}" | awk '!seen[$0]++' | tr '\n' ' ')"
  APT_MISSING=()
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing packages and no apt-get to install them: ${pkgs[*]} (install their equivalents and run this again)"
  fi
  log "installing: ${pkgs[*]}"
  # A fresh VM's unattended-upgrades often holds the dpkg lock for a while after boot: wait for it.
  local aptopts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  if ! DEBIAN_FRONTEND=noninteractive apt-get "${aptopts[@]}" update -qq </dev/null; then
    warn "apt-get update failed; trying to install from the package lists already on this machine"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get "${aptopts[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" </dev/null ||
    die "could not install: ${pkgs[*]}"
}

# --- npm dependencies ---------------------------------------------------------------------
# The native addon (ffi-napi, built by node-gyp on install) is what makes node_modules
# machine-specific. This checks it loads with this node.
addon_loads() {
  (cd "$ROOT" && "$NODE_BIN" -e "require('@2060.io/ffi-napi')" >/dev/null 2>&1 </dev/null)
}

deps_stamp() {
  {
    cat "$ROOT/package.json"
    [ -f "$ROOT/package-lock.json" ] && cat "$ROOT/package-lock.json"
    "$NODE_BIN" -p 'process.versions.node + " " + process.versions.modules + " " + process.platform + " " + process.arch'
  } | sha256sum | cut -d' ' -f1
}

STAMP_FILE=node_modules/.berth-deps-stamp

# True when node_modules matches package.json, the lockfile and this node, and the addon loads:
# then `npm ci` (which deletes node_modules and needs the network or a warm cache) is skipped.
# "Matches": our stamp says so, or, for a node_modules installed by hand, npm's own record of
# it (node_modules/.package-lock.json) is newer than package.json and package-lock.json.
deps_current() {
  [ -z "${BERTH_FORCE_NPM_CI:-}" ] || return 1
  if [ -f "$ROOT/$STAMP_FILE" ]; then
    [ "$(cat "$ROOT/$STAMP_FILE")" = "$(deps_stamp)" ] || return 1
  else
    local hidden="$ROOT/node_modules/.package-lock.json"
    [ -f "$hidden" ] && [ "$hidden" -nt "$ROOT/package.json" ] || return 1
    [ ! -f "$ROOT/package-lock.json" ] || [ "$hidden" -nt "$ROOT/package-lock.json" ] || return 1
  fi
  addon_loads
}

# Wants python3, make and g++ when npm is going to build the addon.
need_addon_toolchain() {
  if ! deps_current; then
    need_cmd python3 python3
    need_cmd make make
    need_cmd g++ g++
  fi
}

# npm ci (npm install without a lockfile), unless node_modules is already current.
install_deps() {
  cd "$ROOT" || die "cannot cd to $ROOT"
  if deps_current; then
    log "node_modules is up to date (set BERTH_FORCE_NPM_CI=1 to reinstall)"
    return 0
  fi
  local npmopts=(--no-audit --no-fund)
  if [ -f package-lock.json ]; then
    log "npm ci"
    local out
    out=$(mktemp)
    if npm ci "${npmopts[@]}" </dev/null >"$out" 2>&1; then
      cat "$out"
    else
      # npm ci refuses a lockfile that lacks an optional platform package the registry did not
      # have when the lockfile was written (rollup's android/win32 builds, say). npm install
      # resolves the same tree from that lockfile; --no-save leaves package-lock.json as it is.
      grep -m 8 'npm error' "$out" >&2 || tail -n 8 "$out" >&2
      warn "npm ci failed (above); trying npm install --no-save"
      npm install --no-save "${npmopts[@]}" </dev/null || die "npm install failed"
    fi
    rm -f "$out"
  else
    log "npm install (no package-lock.json)"
    npm install "${npmopts[@]}" </dev/null || die "npm install failed"
  fi
  if ! addon_loads; then
    # An npm configured with ignore-scripts skips the node-gyp build: do it explicitly.
    log "building the native addon"
    npm rebuild --ignore-scripts=false @2060.io/ref-napi @2060.io/ffi-napi </dev/null || true
    addon_loads || die "the native addon @2060.io/ffi-napi does not load; it needs python3, make and g++ to build (see the npm output above)"
  fi
  deps_stamp >"$STAMP_FILE"
}

build() {
  cd "$ROOT" || die "cannot cd to $ROOT"
  log "npm run build"
  npm run --silent build </dev/null || die "npm run build failed"
}
