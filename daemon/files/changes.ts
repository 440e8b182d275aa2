// GET /containers/{id}/changes: the writable layer (overlay upper dir) against the image's layers,
// as dockerd's overlay2 driver reports it: A added, C changed, D deleted (whiteouts).
import * as fs from 'fs';
import * as libc from '../../native/libc';

export interface Change {
  Path: string;
  /** 0 changed, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2;
}

/** What dockerd keeps in a container's init layer, below the writable one: never a change of the user's. */
const INIT_PATHS = new Set(['/dev', '/dev/pts', '/dev/shm', '/dev/console', '/proc', '/sys', '/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/etc/mtab']);
/** Directories the init layer touches: their times change for it, not for the user. */
const INIT_PARENTS = new Set(['', '/etc', '/dev']);

const isWhiteout = (st: fs.Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

function opaque(path: string): boolean {
  return libc.lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
}

/** The path as the image shows it: the topmost layer that has it decides; a whiteout hides it. */
function inImage(lowers: string[], rel: string): fs.Stats | undefined {
  for (let i = lowers.length - 1; i >= 0; i--) {
    const st = fs.lstatSync(lowers[i] + rel, { throwIfNoEntry: false });
    if (st) return isWhiteout(st) ? undefined : st;
  }
  return undefined;
}

/** `lowers` bottom first. */
export function containerChanges(upper: string, lowers: string[]): Change[] {
  const out: Change[] = [];
  const walk = (rel: string): boolean => {
    let names: string[];
    try {
      names = fs.readdirSync(upper + rel);
    } catch {
      return false;
    }
    let any = false;
    for (const name of names) {
      const p = `${rel}/${name}`;
      const st = fs.lstatSync(upper + p);
      if (INIT_PATHS.has(p)) continue;
      if (isWhiteout(st) || (st.isDirectory() && opaque(upper + p))) {
        out.push({ Path: p, Kind: 2 });
        any = true;
        if (st.isDirectory()) walk(p);
        continue;
      }
      const below = inImage(lowers, p);
      if (!below) {
        out.push({ Path: p, Kind: 1 });
        any = true;
        if (st.isDirectory()) walk(p);
        continue;
      }
      if (st.isDirectory() && below.isDirectory()) {
        const inner = walk(p);
        const differs = st.mode !== below.mode || (!INIT_PARENTS.has(p) && st.mtimeMs !== below.mtimeMs);
        if (inner || differs) {
          out.push({ Path: p, Kind: 0 });
          any = true;
        }
        continue;
      }
      out.push({ Path: p, Kind: 0 });
      any = true;
    }
    return any;
  };
  walk('');
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}
