// The daemon's own cgroup, where an exec init goes back once its command runs in the container's.
import { readFileSync } from 'fs';
import { writeFile } from 'fs/promises';

/** /proc/self/cgroup as a map from each v1 controller to its path; the v2 tree's path is under ''. */
export function parseOwnCgroups(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1] ? m[1].split(',') : ['']) own.set(controller, m[2]);
  }
  return own;
}

let cached: Map<string, string> | undefined;

/** A file (cgroup.procs, tasks) of the daemon's cgroup for `controller` ('' for v2) under `root`. */
export function ownCgroupFile(root: string, controller: string, file: string): string {
  cached ??= parseOwnCgroups(readFileSync('/proc/self/cgroup', 'utf8'));
  const path = cached.get(controller) ?? '/';
  return `${root}${path === '/' ? '' : path}/${file}`;
}

/** Writes `pid` into each file; a process already gone is no failure. */
export async function moveTo(procsFiles: string[], pid: number): Promise<void> {
  for (const f of procsFiles) {
    try {
      await writeFile(f, String(pid));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw e;
    }
  }
}
