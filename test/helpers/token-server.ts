// A token server for distribution's token auth, on 127.0.0.1, in a child process (the tests
// drive the docker CLI synchronously, which would block a server in the test's own process).
// It checks Basic credentials and answers RS256 JWTs granting the requested repository actions,
// signed by a key and self-signed certificate made with openssl at test time; the registry trusts
// that certificate. Each request is logged as a JSON line.
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';

export interface TokenServer {
  realm: string;
  certPath: string;
  /** Every token request so far: the account asked for, the scopes, whether the credentials were right. */
  requests(): Array<{ account: string; scopes: string[]; authorized: boolean }>;
  close(): Promise<void>;
}

const SERVER = `
const { X509Certificate, createPrivateKey, randomBytes, sign } = require('crypto');
const { appendFileSync, readFileSync, writeFileSync } = require('fs');
const { createServer } = require('http');
const [keyPath, certPath, logPath, portPath, user, password, service, issuer] = process.argv.slice(1);
const key = createPrivateKey(readFileSync(keyPath));
const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
const b64url = (b) => Buffer.from(b).toString('base64url');
const server = createServer((req, res) => {
  const url = new URL(req.url || '/', 'http://x');
  const scopes = url.searchParams.getAll('scope');
  const basic = /^Basic (.+)$/.exec(req.headers.authorization || '');
  const [u, p] = basic ? Buffer.from(basic[1], 'base64').toString().split(/:(.*)/s) : ['', ''];
  const authorized = u === user && p === password;
  appendFileSync(logPath, JSON.stringify({ account: url.searchParams.get('account') || '', scopes, authorized }) + '\\n');
  if (basic && !authorized) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
  // Anonymous callers get a token with no access; the registry then refuses them.
  const access = authorized ? scopes.map((s) => { const parts = s.split(':'); const actions = parts.pop(); return { type: parts[0], name: parts.slice(1).join(':'), actions: actions.split(',') }; }) : [];
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
  const claims = b64url(JSON.stringify({ iss: issuer, sub: u, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
  const signature = b64url(sign('sha256', Buffer.from(header + '.' + claims), key));
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: header + '.' + claims + '.' + signature, expires_in: 300 }));
});
server.listen(0, '127.0.0.1', () => writeFileSync(portPath, String(server.address().port)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export async function startTokenServer(dir: string, opts: { user: string; password: string; service: string; issuer: string }): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  const logPath = join(dir, 'token.log');
  const portPath = join(dir, 'token.port');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=berth-test-token'], { stdio: 'ignore' });
  writeFileSync(logPath, '');
  const proc: ChildProcess = spawn(process.execPath, ['-e', SERVER, keyPath, certPath, logPath, portPath, opts.user, opts.password, opts.service, opts.issuer], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(portPath); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(portPath)) {
    proc.kill();
    throw new Error('the token server did not start');
  }
  const port = readFileSync(portPath, 'utf8').trim();
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    requests: () =>
      readFileSync(logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { account: string; scopes: string[]; authorized: boolean }),
    close: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('close', r));
      }
    },
  };
}
