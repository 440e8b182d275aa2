// A container as the daemon keeps it: Docker's Config and HostConfig as sent (after merging the
// image's defaults), its state, and while it runs its network sandbox.
import type { HealthConfig, HealthState } from '../health/config';
import type { EndpointConfig, Sandbox } from '../network/manager';
import type { MountPoint } from '../volumes/spec';
import type { RestartPolicy } from './restart-policy';
import type { Ulimit } from './ulimits';

export type Status = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: Status;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Present once a container with a health check has started. */
  Health?: HealthState;
}

/** Docker's container Config (the subset of fields berth acts on is typed; the rest passes through). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  MacAddress?: string;
}

export interface HostConfig {
  Binds: string[] | null;
  NetworkMode: string;
  AutoRemove: boolean;
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  CpuQuota: number;
  CpuPeriod: number;
  PidsLimit: number | null;
  Privileged: boolean;
  /** As the client sent them (dockerd keeps the names unnormalized). */
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  RestartPolicy?: RestartPolicy;
  MemoryReservation?: number;
  BlkioWeight?: number;
  /** cgroup cpuset lists ("0-1,3"); '' or absent = all the host's. */
  CpusetCpus?: string;
  CpusetMems?: string;
  /** --cpu-rt-period / --cpu-rt-runtime (µs; 0 = none). */
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  /** --ulimit, as sent (null: none of its own). */
  Ulimits?: Ulimit[] | null;
  [key: string]: unknown;
}

export interface ContainerRecord {
  Id: string;
  /** With the leading slash, as Docker stores it. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** Image ID (sha256:...). */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** Stopped or killed by the user (not by a daemon shutdown): unless-stopped stays down, across daemon restarts too. */
  HasBeenManuallyStopped?: boolean;
  /** Present while the container runs. */
  Sandbox: Sandbox | null;
  /** Volumes, binds and tmpfs mounts, worked out at create (Docker's MountPoints). */
  MountPoints?: MountPoint[];
  /** Networks the container is on (by name), with what was asked for on each. */
  Networks?: Record<string, EndpointConfig>;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

/** RFC 3339 with nanoseconds, as Go prints times; sub-millisecond digits from the monotonic clock keep order. */
export function nowNano(): string {
  const iso = new Date().toISOString();
  const sub = (process.hrtime.bigint() % 1_000_000n).toString().padStart(6, '0');
  return `${iso.slice(0, 23)}${sub}Z`;
}
