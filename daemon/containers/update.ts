// POST /containers/{id}/update: dockerd's checks of the new values (400, before the container is
// looked up), their merge into the container's HostConfig (409 on conflicts with what it has).
import type { CpusetInfo } from '../cgroups/limits';
import { badRequest, conflict } from '../server/errors';
import { verifyCpusets } from './cpuset';
import type { HostConfig } from './record';
import { isNone, validateRestartPolicy, type RestartPolicy } from './restart-policy';

/** UpdateConfig as the docker CLI sends it: Resources (0 and "" = unchanged) and a RestartPolicy. */
export interface UpdateRequest {
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  BlkioWeight: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** Stored for the next start, not written into the running cgroup: dockerd's update passes neither to runc. */
  CpuRealtimePeriod: number;
  CpuRealtimeRuntime: number;
  /** null = unchanged, 0 = unlimited. */
  PidsLimit: number | null;
  RestartPolicy: RestartPolicy | null;
}

export interface HostFacts {
  ncpu: number;
  blkioWeight: boolean;
  /** null: no cpuset controller. */
  cpuset: CpusetInfo | null;
}

const MIN_MEMORY = 6 * 1024 * 1024;
type Json = Record<string, unknown>;

function int(body: Json, key: string): number {
  const v = body[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`json: cannot unmarshal ${typeof v} into Go struct field UpdateConfig.${key} of type int64`);
  return v;
}

function str(body: Json, key: string): string {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw badRequest(`json: cannot unmarshal ${typeof v} into Go struct field UpdateConfig.${key} of type string`);
  return v;
}

/** dockerd's verifyContainerSettings for an update; warnings for what this host cannot apply (then dropped). */
export function verifyUpdate(body: unknown, host: HostFacts): { req: UpdateRequest; warnings: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid JSON body');
  const b = body as Json;
  const warnings: string[] = [];
  const rp = b.RestartPolicy as Json | undefined | null;
  const policy = rp && typeof rp === 'object' && typeof rp.Name === 'string' && rp.Name !== '' ? { Name: rp.Name, MaximumRetryCount: int(rp, 'MaximumRetryCount') } : null;
  if (policy) validateRestartPolicy(policy, false);
  const pids = b.PidsLimit === undefined || b.PidsLimit === null ? null : int(b, 'PidsLimit');
  const req: UpdateRequest = {
    Memory: int(b, 'Memory'),
    MemorySwap: int(b, 'MemorySwap'),
    MemoryReservation: int(b, 'MemoryReservation'),
    NanoCpus: int(b, 'NanoCpus'),
    CpuShares: int(b, 'CpuShares'),
    CpuPeriod: int(b, 'CpuPeriod'),
    CpuQuota: int(b, 'CpuQuota'),
    BlkioWeight: int(b, 'BlkioWeight'),
    CpusetCpus: str(b, 'CpusetCpus'),
    CpusetMems: str(b, 'CpusetMems'),
    CpuRealtimePeriod: int(b, 'CpuRealtimePeriod'),
    CpuRealtimeRuntime: int(b, 'CpuRealtimeRuntime'),
    // Both 0 and -1 (any negative) mean unlimited on update.
    PidsLimit: pids === null ? null : Math.max(pids, 0),
    RestartPolicy: policy,
  };
  if (req.Memory !== 0 && req.Memory < MIN_MEMORY) throw badRequest('Minimum memory limit allowed is 6MB');
  if (req.Memory > 0 && req.MemorySwap > 0 && req.MemorySwap < req.Memory) throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (req.MemoryReservation > 0 && req.MemoryReservation < MIN_MEMORY) throw badRequest('Minimum memory reservation allowed is 6MB');
  if (req.Memory > 0 && req.MemoryReservation > 0 && req.Memory < req.MemoryReservation) {
    throw badRequest('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (req.NanoCpus > 0 && req.CpuPeriod > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (req.NanoCpus > 0 && req.CpuQuota > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (req.NanoCpus < 0 || req.NanoCpus > host.ncpu * 1e9) {
    throw badRequest(`Range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
  }
  if (req.CpuPeriod !== 0 && (req.CpuPeriod < 1000 || req.CpuPeriod > 1000000)) {
    throw badRequest('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (req.CpuQuota > 0 && req.CpuQuota < 1000) throw badRequest('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  warnings.push(...verifyCpusets(req, host.cpuset));
  if (req.BlkioWeight > 0 && !host.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    req.BlkioWeight = 0;
  }
  if (req.BlkioWeight > 0 && (req.BlkioWeight < 10 || req.BlkioWeight > 1000)) throw badRequest('Range of blkio weight is from 10 to 1000');
  return { req, warnings };
}

/** The container's HostConfig with the update applied (a copy); dockerd's conflicts as 409. */
export function mergeUpdate(id: string, hc: HostConfig, req: UpdateRequest): HostConfig {
  const refuse = (msg: string): never => {
    throw conflict(`Cannot update container ${id}: ${msg}`);
  };
  if (req.NanoCpus > 0 && hc.CpuPeriod > 0) refuse('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (req.NanoCpus > 0 && hc.CpuQuota > 0) refuse('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (req.CpuPeriod > 0 && hc.NanoCpus > 0) refuse('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (req.CpuQuota > 0 && hc.NanoCpus > 0) refuse('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const out: HostConfig = { ...hc };
  // dockerd stores the default swap (twice the memory) at create; berth works it out, so pin it before the memory moves.
  if (out.Memory > 0 && out.MemorySwap === 0) out.MemorySwap = out.Memory * 2;
  if (req.Memory !== 0) {
    if (req.Memory > out.MemorySwap && req.MemorySwap === 0) refuse('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    out.Memory = req.Memory;
  }
  if (req.MemorySwap !== 0) out.MemorySwap = req.MemorySwap;
  if (out.Memory > 0 && out.MemorySwap > 0 && out.MemorySwap < out.Memory) throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (req.MemoryReservation !== 0) out.MemoryReservation = req.MemoryReservation;
  if (out.Memory > 0 && typeof out.MemoryReservation === 'number' && out.MemoryReservation > out.Memory) {
    throw badRequest('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (req.CpuShares !== 0) out.CpuShares = Math.min(Math.max(req.CpuShares, 2), 262144);
  if (req.NanoCpus !== 0) out.NanoCpus = req.NanoCpus;
  if (req.CpuPeriod !== 0) out.CpuPeriod = req.CpuPeriod;
  if (req.CpuQuota !== 0) out.CpuQuota = req.CpuQuota;
  if (req.CpusetCpus) out.CpusetCpus = req.CpusetCpus;
  if (req.CpusetMems) out.CpusetMems = req.CpusetMems;
  if (req.BlkioWeight !== 0) out.BlkioWeight = req.BlkioWeight;
  if (req.CpuRealtimePeriod !== 0) out.CpuRealtimePeriod = req.CpuRealtimePeriod;
  if (req.CpuRealtimeRuntime !== 0) out.CpuRealtimeRuntime = req.CpuRealtimeRuntime;
  if (req.PidsLimit !== null) out.PidsLimit = req.PidsLimit;
  if (req.RestartPolicy) {
    if (hc.AutoRemove && !isNone(req.RestartPolicy)) refuse('Restart policy cannot be updated because AutoRemove is enabled for the container');
    out.RestartPolicy = req.RestartPolicy;
  }
  return out;
}
