// --sysctl: which keys a container may set, by runc's rules (dockerd hands them to runc as given):
// only those of a namespace the container has apart from the host's.

/** IPC namespace keys (with fs.mqueue.*). */
const IPC_KEYS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** runc's refusal of one key, or undefined when the container may set it. */
export function sysctlRefusal(key: string, ns: { hostNetwork: boolean; hostIpc: boolean }): string | undefined {
  if (IPC_KEYS.has(key) || key.startsWith('fs.mqueue.')) return ns.hostIpc ? `sysctl "${key}" is not allowed in the hosts ipc namespace` : undefined;
  if (key.startsWith('net.')) return ns.hostNetwork ? `sysctl "${key}" not allowed in host network namespace` : undefined;
  if (key === 'kernel.domainname') return undefined;
  if (key === 'kernel.hostname') return `sysctl "${key}" is not allowed as it conflicts with the OCI "hostname" field`;
  return `sysctl "${key}" is not in a separate kernel namespace`;
}
