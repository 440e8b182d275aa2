// Whether `PUT archive` may write at a container path, as dockerd decides it before extracting: a
// path in a mount follows that mount's RW flag; any other path is the root filesystem's, refused
// when the container runs with --read-only.

export interface WriteRules {
  readonlyRootfs: boolean;
  /** The container's mount points (volumes, binds, --mount tmpfs): not HostConfig.Tmpfs, as in dockerd. */
  mounts: Array<{ destination: string; rw: boolean }>;
}

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/**
 * dockerd's message for a refused extraction into `dest` (absolute, symlinks resolved inside the
 * container), or null when it may be written. Of nested mounts the deepest holds `dest`: dockerd
 * takes whichever its map yields first, this is the one the kernel writes to.
 */
export function readOnlyRefusal(dest: string, rules: WriteRules): string | null {
  const holder = rules.mounts.filter((m) => within(dest, m.destination)).sort((a, b) => b.destination.length - a.destination.length)[0];
  if (holder) return holder.rw ? null : 'mounted volume is marked read-only';
  return rules.readonlyRootfs ? 'container rootfs is marked read-only' : null;
}
