// The Dockerfile parser of the classic builder (buildkit's frontend/dockerfile parser, which
// Docker 24 uses for it too): parser directives, comments, line continuations with the escape
// token, instruction names in any case, `--flag` words, exec (JSON) and shell forms. Pure.
import { badRequest } from '../server/errors';

export interface Instruction {
  /** Lower case: `run`, `copy`, ... */
  name: string;
  /** The instruction as written on its line(s), continuations joined: what `Step n/m :` prints. */
  original: string;
  /** 1-based line the instruction starts on. */
  line: number;
  /** `--name=value` words before the arguments (COPY --from=..., FROM --platform=...). */
  flags: string[];
  /** The arguments after the flags, trimmed. */
  rest: string;
  /** The arguments after the instruction name, flags included (for the commit instructions). */
  afterName: string;
  /** The arguments as the instruction reads them: the JSON array, or words, or [rest]. */
  args: string[];
  /** The exec (JSON array) form was used. */
  json: boolean;
}

export interface Dockerfile {
  instructions: Instruction[];
  escape: string;
  warnings: string[];
}

export const INSTRUCTIONS = ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'];

/** Instructions whose arguments may be a JSON array; for the list ones the shell form is split into words. */
const MAYBE_JSON = new Set(['cmd', 'entrypoint', 'run', 'shell']);
const MAYBE_JSON_LIST = new Set(['add', 'copy', 'volume']);
const WHITESPACE_LIST = new Set(['expose', 'from']);

/** A parse error: Docker prefixes the line the instruction starts on. */
export class DockerfileError extends Error {}

const isComment = (line: string): boolean => /^#/.test(line.replace(/^\s+/, ''));

/**
 * The JSON array form: the text must be a JSON array of strings (anything else that is not JSON
 * is the shell form, but an array holding non-strings is an error, as in Docker).
 */
function parseJsonArray(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new DockerfileError('when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

/** `--flag` words at the start of the arguments (buildkit's extractBuilderFlags), and what follows them. */
function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && /\s/.test(line[pos])) pos++;
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    let word = '';
    let quote = '';
    let blankOk = false;
    while (pos < line.length && (quote || !/\s/.test(line[pos]))) {
      const ch = line[pos];
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\' && pos + 1 < line.length) word += line[++pos];
        else word += ch;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === '\\') {
        if (pos + 1 < line.length) word += line[++pos];
      } else word += ch;
      pos++;
    }
    if (word === '--') return { rest: line.slice(pos), flags };
    if (blankOk || word) flags.push(word);
  }
}

/** Words split at unquoted whitespace, quotes and escapes kept (buildkit's parseWords). */
export function parseWords(rest: string, escape: string): string[] {
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
    if (ch === escape && quote !== "'") {
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

function instructionArgs(name: string, rest: string, escape: string): { args: string[]; json: boolean } {
  if (MAYBE_JSON.has(name) || MAYBE_JSON_LIST.has(name)) {
    const json = parseJsonArray(rest);
    if (json) return { args: json, json: true };
    if (MAYBE_JSON.has(name)) return { args: rest ? [rest] : [], json: false };
    return { args: rest ? rest.split(/\s+/) : [], json: false };
  }
  if (WHITESPACE_LIST.has(name)) return { args: rest ? rest.split(/\s+/) : [], json: false };
  if (name === 'arg' || name === 'env' || name === 'label') return { args: parseWords(rest, escape), json: false };
  if (name === 'healthcheck') {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    if (!m) return { args: [], json: false };
    const json = parseJsonArray(m[2]);
    return json ? { args: [m[1], ...json], json: true } : { args: m[2] ? [m[1], m[2]] : [m[1]], json: false };
  }
  return { args: rest ? [rest] : [], json: false };
}

/** One instruction line (continuations joined) as a node; also used for ONBUILD triggers. */
export function parseInstructionLine(line: string, lineNo: number, escape: string): Instruction {
  const trimmed = line.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed) as RegExpExecArray;
  const name = m[1].toLowerCase();
  const { rest, flags } = extractFlags(m[2]);
  const { args, json } = instructionArgs(name, rest.trim(), escape);
  return { name, original: line, line: lineNo, flags, rest: rest.trim(), afterName: m[2].trim(), args, json };
}

/** The directives at the top of the file (`# escape=` and `# syntax=`) and the lines after them. */
function directives(lines: string[]): { escape: string; first: number } {
  let escape = '\\';
  const seen = new Set<string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i]);
    if (!m) break;
    const key = m[1].toLowerCase();
    if (seen.has(key)) throw new DockerfileError(`only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '`' && m[2] !== '\\') throw new DockerfileError(`invalid escape token '${m[2]}' does not match \` or \\`);
      escape = m[2];
    }
  }
  return { escape, first: i };
}

/** Parses the Dockerfile text; throws DockerfileError with Docker's message. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const { escape } = directives(lines);
  const esc = escape === '\\' ? '\\\\' : '`';
  const continuation = new RegExp(`([^${esc}])${esc}[ \\t]*$|^${esc}[ \\t]*$`);
  const join = (l: string): { text: string; more: boolean } => (continuation.test(l) ? { text: l.replace(continuation, '$1'), more: true } : { text: l, more: false });
  const instructions: Instruction[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i].replace(/^\s+/, '');
    if (isComment(first)) continue;
    const start = i + 1;
    let { text: line, more } = join(first);
    if (!more && line === '') continue;
    let emptyContinuation = false;
    while (more && i + 1 < lines.length) {
      const next = lines[++i];
      if (isComment(next)) continue;
      if (next.trim() === '') {
        emptyContinuation = true;
        continue;
      }
      const j = join(next);
      line += j.text;
      more = j.more;
    }
    if (line.trim() === '') continue;
    if (emptyContinuation) warnings.push(`Empty continuation line found in: ${line}`);
    instructions.push(parseInstructionLine(line, start, escape));
  }
  if (instructions.length === 0) throw new DockerfileError('file with no instructions');
  return { instructions, escape, warnings };
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** Docker's "unknown instruction" message, with buildkit's suggestion of a close instruction name. */
export function unknownInstruction(name: string): string {
  const lower = name.toLowerCase();
  let match = '';
  let best = 3;
  for (const opt of INSTRUCTIONS) {
    const dist = levenshtein(lower, opt);
    if (dist < best) {
      best = dist;
      match = opt;
    }
  }
  const cased = name === name.toLowerCase() ? match : name === name.toUpperCase() ? match.toUpperCase() : match;
  return `unknown instruction: ${name}${match ? ` (did you mean ${cased}?)` : ''}`;
}

/** A parse-time check of one instruction (buildkit's instructions.Parse): Docker's messages. */
function checkInstruction(ins: Instruction): void {
  const atLeastOne = (n: string): never => {
    throw new DockerfileError(`${n} requires at least one argument`);
  };
  const exactlyOne = (n: string): never => {
    throw new DockerfileError(`${n} requires exactly one argument`);
  };
  const upper = ins.name.toUpperCase();
  if (!INSTRUCTIONS.includes(ins.name)) throw new DockerfileError(unknownInstruction(ins.original.trim().split(/\s+/)[0]));
  const allowed: Record<string, string[]> = {
    add: ['chown', 'chmod', 'link', 'keep-git-dir', 'checksum'],
    copy: ['chown', 'from', 'chmod', 'link'],
    from: ['platform'],
    run: ['mount', 'network', 'security'],
    healthcheck: ['interval', 'timeout', 'start-period', 'retries'],
  };
  for (const f of ins.flags) {
    const key = f.replace(/^--/, '').split('=')[0];
    if (!(allowed[ins.name] ?? []).includes(key)) throw new DockerfileError(`unknown flag: ${key}`);
  }
  switch (ins.name) {
    case 'add':
    case 'copy':
      if (ins.args.length < 2) throw new DockerfileError(`${upper} requires at least two arguments, but only one was provided. Destination could not be determined`);
      break;
    case 'from':
      if (ins.args.length !== 1 && !(ins.args.length === 3 && ins.args[1].toLowerCase() === 'as')) throw new DockerfileError('FROM requires either one or three arguments');
      if (ins.args.length === 3 && !/^[a-z][a-z0-9-_.]*$/.test(ins.args[2].toLowerCase())) {
        throw new DockerfileError(`invalid name for build stage: ${JSON.stringify(ins.args[2])}, name can't start with a number or contain symbols`);
      }
      break;
    case 'maintainer':
    case 'user':
    case 'workdir':
    case 'stopsignal':
      if (!ins.rest) exactlyOne(upper);
      break;
    case 'arg':
    case 'expose':
    case 'onbuild':
    case 'volume':
    case 'healthcheck':
    case 'env':
    case 'label':
    case 'shell':
      if (ins.args.length === 0) atLeastOne(upper);
      if (ins.name === 'shell' && !ins.json) throw new DockerfileError(`SHELL requires the arguments to be in JSON form`);
      if (ins.name === 'arg') {
        for (const a of ins.args) if (a.startsWith('=')) throw new DockerfileError('ARG names can not be blank');
      }
      break;
  }
}

export interface Stage {
  /** The FROM instruction. */
  from: Instruction;
  /** The image name (before expansion) and the `AS` name (lower case), if any. */
  base: string;
  name: string;
  commands: Instruction[];
}

/** The file as stages and the ARGs before the first FROM; Docker's parse errors with their line. */
export function splitStages(file: Dockerfile): { metaArgs: Instruction[]; stages: Stage[] } {
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of file.instructions) {
    try {
      checkInstruction(ins);
    } catch (e) {
      throw new DockerfileError(`dockerfile parse error on line ${ins.line}: ${(e as Error).message}`);
    }
    if (ins.name === 'from') {
      stages.push({ from: ins, base: ins.args[0], name: ins.args.length === 3 ? ins.args[2].toLowerCase() : '', commands: [] });
    } else if (stages.length === 0) {
      if (ins.name !== 'arg') throw new DockerfileError('no build stage in current context');
      metaArgs.push(ins);
    } else stages[stages.length - 1].commands.push(ins);
  }
  return { metaArgs, stages };
}

/** The 400 the API answers for a parse error. */
export const parseFailure = (e: unknown): Error => (e instanceof DockerfileError ? badRequest(e.message) : (e as Error));
