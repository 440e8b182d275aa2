// A path looked up through an image's layer directories as overlayfs merges them: the topmost
// entry wins, a whiteout (0/0 character device) hides what is below, an opaque directory hides
// the layers under it.
import { lstatSync, type Stats } from 'fs';
import { posix } from 'path';
import * as libc from '../../native/libc';

function opaque(dir: string): boolean {
  try {
    return libc.lgetxattr(dir, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false; // no xattr support, or no such directory
  }
}

/** The topmost entry at `rel` (absolute inside the image) across `layers`, top layer first. */
export function lookupInLayers(layers: string[], rel: string): { st: Stats; path: string } | null {
  for (const l of layers) {
    const path = l + rel;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st) return st.isCharacterDevice() && st.rdev === 0 ? null : { st, path };
    if (opaque(l + posix.dirname(rel))) return null;
  }
  return null;
}
