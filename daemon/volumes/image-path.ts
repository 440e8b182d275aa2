// What an image holds at a path, looked up through its overlay layers as overlayfs would merge
// them (whiteouts, opaque directories, symlinks resolved inside the image): lets create refuse a
// file mounted onto a directory, or the reverse, before anything is made.
import { readlinkSync } from 'fs';
import { lookupInLayers } from '../images/layer-lookup';
import { TooManyLinks, walkInRoot } from '../util/resolve-in-root';

export function imagePathKind(layers: string[], target: string): 'dir' | 'file' | null {
  if (layers.length === 0) return null;
  let kind: 'dir' | 'file' = 'dir';
  try {
    const found = walkInRoot(target, (next, last) => {
      const at = lookupInLayers(layers, next);
      if (!at) return undefined;
      if (at.st.isSymbolicLink()) return readlinkSync(at.path);
      if (last) kind = at.st.isDirectory() ? 'dir' : 'file';
      else if (!at.st.isDirectory()) return undefined;
      return null;
    });
    return found === null ? null : kind;
  } catch (e) {
    if (e instanceof TooManyLinks) return null;
    throw e;
  }
}
