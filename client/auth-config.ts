// Registry credentials as the docker CLI keeps them: `auths` in config.json under $DOCKER_CONFIG
// or ~/.docker, base64("user:password") per registry, Docker Hub under its index URL.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { homedir } from 'os';
import { join } from 'path';

export const HUB_KEY = 'https://index.docker.io/v1/';

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  [key: string]: unknown;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

function load(env: NodeJS.ProcessEnv): ConfigFile {
  try {
    return JSON.parse(readFileSync(join(configDir(env), 'config.json'), 'utf8')) as ConfigFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`loading config file: ${(e as Error).message}`);
  }
}

function save(env: NodeJS.ProcessEnv, cfg: ConfigFile): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, '\t'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The key a registry's credentials go under: Docker Hub's index URL, else the host as given. */
export function serverKey(server: string | undefined): string {
  if (!server) return HUB_KEY;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? HUB_KEY : host;
}

/** X-Registry-Auth for a registry domain (docker.io for Hub): base64url JSON, `e30=` ({}) without credentials. */
export function registryAuthHeader(env: NodeJS.ProcessEnv, domain: string): string {
  const key = serverKey(domain);
  const entry = load(env).auths?.[key];
  const payload: Record<string, string> = {};
  if (entry?.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    payload.username = text.slice(0, i);
    payload.password = text.slice(i + 1);
    payload.serveraddress = key;
  }
  if (entry?.identitytoken) payload.identitytoken = entry.identitytoken;
  return Buffer.from(JSON.stringify(payload)).toString('base64url') || 'e30=';
}

export function storeCredentials(env: NodeJS.ProcessEnv, server: string, username: string, password: string): string {
  const cfg = load(env);
  cfg.auths = { ...cfg.auths, [serverKey(server)]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  return save(env, cfg);
}

/** Removes a registry's credentials; false when there were none. */
export function eraseCredentials(env: NodeJS.ProcessEnv, server: string): boolean {
  const cfg = load(env);
  const key = serverKey(server);
  if (!cfg.auths?.[key]) return false;
  delete cfg.auths[key];
  save(env, cfg);
  return true;
}
