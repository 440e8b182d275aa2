// TCP throughput with iperf3 (Debian's package), against berth and, when DOCKER_REF_HOST is set,
// against a reference Docker engine:
//
//   1. container -> container over the default bridge;
//   2. host -> container through a published port on 127.0.0.1 (the userland proxy);
//   3. container on another network -> the host's gateway address, published port (DNAT).
//
//   node dist/bench/network-throughput.js [--host unix:///run/berth.sock] [--image busybox]
//                                         [--seconds 3] [--docker /usr/local/bin/docker] [--json]
//
// The containers only sleep: iperf3 runs from the host inside their network namespaces
// (nsenter --net=SandboxKey), so any image works. Everything stays on this machine: loopback,
// the engines' bridges and the containers' namespaces. All it makes is removed, also on failure.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { randomBytes, randomInt } from 'crypto';
import { parseFlags } from './args';

interface Options {
  host: string;
  refHost: string | undefined;
  image: string;
  seconds: number;
  docker: string;
  json: boolean;
}

const USAGE = `usage: node dist/bench/network-throughput.js [--host URL] [--image NAME] [--seconds N] [--docker PATH] [--json]
environment: DOCKER_REF_HOST=unix:///var/run/docker.sock adds a reference Docker engine`;

function parseArgs(argv: string[]): Options {
  const defaults: Options = { host: 'unix:///run/berth.sock', refHost: process.env.DOCKER_REF_HOST, image: 'busybox', seconds: 3, docker: '/usr/local/bin/docker', json: false };
  return parseFlags(
    argv,
    defaults,
    {
      '--host': (o, v) => (o.host = v()),
      '--image': (o, v) => (o.image = v()),
      '--seconds': (o, v) => (o.seconds = v.int(1, 30)),
      '--docker': (o, v) => (o.docker = v()),
      '--json': (o) => (o.json = true),
    },
    USAGE,
  );
}

type Figures = Record<string, number | string>;

class Engine {
  private readonly made: string[] = [];
  private network = '';

  constructor(
    readonly host: string,
    private readonly docker: string,
  ) {}

  cli(args: string[]): string {
    const r = spawnSync(this.docker, args, { env: { ...process.env, DOCKER_HOST: this.host }, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  run(name: string, args: string[]): void {
    this.cli(['run', '-d', '--name', name, ...args]);
    this.made.push(name);
  }

  createNetwork(name: string): string {
    // A private /24 no engine here is likely to use.
    const subnet = `10.251.${randomInt(0, 255)}.0/24`;
    this.cli(['network', 'create', '--subnet', subnet, name]);
    this.network = name;
    return subnet.replace(/0\/24$/, '1');
  }

  inspect(name: string, format: string): string {
    return this.cli(['inspect', '-f', format, name]);
  }

  cleanup(): void {
    if (this.made.length) spawnSync(this.docker, ['rm', '-f', ...this.made], { env: { ...process.env, DOCKER_HOST: this.host } });
    if (this.network) spawnSync(this.docker, ['network', 'rm', this.network], { env: { ...process.env, DOCKER_HOST: this.host } });
  }
}

/** iperf3 client run in `netns` (or on the host): received Gbit/s. */
function iperf(netns: string | null, target: string, port: number, seconds: number): number {
  const args = ['-c', target, '-p', String(port), '-t', String(seconds), '-J'];
  const r = netns ? spawnSync('nsenter', [`--net=${netns}`, 'iperf3', ...args], { encoding: 'utf8', timeout: (seconds + 20) * 1000 }) : spawnSync('iperf3', args, { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
  const out = JSON.parse(r.stdout || '{}') as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
  if (out.error || !out.end?.sum_received) throw new Error(out.error ?? r.stderr.trim());
  return Math.round(out.end.sum_received.bits_per_second / 1e7) / 100;
}

async function measure(e: Engine, o: Options): Promise<Figures> {
  const tag = randomBytes(3).toString('hex');
  const figures: Figures = {};
  let server: ChildProcess | undefined;
  try {
    const gateway = e.createNetwork(`bench-net-${tag}`);
    const port = randomInt(20000, 30000);
    e.run(`bench-srv-${tag}`, ['-p', `127.0.0.1:${port}:5201`, '-p', `${port + 1}:5201`, o.image, 'sleep', '600']);
    e.run(`bench-cli-${tag}`, [o.image, 'sleep', '600']);
    e.run(`bench-far-${tag}`, ['--network', `bench-net-${tag}`, o.image, 'sleep', '600']);
    const key = (n: string): string => e.inspect(`bench-${n}-${tag}`, '{{.NetworkSettings.SandboxKey}}');
    const srvIp = e.inspect(`bench-srv-${tag}`, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
    server = spawn('nsenter', [`--net=${key('srv')}`, 'iperf3', '-s'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    const each = (label: string, fn: () => number): void => {
      try {
        figures[label] = fn();
      } catch (err) {
        figures[label] = `failed: ${(err as Error).message.split('\n')[0]}`;
      }
    };
    each('container_to_container_gbps', () => iperf(key('cli'), srvIp, 5201, o.seconds));
    each('published_port_proxy_gbps', () => iperf(null, '127.0.0.1', port, o.seconds));
    each('published_port_dnat_gbps', () => iperf(key('far'), gateway, port + 1, o.seconds));
  } finally {
    server?.kill();
    e.cleanup();
  }
  return figures;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (spawnSync('iperf3', ['--version']).status !== 0) throw new Error('iperf3 is missing (apt-get install iperf3)');
  const results: Record<string, Figures> = { berth: await measure(new Engine(o.host, o.docker), o) };
  if (o.refHost) results.docker = await measure(new Engine(o.refHost, o.docker), o);
  if (o.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  for (const [engine, figures] of Object.entries(results)) {
    for (const [name, value] of Object.entries(figures)) process.stdout.write(`${engine.padEnd(7)} ${name.padEnd(30)} ${value}\n`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
