import { describe, expect, it } from 'vitest';
import { sysctlRefusal } from '../../daemon/containers/sysctls';

const own = { hostNetwork: false, hostIpc: false };

describe('sysctlRefusal (runc rules)', () => {
  it('allows network and IPC keys in namespaces of the container own', () => {
    for (const key of ['net.core.somaxconn', 'net.ipv4.ip_forward', 'kernel.shmmax', 'kernel.sem', 'fs.mqueue.msg_max', 'kernel.domainname']) expect(sysctlRefusal(key, own)).toBeUndefined();
  });

  it("refuses them in the host's namespaces, and keys of no namespace anywhere, with runc's words", () => {
    expect(sysctlRefusal('net.core.somaxconn', { hostNetwork: true, hostIpc: false })).toBe('sysctl "net.core.somaxconn" not allowed in host network namespace');
    expect(sysctlRefusal('kernel.shmmax', { hostNetwork: false, hostIpc: true })).toBe('sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace');
    expect(sysctlRefusal('vm.swappiness', own)).toBe('sysctl "vm.swappiness" is not in a separate kernel namespace');
    expect(sysctlRefusal('kernel.hostname', own)).toBe('sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field');
  });
});
