#!/bin/sh
# /berth-vm-init: PID 1 of the cgroup v2 test VM (see ../run-v2.sh). Mounts what a booted
# system has, runs the in-VM checks and powers off; the result line goes to the serial console.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# The options systemd mounts the unified hierarchy with.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname berth-vm
ip link set lo up
for m in overlay bridge veth; do modprobe "$m" || echo "berth-vm: modprobe $m failed"; done

echo "berth-vm: init up after $(cut -d' ' -f1 /proc/uptime)s"
timeout -k 10 "${BERTH_VM_GUEST_TIMEOUT:-480}" node /berth/test/vm/guest/check-v2.js
rc=$?
# check-v2.js prints the result line itself; these cover it dying or hanging before that.
[ "$rc" = 124 ] && echo "BERTH-VM-RESULT: FAIL in-VM checks timed out"
[ "$rc" != 0 ] && [ "$rc" != 1 ] && [ "$rc" != 124 ] && echo "BERTH-VM-RESULT: FAIL check-v2.js exited with $rc"
echo "berth-vm: powering off after $(cut -d' ' -f1 /proc/uptime)s"
sync
echo o >/proc/sysrq-trigger
sleep 10
busybox poweroff -f
