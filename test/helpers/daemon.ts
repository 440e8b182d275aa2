// Starts a real berthd with everything private to one test file: socket, data and exec roots,
// pidfile, bridge name, subnet and cgroup parent. Stopping it checks that nothing was left behind.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { request } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { randomBytes, randomInt } from 'crypto';
import { expect } from 'vitest';
import { makeBusyboxArchive } from './busybox-image';

export const ROOT = join(__dirname, '../..');
export const BERTHD = join(ROOT, 'dist/daemon/main.js');
export const BERTH = join(ROOT, 'dist/client/main.js');
export const DOCKER = '/usr/local/bin/docker';
export const hasDocker = existsSync(DOCKER);

export interface TestDaemon {
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  bridge: string;
  subnetPrefix: string;
  gateway: string;
  cgroupParent: string;
  proc: ChildProcess;
  output: () => string;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; raw: string; headers: Record<string, string | string[] | undefined> }>;
  docker(args: string[], opts?: { input?: string | Buffer }): CliResult;
  berth(args: string[], opts?: { input?: string | Buffer }): CliResult;
  /** Linux bridges of the daemon's user networks, as last seen in its data root (for leftovers). */
  userBridges: string[];
  /** SIGTERM, wait for exit; the private dirs are removed unless `keep`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
  dirs: DaemonDirs;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface DaemonDirs {
  base: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  bridge: string;
  subnetPrefix: string;
  gateway: string;
  cgroupParent: string;
}

function newDirs(): DaemonDirs {
  const base = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const tag = randomBytes(3).toString('hex');
  const octet = randomInt(1, 254);
  return {
    base,
    socket: join(base, 'berth.sock'),
    dataRoot: join(base, 'data'),
    execRoot: join(base, 'exec'),
    pidfile: join(base, 'berthd.pid'),
    bridge: `btest${tag}`,
    subnetPrefix: `10.213.${octet}`,
    gateway: `10.213.${octet}.1`,
    cgroupParent: `berth-test-${tag}`,
  };
}

/** Starts a daemon on fresh private dirs, or again on those of a stopped one (`keep` in its stop). */
export interface DaemonOptions {
  /** daemon.json's settings. */
  config?: Record<string, unknown>;
  /** More berthd flags. */
  args?: string[];
}

export async function startDaemon(dirs?: DaemonDirs, opts: DaemonOptions = {}): Promise<TestDaemon> {
  if (dirs) return launch(dirs, opts);
  // The random subnet may be another test daemon's (files run in parallel, other checkouts too): berthd refuses it, draw again.
  for (let attempt = 1; ; attempt++) {
    const fresh = newDirs();
    try {
      return await launch(fresh, opts);
    } catch (e) {
      rmSync(fresh.base, { recursive: true, force: true });
      if (attempt >= 5 || !/overlaps .*'s network; choose another --bip/.test((e as Error).message)) throw e;
    }
  }
}

async function launch(dirs: DaemonDirs, opts: DaemonOptions): Promise<TestDaemon> {
  const d = dirs;
  const base = d.base;
  // A config file of its own (empty unless the test gives settings) keeps a host's /etc/berth/daemon.json out of the test.
  const configFile = join(base, 'daemon.json');
  writeFileSync(configFile, JSON.stringify(opts.config ?? {}));
  let out = '';
  // Through a shell that leaves fd 40 open without close-on-exec, as a daemon may inherit one from
  // whatever started it: no container or exec may see it (Node's own first fds would hide a low one).
  const proc = spawn(
    '/bin/bash',
    [
      '-c',
      'exec 40</dev/null; exec "$@"',
      'bash',
      process.execPath,
      BERTHD,
      '-H',
      `unix://${d.socket}`,
      '--data-root',
      d.dataRoot,
      '--exec-root',
      d.execRoot,
      '--pidfile',
      d.pidfile,
      '--bridge',
      d.bridge,
      '--bip',
      `${d.gateway}/24`,
      '--cgroup-parent',
      d.cgroupParent,
      '--config-file',
      configFile,
      '--log-level',
      'debug',
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const host = `unix://${d.socket}`;
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: join(base, 'docker-config') };
  const cli = (bin: string[], args: string[], opts?: { input?: string | Buffer }): CliResult => {
    const r = spawnSync(bin[0], [...bin.slice(1), ...args], { env, input: opts?.input, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const daemon: TestDaemon = {
    ...d,
    host,
    proc,
    output: () => out,
    api: (method, path, body) => apiCall(d.socket, method, path, body),
    docker: (args, opts) => cli([DOCKER], args, opts),
    berth: (args, opts) => cli([process.execPath, BERTH], args, opts),
    dirs: d,
    userBridges: [],
    stop: async (opts) => {
      daemon.userBridges = [...new Set([...daemon.userBridges, ...userBridges(d.dataRoot, d.bridge)])];
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((resolve) => proc.once('close', resolve));
      }
      if (!opts?.keep) rmSync(base, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`berthd exited at start:\n${out}`);
    if (existsSync(d.socket)) {
      const ping = await daemon.api('GET', '/_ping').catch(() => undefined);
      if (ping?.status === 200) return daemon;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`berthd did not start:\n${out}`);
}

export function apiCall<T>(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; raw: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const req = request(
      { socketPath, method, path, headers: payload ? { 'Content-Type': typeof body === 'object' && !Buffer.isBuffer(body) ? 'application/json' : 'application/x-tar' } : {} },
      (res) => {
        let raw = '';
        res.on('data', (c: Buffer) => (raw += c.toString('latin1')));
        res.on('end', () => {
          let parsed: unknown = raw;
          try {
            parsed = raw ? JSON.parse(raw) : undefined;
          } catch {
            // Not JSON (a stream or plain text): callers look at `raw`.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, raw, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function userBridges(dataRoot: string, defaultBridge: string): string[] {
  const dir = join(dataRoot, 'network/networks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { bridgeName?: string }).bridgeName)
    .filter((b): b is string => !!b && b !== defaultBridge);
}

/** What a daemon's run may leave on the host: mounts, interfaces, iptables rules, cgroups. Empty when clean. */
export function leftovers(d: Pick<TestDaemon, 'dataRoot' | 'execRoot' | 'bridge' | 'cgroupParent'> & { userBridges?: string[] }): string[] {
  const found: string[] = [];
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const line of mountinfo.split('\n')) {
    const point = line.split(' ')[4];
    if (point && (point.startsWith(d.dataRoot) || point.startsWith(d.execRoot))) found.push(`mount ${point}`);
  }
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  for (const line of links.split('\n')) {
    for (const b of [d.bridge, ...(d.userBridges ?? [])]) {
      if (line.includes(` ${b}:`) || line.includes(`master ${b} `)) found.push(`link ${line.split(':')[1]?.trim()}`);
    }
  }
  // Every rule of a daemon is in chains named after its default bridge, or jumps to them.
  const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
  for (const line of rules.split('\n')) if (line.includes(`BERTH-${d.bridge}`)) found.push(`iptables ${line}`);
  for (const ctrl of ['', 'memory', 'cpu', 'pids', 'cpuacct', 'freezer', 'blkio', 'cpuset', 'devices', 'unified']) {
    const dir = join('/sys/fs/cgroup', ctrl, d.cgroupParent);
    if (existsSync(dir)) found.push(`cgroup ${dir}`);
  }
  return found;
}

/** A private daemon with the test busybox image (test/helpers/busybox-image.ts) loaded as `repoTag`. */
export async function startDaemonWithImage(repoTag: string, opts: DaemonOptions = {}): Promise<TestDaemon> {
  const d = await startDaemon(undefined, opts);
  const tar = join(d.dataRoot, '..', 'busybox.tar');
  await makeBusyboxArchive(tar, { repoTag });
  const load = d.docker(['load', '-i', tar]);
  if (load.status !== 0) throw new Error(`docker load failed: ${load.stderr}`);
  return d;
}

/** Removes every container, stops the daemon and fails when anything of it is left on the host. */
export async function stopAndCheck(d: TestDaemon): Promise<void> {
  const ids = d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  if (ids.length) d.docker(['rm', '-f', ...ids]);
  await d.stop();
  expect(leftovers(d)).toEqual([]);
}
