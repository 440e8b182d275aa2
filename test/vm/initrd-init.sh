#!/bin/sh
# /init of the test VM's initrd: loads the disk and ext4 modules (modules.list, in order),
# mounts root= and switch_roots into init=. Runs under a static busybox.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
root=/dev/vda init=/sbin/init
# shellcheck disable=SC2013 # words, not lines
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=*) root=${arg#root=} ;;
    init=*) init=${arg#init=} ;;
  esac
done
while read -r m; do
  insmod "/lib/modules/$m" || echo "initrd: insmod $m failed"
done </modules.list
i=0
while [ ! -b "$root" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /newroot
if ! mount -t ext4 -o rw "$root" /newroot; then
  echo "BERTH-VM-RESULT: FAIL initrd could not mount $root"
  ls /dev
  echo o >/proc/sysrq-trigger
fi
umount /sys /proc
umount /dev
exec switch_root /newroot "$init"
