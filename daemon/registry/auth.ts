// Registry credentials as the docker CLI sends them (X-Registry-Auth, POST /auth bodies) and the
// WWW-Authenticate challenges registries answer with.

/** Docker's registry.AuthConfig (the JSON inside X-Registry-Auth). */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as stored in config.json. */
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** X-Registry-Auth: base64url (or plain base64) JSON; anything unreadable means no credentials, as in Docker. */
export function decodeAuthHeader(header: string | string[] | undefined): AuthConfig {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return {};
  try {
    const parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as AuthConfig) : {};
  } catch {
    return {};
  }
}

/** The username and password of an auth config, `auth` decoded when the fields are empty. */
export function credentials(a: AuthConfig): { username: string; password: string } | undefined {
  if (a.username || a.password) return { username: a.username ?? '', password: a.password ?? '' };
  if (a.auth) {
    const text = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  return undefined;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** RFC 7235 challenges: `Bearer realm="...",service="...",scope="..."`, `Basic realm="..."`. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  const out: Challenge[] = [];
  for (const value of values) {
    const re = /\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+|$)((?:[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/y;
    let m: RegExpExecArray | null;
    while (re.lastIndex < value.length && (m = re.exec(value))) {
      const params: Record<string, string> = {};
      const pr = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
      let p: RegExpExecArray | null;
      while ((p = pr.exec(m[2]))) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
      out.push({ scheme: m[1].toLowerCase(), params });
      if (m[0].length === 0) break;
    }
  }
  return out;
}
