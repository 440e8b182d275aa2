// The seccomp filter and no-new-privileges a container's processes get (its command, its execs
// and health probes), as dockerd's WithSeccomp decides: none when privileged or unconfined,
// else the profile asked for or Docker's default, for the container's capabilities. Filters are
// compiled here once per (profile, capability set) and kept: the init only installs the bytes.
import { readFileSync } from 'fs';
import { release } from 'os';
import { capabilityNames } from '../containers/capabilities';
import type { ProcessSpec } from '../runtime/init-spec';
import { serverError } from '../server/errors';
import DEFAULT_PROFILE from './default-profile.json';
import { compileProfile, parseProfile, SeccompError, seccompSupported, type SeccompProfile } from './seccomp';
import { parseSecurityOpt } from './security-opt';

type Seccomp = NonNullable<ProcessSpec['seccomp']>;

/** Few distinct profiles and capability sets are in use at once; this bounds a daemon that sees many. */
const CACHE_SIZE = 64;
const cache = new Map<string, Seccomp | null>();

/** Whether containers get a filter at all on this host (docker info lists seccomp then): a kernel with seccomp, an architecture with a table. */
export const SECCOMP_ENABLED = seccompSupported(process.arch) && kernelHasSeccomp();

function kernelHasSeccomp(): boolean {
  try {
    return /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}

/** What the init applies before the command starts, for a container with `hc` and capability set `caps`. */
export function processSecurity(hc: { SecurityOpt?: unknown; Privileged?: boolean }, caps: number[]): Pick<ProcessSpec, 'seccomp' | 'noNewPrivileges'> {
  const opts = parseSecurityOpt(hc.SecurityOpt as string[] | null | undefined);
  const builtin = opts.seccomp === 'builtin' || opts.seccomp === '';
  // dockerd without seccomp: the default profile is dropped (with a warning there), a custom one refused.
  if (!SECCOMP_ENABLED && !hc.Privileged && !builtin && opts.seccomp !== 'unconfined') throw serverError('seccomp is not enabled in your kernel, cannot run a custom seccomp profile');
  const seccomp = hc.Privileged || opts.seccomp === 'unconfined' || !SECCOMP_ENABLED ? null : filterFor(builtin ? 'builtin' : opts.seccomp, caps);
  return { ...(seccomp ? { seccomp } : {}), ...(opts.noNewPrivileges ? { noNewPrivileges: true } : {}) };
}

function filterFor(profile: string, caps: number[]): Seccomp | null {
  const key = `${caps.join(',')}\n${profile}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Most recently used last: the oldest goes first when full.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let compiled;
  try {
    const parsed = profile === 'builtin' ? (DEFAULT_PROFILE as SeccompProfile) : parseProfile(profile);
    compiled = compileProfile(parsed, { arch: process.arch, capabilities: capabilityNames(caps), kernel: release() });
  } catch (e) {
    // dockerd fails the start with the profile's error (a 500).
    if (e instanceof SeccompError) throw serverError(e.message);
    throw e;
  }
  const value = compiled && { filter: compiled.program.toString('base64'), flags: compiled.flags };
  cache.set(key, value);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return value;
}
