// The image config blob (OCI image config, with Docker's extra fields) and chain IDs.
import { createHash } from 'crypto';

/** The container defaults an image carries, as Docker's container.Config (every field optional). */
export interface ImageContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

/** Durations in nanoseconds, as Go's time.Duration marshals. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface HistoryEntry {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The config blob as stored (byte for byte as received; the image ID is its sha256). */
export interface OciImageConfig {
  architecture?: string;
  variant?: string;
  os?: string;
  'os.version'?: string;
  created?: string;
  author?: string;
  comment?: string;
  container?: string;
  container_config?: ImageContainerConfig;
  docker_version?: string;
  config?: ImageContainerConfig | null;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** OCI chain IDs: a base layer's is its diffID, each next one sha256("<parent chain> <diffID>"). */
export function chainOf(parentChain: string, diffId: string): string {
  return parentChain ? `sha256:${sha256(`${parentChain} ${diffId}`)}` : diffId;
}

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(chainOf(out[out.length - 1] ?? '', d));
  return out;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The config parsed and checked enough that the store can rely on it; Docker's message when rootfs is absent. */
export function parseConfig(bytes: Buffer): OciImageConfig {
  const text = bytes.toString('utf8');
  // JSON is UTF-8; anything else could not be stored byte for byte through a string.
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new Error('invalid image JSON: not UTF-8');
  const config = JSON.parse(text) as OciImageConfig;
  if (typeof config !== 'object' || config === null || !config.rootfs) throw new Error('invalid image JSON, no RootFS key');
  const ids = config.rootfs.diff_ids ?? [];
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && DIGEST.test(d))) throw new Error('invalid image JSON: rootfs.diff_ids must be sha256 digests');
  config.rootfs.diff_ids = ids;
  return config;
}

/**
 * Every field of Docker's container.Config in its Go order, zero values filled in and the
 * `omitempty` ones left out when empty: how Docker writes a config and shows it in inspect.
 */
export function fullContainerConfig(c: ImageContainerConfig): Record<string, unknown> {
  const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && v !== false && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);
  const optional = (key: keyof ImageContainerConfig): Record<string, unknown> => (present(c[key]) ? { [key]: c[key] } : {});
  return {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
    ...optional('ExposedPorts'),
    Tty: c.Tty ?? false,
    OpenStdin: c.OpenStdin ?? false,
    StdinOnce: c.StdinOnce ?? false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    ...optional('ArgsEscaped'),
    Image: c.Image ?? '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    ...optional('NetworkDisabled'),
    ...optional('MacAddress'),
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...optional('StopSignal'),
    ...(c.StopTimeout !== undefined && c.StopTimeout !== null ? { StopTimeout: c.StopTimeout } : {}),
    ...optional('Shell'),
  };
}
