// Build benchmark: `docker build` of a small Dockerfile (ENV, WORKDIR, two RUNs, COPY, CMD on
// the busybox image already loaded), cold (--no-cache, every step runs) and cached (the same
// build again, every step `Using cache`), median of --runs each, against berth and, when
// DOCKER_REF_HOST is set, a reference Docker engine.
//
//   node dist/bench/build.js [--host unix:///run/berth.sock] [--runs 5] [--image busybox:latest]
//                            [--docker /usr/local/bin/docker] [--json]
//
// It removes the images it built (and with them their steps) at the end.
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseFlags } from './args';

interface Options {
  host: string;
  refHost?: string;
  runs: number;
  image: string;
  docker: string;
  json: boolean;
}

const USAGE = `usage: node dist/bench/build.js [--host URL] [--runs N] [--image NAME] [--docker PATH] [--json]
environment: DOCKER_REF_HOST=unix:///var/run/docker.sock adds a reference Docker engine`;

function parseArgs(argv: string[]): Options {
  const defaults: Options = { host: 'unix:///run/berth.sock', refHost: process.env.DOCKER_REF_HOST || undefined, runs: 5, image: 'busybox:latest', docker: '/usr/local/bin/docker', json: false };
  return parseFlags(
    argv,
    defaults,
    {
      '--host': (o, v) => (o.host = v()),
      '--runs': (o, v) => (o.runs = v.int(1, 50)),
      '--image': (o, v) => (o.image = v()),
      '--docker': (o, v) => (o.docker = v()),
      '--json': (o) => (o.json = true),
    },
    USAGE,
  );
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function build(o: Options, host: string, dir: string, extra: string[], made: Set<string>): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(o.docker, ['build', '-q', ...extra, '-t', 'berthbench/build:latest', dir], { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`docker build failed on ${host}: ${r.stderr}`);
  made.add(r.stdout.trim());
  return ms;
}

function measure(o: Options, host: string, dir: string): { cold: number; cached: number } {
  const cold: number[] = [];
  const cached: number[] = [];
  const made = new Set<string>();
  try {
    for (let i = 0; i < o.runs; i++) {
      cold.push(build(o, host, dir, ['--no-cache'], made));
      cached.push(build(o, host, dir, [], made));
    }
  } finally {
    // The built images, each with the steps under it (removed with it, as they are untagged).
    spawnSync(o.docker, ['rmi', 'berthbench/build:latest', ...made], { env: { ...process.env, DOCKER_HOST: host } });
  }
  return { cold: median(cold), cached: median(cached) };
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-build-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${o.image}\nENV APP=/app\nWORKDIR /app\nRUN echo one > one.txt\nCOPY data.txt .\nRUN cat one.txt data.txt > both.txt\nCMD ["cat", "both.txt"]\n`);
    writeFileSync(join(dir, 'data.txt'), 'data\n');
    const results: Record<string, { cold: number; cached: number }> = { berth: measure(o, o.host, dir) };
    if (o.refHost) results.docker = measure(o, o.refHost, dir);
    if (o.json) {
      console.log(JSON.stringify(results));
      return;
    }
    console.log(`docker build, 7 steps, median of ${o.runs}`);
    for (const [engine, r] of Object.entries(results)) console.log(`${engine.padEnd(7)} cold (--no-cache) ${r.cold.toFixed(0)} ms   cached ${r.cached.toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
