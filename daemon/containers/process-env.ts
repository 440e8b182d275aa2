// The environment a container's processes get, assembled as dockerd does at start and at exec:
// PATH, HOSTNAME, TERM (with a tty) and the link variables first, then the container's own Env
// over them (a key it sets replaces the default in place; a bare KEY removes it).

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function keyOf(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/**
 * `overrides` over `defaults`, as moby's ReplaceOrAppendEnvValues: a key already in `defaults`
 * (its last occurrence) takes the new value in place, a new key is appended, a bare KEY unsets.
 */
export function replaceOrAppendEnv(defaults: string[], overrides: string[]): string[] {
  const out: Array<string | null> = [...defaults];
  const at = new Map<string, number>();
  defaults.forEach((e, i) => at.set(keyOf(e), i));
  for (const v of overrides) {
    const i = at.get(keyOf(v));
    if (!v.includes('=')) {
      if (i !== undefined) out[i] = null;
    } else if (i !== undefined) out[i] = v;
    else out.push(v);
  }
  return out.filter((e): e is string => e !== null);
}

/** The env of a container's process: `linked` is the link variables (link-env.ts), in link order. */
export function containerEnv(config: { Env: string[]; Hostname: string }, tty: boolean, linked: string[]): string[] {
  const defaults = [DEFAULT_PATH_ENV, `HOSTNAME=${config.Hostname}`, ...(tty ? ['TERM=xterm'] : []), ...linked];
  return replaceOrAppendEnv(defaults, config.Env);
}
