// Flag values as the docker CLI parses them: filters, env and labels, sizes, CPUs, ports,
// volumes. Each parser throws an Error with the docker CLI's message for a bad value.

import { isIP } from 'net';
import { resolve } from 'path';
import { ramInBytes } from './format/size';

/** filters.ParseFlag: "key=value" → { key: { value: true } }, keys lower-cased. */
export function addFilter(filters: Record<string, Record<string, boolean>>, arg: string): Record<string, Record<string, boolean>> {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new Error('bad format of filter (expected name=value)');
  const name = arg.slice(0, eq).trim().toLowerCase();
  const value = arg.slice(eq + 1).trim();
  const next = { ...filters };
  next[name] = { ...(next[name] ?? {}), [value]: true };
  return next;
}

/** opts.ValidateLabel: a label needs a name. */
export function validateLabel(val: string): string {
  const name = val.split('=')[0];
  if (name.trim() === '') throw new Error(`invalid label '${val}': empty name`);
  return val;
}

/** -a/--attach values. */
export function validateAttach(val: string): string {
  const v = val.toLowerCase();
  if (!['stdin', 'stdout', 'stderr'].includes(v)) throw new Error('valid streams are STDIN, STDOUT and STDERR');
  return v;
}

/** opts.ValidateIPAddress (--dns). */
export function validateIPAddress(val: string): string {
  if (isIP(val.trim()) === 0) throw new Error(`IP address is not correctly formatted: ${val}`);
  return val.trim();
}

/** opts.ValidateExtraHost (--add-host host:ip, host=ip, host-gateway). */
export function validateExtraHost(val: string): string {
  const sep = val.includes('=') ? '=' : ':';
  const i = val.indexOf(sep);
  if (i <= 0) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  let ip = val.slice(i + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== 'host-gateway' && isIP(ip) === 0) throw new Error(`invalid IP address in add-host: ${JSON.stringify(ip)}`);
  return val;
}

/** opts.ValidateLink (--link name[:alias]). */
export function validateLink(val: string): string {
  const parts = val.split(':');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new Error(`bad format for links: ${val}`);
  return val;
}

/** docker-cli's validDeviceMode: each of r, w, m at most once. */
function validDeviceMode(mode: string): boolean {
  return mode !== '' && [...mode].every((c, i) => 'rwm'.includes(c) && mode.indexOf(c) === i);
}

/** docker-cli's --device check (validateLinuxPath with validDeviceMode): HOST[:CONTAINER][:MODE], absolute paths. */
export function validateDevice(val: string): string {
  const parts = val.split(':');
  if (parts.length > 3 || parts[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath = parts[0];
  if (parts.length === 2 && !validDeviceMode(parts[1])) containerPath = parts[1];
  if (parts.length === 3) {
    containerPath = parts[1];
    if (!validDeviceMode(parts[2])) throw new Error(`bad mode specified: ${parts[2]}`);
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  return val;
}

/** docker-cli's parseLinuxDevice: a second part that is a mode is the mode, else the container path. */
export function parseDevice(val: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const [src, second, third] = val.split(':');
  let dst = '';
  let perms = 'rwm';
  if (third !== undefined) {
    dst = second;
    perms = third;
  } else if (second !== undefined) {
    if (validDeviceMode(second)) perms = second;
    else dst = second;
  }
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

/** docker-cli's --device-cgroup-rule check: moby's regular expression. */
export function validateDeviceCgroupRule(val: string): string {
  if (!/^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.test(val)) throw new Error(`invalid device cgroup format '${val}'`);
  return val;
}

/** Builds the `filters` query value from repeated -f/--filter flags; undefined when none. */
export function parseFilters(args: string[]): string | undefined {
  let f: Record<string, Record<string, boolean>> = {};
  for (const a of args) f = addFilter(f, a);
  return Object.keys(f).length ? JSON.stringify(f) : undefined;
}

/** opts.ValidateEnv: "KEY" alone takes the client's value when it is set. */
export function validateEnv(val: string, env: NodeJS.ProcessEnv = process.env): string {
  const eq = val.indexOf('=');
  const key = eq < 0 ? val : val.slice(0, eq);
  if (key === '') throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = env[key];
  return v !== undefined ? `${key}=${v}` : val;
}

/** Reads an --env-file/--label-file: KEY=VALUE lines, `#` comments, KEY alone from the environment. */
export function parseKeyValueFile(content: string, fromEnv?: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw) => {
      const line = raw.replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      if (key === '') throw new Error(`no variable name on line '${line}'`);
      if (/\s/.test(key)) throw new Error(`variable '${key.trimEnd()}' contains whitespaces`);
      if (eq >= 0) out.push(line);
      else if (fromEnv) {
        const v = fromEnv[key];
        if (v !== undefined) out.push(`${key}=${v}`);
      } else out.push(line);
    });
  return out;
}

/** ["k=v", "k2"] → { k: "v", k2: "" } (opts.ConvertKVStringsToMap). */
export function kvToMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** opts.MemBytes (-m, --memory-swap...): "512m" → bytes; "-1" is allowed for swap. */
export function parseMemBytes(value: string): number {
  if (value === '-1') return -1;
  return ramInBytes(value);
}

/** opts.NanoCPUs (--cpus): "1.5" → 1500000000; more than 9 decimals is "too precise". */
export function parseNanoCPUs(value: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`failed to parse ${value} as a rational number`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > 9) throw new Error('value is too precise');
  const nanos = Number(m[2] || '0') * 1e9 + Number(frac.padEnd(9, '0') || '0');
  return m[1] === '-' ? -nanos : nanos;
}

/** Go's strconv.ParseInt/Atoi message for a non-integer flag value. */
export function parseIntFlag(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// Ports (go-connections/nat)

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

function parsePortRange(s: string): [number, number] {
  if (s === '') throw new Error('empty string specified for ports');
  const dash = s.indexOf('-');
  const parse = (p: string): number => {
    if (!/^\d+$/.test(p) || Number(p) > 65535) throw new Error(`invalid port: ${p}`);
    return Number(p);
  };
  if (dash < 0) {
    const p = parse(s);
    return [p, p];
  }
  const start = parse(s.slice(0, dash));
  const end = parse(s.slice(dash + 1));
  if (end < start) throw new Error(`invalid range specified for port: ${s}`);
  return [start, end];
}

function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (parts.length === 0 || parts[0] === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1] === '') return ['tcp', parts[0]];
  return [parts[1], parts[0]];
}

/** nat.ParsePortSpec for one -p value: "ip:host:container/proto" and its shorter forms. */
export function parsePortSpec(rawPort: string): Array<{ port: string; binding: PortBinding }> {
  const [proto, spec] = splitProtoPort(rawPort);
  const parts = spec.split(':');
  const n = parts.length;
  const containerPort = parts[n - 1];
  let ip = '';
  let hostPort = '';
  if (n === 2) hostPort = parts[0];
  else if (n === 3) {
    ip = parts[0];
    hostPort = parts[1];
  } else if (n > 3) {
    ip = parts.slice(0, n - 2).join(':');
    hostPort = parts[n - 2];
  }
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && !/^(\d{1,3}\.){3}\d{1,3}$/.test(ip) && !/^[0-9a-fA-F:.]+$/.test(ip)) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${rawPort}<empty>`);
  const [startPort, endPort] = (() => {
    try {
      return parsePortRange(containerPort);
    } catch {
      throw new Error(`invalid containerPort: ${containerPort}`);
    }
  })();
  let startHost = 0;
  let endHost = 0;
  if (hostPort !== '') {
    try {
      [startHost, endHost] = parsePortRange(hostPort);
    } catch {
      throw new Error(`invalid hostPort: ${hostPort}`);
    }
  }
  if (hostPort !== '' && endPort - startPort !== endHost - startHost) {
    // A host range with a single container port: any host port of the range.
    if (endPort !== startPort) throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
  const out: Array<{ port: string; binding: PortBinding }> = [];
  for (let i = 0; i <= endPort - startPort; i++) {
    let hp = hostPort;
    if (hostPort !== '') {
      hp = String(startHost + i);
      if (endPort === startPort && endHost !== startHost) hp = `${startHost}-${endHost}`;
    }
    out.push({ port: `${startPort + i}/${proto.toLowerCase()}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** convertToStandardNotation: the long --publish syntax "target=80,published=8080,protocol=udp". */
export function toStandardPortNotation(value: string): string {
  if (!value.includes('=')) return value;
  const params: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`invalid publish opts format (should be name=value but got '${part}')`);
    params[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1);
  }
  if (!params.target) throw new Error('missing mandatory field "target"');
  const port = `${params.target}/${params.protocol || 'tcp'}`;
  return params.published ? `${params.published}:${port}` : port;
}

/** Exposed ports and bindings for all -p values (nat.ParsePortSpecs). */
export function parsePublish(values: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const v of values) {
    for (const { port, binding } of parsePortSpec(toStandardPortNotation(v))) {
      exposed[port] = {};
      (bindings[port] ??= []).push(binding);
    }
  }
  return { exposed, bindings };
}

/** --expose values: "80", "80/udp", "8000-8010". */
export function parseExpose(values: string[], exposed: Record<string, Record<string, never>>): void {
  for (const e of values) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let p = start; p <= end; p++) exposed[`${p}/${proto}`] ??= {};
  }
}

// ---------------------------------------------------------------------------------------------
// Volumes

/**
 * -v values: "src:dst[:mode]" (host path or named volume) go to HostConfig.Binds, a lone
 * "/dst" is an anonymous volume in Config.Volumes. Relative "./x" and "." sources become absolute.
 */
export function parseVolumes(values: string[], cwd: string = process.cwd()): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of values) {
    const parts = v.split(':');
    if (parts.length > 3) throw new Error(`invalid spec: ${v}: too many colons`);
    if (parts.length === 1) {
      // Paths are checked by the daemon, as with the docker CLI.
      volumes[parts[0]] = {};
      continue;
    }
    let [src] = parts;
    if (src === '.' || src.startsWith('./')) src = resolve(cwd, src);
    binds.push([src, ...parts.slice(1)].join(':'));
  }
  return { binds, volumes };
}

/** opts.ParseRestartPolicy: "name[:max-retries]"; the daemon judges the name. */
export function parseRestartPolicy(value: string): { Name: string; MaximumRetryCount: number } {
  if (value === '') return { Name: '', MaximumRetryCount: 0 };
  const i = value.indexOf(':');
  const name = i < 0 ? value : value.slice(0, i);
  const count = i < 0 ? '' : value.slice(i + 1);
  if (i >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

/** --tmpfs "/path[:opts]". */
export function parseTmpfs(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const t of values) {
    const i = t.indexOf(':');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

/** --ulimit name=soft[:hard]. */
export function parseUlimit(value: string): { Name: string; Soft: number; Hard: number } {
  const eq = value.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  const [soft, hard, ...rest] = value.slice(eq + 1).split(':');
  if (rest.length > 0 || !/^-?\d+$/.test(soft) || (hard !== undefined && !/^-?\d+$/.test(hard))) throw new Error(`invalid ulimit argument: ${value}`);
  return { Name: name, Soft: Number(soft), Hard: Number(hard ?? soft) };
}

/** --mount's CSV (opts.MountOpt): type=bind|volume|tmpfs,source=...,target=...,readonly,... */
export function parseMount(value: string): Record<string, unknown> {
  const m: Record<string, unknown> = { Type: 'volume' };
  const bind: Record<string, unknown> = {};
  const vol: Record<string, unknown> = {};
  const driver: Record<string, unknown> = {};
  const tmpfs: Record<string, unknown> = {};
  const kv = (s: string): [string, string] => {
    const i = s.indexOf('=');
    return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
  };
  const bool = (key: string, v: string | undefined): boolean => {
    if (v === undefined) return true;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw new Error(`invalid value for ${key}: ${v}`);
  };
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    if (val === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) throw new Error(`invalid field '${field}' must be a key=value pair`);
    const v = val ?? '';
    switch (key) {
      case 'type':
        m.Type = v;
        break;
      case 'source':
      case 'src':
        m.Source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = v;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        m.Consistency = v;
        break;
      case 'bind-propagation':
        bind.Propagation = v.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bind.NonRecursive = bool(key, val);
        break;
      case 'volume-nocopy':
        vol.NoCopy = bool(key, val);
        break;
      case 'volume-label': {
        const [k, lv] = kv(v);
        vol.Labels = { ...(vol.Labels as object), [k]: lv };
        break;
      }
      case 'volume-driver':
        driver.Name = v;
        break;
      case 'volume-opt': {
        const [k, ov] = kv(v);
        driver.Options = { ...(driver.Options as object), [k]: ov };
        break;
      }
      case 'tmpfs-size':
        tmpfs.SizeBytes = ramInBytes(v);
        break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(v)) throw new Error(`invalid value for ${key}: ${v}`);
        tmpfs.Mode = parseInt(v, 8);
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new Error('target is required');
  if (Object.keys(driver).length) vol.DriverConfig = driver;
  for (const [prefix, opts, type, key] of [
    ['bind', bind, 'bind', 'BindOptions'],
    ['volume', vol, 'volume', 'VolumeOptions'],
    ['tmpfs', tmpfs, 'tmpfs', 'TmpfsOptions'],
  ] as const) {
    if (!Object.keys(opts).length) continue;
    if (m.Type !== type) throw new Error(`cannot mix '${prefix}-*' options with mount type '${String(m.Type)}'`);
    m[key] = opts;
  }
  return m;
}
