// HostConfig.SecurityOpt as dockerd's parseSecurityOpt reads it, on a host without SELinux or
// AppArmor (as this one): label= and apparmor= are taken and have no effect, as there.
import { serverError } from '../server/errors';

export interface SecurityOptions {
  /** 'builtin' (also when unset), 'unconfined', or a profile's JSON. */
  seccomp: string;
  noNewPrivileges: boolean;
}

/** Go's strconv.ParseBool. */
const BOOLS: Record<string, boolean> = { 1: true, t: true, T: true, TRUE: true, true: true, True: true, 0: false, f: false, F: false, FALSE: false, false: false, False: false };

/**
 * The options, or dockerd's error for the first bad one. dockerd returns these from create as
 * plain errors, so they arrive as 500s with its text.
 */
export function parseSecurityOpt(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'builtin', noNewPrivileges: false };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue;
    // `=` first; the old `:` form only when there is no `=` at all (a profile's JSON has colons).
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : null;
    if (sep === null) throw serverError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'label':
      case 'apparmor':
        break;
      case 'seccomp':
        out.seccomp = value;
        break;
      case 'no-new-privileges':
        if (!(value in BOOLS)) throw serverError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = BOOLS[value];
        break;
      default:
        throw serverError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}
