// Docker's JSON shapes for images, keys in Docker's order (the docker CLI prints them as sent).
import type { ImageRecord } from './store';

const unix = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** An item of GET /images/json. */
export function imageSummary(img: ImageRecord): Record<string, unknown> {
  return {
    Containers: -1,
    Created: unix(img.created),
    Id: img.id,
    Labels: img.config.config?.Labels ?? null,
    ParentId: '',
    RepoDigests: img.repoDigests,
    RepoTags: img.repoTags,
    SharedSize: -1,
    Size: img.size,
    VirtualSize: img.size,
  };
}

function containerConfig(c: NonNullable<ImageRecord['config']['config']>): Record<string, unknown> {
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
  };
}

/** GET /images/{name}/json. */
export function imageInspect(img: ImageRecord, layerDirs: string[]): Record<string, unknown> {
  const cfg = img.config;
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: '',
    Comment: cfg.comment ?? cfg.history?.[cfg.history.length - 1]?.comment ?? '',
    Created: img.created,
    Container: '',
    ContainerConfig: containerConfig({}),
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: containerConfig(cfg.config ?? {}),
    Architecture: cfg.architecture ?? 'amd64',
    Os: cfg.os ?? 'linux',
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: {
      Data: layerDirs.length
        ? {
            ...(layerDirs.length > 1 ? { LowerDir: layerDirs.slice(0, -1).reverse().join(':') } : {}),
            MergedDir: layerDirs[layerDirs.length - 1].replace(/diff$/, 'merged'),
            UpperDir: layerDirs[layerDirs.length - 1],
            WorkDir: layerDirs[layerDirs.length - 1].replace(/diff$/, 'work'),
          }
        : {},
      Name: 'overlay2',
    },
    RootFS: { Type: 'layers', Layers: cfg.rootfs.diff_ids },
    Metadata: { LastTagTime: img.lastTagTime || '0001-01-01T00:00:00Z' },
  };
}

/** GET /images/{name}/history: newest first, the image ID on the newest entry. */
export function imageHistory(img: ImageRecord): Array<Record<string, unknown>> {
  const history = img.config.history ?? [{ created: img.created }];
  return history
    .map((h, i) => ({
      Id: i === history.length - 1 ? img.id : '<missing>',
      Created: unix(h.created ?? img.created),
      CreatedBy: h.created_by ?? '',
      Tags: i === history.length - 1 ? img.repoTags : null,
      Size: 0,
      Comment: h.comment ?? '',
    }))
    .reverse();
}
