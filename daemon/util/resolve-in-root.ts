import * as fs from 'fs';

const MAX_LINKS = 255;

export class TooManyLinks extends Error {}

/**
 * What a walk finds at `path` (absolute inside the root; `last` when it is the final component):
 * the text of a symlink to follow, null for a name taken as it is, undefined to stop the walk.
 */
export type LinkAt = (path: string, last: boolean) => string | null | undefined;

/**
 * `target` resolved component by component as runc's securejoin does: `.` and `..` never climb
 * above the root, and each symlink is replaced by its text, an absolute one starting again from
 * the root, so the result never leads outside whatever root `linkAt` reads. Returns the path
 * inside the root ('' for the root itself), or null when `linkAt` stopped the walk.
 */
export function walkInRoot(target: string, linkAt: LinkAt): string | null {
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
    const link = linkAt(next, parts.length === 0);
    if (link === undefined) return null;
    if (link !== null) {
      if (++links > MAX_LINKS) throw new TooManyLinks(target);
      if (link.startsWith('/')) cur = '';
      parts = [...link.split('/').filter(Boolean), ...parts];
      continue;
    }
    cur = next;
  }
  return cur;
}

/** `target` inside the directory `root`, symlinks resolved inside it: a link to `/` or `../..` in an image can never lead a mount onto the host. */
export function resolveInRoot(root: string, target: string): string {
  try {
    const inside = walkInRoot(target, (next) => {
      const st = fs.lstatSync(root + next, { throwIfNoEntry: false });
      return st?.isSymbolicLink() ? fs.readlinkSync(root + next) : null;
    });
    return root + inside;
  } catch (e) {
    if (e instanceof TooManyLinks) throw new Error(`error mounting onto "${target}": too many levels of symbolic links`);
    throw e;
  }
}
