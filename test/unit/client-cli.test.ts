// The client end to end against a scripted fake Engine API on a private Unix socket: request
// order for `run` (attach and wait before start), pull-on-404, exit statuses, the docker
// CLI's messages, and flag handling (combined shorthands, --flag=value, run's stop at IMAGE).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Readable, Writable } from 'stream';
import type { Duplex } from 'stream';
import { main } from '../../client/main';
import { encodeFrame } from '../../client/stream';

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

const ID = 'c0ffee'.padEnd(64, '0');
let dir: string;
let sock: string;
let server: Server;
let calls: Call[] = [];
let imagePresent = false;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.43' });
  res.end(JSON.stringify(body) + '\n');
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/^\/v1\.43/, '');
  calls.push({ method: req.method ?? '', path, query: url.searchParams, body });
  let m: RegExpExecArray | null;
  if (path === '/containers/create') {
    const cfg = JSON.parse(body) as { Image: string };
    if (cfg.Image === 'busybox' && !imagePresent) return json(res, 404, { message: 'No such image: busybox:latest' });
    // Containers of the image "broken" fail to start.
    return json(res, 201, { Id: cfg.Image === 'broken' ? 'broken' : ID, Warnings: [] });
  }
  if (path === '/images/create') {
    imagePresent = true;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify({ status: 'Pulling from library/busybox', id: 'latest' }) + '\r\n');
    res.write(JSON.stringify({ status: 'Downloading', progressDetail: { current: 5, total: 10 }, id: 'aaa' }) + '\r\n');
    res.end(JSON.stringify({ status: 'Status: Downloaded newer image for busybox:latest' }) + '\r\n');
    return;
  }
  if ((m = /^\/containers\/([^/]+)\/wait$/.exec(path))) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    setTimeout(() => res.end(JSON.stringify({ StatusCode: 3, Error: null }) + '\n'), 50);
    return;
  }
  if ((m = /^\/containers\/([^/]+)\/(start|stop|kill|restart)$/.exec(path))) {
    if (m[1] === 'nosuch') return json(res, 404, { message: 'No such container: nosuch' });
    if (m[1] === 'broken' && m[2] === 'start') {
      return json(res, 400, { message: 'failed to create task for container: exec: "nope": executable file not found in $PATH: unknown' });
    }
    res.writeHead(204).end();
    return;
  }
  if (path === '/containers/json') {
    return json(res, 200, [
      { Id: ID, Names: ['/web'], Image: 'nginx', ImageID: 'sha256:1', Command: 'nginx -g daemon off;', Created: Math.floor(Date.now() / 1000) - 7200, Ports: [], State: 'running', Status: 'Up 2 hours' },
    ]);
  }
  if ((m = /^\/containers\/([^/]+)\/json$/.exec(path))) {
    if (m[1] !== 'web') return json(res, 404, { message: `No such container: ${m[1]}` });
    return json(res, 200, { Id: ID, Name: '/web', State: { Pid: 42 }, Config: { Tty: false }, HostConfig: {} });
  }
  if ((m = /^\/containers\/([^/]+)\/logs$/.exec(path))) {
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    res.end(Buffer.concat([encodeFrame('stdout', 'log out\n'), encodeFrame('stderr', 'log err\n')]));
    return;
  }
  json(res, 404, { message: 'page not found' });
}

function onUpgrade(req: IncomingMessage, socket: Duplex): void {
  const url = new URL(req.url ?? '/', 'http://x');
  calls.push({ method: 'UPGRADE', path: url.pathname.replace(/^\/v1\.43/, ''), query: url.searchParams, body: '' });
  socket.on('error', () => undefined);
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  let input = '';
  socket.on('data', (d: Buffer) => (input += d.toString()));
  // The output ends shortly after start (or after stdin ends, when stdin is attached).
  const stdin = url.searchParams.get('stdin') === '1';
  const finish = (): void => {
    socket.end(Buffer.concat([encodeFrame('stdout', `hi${input ? ' ' + input : ''}\n`), encodeFrame('stderr', 'warn\n')]));
  };
  if (stdin) socket.on('end', () => setTimeout(finish, 20));
  else setTimeout(finish, 100);
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function berth(args: string[], opts: { input?: string; host?: string } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]) as Readable & { isTTY?: boolean };
  stdin.isTTY = false;
  const status = await main(args, { env: { DOCKER_HOST: opts.host ?? `unix://${sock}`, HOME: '/root' }, stdout, stderr, stdin });
  return { status, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  sock = join(dir, 'api.sock');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handle(req, res, body));
  });
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => server.listen(sock, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('berth run', () => {
  it('pulls a missing image, attaches and waits before starting, and exits with the container status', async () => {
    calls = [];
    imagePresent = false;
    const r = await berth(['run', '--rm', 'busybox', 'echo', '-n', 'hi']);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toBe(
      "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nStatus: Downloaded newer image for busybox:latest\nwarn\n",
    );
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /containers/create',
      'POST /images/create',
      'POST /containers/create',
      `UPGRADE /containers/${ID}/attach`,
      `POST /containers/${ID}/wait`,
      `POST /containers/${ID}/start`,
    ]);
    const pull = calls[1].query;
    expect([pull.get('fromImage'), pull.get('tag')]).toEqual(['docker.io/library/busybox', 'latest']);
    expect(calls[4].query.get('condition')).toBe('removed');
    const attach = calls[3].query;
    expect([attach.get('stream'), attach.get('stdout'), attach.get('stderr'), attach.get('stdin')]).toEqual(['1', '1', '1', '0']);
    // Everything after IMAGE is the command, flags included.
    const body = JSON.parse(calls[2].body) as { Cmd: string[]; HostConfig: { AutoRemove: boolean } };
    expect(body.Cmd).toEqual(['echo', '-n', 'hi']);
    expect(body.HostConfig.AutoRemove).toBe(true);
  });

  it('with -i sends stdin and half-closes when it ends', async () => {
    calls = [];
    const r = await berth(['run', '-i', 'alpine', 'cat'], { input: 'data' });
    expect(r.stdout).toBe('hi data\n');
    expect(calls.find((c) => c.method === 'UPGRADE')?.query.get('stdin')).toBe('1');
    expect(calls.find((c) => c.path.endsWith('/wait'))?.query.get('condition')).toBe('next-exit');
  });

  it('with -d prints the full ID and does not attach', async () => {
    calls = [];
    const r = await berth(['run', '-d', '--name', 'web', '-e', 'HOME', '-m', '64m', 'alpine']);
    expect(r).toEqual({ status: 0, stdout: `${ID}\n`, stderr: '' });
    expect(calls.some((c) => c.method === 'UPGRADE')).toBe(false);
    const create = calls.find((c) => c.path === '/containers/create')!;
    expect(create.query.get('name')).toBe('web');
    const body = JSON.parse(create.body) as { Env: string[]; AttachStdout: boolean; HostConfig: { Memory: number } };
    expect(body.Env).toEqual(['HOME=/root']);
    expect(body.AttachStdout).toBe(false);
    expect(body.HostConfig.Memory).toBe(64 * 1024 * 1024);
  });

  it('exits 127 with the daemon message when the executable is missing', async () => {
    const r = await berth(['run', 'broken']);
    expect(r.status).toBe(127);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'berth: Error response from daemon: failed to create task for container: exec: "nope": executable file not found in $PATH: unknown\n\nRun \'berth run --help\' for more information\n',
    );
    const s = await berth(['start', 'broken', 'web']);
    expect(s.status).toBe(1);
    expect(s.stdout).toBe('web\n');
    expect(s.stderr).toBe(
      'Error response from daemon: failed to create task for container: exec: "nope": executable file not found in $PATH: unknown\nError: failed to start containers: broken\n',
    );
  });

  it('rejects bad flag values with the usage line and status 125', async () => {
    const r = await berth(['run', '-m', '12x', 'alpine']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(
      `invalid argument "12x" for "-m, --memory" flag: invalid suffix: 'x'\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n`,
    );
    const missing = await berth(['run']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("berth: 'berth run' requires at least 1 argument");
  });
});

describe('container commands', () => {
  it('stop prints each container that stopped and the errors, exit 1', async () => {
    const r = await berth(['stop', '-t', '3', 'web', 'nosuch', 'db']);
    expect(r).toEqual({ status: 1, stdout: 'web\ndb\n', stderr: 'Error response from daemon: No such container: nosuch\n' });
  });

  it('ps -qa: combined shorthands, query and quiet output', async () => {
    calls = [];
    const r = await berth(['ps', '-qa', '-f', 'status=running', '--filter=name=web']);
    expect(r).toEqual({ status: 0, stdout: 'c0ffee000000\n', stderr: '' });
    const q = calls[0].query;
    expect(q.get('all')).toBe('1');
    expect(JSON.parse(q.get('filters')!)).toEqual({ status: { running: true }, name: { web: true } });
  });

  it('ps prints the docker table', async () => {
    const r = await berth(['ps']);
    expect(r.stdout.split('\n')).toEqual([
      'CONTAINER ID   IMAGE     COMMAND                  CREATED       STATUS       PORTS     NAMES',
      'c0ffee000000   nginx     "nginx -g daemon off;"   2 hours ago   Up 2 hours             web',
      '',
    ]);
  });

  it('ps -n=1 and --no-trunc=false follow pflag syntax', async () => {
    calls = [];
    const r = await berth(['ps', '-n=1', '--no-trunc=false', '--format', '{{.Names}}']);
    expect(r.stdout).toBe('web\n');
    expect(calls[0].query.get('limit')).toBe('1');
  });

  it('logs demultiplexes stdout and stderr', async () => {
    const r = await berth(['logs', '--tail', '5', 'web']);
    expect(r).toEqual({ status: 0, stdout: 'log out\n', stderr: 'log err\n' });
  });

  it('inspect prints JSON and reports objects that do not exist', async () => {
    const ok = await berth(['inspect', '-f', '{{.State.Pid}} {{.Name}}', 'web']);
    expect(ok).toEqual({ status: 0, stdout: '42 /web\n', stderr: '' });
    const missing = await berth(['inspect', 'nosuch']);
    expect(missing).toEqual({ status: 1, stdout: '[]\n', stderr: 'Error: No such object: nosuch\n' });
    const typed = await berth(['container', 'inspect', 'nosuch']);
    expect(typed.stderr).toBe('Error response from daemon: No such container: nosuch\n');
  });
});

describe('daemon errors', () => {
  it('says when the daemon cannot be reached', async () => {
    const host = `unix://${join(dir, 'none.sock')}`;
    const r = await berth(['ps'], { host });
    expect(r).toEqual({ status: 1, stdout: '', stderr: `Cannot connect to the berth daemon at ${host}. Is the daemon running?\n` });
  });

  it('reports unknown flags and commands like the docker CLI', async () => {
    const flag = await berth(['ps', '--nosuch']);
    expect(flag.status).toBe(125);
    expect(flag.stderr).toBe("unknown flag: --nosuch\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n");
    const short = await berth(['ps', '-x']);
    expect(short.stderr.split('\n')[0]).toBe("unknown shorthand flag: 'x' in -x");
    const cmd = await berth(['nosuch']);
    expect(cmd).toEqual({ status: 1, stdout: '', stderr: "berth: unknown command: berth nosuch\n\nRun 'berth --help' for more information\n" });
  });
});
