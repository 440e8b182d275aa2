// Debian's docker-registry (distribution 2.x), started by a test on 127.0.0.1 with a free port,
// its own storage dir and, when asked, htpasswd (bcrypt) auth. Stopping it removes everything.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const SKOPEO = '/usr/bin/skopeo';
export const hasRegistry = existsSync(REGISTRY_BIN);
export const hasSkopeo = existsSync(SKOPEO);

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  url: string;
  storage: string;
  output: () => string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Token auth as distribution checks it: JWTs from `realm` signed by the key of `certPath`. */
export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
}

export async function startRegistry(opts: { user?: string; password?: string; token?: TokenAuth } = {}): Promise<TestRegistry> {
  const base = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const storage = join(base, 'data');
  const port = await freePort();
  let auth = '';
  if (opts.user) {
    // The registry accepts only bcrypt entries; htpasswd -B writes them.
    const r = spawnSync('htpasswd', ['-Bbn', opts.user, opts.password ?? ''], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    writeFileSync(join(base, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(base, 'htpasswd')}\n`;
  } else if (opts.token) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certPath}\n`;
  }
  writeFileSync(
    join(base, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  let out = '';
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(base, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const host = `127.0.0.1:${port}`;
  const reg: TestRegistry = {
    host,
    url: `http://${host}`,
    storage,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('close', r));
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    const ok = await fetch(`${reg.url}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) return reg;
    await new Promise((r) => setTimeout(r, 100));
  }
  await reg.stop();
  throw new Error(`docker-registry did not start:\n${out}`);
}

/** `skopeo copy` with plain HTTP to the test registry; throws with skopeo's stderr on failure. */
export function skopeo(args: string[]): string {
  const r = spawnSync(SKOPEO, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
