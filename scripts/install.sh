#!/usr/bin/env bash
# Installs berth from this checkout and starts berthd on /run/berth.sock:
#
#   sudo ./scripts/install.sh
#
# For a root shell on Debian 12 or Ubuntu 24.04 with Node.js 20+. Safe to run again: it installs
# only what is missing (apt-get update runs only then, so it works offline once node_modules is
# present), rebuilds, and leaves a running berthd alone unless --restart is given.
#
# Where systemd is PID 1 it installs and enables berthd.service; elsewhere (containers, CI
# machines) it starts berthd in the background, logging to /var/log/berthd.log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"

usage() {
  cat <<EOF
usage: sudo $0 [--restart] [--no-start] [--busybox-image]

  --restart        restart berthd if it is already running, to load this build
                   (it stops its containers on the way down)
  --no-start       install and build only; do not start berthd
  --busybox-image  also install busybox-static and import a 'busybox' image built from
                   /bin/busybox into berth, if berth has none (for machines that reach no registry)

Environment: NODE=/path/to/node when node is not in root's PATH;
BERTH_FORCE_NPM_CI=1 to reinstall node_modules even when it looks current.
EOF
}

RESTART=0
START=1
BUSYBOX_IMAGE=0
for arg in "$@"; do
  case $arg in
    --restart) RESTART=1 ;;
    --no-start) START=0 ;;
    --busybox-image) BUSYBOX_IMAGE=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done

require_root "sudo $0"
require_node

case $ROOT in
  *"'"*) die "the checkout's path contains a single quote, which the wrapper scripts cannot hold: $ROOT" ;;
esac

LIBDIR=/usr/local/lib/berth
UNIT=/etc/systemd/system/berthd.service
LOGFILE=/var/log/berthd.log

# --- system packages ------------------------------------------------------------------------
need_cmd ip iproute2
need_cmd nsenter util-linux
need_cmd setsid util-linux
need_cmd iptables iptables # isolation between networks, masquerading, DNAT for published ports
need_cmd ps procps        # docker top
if ! grep -qw overlay /proc/filesystems; then
  need_cmd modprobe kmod
fi
need_addon_toolchain
if [ "$BUSYBOX_IMAGE" = 1 ]; then
  need_pkg busybox-static
fi
apt_install_missing

if ! grep -qw overlay /proc/filesystems; then
  modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems ||
    warn "overlayfs is not available (modprobe overlay failed); berthd needs it to run containers"
fi
if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ ! -d /sys/fs/cgroup/memory ]; then
  warn "no cgroup v2 or v1 memory hierarchy under /sys/fs/cgroup; berthd needs cgroups for limits"
fi

# --- build ----------------------------------------------------------------------------------
install_deps
build
[ -f "$ROOT/dist/daemon/main.js" ] || die "the build did not produce dist/daemon/main.js"
[ -f "$ROOT/dist/client/main.js" ] || die "the build did not produce dist/client/main.js"

# --- commands -------------------------------------------------------------------------------
# Small wrappers that exec node on the built JS of this checkout, linked from /usr/local/bin.
# exec keeps berthd's PID the wrapper's, which systemd and the pidfile rely on.
write_wrapper() { # name, script
  local tmp
  tmp=$(mktemp "$LIBDIR/.$1.XXXXXX")
  cat >"$tmp" <<EOF
#!/bin/sh
# Written by $ROOT/scripts/install.sh: runs $1 from that checkout.
exec '$NODE_BIN' '$ROOT/$2' "\$@"
EOF
  chmod 0755 "$tmp"
  mv -f "$tmp" "$LIBDIR/$1"
  ln -sfn "$LIBDIR/$1" "/usr/local/bin/$1"
}
mkdir -p "$LIBDIR"
write_wrapper berthd dist/daemon/main.js
write_wrapper berth dist/client/main.js
log "linked /usr/local/bin/berthd and /usr/local/bin/berth to $LIBDIR"

# --- where the daemon listens ---------------------------------------------------------------
# The defaults, or what /etc/berth/daemon.json says (same keys as dockerd's).
read -r SOCKET PIDFILE < <("$NODE_BIN" -e '
  let c = {};
  try { c = JSON.parse(require("fs").readFileSync("/etc/berth/daemon.json", "utf8")); } catch {}
  const host = (Array.isArray(c.hosts) && c.hosts[0]) || "unix:///run/berth.sock";
  console.log(host.replace(/^unix:\/\//, ""), c.pidfile || "/run/berth.pid");
' </dev/null)
HOST="unix://$SOCKET"

ping_ok() {
  if command -v curl >/dev/null 2>&1; then
    [ "$(curl -fsS --max-time 3 --unix-socket "$SOCKET" http://localhost/_ping 2>/dev/null)" = OK ]
  else
    "$NODE_BIN" -e '
      const req = require("http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 3000 }, (res) => {
        let b = "";
        res.on("data", (c) => (b += c));
        res.on("end", () => process.exit(res.statusCode === 200 && b === "OK" ? 0 : 1));
      });
      req.on("error", () => process.exit(1));
      req.on("timeout", () => req.destroy());
    ' "$SOCKET" </dev/null
  fi
}

# The PID in the pidfile, if that process is alive.
daemon_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# wait_ping SECONDS [PID]: until _ping answers OK; fails early when PID exits.
wait_ping() {
  local i
  for ((i = 0; i < $1 * 4; i++)); do
    ping_ok && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
      return 1
    fi
    sleep 0.25
  done
  return 1
}

# --- service --------------------------------------------------------------------------------
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  HAVE_SYSTEMD=1
else
  HAVE_SYSTEMD=0
fi

write_unit() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
# Written by $ROOT/scripts/install.sh.
[Unit]
Description=berth container engine (Docker Engine API on $HOST)
Documentation=file://$ROOT/README.md
After=network-online.target local-fs.target
Wants=network-online.target
StartLimitIntervalSec=60
StartLimitBurst=3

[Service]
Type=simple
ExecStart=/usr/local/bin/berthd
# KillMode=mixed: on 'systemctl stop' SIGTERM goes to berthd alone, which stops its containers
# itself (each gets its stop signal, then SIGKILL after 10 s) and removes its veths, cgroups,
# bridge, socket and pidfile. The default, control-group, would SIGTERM every process in the
# unit at once, racing berthd's ordered shutdown; 'process' would leave anything still in the
# unit's cgroup running after a hung berthd. With 'mixed', whatever remains once berthd has
# exited, or when TimeoutStopSec runs out, gets SIGKILL.
KillMode=mixed
TimeoutStopSec=30
# berthd writes cgroups itself (its containers' under --cgroup-parent, 'berth' by default):
# Delegate=yes tells systemd to leave the cgroups it manages alone.
Delegate=yes
Restart=on-failure
RestartSec=2
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-500

[Install]
WantedBy=multi-user.target
EOF
  if cmp -s "$tmp" "$UNIT"; then
    rm -f "$tmp"
  else
    install -m 0644 "$tmp" "$UNIT"
    rm -f "$tmp"
    log "wrote $UNIT"
    systemctl daemon-reload
  fi
}

start_systemd() {
  write_unit
  systemctl enable --quiet berthd
  [ "$START" = 1 ] || return 0
  local pid
  pid=$(daemon_pid || true)
  if [ -n "$pid" ] && ! systemctl is-active --quiet berthd; then
    die "berthd (pid $pid, from $PIDFILE) is running outside systemd; stop it (kill $pid) and run this again"
  fi
  if systemctl is-active --quiet berthd; then
    if [ "$RESTART" = 1 ]; then
      log "restarting berthd.service"
      systemctl restart berthd
    else
      log "berthd.service is already running; to load this build: systemctl restart berthd (stops its containers)"
    fi
  else
    log "starting berthd.service"
    systemctl start berthd || true
  fi
  if ! wait_ping 30; then
    systemctl --no-pager status berthd >&2 || true
    journalctl --no-pager -u berthd -n 30 >&2 || true
    die "berthd did not answer on $SOCKET"
  fi
}

start_background() {
  [ "$START" = 1 ] || return 0
  local pid
  pid=$(daemon_pid || true)
  if [ -n "$pid" ] && [ "$RESTART" = 1 ]; then
    log "stopping berthd (pid $pid)"
    kill -TERM "$pid"
    local i=0
    while kill -0 "$pid" 2>/dev/null; do
      ((++i <= 120)) || die "berthd (pid $pid) did not stop within 30 s"
      sleep 0.25
    done
    pid=
  fi
  if [ -n "$pid" ]; then
    if wait_ping 30 "$pid"; then
      log "berthd is already running (pid $pid); to load this build: sudo $0 --restart (stops its containers)"
      return 0
    fi
    die "berthd (pid $pid) is running but does not answer on $SOCKET; see $LOGFILE"
  fi
  log "starting berthd in the background (no systemd), logging to $LOGFILE"
  mkdir -p "$(dirname "$LOGFILE")"
  printf '\n--- %s: started by %s\n' "$(date -Is)" "$0" >>"$LOGFILE"
  # setsid: its own session, so neither this shell's end nor a Ctrl-C in it reaches berthd.
  setsid nohup /usr/local/bin/berthd >>"$LOGFILE" 2>&1 </dev/null &
  pid=$!
  if ! wait_ping 30 "$pid"; then
    tail -n 30 "$LOGFILE" >&2 || true
    die "berthd did not answer on $SOCKET (log: $LOGFILE)"
  fi
  log "berthd is running (pid $pid)"
}

if [ "$HAVE_SYSTEMD" = 1 ]; then
  start_systemd
else
  start_background
fi

# --- a busybox image ------------------------------------------------------------------------
# No registry may be reachable here: make 'busybox' from Debian's static busybox, as the tests do.
import_busybox() {
  local status tmp
  if command -v curl >/dev/null 2>&1; then
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --unix-socket "$SOCKET" http://localhost/images/busybox:latest/json || true)
  else
    status=$("$NODE_BIN" -e '
      require("http").get({ socketPath: process.argv[1], path: "/images/busybox:latest/json" }, (r) => { console.log(r.statusCode); r.resume(); })
        .on("error", () => console.log(0));
    ' "$SOCKET" </dev/null)
  fi
  if [ "$status" = 200 ]; then
    log "berth already has a busybox image"
    return 0
  fi
  [ -x /bin/busybox ] || die "/bin/busybox is missing (apt-get install busybox-static)"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/root" \
    "$tmp/rootfs/proc" "$tmp/rootfs/sys" "$tmp/rootfs/dev"
  chmod 1777 "$tmp/rootfs/tmp"
  cp /bin/busybox "$tmp/rootfs/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$tmp/rootfs/bin/$applet"
  done
  tar -C "$tmp/rootfs" -cf "$tmp/busybox.tar" .
  log "importing busybox:latest from /bin/busybox"
  if ! DOCKER_HOST=$HOST /usr/local/bin/berth import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest </dev/null; then
    rm -rf "$tmp"
    die "berth import of the busybox image failed"
  fi
  rm -rf "$tmp"
}

if [ "$START" = 1 ] && [ "$BUSYBOX_IMAGE" = 1 ]; then
  import_busybox
fi

# --- how to use it --------------------------------------------------------------------------
if [ "$START" = 1 ]; then
  cat <<EOF

berth is installed and berthd is listening on $HOST.

  berth version
  berth load -i busybox.tar            # an image from 'docker save busybox -o busybox.tar'
  berth run --rm <image> echo hi       # e.g. berth run --rm busybox echo hi
  DOCKER_HOST=$HOST docker ps

EOF
  if [ "$HAVE_SYSTEMD" = 1 ]; then
    echo "Service: systemctl status berthd; logs: journalctl -u berthd -f"
  else
    echo "No systemd here: berthd runs in the background; logs: $LOGFILE; stop: kill \$(cat $PIDFILE)"
  fi
else
  echo "berth is installed; start it with: systemctl start berthd (or run /usr/local/bin/berthd)"
fi
