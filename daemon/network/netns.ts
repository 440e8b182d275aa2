// Network namespaces made by the daemon itself: unshare on the main thread, bind-mount the
// namespace onto a file so it outlives the moment, and return to the daemon's own namespace.
import { closeSync, openSync, rmSync, writeFileSync } from 'fs';
import * as libc from '../../native/libc';
import { run } from '../util/exec';

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

/**
 * Runs a host tool inside the namespace at `path`: the main thread enters it just for the fork
 * (run spawns synchronously), so the tool starts there without nsenter's own exec in front of
 * it, about 10 ms of a container start.
 */
export function runInNetns(path: string, cmd: string, args: string[], input?: string): Promise<string> {
  ownNetNs ??= openSync('/proc/thread-self/ns/net', 'r');
  const fd = openSync(path, 'r');
  try {
    libc.setns(fd, libc.CLONE_NEWNET);
    try {
      return run(cmd, args, input);
    } finally {
      libc.setns(ownNetNs, libc.CLONE_NEWNET);
    }
  } finally {
    closeSync(fd);
  }
}
