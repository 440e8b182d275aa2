// Image benchmark, against berth and, when DOCKER_REF_HOST is set, a reference Docker engine:
//
//   1. load time of a large image (`docker load -i`, a docker-archive of --size-mb in --layers layers
//      of incompressible data, made here);
//   2. push throughput to, and pull throughput from, Debian's docker-registry started here on
//      127.0.0.1 with a private storage dir (compressed MB per second, median of --runs pulls,
//      the image deleted before each pull).
//
//   node dist/bench/images.js [--host unix:///run/berth.sock] [--size-mb 256] [--layers 4]
//                             [--runs 3] [--docker /usr/local/bin/docker] [--json]
//
// It removes the images it made and stops its registry, also when a step fails.
import { spawn, spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import * as tar from 'tar-stream';
import { parseFlags } from './args';

interface Options {
  host: string;
  refHost?: string;
  sizeMb: number;
  layers: number;
  runs: number;
  docker: string;
  json: boolean;
}

const USAGE = `usage: node dist/bench/images.js [--host URL] [--size-mb N] [--layers N] [--runs N] [--docker PATH] [--json]
environment: DOCKER_REF_HOST=unix:///var/run/docker.sock adds a reference Docker engine`;

function parseArgs(argv: string[]): Options {
  const defaults: Options = { host: 'unix:///run/berth.sock', refHost: process.env.DOCKER_REF_HOST || undefined, sizeMb: 256, layers: 4, runs: 3, docker: '/usr/local/bin/docker', json: false };
  return parseFlags(
    argv,
    defaults,
    {
      '--host': (o, v) => (o.host = v()),
      '--size-mb': (o, v) => (o.sizeMb = v.int(1, 4096)),
      '--layers': (o, v) => (o.layers = v.int(1, 64)),
      '--runs': (o, v) => (o.runs = v.int(1, 50)),
      '--docker': (o, v) => (o.docker = v()),
      '--json': (o) => (o.json = true),
    },
    USAGE,
  );
}

/** A docker-archive of `layers` layers, each one file of random bytes; its total layer bytes. */
async function makeArchive(path: string, sizeMb: number, layers: number, repoTag: string): Promise<number> {
  const layerTars: Buffer[] = [];
  const per = Math.floor((sizeMb * 1024 * 1024) / layers);
  for (let i = 0; i < layers; i++) {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    const done = new Promise<void>((r) => pack.on('end', () => r()));
    pack.entry({ name: `data/layer${i}.bin`, size: per, mode: 0o644, mtime: new Date(0) }, randomBytes(per));
    pack.finalize();
    await done;
    layerTars.push(Buffer.concat(chunks));
  }
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: layerTars.map((l) => `sha256:${sha(l)}`) } }));
  const out = tar.pack();
  const file = createWriteStream(path);
  out.pipe(file);
  const add = (name: string, body: Buffer): Promise<void> => new Promise((resolve, reject) => out.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())));
  await add(`${sha(config)}.json`, config);
  for (const l of layerTars) await add(`${sha(l)}/layer.tar`, l);
  await add('manifest.json', Buffer.from(JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [repoTag], Layers: layerTars.map((l) => `${sha(l)}/layer.tar`) }])));
  out.finalize();
  await new Promise<void>((r) => file.on('close', () => r()));
  return layerTars.reduce((n, l) => n + l.length, 0);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function docker(o: Options, host: string, args: string[]): void {
  const r = spawnSync(o.docker, args, { env: { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: join(tmpdir(), 'berth-bench-docker-config') }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
}

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-images-'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'registry')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const registry = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const engines: Array<[string, string]> = [['berth', o.host], ...(o.refHost ? [['docker', o.refHost] as [string, string]] : [])];
  const local = 'berthbench/large:1';
  const remote = `127.0.0.1:${port}/bench/large:1`;
  const results: Record<string, Record<string, number>> = {};
  try {
    for (let i = 0; i < 50; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const archive = join(dir, 'large.tar');
    const bytes = await makeArchive(archive, o.sizeMb, o.layers, local);
    const mb = bytes / 1e6;
    console.log(`image: ${o.layers} layers, ${mb.toFixed(1)} MB of incompressible data (archive ${(statSync(archive).size / 1e6).toFixed(1)} MB)`);
    for (const [name, host] of engines) {
      const r: Record<string, number> = {};
      const load = timed(() => docker(o, host, ['load', '-q', '-i', archive]));
      r.loadSeconds = load;
      docker(o, host, ['tag', local, remote]);
      const push = timed(() => docker(o, host, ['push', '-q', remote]));
      r.pushMBps = mb / push;
      const pulls: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        docker(o, host, ['rmi', remote]);
        docker(o, host, ['rmi', local]);
        pulls.push(timed(() => docker(o, host, ['pull', '-q', remote])));
        docker(o, host, ['tag', remote, local]);
      }
      r.pullSecondsMedian = median(pulls);
      r.pullMBps = mb / median(pulls);
      docker(o, host, ['rmi', remote]);
      docker(o, host, ['rmi', local]);
      results[name] = r;
      console.log(`${name}: load ${load.toFixed(2)} s (${(mb / load).toFixed(1)} MB/s); push ${r.pushMBps.toFixed(1)} MB/s; pull median ${r.pullSecondsMedian.toFixed(2)} s = ${r.pullMBps.toFixed(1)} MB/s over ${o.runs} runs`);
    }
    if (o.json) console.log(JSON.stringify(results));
  } finally {
    registry.kill('SIGTERM');
    await new Promise((r) => registry.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
