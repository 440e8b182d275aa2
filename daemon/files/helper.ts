// The files helper: a short-lived process that enters a container's root and runs one docker cp
// operation there. For a running container it chroots into /proc/<pid>/root (the container's own
// mounts, volumes included); for a stopped one it mounts the overlay in a private mount namespace
// of its own, so the mount dies with it and never reaches the host.
//
// stdout: one JSON line (the header: a path stat, or an error), then for `get` the tar; for `put`
// the tar arrives on stdin and a second JSON line reports the result.
import * as libc from '../../native/libc';
import { archivePath, extractArchive, extractionPoint, FilesError, statPath, type ExtractOptions } from './archive';

export interface OverlayRoot {
  layersRoot: string;
  lower: string[];
  upper: string;
  work: string;
  mountpoint: string;
}

export interface HelperSpec {
  op: 'stat' | 'get' | 'put';
  path: string;
  extract?: ExtractOptions;
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
    libc.chroot(o.mountpoint);
  }
  process.chdir('/');
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
    process.exit(status === 500 ? 1 : 0);
  },
);
