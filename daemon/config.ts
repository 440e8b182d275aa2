// berthd's settings: dockerd's flag names, optionally from a JSON config file with the same keys.
import { Command } from 'commander';
import { readFileSync } from 'fs';
import { parseUlimit, type Ulimit } from './containers/ulimits';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  bridge: string;
  bip: string;
  logLevel: string;
  cgroupParent: string;
  /** Registries reached over plain HTTP (loopback always is). */
  insecureRegistries: string[];
  /** Docker Hub mirrors, tried before registry-1.docker.io. */
  registryMirrors: string[];
  /** DNS servers for containers and upstreams of the embedded DNS (empty: the host's). */
  dns: string[];
  /** --default-ulimit / "default-ulimits": by name, under each container's own --ulimit. */
  defaultUlimits: Record<string, Ulimit>;
  /** --cpu-rt-period / --cpu-rt-runtime (µs): written into the containers' parent cgroups (v1); 0 = left alone. */
  cpuRtPeriod: number;
  cpuRtRuntime: number;
}

export const DEFAULTS: DaemonConfig = {
  hosts: ['unix:///run/berth.sock'],
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  pidfile: '/run/berth.pid',
  bridge: 'berth0',
  bip: '172.29.0.1/16',
  logLevel: 'info',
  cgroupParent: 'berth',
  insecureRegistries: [],
  registryMirrors: [],
  dns: [],
  defaultUlimits: {},
  cpuRtPeriod: 0,
  cpuRtRuntime: 0,
};

const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  hosts: 'hosts',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  pidfile: 'pidfile',
  bridge: 'bridge',
  bip: 'bip',
  'log-level': 'logLevel',
  'cgroup-parent': 'cgroupParent',
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  dns: 'dns',
  'default-ulimits': 'defaultUlimits',
  'cpu-rt-period': 'cpuRtPeriod',
  'cpu-rt-runtime': 'cpuRtRuntime',
};

export function parseConfig(argv: string[]): DaemonConfig {
  const program = new Command('berthd')
    .description('berth: a Docker-compatible container engine daemon')
    .option('-H, --host <socket>', 'daemon socket to listen on (unix:///path)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--data-root <dir>', `root of persistent state (default ${DEFAULTS.dataRoot})`)
    .option('--exec-root <dir>', `root of runtime state (default ${DEFAULTS.execRoot})`)
    .option('-p, --pidfile <file>', `path of the daemon's PID file (default ${DEFAULTS.pidfile})`)
    .option('-b, --bridge <name>', `default bridge, created if missing (default ${DEFAULTS.bridge})`)
    .option('--bip <cidr>', `default bridge address (default ${DEFAULTS.bip})`)
    .option('-l, --log-level <level>', 'debug, info, warn, error or fatal (default info)')
    .option('--cgroup-parent <name>', `parent cgroup of containers (default ${DEFAULTS.cgroupParent})`)
    .option('--insecure-registry <host>', 'registry reached over plain HTTP (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--registry-mirror <url>', 'Docker Hub mirror (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--dns <ip>', 'DNS server to use (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--default-ulimit <name=soft:hard>', 'default ulimit for containers (repeatable)', (v: string, prev: Record<string, Ulimit> | undefined) => {
      let u: Ulimit;
      try {
        u = parseUlimit(v);
      } catch (e) {
        throw new Error(`invalid argument "${v}" for "--default-ulimit" flag: ${(e as Error).message}`);
      }
      return { ...prev, [u.Name]: u };
    })
    .option('--cpu-rt-period <us>', 'limit the CPU real-time period in microseconds for the parent cgroup for all containers (not supported with cgroups v2)', (v: string) => int64Flag(v, 'cpu-rt-period'))
    .option('--cpu-rt-runtime <us>', 'limit the CPU real-time runtime in microseconds for the parent cgroup for all containers (not supported with cgroups v2)', (v: string) => int64Flag(v, 'cpu-rt-runtime'))
    .option('--config-file <file>', 'JSON file with the same settings', '/etc/berth/daemon.json')
    .version('0.1.0', '-v, --version')
    .parse(argv, { from: 'user' });
  const o = program.opts<Record<string, string | string[] | undefined>>();
  const cfg: DaemonConfig = { ...DEFAULTS };
  const file = o.configFile as string;
  let fromFile: Record<string, unknown> = {};
  try {
    fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const explicit = argv.some((a) => a.startsWith('--config-file'));
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || explicit) throw new Error(`unable to configure the berth daemon with file ${file}: ${(e as Error).message}`);
  }
  for (const [key, value] of Object.entries(fromFile)) {
    const name = FILE_KEYS[key];
    if (!name) throw new Error(`unable to configure the berth daemon with file ${file}: the following directives don't match any configuration option: ${key}`);
    (cfg as unknown as Record<string, unknown>)[name] = value;
  }
  const badFile = (msg: string): never => {
    throw new Error(`unable to configure the berth daemon with file ${file}: ${msg}`);
  };
  if (typeof cfg.defaultUlimits !== 'object' || cfg.defaultUlimits === null || Array.isArray(cfg.defaultUlimits)) badFile('json: cannot unmarshal default-ulimits into map[string]*units.Ulimit');
  const ulimits: Record<string, Ulimit> = {};
  for (const [key, u] of Object.entries(cfg.defaultUlimits as Record<string, Partial<Ulimit> | null>)) {
    const ok = typeof u === 'object' && u !== null && ['string', 'undefined'].includes(typeof u.Name) && Number.isInteger(u.Soft ?? 0) && Number.isInteger(u.Hard ?? 0);
    if (!ok) badFile(`json: cannot unmarshal default-ulimits.${key} into units.Ulimit {"Name": string, "Hard": int64, "Soft": int64}`);
    // Missing fields are Go's zero values.
    ulimits[key] = { Name: u!.Name ?? '', Hard: u!.Hard ?? 0, Soft: u!.Soft ?? 0 };
  }
  cfg.defaultUlimits = ulimits;
  for (const key of ['cpuRtPeriod', 'cpuRtRuntime'] as const) if (!Number.isInteger(cfg[key])) badFile(`json: cannot unmarshal ${typeof cfg[key]} into Go struct field Config.${key === 'cpuRtPeriod' ? 'cpu-rt-period' : 'cpu-rt-runtime'} of type int64`);
  const flags: Array<[string, keyof DaemonConfig]> = [
    ['host', 'hosts'],
    ['dataRoot', 'dataRoot'],
    ['execRoot', 'execRoot'],
    ['pidfile', 'pidfile'],
    ['bridge', 'bridge'],
    ['bip', 'bip'],
    ['logLevel', 'logLevel'],
    ['cgroupParent', 'cgroupParent'],
    ['insecureRegistry', 'insecureRegistries'],
    ['registryMirror', 'registryMirrors'],
    ['dns', 'dns'],
    ['defaultUlimit', 'defaultUlimits'],
    ['cpuRtPeriod', 'cpuRtPeriod'],
    ['cpuRtRuntime', 'cpuRtRuntime'],
  ];
  // As dockerd: these may not come from both a flag and the file (it checks every option; berth lets a flag win for the older ones).
  const exclusive: Array<[string, string, (v: unknown) => string]> = [
    ['defaultUlimit', 'default-ulimits', (v) => `[${Object.values(v as Record<string, Ulimit>).map((u) => `${u.Name}=${u.Soft}:${u.Hard}`).join(' ')}]`],
    ['cpuRtPeriod', 'cpu-rt-period', String],
    ['cpuRtRuntime', 'cpu-rt-runtime', String],
  ];
  const conflicts = exclusive.filter(([flag, key]) => o[flag] !== undefined && key in fromFile).map(([flag, key, show]) => `${key}: (from flag: ${show(o[flag])}, from file: ${goValue(fromFile[key])})`);
  if (conflicts.length) throw new Error(`unable to configure the berth daemon with file ${file}: the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  for (const [flag, name] of flags) if (o[flag] !== undefined) (cfg as unknown as Record<string, unknown>)[name] = o[flag];
  for (const ip of cfg.dns) if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`${ip} is not an ip address`);
  return cfg;
}

function int64Flag(v: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** A JSON value as Go's %v prints what it decoded: map[k:v ...] with sorted keys, [a b]. */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object' && v !== null) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goValue((v as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** The filesystem path of a unix:// host. */
export function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new Error(`unsupported host ${host}: berthd listens on unix sockets only (unix:///path)`);
}
