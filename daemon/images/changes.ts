// The Dockerfile instructions `docker import --change` and `docker commit --change` accept,
// applied to an image's container config as Docker's builder does (BuildFromConfig): the lines
// are parsed as a Dockerfile, every instruction must be one of the commit commands, and
// ENV/LABEL/EXPOSE/USER/VOLUME/WORKDIR/STOPSIGNAL words are expanded with the config's Env.
import { constants } from 'os';
import { posix } from 'path';
import { badRequest } from '../server/errors';
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

/** Words split at unquoted whitespace, quotes and escapes kept for expansion (buildkit's parseWords). */
function splitWords(rest: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let started = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i];
    if (!quote && /\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
      continue;
    }
    started = true;
    if (ch === '\\' && quote !== "'") {
      if (i + 1 < rest.length) word += ch + rest[++i];
      continue;
    }
    if (quote && ch === quote) quote = '';
    else if (!quote && (ch === '"' || ch === "'")) quote = ch;
    word += ch;
  }
  if (started) words.push(word);
  return words;
}

function lookup(env: string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const eq = env[i].indexOf('=');
    if (eq >= 0 && env[i].slice(0, eq) === name) return env[i].slice(eq + 1);
  }
  return undefined;
}

/**
 * Shell-style word processing as the Dockerfile lexer does it: quotes removed, backslash escapes,
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alternative}` (and the forms without colon).
 * With `split`, unquoted whitespace separates words.
 */
function processWords(input: string, env: string[], split: boolean): string[] {
  const words: string[] = [];
  let word = '';
  let started = false;
  let i = 0;
  const variable = (): string => {
    i++; // past '$'
    if (input[i] === '{') {
      const close = input.indexOf('}', i);
      if (close < 0) throw badRequest(`failed to process "${input}": missing '}'`);
      const body = input.slice(i + 1, close);
      i = close + 1;
      const m = /^([A-Za-z0-9_]+)(?:(:?[-+])([\s\S]*))?$/.exec(body);
      if (!m) throw badRequest(`failed to process "${input}": unsupported modifier (${body}) in substitution`);
      const value = lookup(env, m[1]);
      const set = m[2]?.startsWith(':') ? !!value : value !== undefined;
      if (m[2]?.endsWith('-')) return set ? (value as string) : processWords(m[3], env, false).join('');
      if (m[2]?.endsWith('+')) return set ? processWords(m[3], env, false).join('') : '';
      return value ?? '';
    }
    const m = /^[A-Za-z0-9_]+/.exec(input.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return lookup(env, m[0]) ?? '';
  };
  while (i < input.length) {
    const ch = input[i];
    if (split && /\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
      i++;
      continue;
    }
    started = true;
    if (ch === "'") {
      const close = input.indexOf("'", i + 1);
      if (close < 0) throw badRequest(`failed to process "${input}": unexpected end of statement while looking for matching single-quote`);
      word += input.slice(i + 1, close);
      i = close + 1;
    } else if (ch === '"') {
      i++;
      while (i < input.length && input[i] !== '"') {
        if (input[i] === '\\' && ['"', '$', '\\'].includes(input[i + 1])) {
          word += input[i + 1];
          i += 2;
        } else if (input[i] === '$') word += variable();
        else word += input[i++];
      }
      if (i >= input.length) throw badRequest(`failed to process "${input}": unexpected end of statement while looking for matching double-quote`);
      i++;
    } else if (ch === '\\') {
      word += input[i + 1] ?? '';
      i += 2;
    } else if (ch === '$') word += variable();
    else {
      word += ch;
      i++;
    }
  }
  if (started || !split) words.push(word);
  return words;
}

const processWord = (word: string, env: string[]): string => processWords(word, env, false)[0];

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
function keyValues(rest: string, instruction: string, env: string[]): Array<[string, string]> {
  const words = splitWords(rest);
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
    return [processWord(k, env), processWord(v, env)];
  });
}

function exactlyOne(rest: string, instruction: string, env: string[]): string {
  if (!rest) throw badRequest(`${instruction} requires exactly one argument`);
  return processWord(rest, env);
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

/** Applies the change lines to a copy of `base`; throws Docker's 400 messages on anything invalid. */
export function applyChanges(base: ImageContainerConfig, changes: string[]): ImageContainerConfig {
  const c: ImageContainerConfig = structuredClone(base);
  if (changes.length === 0) return c;
  const instructions = parseLines(changes.join('\n'));
  for (const ins of instructions) {
    if (!COMMIT_COMMANDS.has(ins.name.toLowerCase())) throw badRequest(`${ins.name} is not a valid change command`);
  }
  let cmdSet = false;
  for (const { name, rest } of instructions) {
    const instruction = name.toUpperCase();
    const env = c.Env ?? [];
    switch (instruction) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const { args, json } = maybeJson(rest);
        const value = json ? args : [...(c.Shell?.length ? c.Shell : DEFAULT_SHELL), ...args];
        if (instruction === 'CMD') {
          c.Cmd = value;
          cmdSet = true;
        } else {
          c.Entrypoint = json || args.length ? value : null;
          // A new ENTRYPOINT drops an inherited CMD unless this same change set gave one.
          if (!cmdSet) c.Cmd = null;
        }
        break;
      }
      case 'ENV': {
        const next = [...env];
        for (const [k, v] of keyValues(rest, 'ENV', env)) {
          const i = next.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) next[i] = `${k}=${v}`;
          else next.push(`${k}=${v}`);
        }
        c.Env = next;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(rest, 'LABEL', env)) };
        break;
      case 'EXPOSE': {
        const specs = rest.split(/\s+/).filter(Boolean);
        if (specs.length === 0) throw badRequest('EXPOSE requires at least one argument');
        const ports = exposedPorts(specs.sort().flatMap((s) => processWords(s, env, true)));
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
        break;
      }
      case 'USER':
        c.User = exactlyOne(rest, 'USER', env);
        break;
      case 'WORKDIR': {
        const dir = exactlyOne(rest, 'WORKDIR', env);
        c.WorkingDir = dir.startsWith('/') ? dir : posix.join('/', c.WorkingDir ?? '', dir);
        break;
      }
      case 'VOLUME': {
        const { args, json } = maybeJson(rest);
        const list = (json ? args : rest.split(/\s+/).filter(Boolean)).map((v) => processWord(v.trim(), env));
        if (list.length === 0) throw badRequest('VOLUME requires at least one argument');
        if (list.some((v) => !v)) throw badRequest('VOLUME specified can not be an empty string');
        c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(list.map((v) => [v, {}])) };
        break;
      }
      case 'STOPSIGNAL': {
        const sig = exactlyOne(rest, 'STOPSIGNAL', env);
        validSignal(sig);
        c.StopSignal = sig;
        break;
      }
      case 'ONBUILD': {
        if (!rest) throw badRequest('ONBUILD requires at least one argument');
        const trigger = rest.split(/\s+/)[0].toUpperCase();
        if (trigger === 'ONBUILD') throw badRequest('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (trigger === 'MAINTAINER' || trigger === 'FROM') throw badRequest(`${trigger} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      }
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(rest);
        break;
    }
  }
  return c;
}
