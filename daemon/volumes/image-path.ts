// What an image holds at a path, looked up through its overlay layers as overlayfs would merge
// them (whiteouts, opaque directories, symlinks resolved inside the image): lets create refuse a
// file mounted onto a directory, or the reverse, before anything is made.
import { lstatSync, readlinkSync, type Stats } from 'fs';
import { posix } from 'path';
import * as libc from '../../native/libc';

const MAX_LINKS = 40;

function opaque(dir: string): boolean {
  try {
    return libc.lgetxattr(dir, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false;
  }
}

/** The topmost entry at `rel` (absolute inside the image) across `layers`, top layer first. */
function lookup(layers: string[], rel: string): { st: Stats; path: string } | null {
  for (const l of layers) {
    const path = l + rel;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st) return st.isCharacterDevice() && st.rdev === 0 ? null : { st, path };
    if (opaque(l + posix.dirname(rel))) return null;
  }
  return null;
}

export function imagePathKind(layers: string[], target: string): 'dir' | 'file' | null {
  if (layers.length === 0) return null;
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
    const found = lookup(layers, next);
    if (!found) return null;
    if (found.st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return null;
      const link = readlinkSync(found.path);
      if (link.startsWith('/')) cur = '';
      parts = [...link.split('/').filter(Boolean), ...parts];
      continue;
    }
    if (parts.length === 0) return found.st.isDirectory() ? 'dir' : 'file';
    if (!found.st.isDirectory()) return null;
    cur = next;
  }
  return 'dir';
}
