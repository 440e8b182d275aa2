#!/usr/bin/env bash
# Tests berth's cgroup v2 driver on a real cgroup v2 kernel: boots Debian's kernel in qemu with
# the unified hierarchy, starts the repo's built berthd in it and checks the cgroup files that
# containers get (guest/check-v2.js). Self-contained: installs what it needs from Debian's
# packages and caches the kernel, the base root filesystem and the disk image under $CACHE.
# Run as root on Debian 12 (amd64) after `npm run build`.
#
#   BERTH_VM_CACHE    cache directory (default /var/cache/berth-vm)
#   BERTH_VM_TIMEOUT  seconds the VM may run before it counts as hung (default 600)
#   BERTH_VM_ACCEL    qemu accelerator (default tcg: with kvm, guests do not boot on this kind of machine)
#   BERTH_VM_MIRROR   Debian mirror for debootstrap (default: the one apt uses)
#
# Exit status: 0 PASS, 1 FAIL, 2 setup error, 124 the VM timed out. The console log is kept in
# $CACHE/console.log and printed whole on anything but PASS.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${BERTH_VM_CACHE:-/var/cache/berth-vm}
TIMEOUT=${BERTH_VM_TIMEOUT:-600}
ACCEL=${BERTH_VM_ACCEL:-tcg}
# Modules (and what they depend on) for the initrd: the root disk; and for the root filesystem: containers.
INITRD_MODULES="crc32c_generic ext4 virtio_pci virtio_blk"
ROOTFS_MODULES="overlay bridge veth"
DEBOOTSTRAP_INCLUDE="iproute2,kmod,busybox-static"
# Bump when the way the base root filesystem is made changes.
BASE_RECIPE=1

START=$SECONDS
log() { echo "run-v2: [$((SECONDS - START))s] $*" >&2; }
die() {
  echo "run-v2: error: $*" >&2
  exit 2
}

[ "$(id -u)" = 0 ] || die "must run as root"
[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host"
[ -f "$REPO/dist/daemon/main.js" ] || die "no $REPO/dist/daemon/main.js: run 'npm run build' first"
NODE=$(command -v node) || die "node is not on PATH"
mkdir -p "$CACHE"
# One run at a time: runs share the cache and prune old images.
exec 9>"$CACHE/.lock"
flock -w 1800 9 || die "timed out waiting for $CACHE/.lock"
# Leftovers of a run that was killed midway.
rm -rf "$CACHE"/tmp.* "$CACHE/stage" "$CACHE"/*.tmp

# ---- 1. host tools ------------------------------------------------------------------------
APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
}
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mke2fs >/dev/null || need+=(e2fsprogs)
command -v ip >/dev/null || need+=(iproute2)
dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  apt_update
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
BUSYBOX=$(command -v busybox)

# ---- 2. kernel (extracted from Debian's package; nothing is installed on the host) --------------
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
KPKG=${BERTH_VM_KERNEL_PKG:-$(kernel_package)}
# Not cached yet: ask fresh package lists, so that the download does not chase a superseded version.
if [ -z "$KPKG" ] || { [ -z "${BERTH_VM_KERNEL_PKG:-}" ] && [ ! -f "$CACHE/kernel-${KPKG#linux-image-}/.done" ]; }; then
  apt_update
  KPKG=${BERTH_VM_KERNEL_PKG:-$(kernel_package)}
fi
[ -n "$KPKG" ] || die "cannot tell which kernel package linux-image-amd64 stands for"
KREL=${KPKG#linux-image-}
KDIR=$CACHE/kernel-$KREL
MODDIR=lib/modules/$KREL

if [ ! -f "$KDIR/.done" ]; then
  log "fetching $KPKG"
  rm -rf "$KDIR"
  tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
  chmod 755 "$tmp"
  # apt downloads as _apt when it may write there (else it warns and downloads as root).
  chown _apt "$tmp" 2>/dev/null || true
  (cd "$tmp" && apt-get download -qq "$KPKG") || die "apt-get download $KPKG failed"
  dpkg-deb -x "$tmp"/"$KPKG"_*.deb "$tmp/x"
  src=$tmp/x/$MODDIR
  declare -A KO=() SEEN=()
  while IFS= read -r f; do
    b=${f##*/}
    b=${b%.ko}
    KO[${b//-/_}]=${f#"$src"/}
  done < <(find "$src/kernel" -name '*.ko')
  ORDER=()
  add_module() {
    local m=${1//-/_} deps d
    [ -z "${SEEN[$m]:-}" ] || return 0
    SEEN[$m]=1
    [ -n "${KO[$m]:-}" ] || die "module $m is not in $KPKG"
    deps=$(grep -a -o -m1 'depends=[a-z0-9_,-]*' "$src/${KO[$m]}" | head -1 | cut -d= -f2 || true)
    for d in ${deps//,/ }; do add_module "$d"; done
    ORDER+=("${KO[$m]}")
  }
  mkdir -p "$KDIR/$MODDIR"
  for list in initrd rootfs; do
    ORDER=()
    SEEN=()
    if [ $list = initrd ]; then mods=$INITRD_MODULES; else mods=$ROOTFS_MODULES; fi
    for m in $mods; do add_module "$m"; done
    printf '%s\n' "${ORDER[@]}" >"$KDIR/$list.modules"
    for rel in "${ORDER[@]}"; do
      mkdir -p "$KDIR/$MODDIR/$(dirname "$rel")"
      cp "$src/$rel" "$KDIR/$MODDIR/$rel"
    done
  done
  cp "$src"/modules.builtin "$src"/modules.builtin.modinfo "$src"/modules.order "$KDIR/$MODDIR/"
  cp "$tmp/x/boot/vmlinuz-$KREL" "$KDIR/vmlinuz"
  cp "$tmp/x/boot/config-$KREL" "$KDIR/config"
  rm -rf "$tmp"
  touch "$KDIR/.done"
  for old in "$CACHE"/kernel-*; do [ "$old" = "$KDIR" ] || rm -rf "$old"; done
fi

# The initrd: static busybox, the disk modules and initrd-init.sh. Tiny: made anew each run.
INITRD=$CACHE/initrd.img
tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$BUSYBOX" "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
install -m 755 "$HERE/initrd-init.sh" "$tmp/init"
mknod "$tmp/dev/console" c 5 1
mknod "$tmp/dev/null" c 1 3
while IFS= read -r rel; do
  mkdir -p "$tmp/lib/modules/$(dirname "$rel")"
  cp "$KDIR/$MODDIR/$rel" "$tmp/lib/modules/$rel"
done <"$KDIR/initrd.modules"
cp "$KDIR/initrd.modules" "$tmp/modules.list"
(cd "$tmp" && find . | sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$INITRD"
rm -rf "$tmp"

# ---- 3. base root filesystem: debootstrap minbase + the modules containers need -------------
# shellcheck disable=SC1091
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$SUITE" ] || die "cannot tell the Debian suite from /etc/os-release"
BASE_KEY=$(printf '%s\n' "$BASE_RECIPE" "$SUITE" "$DEBOOTSTRAP_INCLUDE" "$KREL" "$ROOTFS_MODULES" | sha256sum | cut -c1-16)
ROOTFS=$CACHE/rootfs-$BASE_KEY
if [ ! -f "$ROOTFS/.berth-vm-done" ]; then
  MIRROR=${BERTH_VM_MIRROR:-$(apt-cache policy 2>/dev/null | awk -v s="$SUITE/main" '$3 == s && $4 == "amd64" && $2 ~ /^https?:/ {print $2; exit}')}
  if [ -z "$MIRROR" ]; then
    apt_update
    MIRROR=$(apt-cache policy | awk -v s="$SUITE/main" '$3 == s && $4 == "amd64" && $2 ~ /^https?:/ {print $2; exit}')
  fi
  [ -n "$MIRROR" ] || die "no $SUITE/main mirror in apt's sources; set BERTH_VM_MIRROR"
  log "debootstrap $SUITE (minbase) from apt's mirror"
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  if ! debootstrap --variant=minbase --include="$DEBOOTSTRAP_INCLUDE" "$SUITE" "$ROOTFS.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    tail -40 "$CACHE/debootstrap.log" >&2
    die "debootstrap failed (log: $CACHE/debootstrap.log)"
  fi
  rm -rf "$ROOTFS.tmp"/usr/share/{doc,man,info,locale} "$ROOTFS.tmp"/var/cache/apt/* "$ROOTFS.tmp"/var/lib/apt/lists/*
  mkdir -p "$ROOTFS.tmp/usr/$MODDIR"
  cp -a "$KDIR/$MODDIR/." "$ROOTFS.tmp/usr/$MODDIR/"
  chroot "$ROOTFS.tmp" depmod "$KREL"
  touch "$ROOTFS.tmp/.berth-vm-done"
  mv "$ROOTFS.tmp" "$ROOTFS"
  for old in "$CACHE"/rootfs-*; do [ "$old" = "$ROOTFS" ] || rm -rf "$old"; done
fi

# ---- 4. the disk: base + node + the built repo + a busybox image archive --------------------
# A docker-archive of a one-layer busybox image, byte for byte the same on every run.
busybox_archive() {
  local w lh ch
  w=$(mktemp -d "$CACHE/tmp.XXXXXX")
  mkdir -p "$w"/l/{bin,etc,root,tmp} "$w/a"
  cp "$BUSYBOX" "$w/l/bin/busybox"
  for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$w/l/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$w/l/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$w/l/etc/group"
  chmod 700 "$w/l/root"
  chmod 1777 "$w/l/tmp"
  local tarflags=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
  tar "${tarflags[@]}" -C "$w/l" -cf "$w/layer.tar" bin etc root tmp
  lh=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
  mkdir "$w/a/$lh"
  mv "$w/layer.tar" "$w/a/$lh/layer.tar"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Cmd":["sh"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"berth test/vm/run-v2.sh"}]}' "$lh" >"$w/config.json"
  ch=$(sha256sum "$w/config.json" | cut -d' ' -f1)
  mv "$w/config.json" "$w/a/$ch.json"
  printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["%s/layer.tar"]}]' "$ch" "$lh" >"$w/a/manifest.json"
  tar "${tarflags[@]}" -C "$w/a" -cf "$1" manifest.json "$ch.json" "$lh"
  rm -rf "$w"
}

# The production part of node_modules, from package-lock.json (all of it when there is no lock).
prod_modules() {
  if [ ! -f "$REPO/package-lock.json" ]; then
    echo node_modules
    return
  fi
  "$NODE" -e '
    const fs = require("fs");
    const root = process.argv[1];
    const pkgs = JSON.parse(fs.readFileSync(root + "/package-lock.json", "utf8")).packages || {};
    const keys = Object.keys(pkgs).filter((k) => k.startsWith("node_modules/") && !pkgs[k].dev && fs.existsSync(root + "/" + k));
    const set = new Set(keys);
    const covered = (k) => {
      for (let i = k.lastIndexOf("/node_modules/"); i > 0; i = k.lastIndexOf("/node_modules/", i - 1)) if (set.has(k.slice(0, i))) return true;
      return false;
    };
    console.log(keys.filter((k) => !covered(k)).join("\n"));
  ' "$REPO"
}

log "staging the disk"
STAGE=$CACHE/stage
rm -rf "$STAGE"
cp -al "$ROOTFS" "$STAGE"
mkdir -p "$STAGE/berth/test/vm"
cp -a "$REPO/package.json" "$REPO/dist" "$STAGE/berth/"
[ ! -f "$REPO/package-lock.json" ] || cp -a "$REPO/package-lock.json" "$STAGE/berth/"
(cd "$REPO" && prod_modules | while IFS= read -r m; do [ -z "$m" ] || cp -a --parents "$m" "$STAGE/berth/"; done)
cp -a "$HERE/guest" "$STAGE/berth/test/vm/"
install -m 755 "$HERE/guest/init.sh" "$STAGE/berth-vm-init"
install -m 755 "$NODE" "$STAGE/usr/local/bin/node"
# Libraries node and its addons need that the base lacks (none on Debian 12, whose glibc it matches).
while IFS= read -r lib; do
  [ -e "$STAGE$lib" ] || cp -L "$lib" "$STAGE$lib"
done < <({ ldd "$NODE"; find "$STAGE/berth/node_modules" -name '*.node' -exec ldd {} \; 2>/dev/null; } | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
busybox_archive "$STAGE/berth-busybox.tar"
echo '{}' >"$STAGE/berth-empty.json"

DISK_KEY=$({
  echo "$BASE_KEY"
  cd "$STAGE" && find berth berth-vm-init berth-busybox.tar berth-empty.json usr/local/bin/node -type f -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-16)
DISK=$CACHE/disk-$DISK_KEY.img
if [ ! -f "$DISK" ]; then
  log "making the disk image"
  rm -f "$DISK.tmp"
  mke2fs -q -F -t ext4 -L berthvm -d "$STAGE" "$DISK.tmp" 2G
  mv "$DISK.tmp" "$DISK"
  for old in "$CACHE"/disk-*.img; do [ "$old" = "$DISK" ] || rm -f "$old"; done
else
  log "disk image cached"
fi
rm -rf "$STAGE"

# ---- 5. boot ----------------------------------------------------------------------------------
CONSOLE=$CACHE/console.log
log "booting $KREL under qemu ($ACCEL), ${TIMEOUT}s at most"
BOOT=$SECONDS
qrc=0
# snapshot=on: the guest's writes go to a throwaway overlay, so the cached image stays as made.
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -m 2048 -smp 2 \
  -kernel "$KDIR/vmlinuz" -initrd "$INITRD" \
  -drive "file=$DISK,format=raw,if=virtio,snapshot=on" \
  -append "console=ttyS0 root=/dev/vda rw init=/berth-vm-init panic=-1 systemd.unified_cgroup_hierarchy=1" \
  -nic none -nographic -no-reboot </dev/null >"$CONSOLE" 2>&1 || qrc=$?
log "VM ran $((SECONDS - BOOT))s (qemu exit $qrc)"

tr -d '\r' <"$CONSOLE" | grep -a -E '^(berth-vm:|BERTH-VM-WARN:)' >&2 || true
result=$(tr -d '\r' <"$CONSOLE" | grep -a '^BERTH-VM-RESULT:' | tail -1 || true)
if [ "$result" = "BERTH-VM-RESULT: PASS" ] && [ "$qrc" = 0 ]; then
  echo "$result"
  log "total $((SECONDS - START))s"
  exit 0
fi
echo "run-v2: ---- console log ($CONSOLE) ----" >&2
tr -d '\r' <"$CONSOLE" >&2
echo "run-v2: ---- end of console log ----" >&2
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "BERTH-VM-RESULT: FAIL VM timed out after ${TIMEOUT}s${result:+ (last result line: $result)}"
  exit 124
fi
echo "${result:-BERTH-VM-RESULT: FAIL no result line on the console (qemu exit $qrc)}"
exit 1
