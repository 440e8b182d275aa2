// The container side of volumes: mount points worked out and checked at create (volumes made then,
// as dockerd does), turned into the init's mount list at start, released at exit, and anonymous
// volumes removed with their container when asked.
import { existsSync, mkdirSync, statSync } from 'fs';
import type { Logger } from 'pino';
import * as libc from '../../native/libc';
import type { ContainerRecord } from '../containers/record';
import type { InitMount } from '../runtime/init-spec';
import { badRequest, notFound } from '../server/errors';
import { mountOf } from '../util/mounts';
import { imagePathKind } from './image-path';
import { parseMountOptions } from './mount-options';
import { planMounts, type MountPoint } from './spec';
import type { VolumeStore } from './store';

const TMPFS_DEFAULT_FLAGS = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC;

const PROPAGATION_FLAGS: Record<string, number> = {
  private: libc.MS_PRIVATE,
  rprivate: libc.MS_PRIVATE | libc.MS_REC,
  shared: libc.MS_SHARED,
  rshared: libc.MS_SHARED | libc.MS_REC,
  slave: libc.MS_SLAVE,
  rslave: libc.MS_SLAVE | libc.MS_REC,
};

function mismatch(source: string, dest: string): Error {
  return badRequest(
    `error mounting "${source}" to rootfs at "${dest}": not a directory: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`,
  );
}

/** dockerd's ensureShared / ensureSharedOrSlave: shared and slave binds need a source mount that can propagate. */
function checkPropagation(source: string, propagation: string): void {
  const shared = propagation === 'shared' || propagation === 'rshared';
  const slave = propagation === 'slave' || propagation === 'rslave';
  if (!shared && !slave) return;
  const m = mountOf(source);
  if (shared && !m.shared) throw badRequest(`path ${source} is mounted on ${m.mountpoint} but it is not a shared mount`);
  if (slave && !m.shared && !m.slave) throw badRequest(`path ${source} is mounted on ${m.mountpoint} but it is not a shared or slave mount`);
}

export class ContainerMounts {
  constructor(
    private readonly volumes: VolumeStore,
    private readonly containers: () => ContainerRecord[],
    private readonly log: Logger,
  ) {}

  /** Checks every mount against the host and the image; creates nothing. */
  plan(c: ContainerRecord, imageLayers: string[], findContainer: (ref: string) => ContainerRecord): MountPoint[] {
    const hc = c.HostConfig;
    if (typeof hc.ShmSize === 'number' && hc.ShmSize < 0) throw badRequest('SHM size can not be less than 0');
    const points = planMounts(
      {
        binds: c.HostConfig.Binds ?? [],
        mounts: (hc.Mounts as object[] | null | undefined) ?? [],
        tmpfs: (hc.Tmpfs as Record<string, string> | null | undefined) ?? {},
        volumesFrom: (hc.VolumesFrom as string[] | null | undefined) ?? [],
        volumes: Object.keys(c.Config.Volumes ?? {}),
      },
      {
        exists: (p) => existsSync(p),
        mountsOf: (ref) => {
          const other = findContainer(ref);
          if (other.Id === c.Id) throw badRequest('container cannot mount volumes from itself');
          return other.MountPoints ?? [];
        },
      },
    );
    // Image layers are listed bottom first; the lookup wants the top one first.
    const layers = [...imageLayers].reverse();
    for (const m of points) {
      const inImage = imagePathKind(layers, m.Destination);
      if (m.Type === 'bind') {
        const st = statSync(m.Source, { throwIfNoEntry: false });
        const isDir = st ? st.isDirectory() : true;
        if (inImage && (inImage === 'dir') !== isDir) throw mismatch(m.Source, m.Destination);
      } else if (inImage === 'file') {
        throw mismatch(m.Type === 'volume' ? m.Name || m.Destination : 'tmpfs', m.Destination);
      }
      if (m.Type === 'volume' && m.Name && !this.volumes.get(m.Name)) {
        // Refuse bad driver options before anything is made.
        if (m.DriverOptions?.o) parseMountOptions(m.DriverOptions.o);
      }
    }
    return points;
  }

  /** Makes the volumes the plan names (named ones on first use, anonymous ones always); returns those made. */
  materialize(points: MountPoint[]): string[] {
    const made: string[] = [];
    try {
      for (const m of points) {
        if (m.Type !== 'volume') continue;
        if (m.Name && this.volumes.get(m.Name)) {
          m.Source = this.volumes.dataDir(m.Name);
          continue;
        }
        const v = this.volumes.create({ name: m.Name || undefined, labels: m.VolumeLabels, options: m.DriverOptions, anonymous: m.Anonymous });
        made.push(v.Name);
        m.Name = v.Name;
        m.Source = this.volumes.dataDir(v.Name);
        delete m.VolumeLabels;
        delete m.DriverOptions;
      }
    } catch (e) {
      this.undo(made);
      throw e;
    }
    return made;
  }

  /** Removes volumes made for a create that did not finish. */
  undo(made: string[]): void {
    for (const name of made) this.volumes.remove(name, [], { force: true });
  }

  /** Host-side work before a start (bind sources, driver mounts) and the init's mount list. */
  prepare(c: ContainerRecord): InitMount[] {
    const out: InitMount[] = [];
    const acquired: string[] = [];
    try {
      for (const m of c.MountPoints ?? []) {
        if (m.Type === 'tmpfs') {
          // tmpcopyup is runc's, not the kernel's: the init fills the tmpfs from the image.
          const opts = (m.TmpfsOptions ?? '').split(',');
          const { flags, data } = parseMountOptions(opts.filter((o) => o !== 'tmpcopyup').join(','));
          out.push({ source: 'tmpfs', target: m.Destination, fstype: 'tmpfs', flags: TMPFS_DEFAULT_FLAGS | flags, data: data || null, copyUp: opts.includes('tmpcopyup') });
          continue;
        }
        if (m.Type === 'volume') {
          if (!this.volumes.get(m.Name)) throw notFound(`get ${m.Name}: no such volume`);
          this.volumes.acquire(m.Name, c.Id, { destination: m.Destination, propagation: m.Propagation, 'read/write': String(m.RW) });
          acquired.push(m.Name);
        } else if (!existsSync(m.Source)) {
          if (!m.CreateSource) throw badRequest(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
          // Docker creates a missing -v source directory, parents included.
          mkdirSync(m.Source, { recursive: true, mode: 0o755 });
        }
        if (m.Type === 'bind') checkPropagation(m.Source, m.Propagation);
        const st = statSync(m.Source);
        out.push({
          source: m.Source,
          target: m.Destination,
          fstype: null,
          flags: libc.MS_BIND | libc.MS_REC | (m.RW ? 0 : libc.MS_RDONLY),
          data: null,
          file: !st.isDirectory(),
          propagation: PROPAGATION_FLAGS[m.Propagation || 'rprivate'],
          copyUp: m.Type === 'volume' && m.CopyData,
        });
      }
    } catch (e) {
      for (const name of acquired) this.volumes.release(name, c.Id);
      throw e;
    }
    return out;
  }

  /** The container stopped: its volumes are no longer in use by it. */
  release(c: ContainerRecord): void {
    for (const m of c.MountPoints ?? []) if (m.Type === 'volume') this.volumes.release(m.Name, c.Id);
  }

  /** After removal: `rm -v` and --rm take the container's anonymous volumes unless another container uses them. */
  removed(c: ContainerRecord, removeVolumes: boolean): void {
    if (!removeVolumes) return;
    for (const m of c.MountPoints ?? []) {
      if (m.Type !== 'volume' || !m.Anonymous) continue;
      const users = this.usedBy(m.Name).filter((id) => id !== c.Id);
      if (users.length) {
        this.log.info({ container: c.Id, volume: m.Name }, 'anonymous volume kept: still in use');
        continue;
      }
      try {
        this.volumes.remove(m.Name, []);
      } catch (e) {
        this.log.error({ container: c.Id, volume: m.Name, err: (e as Error).message }, 'anonymous volume removal failed');
      }
    }
  }

  /** IDs of the containers, running or not, that refer to the volume. */
  usedBy(name: string): string[] {
    return this.containers()
      .filter((c) => (c.MountPoints ?? []).some((m) => m.Type === 'volume' && m.Name === name))
      .map((c) => c.Id);
  }

  /** inspect's Mounts: Docker's shape, HostConfig.Tmpfs entries left out. */
  static inspectView(c: ContainerRecord): Array<Record<string, unknown>> {
    return (c.MountPoints ?? [])
      .filter((m) => !m.Hidden)
      .map((m) =>
        m.Type === 'volume'
          ? { Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
          : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation },
      );
  }
}
