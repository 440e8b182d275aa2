// Bytes under a directory as dockerd counts them (pkg/directory.Size): the sizes of everything
// but directories, each hard-linked inode once, never leaving the tree through a symlink.
import { lstatSync, readdirSync } from 'fs';

export function dirSize(root: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = `${dir}/${name}`;
      const st = lstatSync(path, { throwIfNoEntry: false, bigint: false });
      if (!st) continue;
      if (st.isDirectory()) {
        walk(path);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  walk(root);
  return total;
}
