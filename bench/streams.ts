// Streams benchmark, against berth and, when DOCKER_REF_HOST is set, a reference Docker engine:
//
//   1. exec latency: N x `docker exec CTR true` through the real docker CLI (median, p90, min);
//   2. log throughput: a container writes M MB to stdout (`yes` lines through `head -c`); the
//      time from `docker start` to its exit gives MB/s through the log driver to disk.
//
//   npm run bench:streams -- [--runs 20] [--mb 100] [--image busybox] [--host unix:///run/berth.sock]
//                           [--docker /usr/local/bin/docker] [--json]
//
// It makes two containers per engine and removes them, also on Ctrl-C. It talks only to the
// engines named by --host and DOCKER_REF_HOST.
import { spawnSync } from 'child_process';
import { parseFlags } from './args';

interface Options {
  runs: number;
  mb: number;
  image: string;
  host: string;
  refHost: string | undefined;
  docker: string;
  json: boolean;
}

const USAGE = `usage: node dist/bench/streams.js [--runs N] [--mb N] [--image NAME] [--host URL] [--docker PATH] [--json]
environment: DOCKER_REF_HOST=unix:///var/run/docker.sock adds a reference Docker engine`;

function parseArgs(argv: string[]): Options {
  const defaults: Options = { runs: 20, mb: 100, image: 'busybox', host: 'unix:///run/berth.sock', refHost: process.env.DOCKER_REF_HOST || undefined, docker: '/usr/local/bin/docker', json: false };
  return parseFlags(
    argv,
    defaults,
    {
      '--runs': (o, v) => (o.runs = v.int(1, 1000)),
      '--mb': (o, v) => (o.mb = v.int(1, 10_000)),
      '--image': (o, v) => (o.image = v()),
      '--host': (o, v) => (o.host = v()),
      '--docker': (o, v) => (o.docker = v()),
      '--json': (o) => (o.json = true),
    },
    USAGE,
  );
}

interface Engine {
  name: string;
  host: string;
}

function docker(o: Options, e: Engine, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(o.docker, args, { env: { ...process.env, DOCKER_HOST: e.host }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(o: Options, e: Engine, args: string[]): string {
  const r = docker(o, e, args);
  if (r.status !== 0) throw new Error(`${e.name}: docker ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

function execLatency(o: Options, e: Engine, made: string[]): { median: number; p90: number; min: number } {
  const id = must(o, e, ['run', '-d', o.image, 'sleep', '3600']);
  made.push(id);
  must(o, e, ['exec', id, 'true']);
  const times: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const t = process.hrtime.bigint();
    must(o, e, ['exec', id, 'true']);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p90: quantile(times, 0.9), min: times[0] };
}

function logThroughput(o: Options, e: Engine, made: string[]): { seconds: number; mbPerSecond: number } {
  const bytes = o.mb * 1_000_000;
  // 100-byte lines: `yes` repeats one, head cuts the total.
  const line = 'x'.repeat(99);
  const id = must(o, e, ['create', o.image, 'sh', '-c', `yes ${line} | head -c ${bytes}`]);
  made.push(id);
  const t = process.hrtime.bigint();
  must(o, e, ['start', id]);
  const code = must(o, e, ['wait', id]);
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (code !== '0') throw new Error(`${e.name}: the writer exited with ${code}`);
  // The last line must have reached the log: the figure counts output that was stored.
  const last = must(o, e, ['logs', '--tail', '1', id]);
  if (last !== line) throw new Error(`${e.name}: the last logged line is ${JSON.stringify(last.slice(0, 120))}`);
  return { seconds, mbPerSecond: o.mb / seconds };
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const engines: Engine[] = [{ name: 'berth', host: o.host }, ...(o.refHost ? [{ name: 'docker', host: o.refHost }] : [])];
  const results: Record<string, unknown> = {};
  for (const e of engines) {
    const made: string[] = [];
    const cleanup = (): void => {
      if (made.length) docker(o, e, ['rm', '-f', ...made]);
    };
    process.once('SIGINT', () => {
      cleanup();
      process.exit(130);
    });
    try {
      const exec = execLatency(o, e, made);
      console.log(`${e.name}: docker exec CTR true, ${o.runs} runs: median ${exec.median.toFixed(0)} ms, p90 ${exec.p90.toFixed(0)} ms, min ${exec.min.toFixed(0)} ms`);
      const logs = logThroughput(o, e, made);
      console.log(`${e.name}: ${o.mb} MB to stdout through the log driver: ${logs.seconds.toFixed(2)} s, ${logs.mbPerSecond.toFixed(1)} MB/s`);
      results[e.name] = { exec, logs };
    } finally {
      cleanup();
    }
  }
  if (engines.length === 2) {
    const ratio = (results.berth as { exec: { median: number } }).exec.median / (results.docker as { exec: { median: number } }).exec.median;
    console.log(`exec latency ratio berth/docker: ${ratio.toFixed(2)}x`);
  }
  if (o.json) console.log(JSON.stringify(results, null, 2));
}

main();
