import * as fs from 'fs';

const MAX_LINKS = 255;

/**
 * `target` inside `root` with every symlink on the way resolved inside the root too, as runc's
 * securejoin does: a link to `/` or `../..` in the image can never lead a mount onto the host.
 */
export function resolveInRoot(root: string, target: string): string {
  let parts = target.split('/').filter(Boolean);
  let cur = '';
  let links = 0;
  while (parts.length) {
    const p = parts.shift() as string;
    if (p === '.') continue;
    if (p === '..') {
      cur = cur.slice(0, cur.lastIndexOf('/'));
      continue;
    }
    const next = `${cur}/${p}`;
    const st = fs.lstatSync(root + next, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`error mounting onto "${target}": too many levels of symbolic links`);
      const link = fs.readlinkSync(root + next);
      if (link.startsWith('/')) cur = '';
      parts = [...link.split('/').filter(Boolean), ...parts];
      continue;
    }
    cur = next;
  }
  return root + cur;
}
