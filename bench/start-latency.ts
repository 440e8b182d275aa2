// berth's benchmark, three figures, each against berth and, when DOCKER_REF_HOST is set, against
// a reference Docker engine:
//
//   1. start latency: N x `docker run --rm IMAGE true` through the real docker CLI (median, p90, min);
//   2. API throughput: requests/second of GET /_ping and GET /containers/json over the socket;
//   3. memory per container: RSS of the daemon and the container processes, before and after
//      starting K `sleep` containers, per container.
//
//   npm run bench -- [--runs 20] [--image busybox] [--host unix:///run/berth.sock]
//                    [--requests 2000] [--concurrency 16] [--containers 10]
//                    [--only latency,api,memory] [--json] [--docker /usr/local/bin/docker]
//                    [--pidfile /run/berth.pid]
//
// Bounded in count and time; it removes every container it made, also on Ctrl-C. It talks only
// to the engines named by --host and DOCKER_REF_HOST (Unix sockets or tcp:// on this machine).
import { spawn } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { Agent, request, type RequestOptions } from 'http';
import { parseFlags } from './args';

// --- options --------------------------------------------------------------------------------

interface Options {
  runs: number;
  image: string;
  host: string;
  refHost: string | undefined;
  docker: string;
  requests: number;
  concurrency: number;
  containers: number;
  pidfile: string;
  only: Set<string>;
  json: boolean;
}

const SECTIONS = ['latency', 'api', 'memory'];

const USAGE = `usage: node dist/bench/start-latency.js [options]
  --runs N           docker run --rm IMAGE true runs per engine (default 20)
  --image NAME       image to run (default busybox; it must be on each engine)
  --host URL         berth's socket (default unix:///run/berth.sock)
  --docker PATH      the docker CLI (default /usr/local/bin/docker)
  --requests N       requests per endpoint for the API figure (default 2000)
  --concurrency N    requests in flight for the API figure (default 16)
  --containers N     sleep containers for the memory figure (default 10)
  --pidfile PATH     berthd's pidfile, to find its process (default /run/berth.pid)
  --only LIST        some of: ${SECTIONS.join(',')} (default all)
  --json             also print the results as JSON
environment: DOCKER_REF_HOST=unix:///var/run/docker.sock adds a reference Docker engine`;

function parseArgs(argv: string[]): Options {
  const defaults: Options = {
    runs: 20,
    image: 'busybox',
    host: 'unix:///run/berth.sock',
    refHost: process.env.DOCKER_REF_HOST || undefined,
    docker: '/usr/local/bin/docker',
    requests: 2000,
    concurrency: 16,
    containers: 10,
    pidfile: '/run/berth.pid',
    only: new Set(SECTIONS),
    json: false,
  };
  return parseFlags(
    argv,
    defaults,
    {
      '--runs': (o, v) => (o.runs = v.int(1, 1000)),
      '--image': (o, v) => (o.image = v()),
      '--host': (o, v) => (o.host = v()),
      '--docker': (o, v) => (o.docker = v()),
      '--requests': (o, v) => (o.requests = v.int(1, 100_000)),
      '--concurrency': (o, v) => (o.concurrency = v.int(1, 256)),
      '--containers': (o, v) => (o.containers = v.int(1, 100)),
      '--pidfile': (o, v) => (o.pidfile = v()),
      '--only': (o, v) => {
        const list = v().split(',').filter(Boolean);
        for (const s of list) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s} (${SECTIONS.join(', ')})`);
        o.only = new Set(list);
      },
      '--json': (o) => (o.json = true),
    },
    USAGE,
  );
}

// --- engines and HTTP -----------------------------------------------------------------------

interface Engine {
  name: string;
  host: string;
  target: { socketPath: string } | { host: string; port: number };
  agent: Agent;
}

function engine(name: string, host: string): Engine {
  let target: Engine['target'];
  if (host.startsWith('unix://')) target = { socketPath: host.slice('unix://'.length) };
  else if (host.startsWith('/')) target = { socketPath: host };
  else {
    const m = /^(?:tcp|http):\/\/([^:/]+):(\d+)\/?$/.exec(host);
    if (!m) throw new Error(`unsupported host ${host}: use unix:///path or tcp://host:port`);
    target = { host: m[1], port: Number(m[2]) };
  }
  return { name, host, target, agent: new Agent({ keepAlive: true, maxSockets: 256 }) };
}

interface Reply {
  status: number;
  body: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

function api(e: Engine, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const opts: RequestOptions = {
      ...e.target,
      agent: e.agent,
      method,
      path,
      headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {},
      timeout: REQUEST_TIMEOUT_MS,
    };
    const req = request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function apiJSON<T>(e: Engine, method: string, path: string, body?: unknown): Promise<T> {
  const r = await api(e, method, path, body);
  if (r.status >= 300) throw new Error(`${e.name}: ${method} ${path}: ${r.status} ${r.body.trim()}`);
  return (r.body ? JSON.parse(r.body) : undefined) as T;
}

// --- statistics -----------------------------------------------------------------------------

interface Stats {
  n: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return {
    n: s.length,
    min: s[0],
    median,
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

// --- cleanup --------------------------------------------------------------------------------

const settle = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** Containers this run made, by engine, removed on the way out whatever happens. */
const created: Array<{ e: Engine; id: string }> = [];

async function removeCreated(): Promise<void> {
  const all = created.splice(0);
  await Promise.all(all.map(({ e, id }) => api(e, 'DELETE', `/containers/${id}?force=1&v=1`).catch(() => undefined)));
}

/** Creates and starts in flight: a container made by one may not be in `created` yet, and one
 * removed while its start is under way may outlive the removal. */
let inflight = 0;

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${sig}: removing the benchmark's containers\n`);
    void (async () => {
      // Wait (bounded) for creates and starts in flight, so that what they make is removed too.
      for (let i = 0; i < 200 && inflight > 0; i++) await settle(50);
      await removeCreated();
    })().finally(() => process.exit(130));
  });
}

function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

// --- 1. start latency -----------------------------------------------------------------------

interface CliRun {
  code: number | null;
  stderr: string;
  ms: number;
}

const RUN_TIMEOUT_MS = 60_000;

function runCli(docker: string, host: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host, DOCKER_CLI_HINTS: 'false' };
    delete env.DOCKER_CONTEXT;
    const t0 = process.hrtime.bigint();
    const child = spawn(docker, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stderr: e.message, ms: 0 });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

async function requireImage(e: Engine, image: string): Promise<void> {
  const r = await api(e, 'GET', `/images/${encodeURIComponent(image)}/json`);
  if (r.status === 404) {
    throw new Error(
      `${e.name} (${e.host}) has no image ${image}: load one (docker save ${image} -o img.tar; berth load -i img.tar), ` +
        `or run scripts/install.sh --busybox-image, or pick another with --image`,
    );
  }
  if (r.status !== 200) throw new Error(`${e.name}: GET /images/${image}/json: ${r.status} ${r.body.trim()}`);
}

async function latency(o: Options, e: Engine): Promise<Stats> {
  const args = ['run', '--rm', o.image, 'true'];
  // One run first, not counted: it pays for the first-use costs (page cache, lazy set-up).
  const warm = await runCli(o.docker, e.host, args);
  if (warm.code !== 0) throw new Error(`${e.name}: docker ${args.join(' ')} exited ${warm.code}: ${warm.stderr.trim()}`);
  const times: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    checkInterrupted();
    const r = await runCli(o.docker, e.host, args);
    if (r.code !== 0) throw new Error(`${e.name}: run ${i + 1}: docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    times.push(r.ms);
    if (process.stderr.isTTY) process.stderr.write(`\r  ${e.name}: ${i + 1}/${o.runs}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  return stats(times);
}

// --- 2. API throughput ----------------------------------------------------------------------

interface Throughput {
  endpoint: string;
  requests: number;
  seconds: number;
  perSecond: number;
  latency: Stats;
}

const API_TIME_LIMIT_MS = 60_000;

/** Requests not counted, to every endpoint before any is measured: they open the keep-alive
 * connections and let both sides' JIT settle (without them the first endpoint measured comes
 * out at a third of its speed). */
async function warmUp(o: Options, e: Engine, paths: string[]): Promise<void> {
  const count = Math.min(1000, o.requests);
  for (const path of paths) {
    for (let i = 0; i < count && !interrupted; i += o.concurrency) {
      await Promise.all(Array.from({ length: Math.min(o.concurrency, count - i) }, () => api(e, 'GET', path)));
    }
  }
}

async function throughput(o: Options, e: Engine, path: string): Promise<Throughput> {
  const times: number[] = [];
  let issued = 0;
  const deadline = Date.now() + API_TIME_LIMIT_MS;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (issued < o.requests && Date.now() < deadline && !interrupted) {
      issued++;
      const s = process.hrtime.bigint();
      const r = await api(e, 'GET', path);
      if (r.status !== 200) throw new Error(`${e.name}: GET ${path}: ${r.status} ${r.body.trim()}`);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  checkInterrupted();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { endpoint: `GET ${path}`, requests: times.length, seconds, perSecond: times.length / seconds, latency: stats(times) };
}

// --- 3. memory per container ----------------------------------------------------------------

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
}

function processes(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      out.set(Number(d), { pid: Number(d), ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendants(root: number, procs: Map<number, Proc>): number[] {
  const children = new Map<number, number[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Bytes of RSS and, where smaps_rollup is readable, PSS (shared pages split between sharers). */
function memoryOf(pids: Iterable<number>): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of new Set(pids)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) rss += Number(m[1]) * 1024;
    } catch {
      continue;
    }
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) pss += Number(m[1]) * 1024;
    } catch {
      // older kernels
    }
  }
  return { rss, pss };
}

/** The engine's own daemon processes on this machine: berthd from its pidfile, dockerd and containerd by name. */
function daemonPids(o: Options, e: Engine, procs: Map<number, Proc>): number[] {
  if (e.name === 'berth') {
    if (!existsSync(o.pidfile)) throw new Error(`no ${o.pidfile}: is berthd running here? (--pidfile)`);
    const pid = Number(readFileSync(o.pidfile, 'utf8').trim());
    if (!procs.has(pid)) throw new Error(`berthd's pid ${pid} from ${o.pidfile} is not running`);
    return [pid];
  }
  return [...procs.values()].filter((p) => p.comm === 'dockerd' || p.comm === 'containerd').map((p) => p.pid);
}

interface Memory {
  containers: number;
  before: { rss: number; pss: number };
  after: { rss: number; pss: number };
  perContainer: { rss: number; pss: number };
}

async function memory(o: Options, e: Engine): Promise<Memory> {
  const daemons = daemonPids(o, e, processes());
  if (daemons.length === 0) throw new Error(`${e.name}: no daemon process found on this machine`);
  await settle(1000);
  const before = memoryOf(daemons);
  const ids: string[] = [];
  try {
    for (let i = 0; i < o.containers; i++) {
      checkInterrupted();
      inflight++;
      try {
        const c = await apiJSON<{ Id: string }>(e, 'POST', '/containers/create', {
          Image: o.image,
          Cmd: ['sleep', '600'],
          Labels: { 'berth.bench': 'memory' },
        });
        created.push({ e, id: c.Id });
        ids.push(c.Id);
        await apiJSON(e, 'POST', `/containers/${c.Id}/start`);
      } finally {
        inflight--;
      }
    }
    const pids: number[] = [];
    for (const id of ids) {
      const info = await apiJSON<{ State: { Running: boolean; Pid: number } }>(e, 'GET', `/containers/${id}/json`);
      if (!info.State.Running || !info.State.Pid) throw new Error(`${e.name}: container ${id.slice(0, 12)} is not running`);
      pids.push(info.State.Pid);
    }
    await settle(1000);
    const procs = processes();
    const counted = new Set<number>(daemons);
    for (const pid of pids) {
      for (const d of descendants(pid, procs)) counted.add(d);
      // Docker's containers hang off a containerd-shim each: count it as the container's too.
      const parent = procs.get(procs.get(pid)?.ppid ?? -1);
      if (parent && !daemons.includes(parent.pid) && parent.pid > 1) counted.add(parent.pid);
    }
    const after = memoryOf(counted);
    const n = ids.length;
    return {
      containers: n,
      before,
      after,
      perContainer: { rss: (after.rss - before.rss) / n, pss: (after.pss - before.pss) / n },
    };
  } finally {
    await removeCreated();
  }
}

// --- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const engines = [engine('berth', o.host)];
  if (o.refHost) engines.push(engine('docker', o.refHost));
  for (const e of engines) {
    const r = await api(e, 'GET', '/_ping').catch((err: Error) => ({ status: 0, body: err.message }));
    if (r.status !== 200) throw new Error(`${e.name} does not answer on ${e.host}: ${r.body.trim()}`);
  }
  const results: Record<string, unknown> = { image: o.image, engines: engines.map((e) => ({ name: e.name, host: e.host })) };
  const out = (s = '') => console.log(s);

  if (o.only.has('latency')) {
    out(`start latency: docker run --rm ${o.image} true, ${o.runs} runs each (after one warm-up run)`);
    if (!existsSync(o.docker)) {
      out(`  skipped: no docker CLI at ${o.docker} (--docker)`);
    } else {
      const lat: Record<string, Stats> = {};
      for (const e of engines) {
        await requireImage(e, o.image);
        lat[e.name] = await latency(o, e);
      }
      out(
        table(
          ['engine', 'host', 'median', 'p90', 'min', 'mean'],
          engines.map((e) => [e.name, e.host, ms(lat[e.name].median), ms(lat[e.name].p90), ms(lat[e.name].min), ms(lat[e.name].mean)]),
        ),
      );
      if (lat.docker) out(`ratio berth/docker (median): ${(lat.berth.median / lat.docker.median).toFixed(2)}x`);
      results.latency = lat;
    }
    out();
  }

  if (o.only.has('api')) {
    out(`API throughput: ${o.requests} requests per endpoint, ${o.concurrency} in flight, keep-alive (after a warm-up)`);
    const rows: string[][] = [];
    const thr: Record<string, Throughput[]> = {};
    const paths = ['/_ping', '/containers/json'];
    for (const e of engines) {
      thr[e.name] = [];
      await warmUp(o, e, paths);
      for (const path of paths) {
        const t = await throughput(o, e, path);
        thr[e.name].push(t);
        rows.push([e.name, t.endpoint, t.perSecond.toFixed(0), ms(t.latency.median), ms(t.latency.p99)]);
      }
    }
    out(table(['engine', 'endpoint', 'req/s', 'p50', 'p99'], rows));
    if (thr.docker) {
      for (let i = 0; i < thr.berth.length; i++) {
        out(`ratio berth/docker (req/s), ${thr.berth[i].endpoint}: ${(thr.berth[i].perSecond / thr.docker[i].perSecond).toFixed(2)}x`);
      }
    }
    results.api = thr;
    out();
  }

  if (o.only.has('memory')) {
    out(`memory per container: ${o.containers} x ${o.image} sleep 600 (daemon plus container processes)`);
    const rows: string[][] = [];
    const mem: Record<string, Memory | { skipped: string }> = {};
    for (const e of engines) {
      try {
        await requireImage(e, o.image);
        const m = await memory(o, e);
        mem[e.name] = m;
        rows.push([e.name, mib(m.before.rss), mib(m.after.rss), mib(m.perContainer.rss), m.perContainer.pss ? mib(m.perContainer.pss) : '-']);
      } catch (err) {
        // The reference engine may be on another machine, or its processes not readable here.
        if (e.name === 'berth') throw err;
        mem[e.name] = { skipped: (err as Error).message };
        rows.push([e.name, '-', '-', '-', '-']);
        out(`  ${e.name}: skipped: ${(err as Error).message}`);
      }
    }
    out(table(['engine', 'RSS before', 'RSS after', 'RSS/container', 'PSS/container'], rows));
    const b = mem.berth as Memory;
    const d = mem.docker as Memory | undefined;
    if (d && 'perContainer' in d) out(`ratio berth/docker (RSS per container): ${(b.perContainer.rss / d.perContainer.rss).toFixed(2)}x`);
    results.memory = mem;
    out();
  }

  if (o.json) out(JSON.stringify(results, null, 2));
  for (const e of engines) e.agent.destroy();
}

main().then(
  () => process.exit(0),
  async (err: Error) => {
    // After a signal its handler cleans up and exits; it must not be cut short here.
    if (interrupted) return;
    await removeCreated();
    process.stderr.write(`\nbench: ${err.message}\n`);
    process.exit(1);
  },
);
