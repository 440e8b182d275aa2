// Network namespaces made by the daemon itself: unshare on the main thread, bind-mount the
// namespace onto a file so it outlives the moment, and return to the daemon's own namespace.
import { openSync, rmSync, writeFileSync } from 'fs';
import * as libc from '../../native/libc';

let ownNetNs: number | undefined;

export function createNetns(path: string): void {
  ownNetNs ??= openSync('/proc/thread-self/ns/net', 'r');
  writeFileSync(path, '');
  libc.unshare(libc.CLONE_NEWNET);
  try {
    libc.mount('/proc/thread-self/ns/net', path, null, libc.MS_BIND, null);
  } finally {
    libc.setns(ownNetNs, libc.CLONE_NEWNET);
  }
}

export function removeNetns(path: string): void {
  try {
    libc.umount2(path, libc.MNT_DETACH);
  } catch (e) {
    if (!['EINVAL', 'ENOENT'].includes((e as libc.SyscallError).code)) throw e;
  }
  rmSync(path, { force: true });
}
