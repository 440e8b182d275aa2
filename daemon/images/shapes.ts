// Docker 24's JSON shapes for images, keys in Docker's order (the docker CLI prints inspect output
// as sent). Pure functions of an ImageRecord.
import { fullContainerConfig } from './config';
import type { ImageRecord } from './store';

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Go's time.Time{}.Unix(): what Docker reports for an image without a creation time. */
const ZERO_UNIX = -62135596800;

/** A config timestamp as Go re-renders it (RFC 3339 with nanoseconds, trailing zeros dropped). */
export function rfc3339Nano(time: string | undefined): string {
  if (!time) return ZERO_TIME;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(time);
  if (!m) return time;
  const fraction = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  return `${m[1]}${fraction ? `.${fraction}` : ''}${m[3].toUpperCase() === 'Z' ? 'Z' : m[3]}`;
}

export function unixSeconds(time: string | undefined): number {
  const ms = time ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? ZERO_UNIX : Math.floor(ms / 1000);
}

/** An item of GET /images/json. */
export function imageSummary(img: ImageRecord): Record<string, unknown> {
  return {
    Containers: -1,
    Created: unixSeconds(img.created),
    Id: img.id,
    Labels: img.config.config?.Labels ?? null,
    ParentId: img.parent,
    RepoDigests: img.repoDigests,
    RepoTags: img.repoTags,
    SharedSize: -1,
    Size: img.size,
    // Deprecated, but API 1.43 still sends it (omitted by Go when zero).
    ...(img.size ? { VirtualSize: img.size } : {}),
  };
}

/** overlay2's GetMetadata for the image's top layer: lower dirs top-most first. */
function graphDriverData(img: ImageRecord): Record<string, string> | null {
  if (img.layers.length === 0) return null;
  const top = img.layers[img.layers.length - 1].dir;
  const base = top.replace(/\/diff$/, '');
  const lower = img.layers.slice(0, -1).map((l) => l.dir).reverse();
  return {
    ...(lower.length ? { LowerDir: lower.join(':') } : {}),
    MergedDir: `${base}/merged`,
    UpperDir: top,
    WorkDir: `${base}/work`,
  };
}

/** GET /images/{name}/json. */
export function imageInspect(img: ImageRecord): Record<string, unknown> {
  const cfg = img.config;
  const history = cfg.history ?? [];
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent,
    Comment: cfg.comment || history[history.length - 1]?.comment || '',
    Created: rfc3339Nano(img.created),
    Container: cfg.container ?? '',
    ContainerConfig: fullContainerConfig(cfg.container_config ?? {}),
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: cfg.config ? fullContainerConfig(cfg.config) : null,
    Architecture: cfg.architecture ?? '',
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os || 'linux',
    ...(cfg['os.version'] ? { OsVersion: cfg['os.version'] } : {}),
    Size: img.size,
    ...(img.size ? { VirtualSize: img.size } : {}),
    GraphDriver: { Data: graphDriverData(img), Name: 'overlay2' },
    RootFS: { Type: cfg.rootfs.type, ...(cfg.rootfs.diff_ids.length ? { Layers: cfg.rootfs.diff_ids } : {}) },
    Metadata: { LastTagTime: img.lastTagTime || ZERO_TIME },
  };
}

/**
 * GET /images/{name}/history: newest first; each entry that made a layer has that layer's size.
 * The rows carry the IDs and tags of the image and of its parents (a build's steps), as far as
 * `find` has them; the rest are `<missing>`.
 */
export function imageHistory(img: ImageRecord, find: (id: string) => ImageRecord | undefined = () => undefined): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let layer = 0;
  for (const h of img.config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      if (layer >= img.layers.length) throw new Error('too many non-empty layers in History section');
      size = img.layers[layer++].size;
    }
    out.unshift({ Comment: h.comment ?? '', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Id: '<missing>', Size: size, Tags: null });
  }
  let cur: ImageRecord | undefined = img;
  for (const row of out) {
    if (!cur) break;
    row.Id = cur.id;
    row.Tags = cur.repoTags.length ? cur.repoTags : null;
    cur = cur.parent ? find(cur.parent) : undefined;
  }
  return out;
}
