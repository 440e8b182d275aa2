// Docker's defaults for a container that is not privileged, and what a privileged process gets.
import { readFileSync } from 'fs';

/** CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP */
export const DEFAULT_CAPABILITIES = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

let privileged: number[] | undefined;

/**
 * --privileged: every capability the daemon itself holds. Not simply all the kernel knows: a
 * daemon without some (in a sandbox, say) could not hand them on, and capset would refuse the
 * whole set.
 */
export function privilegedCapabilities(): number[] {
  if (!privileged) {
    const hex = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    const mask = BigInt(`0x${hex}`);
    privileged = Array.from({ length: 64 }, (_, i) => i).filter((i) => (mask >> BigInt(i)) & 1n);
  }
  return privileged;
}
