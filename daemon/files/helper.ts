// The files helper: a short-lived process that enters a container's root and runs one docker cp
// operation there. For a running container it chroots into /proc/<pid>/root (the container's own
// mounts, volumes included); for a stopped one it mounts the overlay in a private mount namespace
// of its own with the container's volumes and binds on it, as dockerd does, so the mounts die with
// it and never reach the host.
//
// stdout: one JSON line (the header: a path stat, or an error), then for `get` the tar; for `put`
// the tar arrives on stdin and a second JSON line reports the result.
import * as fs from 'fs';
import * as libc from '../../native/libc';
import { resolveInRoot } from '../util/resolve-in-root';
import { archivePath, extractArchive, extractionPoint, FilesError, statPath, type ExtractOptions } from './archive';
import { readOnlyRefusal, type WriteRules } from './read-only';

export interface OverlayRoot {
  layersRoot: string;
  lower: string[];
  upper: string;
  work: string;
  mountpoint: string;
  /** The container's volumes and binds, in the order the init mounts them. */
  mounts: HelperMount[];
}

export interface HelperMount {
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readonly: boolean;
  /** The source is a file, so the target must be one. */
  file: boolean;
}

export interface HelperSpec {
  op: 'stat' | 'get' | 'put';
  path: string;
  extract?: ExtractOptions;
  /** For `put`: checked on the extraction point once resolved inside the root. */
  writable?: WriteRules;
  root: { pid: number } | { overlay: OverlayRoot };
}

export type HelperLine = { ok: true; stat?: ReturnType<typeof statPath> } | { ok: false; status: number; message: string };

let streaming = false;

function line(msg: HelperLine): Promise<void> {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(msg) + '\n', () => resolve()));
}

function enterRoot(root: HelperSpec['root']): void {
  if ('pid' in root) {
    libc.chroot(`/proc/${root.pid}/root`);
  } else {
    const o = root.overlay;
    libc.unshare(libc.CLONE_NEWNS);
    libc.mount(null, '/', null, libc.MS_REC | libc.MS_PRIVATE, null);
    // Relative lower dirs, as the init mounts them: overlay reads one page of options at most.
    process.chdir(o.layersRoot);
    libc.mount('overlay', o.mountpoint, 'overlay', 0, `lowerdir=${o.lower.join(':')},upperdir=${o.upper},workdir=${o.work}`);
    for (const m of o.mounts) bindInto(o.mountpoint, m);
    libc.chroot(o.mountpoint);
  }
  process.chdir('/');
}

/** dockerd's mountVolumes: the target made if missing (resolved inside the root), an rbind kept rprivate. */
function bindInto(root: string, m: HelperMount): void {
  const path = resolveInRoot(root, m.target);
  if (!fs.existsSync(path)) {
    if (m.file) {
      fs.mkdirSync(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true });
      fs.writeFileSync(path, '');
    } else {
      fs.mkdirSync(path, { recursive: true, mode: 0o755 });
    }
  }
  libc.mount(m.source, path, null, libc.MS_BIND | libc.MS_REC, null);
  if (m.readonly) libc.mount(null, path, null, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | libc.MS_REC, null);
  libc.mount(null, path, null, libc.MS_REC | libc.MS_PRIVATE, null);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as HelperSpec;
  try {
    enterRoot(spec.root);
  } catch (e) {
    await line({ ok: false, status: 500, message: `cannot enter the container's root: ${(e as Error).message}` });
    return;
  }
  if (spec.op === 'stat' || spec.op === 'get') {
    const stat = statPath(spec.path);
    await line({ ok: true, stat });
    streaming = spec.op === 'get';
    if (streaming) await archivePath(spec.path, process.stdout);
    return;
  }
  const dest = extractionPoint(spec.path);
  // dockerd answers these with a 500 (errdefs.System around its InvalidParameter).
  const refusal = spec.writable ? readOnlyRefusal(dest, spec.writable) : null;
  if (refusal) throw new FilesError(500, refusal);
  await line({ ok: true });
  await extractArchive(dest, process.stdin, spec.extract ?? { noOverwriteDirNonDir: false, copyUIDGID: false });
  await line({ ok: true });
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    // Once the tar has begun, a line would corrupt it: the exit status tells the daemon.
    if (streaming) process.exit(1);
    const status = e instanceof FilesError ? e.status : 500;
    await line({ ok: false, status, message: (e as Error).message });
    process.exit(e instanceof FilesError ? 0 : 1);
  },
);
