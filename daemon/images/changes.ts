// The Dockerfile instructions `docker import --change` and `docker commit --change` accept,
// applied to an image's container config as Docker's builder does (BuildFromConfig): the lines
// are parsed as a Dockerfile, every instruction must be one of the commit commands, and
// ENV/LABEL/EXPOSE/USER/VOLUME/WORKDIR/STOPSIGNAL words are expanded with the config's Env.
import { constants } from 'os';
import { posix } from 'path';
import { badRequest } from '../server/errors';
import { parseWords } from '../build/dockerfile';
import { processWord, processWords } from '../build/lex';
import type { HealthConfig, ImageContainerConfig } from './config';

const COMMIT_COMMANDS = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);
const DEFAULT_SHELL = ['/bin/sh', '-c'];

interface Instruction {
  name: string;
  rest: string;
}

/** Dockerfile lines: comments dropped, `\` continuations joined, each split into its instruction and the rest. */
function parseLines(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!pending && /^\s*(#|$)/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1);
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*([\s\S]*)$/.exec(full);
    if (m) out.push({ name: m[1], rest: m[2].trim() });
  }
  if (pending.trim()) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(pending.trim());
    if (m) out.push({ name: m[1], rest: m[2].trim() });
  }
  return out;
}



/** `["a","b"]` is the exec form; anything else the shell form, kept as one string. */
function maybeJson(rest: string): { args: string[]; json: boolean } {
  if (rest.startsWith('[')) {
    try {
      const v = JSON.parse(rest) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return { args: v, json: true };
    } catch {
      // not JSON after all: the shell form, as Docker reads it
    }
  }
  return { args: rest ? [rest] : [], json: false };
}

/** ENV and LABEL pairs: `k=v k2="v 2"`, or the legacy `k v...` form. */
function keyValues(rest: string, instruction: string, env: string[], esc: string): Array<[string, string]> {
  const words = parseWords(rest, esc);
  if (words.length === 0) throw badRequest(`${instruction} requires at least one argument`);
  let pairs: Array<[string, string]>;
  if (!words[0].includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    if (!m) throw badRequest(`${instruction} must have two arguments`);
    pairs = [[m[1], m[2]]];
  } else {
    pairs = words.map((w) => {
      const eq = w.indexOf('=');
      if (eq < 0) throw badRequest(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
      return [w.slice(0, eq), w.slice(eq + 1)];
    });
  }
  return pairs.map(([k, v]) => {
    if (!k) throw badRequest(`${instruction} names can not be blank`);
    return [processWord(k, env, esc), processWord(v, env, esc)];
  });
}

function exactlyOne(rest: string, instruction: string, env: string[], esc: string): string {
  if (!rest) throw badRequest(`${instruction} requires exactly one argument`);
  return processWord(rest, env, esc);
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
function parseDuration(s: string): number {
  const m = /^([-+]?)((?:\d*\.?\d+(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) throw badRequest(`time: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  for (const [, n, unit] of m[2].matchAll(/(\d*\.?\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(n) * DURATION_UNITS[unit];
  return Math.round(m[1] === '-' ? -total : total);
}

function healthcheck(rest: string): HealthConfig {
  const flags: Record<string, string> = {};
  let args = rest;
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(args); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(args)) {
    if (!['interval', 'timeout', 'start-period', 'retries'].includes(m[1])) throw badRequest(`unknown flag: ${m[1]}`);
    flags[m[1]] = m[2];
    args = args.slice(m[0].length);
  }
  const sep = /\s+/.exec(args);
  const type = (sep ? args.slice(0, sep.index) : args).toUpperCase();
  const tail = sep ? args.slice(sep.index + sep[0].length) : '';
  if (!type) throw badRequest('HEALTHCHECK requires at least one argument');
  if (type === 'NONE') {
    if (tail) throw badRequest('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw badRequest(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const { args: cmd, json } = maybeJson(tail);
  if (cmd.length === 0) throw badRequest('Missing command after HEALTHCHECK CMD');
  const health: HealthConfig = { Test: [json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  for (const [flag, key] of [['interval', 'Interval'], ['timeout', 'Timeout'], ['start-period', 'StartPeriod']] as const) {
    if (!flags[flag]) continue;
    const d = parseDuration(flags[flag]);
    if (d !== 0 && d < 1e6) throw badRequest(`Interval "${flag}" cannot be less than 1ms`);
    if (d) health[key] = d;
  }
  if (flags.retries) {
    const n = Number(flags.retries);
    if (!/^[-+]?\d+$/.test(flags.retries)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(flags.retries)}: invalid syntax`);
    if (n < 0) throw badRequest(`--retries cannot be negative (${n})`);
    if (n) health.Retries = n;
  }
  return health;
}

/** Container ports as EXPOSE takes them (nat.ParsePortSpecs): `80`, `53/udp`, `8000-8002`. */
function exposedPorts(specs: string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const container = spec.slice(spec.lastIndexOf(':') + 1);
    const [range, proto = 'tcp', extra] = container.split('/');
    if (extra !== undefined || !range) throw badRequest(`No port specified: ${spec}<empty>`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    const start = m ? Number(m[1]) : NaN;
    const end = m?.[2] ? Number(m[2]) : start;
    if (!m || start > 65535 || end > 65535 || end < start) throw badRequest(`Invalid containerPort: ${range}`);
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw badRequest(`Invalid proto: ${proto}`);
    for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

function validSignal(sig: string): void {
  if (/^\d+$/.test(sig)) {
    if (Number(sig) === 0) throw badRequest(`Invalid signal: ${sig}`);
    return;
  }
  const name = `SIG${sig.toUpperCase().replace(/^SIG/, '')}`;
  if (!(name in constants.signals)) throw badRequest(`Invalid signal: ${sig}`);
}

/** What one instruction did: Docker's commit comment for the history (`ENV A=b`, `CMD ["sh"]`). */
export interface Applied {
  comment: string;
}

export interface InstructionContext {
  /** Words are expanded with these (the config's Env, and the build's args in a build). */
  env: string[];
  /** A CMD came earlier in this change set or build stage: a later ENTRYPOINT keeps it. */
  cmdSet: boolean;
  /** The Dockerfile's escape token (`# escape=`); a backslash by default. */
  escape?: string;
}

/** Go's %q of a []string, as Docker formats CMD and ENTRYPOINT in history: `["a" "b"]`. */
export function goQuoteList(list: string[] | null | undefined): string {
  return `[${(list ?? []).map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Go's time.Duration String(): 0s, 1.5s, 1m30s, 300ms. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let u = Math.abs(ns);
  const num = (n: number): string => String(Number(n.toFixed(9)));
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${num(u / 1e3)}µs`;
  if (u < 1e9) return `${sign}${num(u / 1e6)}ms`;
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${num(u / 1e9)}s`;
}

/** Go's %q of a *HealthConfig, as Docker writes HEALTHCHECK in history. */
function goQuoteHealth(h: HealthConfig): string {
  const retries = h.Retries ?? 0;
  const rune = retries >= 32 && retries < 127 ? `'${String.fromCharCode(retries)}'` : `'\\x${retries.toString(16).padStart(2, '0')}'`;
  return `&{${goQuoteList(h.Test)} "${goDuration(h.Interval ?? 0)}" "${goDuration(h.Timeout ?? 0)}" "${goDuration(h.StartPeriod ?? 0)}" ${rune}}`;
}

/**
 * One commit instruction (`name` in any case, `rest` its arguments) applied to `c` in place, as
 * the builder's dispatchers do; throws Docker's 400 messages on anything invalid.
 */
export function applyInstruction(c: ImageContainerConfig, name: string, rest: string, ctx: InstructionContext): Applied {
  const instruction = name.toUpperCase();
  const env = ctx.env;
  const esc = ctx.escape ?? '\\';
  switch (instruction) {
    case 'CMD':
    case 'ENTRYPOINT': {
      const { args, json } = maybeJson(rest);
      const value = json ? args : [...(c.Shell?.length ? c.Shell : DEFAULT_SHELL), ...args];
      if (instruction === 'CMD') {
        c.Cmd = value;
        if (args.length) ctx.cmdSet = true;
        return { comment: `CMD ${goQuoteList(c.Cmd)}` };
      }
      c.Entrypoint = json || args.length ? value : null;
      // A new ENTRYPOINT drops an inherited CMD unless this same change set gave one.
      if (!ctx.cmdSet) c.Cmd = null;
      return { comment: `ENTRYPOINT ${goQuoteList(c.Entrypoint)}` };
    }
    case 'ENV': {
      const next = [...(c.Env ?? [])];
      const pairs = keyValues(rest, 'ENV', env, esc);
      for (const [k, v] of pairs) {
        const i = next.findIndex((e) => e.split('=')[0] === k);
        if (i >= 0) next[i] = `${k}=${v}`;
        else next.push(`${k}=${v}`);
      }
      c.Env = next;
      return { comment: `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}` };
    }
    case 'LABEL': {
      const pairs = keyValues(rest, 'LABEL', env, esc);
      c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs) };
      return { comment: `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}` };
    }
    case 'EXPOSE': {
      const specs = rest.split(/\s+/).filter(Boolean);
      if (specs.length === 0) throw badRequest('EXPOSE requires at least one argument');
      const words = specs.sort().flatMap((s) => processWords(s, env, true, esc));
      const ports = exposedPorts(words);
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
      return { comment: `EXPOSE ${words.join(' ')}` };
    }
    case 'USER':
      c.User = exactlyOne(rest, 'USER', env, esc);
      return { comment: `USER ${c.User}` };
    case 'WORKDIR': {
      const dir = exactlyOne(rest, 'WORKDIR', env, esc);
      c.WorkingDir = dir.startsWith('/') ? posix.normalize(dir) : posix.join('/', c.WorkingDir ?? '', dir);
      return { comment: `WORKDIR ${c.WorkingDir}` };
    }
    case 'VOLUME': {
      const { args, json } = maybeJson(rest);
      const list = (json ? args : rest.split(/\s+/).filter(Boolean)).map((v) => processWord(v.trim(), env, esc));
      if (list.length === 0) throw badRequest('VOLUME requires at least one argument');
      if (list.some((v) => !v)) throw badRequest('VOLUME specified can not be an empty string');
      c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(list.map((v) => [v, {}])) };
      return { comment: `VOLUME [${list.join(' ')}]` };
    }
    case 'STOPSIGNAL': {
      const sig = exactlyOne(rest, 'STOPSIGNAL', env, esc);
      validSignal(sig);
      c.StopSignal = sig;
      return { comment: `STOPSIGNAL ${sig}` };
    }
    case 'ONBUILD': {
      if (!rest) throw badRequest('ONBUILD requires at least one argument');
      const trigger = rest.split(/\s+/)[0].toUpperCase();
      if (trigger === 'ONBUILD') throw badRequest('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw badRequest(`${trigger} isn't allowed as an ONBUILD trigger`);
      c.OnBuild = [...(c.OnBuild ?? []), rest];
      return { comment: `ONBUILD ${rest}` };
    }
    case 'HEALTHCHECK':
      c.Healthcheck = healthcheck(rest);
      return { comment: `HEALTHCHECK ${goQuoteHealth(c.Healthcheck)}` };
  }
  throw badRequest(`${name} is not a valid change command`);
}

/** Applies the change lines to a copy of `base`; throws Docker's 400 messages on anything invalid. */
export function applyChanges(base: ImageContainerConfig, changes: string[]): ImageContainerConfig {
  const c: ImageContainerConfig = structuredClone(base);
  if (changes.length === 0) return c;
  const instructions = parseLines(changes.join('\n'));
  for (const ins of instructions) {
    if (!COMMIT_COMMANDS.has(ins.name.toLowerCase())) throw badRequest(`${ins.name} is not a valid change command`);
  }
  const ctx: InstructionContext = { env: [], cmdSet: false };
  for (const { name, rest } of instructions) {
    ctx.env = c.Env ?? [];
    applyInstruction(c, name, rest, ctx);
  }
  return c;
}
