// The Dockerfile instructions `docker import --change` and `docker commit --change` accept.
import { badRequest } from '../server/errors';
import type { ImageConfig } from './store';

type Config = NonNullable<ImageConfig['config']>;

/** JSON form `["a","b"]`, else the shell form `/bin/sh -c "..."`. */
function commandForm(arg: string): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // not JSON after all: shell form, as Docker treats it
    }
  }
  return ['/bin/sh', '-c', t];
}

/** Splits `k=v k2="v 2"` pairs, honouring double quotes and backslashes. */
function pairs(arg: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(arg))) out.push([m[1], m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]]);
  return out;
}

function keyValues(arg: string, instruction: string): Array<[string, string]> {
  const t = arg.trim();
  if (!t.includes('=')) {
    // Legacy `ENV key value` form.
    const sp = t.search(/\s/);
    if (sp < 0) throw badRequest(`${instruction} requires at least one argument`);
    return [[t.slice(0, sp), t.slice(sp).trim()]];
  }
  return pairs(t);
}

export function applyChanges(config: Config, changes: string[]): Config {
  const out: Config = { ...config };
  for (const change of changes) {
    const line = change.trim();
    if (!line) continue;
    const sp = line.search(/\s/);
    const instruction = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1).trim();
    switch (instruction) {
      case 'CMD':
        out.Cmd = commandForm(arg);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = commandForm(arg);
        break;
      case 'ENV': {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of keyValues(arg, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of arg.split(/\s+/).filter(Boolean)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw badRequest(`invalid containerPort: ${p}`);
          ports[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'WORKDIR':
        out.WorkingDir = arg;
        break;
      case 'USER':
        out.User = arg;
        break;
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(arg, 'LABEL')) };
        break;
      case 'VOLUME': {
        const list = arg.startsWith('[') ? (JSON.parse(arg) as string[]) : arg.split(/\s+/).filter(Boolean);
        out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(list.map((v) => [v, {}])) };
        break;
      }
      case 'STOPSIGNAL':
        out.StopSignal = arg;
        break;
      case 'ONBUILD':
        out.OnBuild = [...(out.OnBuild ?? []), arg];
        break;
      default:
        throw badRequest(`${instruction} is not a valid change command`);
    }
  }
  return out;
}
