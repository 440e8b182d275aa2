// A Go text/template subset, enough for the docker CLI's --format flags: actions with
// trim markers, field chains (`.State.Pid`), methods with arguments (`.Label "k"`), variables,
// pipelines, parenthesised pipelines, if/else if/else, range (with `$i, $v :=`), with, comments,
// and the docker CLI's functions (json, join, split, title, lower, upper, pad, truncate) plus
// Go's builtins (index, len, printf, print, println, eq, ne, lt, le, gt, ge, and, or, not).

export class TemplateError extends Error {}

/** Marks an object whose missing fields are an error (a Go struct), not `<no value>` (a map). */
export const STRICT = Symbol('strict');
/** The Go type name used in "can't evaluate field" errors. */
export const TYPE_NAME = Symbol('typeName');

/** The value a missing map key evaluates to; printed as "<no value>". */
export const NO_VALUE = Symbol('noValue');

export type Func = (...args: unknown[]) => unknown;

// ---------------------------------------------------------------------------------------------
// Lexing

type Tok =
  | { t: 'field'; names: string[]; pos: number } // .A.B
  | { t: 'dot' }
  | { t: 'var'; name: string; names: string[]; pos: number } // $x.A.B
  | { t: 'ident'; name: string }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'bool'; value: boolean }
  | { t: 'nil' }
  | { t: 'lparen' }
  | { t: 'rparen'; names: string[] } // ")" optionally followed by .A.B
  | { t: 'pipe' }
  | { t: 'declare' }
  | { t: 'assign' }
  | { t: 'comma' };

function unquote(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
        return e;
    }
  });
}

function lexAction(src: string, base: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  // Go reports a chain's position at its second link (`.State.Health` is at `.Health`).
  let chainPos = -1;
  const fieldChain = (): string[] => {
    const names: string[] = [];
    chainPos = -1;
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      if (names.length === 1) chainPos = base + i;
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      names.push(m![0]);
      i += m![0].length;
    }
    return names;
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) {
        const start = base + i;
        const names = fieldChain();
        toks.push({ t: 'field', names, pos: chainPos >= 0 ? chainPos : start });
      } else if (/[0-9]/.test(src[i + 1] ?? '')) {
        const m = /^\.[0-9]+([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
        toks.push({ t: 'number', value: parseFloat(m[0]) });
        i += m[0].length;
      } else {
        toks.push({ t: 'dot' });
        i++;
      }
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      const start = base + i;
      i += m[0].length;
      const names = fieldChain();
      // `$x.A` is a chain too: its position is that of `.A`.
      const first = names.length > 0 ? base + i - names.reduce((n, x) => n + x.length + 1, 0) : -1;
      toks.push({ t: 'var', name: m[0], names, pos: names.length > 1 ? chainPos : first >= 0 ? first : start });
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        if (src[j] === '\n') throw new TemplateError('unterminated quoted string');
        j++;
      }
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      toks.push({ t: 'string', value: unquote(src.slice(i + 1, j)) });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      toks.push({ t: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      const m = /^'(\\.|[^'\\])+'/.exec(src.slice(i));
      if (!m) throw new TemplateError('unterminated character constant');
      toks.push({ t: 'number', value: unquote(m[0].slice(1, -1)).codePointAt(0) ?? 0 });
      i += m[0].length;
      continue;
    }
    if (/[0-9+-]/.test(c) && /^[+-]?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?)/.test(src.slice(i))) {
      const m = /^[+-]?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?)/.exec(src.slice(i))!;
      toks.push({ t: 'number', value: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (c === '(') {
      toks.push({ t: 'lparen' });
      i++;
      continue;
    }
    if (c === ')') {
      i++;
      toks.push({ t: 'rparen', names: fieldChain() });
      continue;
    }
    if (c === '|') {
      toks.push({ t: 'pipe' });
      i++;
      continue;
    }
    if (c === ',') {
      toks.push({ t: 'comma' });
      i++;
      continue;
    }
    if (c === ':' && src[i + 1] === '=') {
      toks.push({ t: 'declare' });
      i += 2;
      continue;
    }
    if (c === '=') {
      toks.push({ t: 'assign' });
      i++;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (m) {
      const w = m[0];
      i += w.length;
      if (w === 'true' || w === 'false') toks.push({ t: 'bool', value: w === 'true' });
      else if (w === 'nil') toks.push({ t: 'nil' });
      else toks.push({ t: 'ident', name: w });
      continue;
    }
    throw new TemplateError(`unexpected "${c}" in command`);
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Arg =
  | { k: 'field'; names: string[]; pos: number }
  | { k: 'dot' }
  | { k: 'var'; name: string; names: string[]; pos: number }
  | { k: 'fn'; name: string }
  | { k: 'lit'; value: unknown }
  | { k: 'pipe'; pipe: Pipeline; names: string[] };

interface Command {
  args: Arg[];
}

interface Pipeline {
  decl: string[];
  assign: boolean; // `=` rather than `:=`
  cmds: Command[];
}

type Node =
  | { n: 'text'; text: string }
  | { n: 'action'; pipe: Pipeline }
  | { n: 'if' | 'with'; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { n: 'range'; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { n: 'break' }
  | { n: 'continue' };

interface RawAction {
  kind: 'text' | 'action';
  text: string;
  /** Offset of `text` in the template source. */
  offset: number;
}

function splitTemplate(src: string): RawAction[] {
  const out: RawAction[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ kind: 'text', text, offset: i });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && /[ \t\r\n]/.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 1;
    }
    if (text) out.push({ kind: 'text', text, offset: i });
    // Find the closing delimiter outside quotes.
    let j = start;
    let quote: string | undefined;
    let close = -1;
    while (j < src.length) {
      const c = src[j];
      if (quote) {
        if (c === '\\' && quote === '"') j++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === '`') {
        quote = c;
      } else if (c === '/' && src[j + 1] === '*') {
        const end = src.indexOf('*/', j + 2);
        if (end < 0) throw new TemplateError('unclosed comment');
        j = end + 1;
      } else if (c === '}' && src[j + 1] === '}') {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) throw new TemplateError('unclosed action');
    let body = src.slice(start, close);
    if (/[ \t\r\n]-$/.test(body)) {
      body = body.slice(0, -1);
      trimNext = true;
    }
    out.push({ kind: 'action', text: body, offset: start });
    i = close + 2;
  }
  return out;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly items: RawAction[],
    private readonly known: Set<string>,
  ) {}

  parse(): Node[] {
    const { list, end } = this.parseList();
    if (end) throw new TemplateError(`unexpected {{${end}}}`);
    return list;
  }

  /** Parses nodes until {{end}}/{{else...}} (returned as `end`) or the end of input. */
  private parseList(): { list: Node[]; end?: string; rest?: string } {
    const list: Node[] = [];
    while (this.pos < this.items.length) {
      const item = this.items[this.pos++];
      if (item.kind === 'text') {
        list.push({ n: 'text', text: item.text });
        continue;
      }
      const lead = item.text.length - item.text.trimStart().length;
      const body = item.text.trim();
      const base = item.offset + lead;
      if (body.startsWith('/*')) {
        if (!body.endsWith('*/')) throw new TemplateError('comment ends before closing delimiter');
        continue;
      }
      const kw = /^([a-z]+)\b\s*([\s\S]*)$/.exec(body);
      const word = kw?.[1];
      if (word === 'end') return { list, end: 'end' };
      if (word === 'else') return { list, end: 'else', rest: kw![2] };
      if (word === 'if' || word === 'with' || word === 'range') {
        list.push(this.parseControl(word, kw![2], base + body.length - kw![2].length));
        continue;
      }
      if (word === 'break' || word === 'continue') {
        list.push({ n: word });
        continue;
      }
      if (word === 'define' || word === 'template' || word === 'block') throw new TemplateError(`{{${word}}} is not supported`);
      list.push({ n: 'action', pipe: parsePipeline(lexAction(body, base), this.known) });
    }
    return { list };
  }

  private parseControl(word: 'if' | 'with' | 'range', rest: string, base: number): Node {
    const pipe = parsePipeline(lexAction(rest, base), this.known);
    const body = this.parseList();
    if (!body.end) throw new TemplateError(`unexpected EOF`);
    let elseList: Node[] | undefined;
    if (body.end === 'else') {
      const r = (body.rest ?? '').trim();
      const m = /^(if|with)\b\s*([\s\S]*)$/.exec(r);
      if (m) {
        // {{else if ...}} / {{else with ...}}: an else branch holding one nested control, sharing our {{end}}.
        elseList = [this.parseControl(m[1] as 'if' | 'with', m[2], 0)];
      } else {
        if (r) throw new TemplateError(`unexpected "${r}" in else`);
        const e = this.parseList();
        if (e.end !== 'end') throw new TemplateError(e.end ? `expected end; found {{${e.end}}}` : 'unexpected EOF');
        elseList = e.list;
      }
    }
    return { n: word, pipe, list: body.list, elseList } as Node;
  }
}

function parsePipeline(toks: Tok[], known: Set<string>): Pipeline {
  let i = 0;
  const decl: string[] = [];
  let assign = false;
  // Variable declarations: `$x :=`, `$i, $v :=`, `$x =`.
  const save = i;
  while (toks[i]?.t === 'var' && (toks[i] as { names: string[] }).names.length === 0) {
    const name = (toks[i] as { name: string }).name;
    const next = toks[i + 1];
    if (next?.t === 'declare' || next?.t === 'assign') {
      decl.push(name);
      assign = next.t === 'assign';
      i += 2;
      break;
    }
    if (next?.t === 'comma') {
      decl.push(name);
      i += 2;
      continue;
    }
    break;
  }
  if (decl.length > 0 && toks[i - 1]?.t !== 'declare' && toks[i - 1]?.t !== 'assign') {
    decl.length = 0;
    i = save;
  }
  const cmds: Command[] = [];
  let args: Arg[] = [];
  const parseOperand = (): Arg => {
    const t = toks[i++];
    switch (t.t) {
      case 'field':
        return { k: 'field', names: t.names, pos: t.pos };
      case 'dot':
        return { k: 'dot' };
      case 'var':
        return { k: 'var', name: t.name, names: t.names, pos: t.pos };
      case 'ident':
        if (!known.has(t.name)) throw new TemplateError(`function "${t.name}" not defined`);
        return { k: 'fn', name: t.name };
      case 'string':
      case 'number':
      case 'bool':
        return { k: 'lit', value: t.value };
      case 'nil':
        return { k: 'lit', value: null };
      case 'lparen': {
        let depth = 1;
        const start = i;
        while (i < toks.length && depth > 0) {
          if (toks[i].t === 'lparen') depth++;
          if (toks[i].t === 'rparen') depth--;
          i++;
        }
        if (depth !== 0) throw new TemplateError('unclosed left paren');
        const close = toks[i - 1] as { names: string[] };
        return { k: 'pipe', pipe: parsePipeline(toks.slice(start, i - 1), known), names: close.names };
      }
      default:
        throw new TemplateError(`unexpected ${t.t} in operand`);
    }
  };
  while (i < toks.length) {
    if (toks[i].t === 'pipe') {
      if (args.length === 0) throw new TemplateError('missing command');
      cmds.push({ args });
      args = [];
      i++;
      continue;
    }
    args.push(parseOperand());
  }
  if (args.length === 0) throw new TemplateError('missing value for command');
  cmds.push({ args });
  return { decl, assign, cmds };
}

// ---------------------------------------------------------------------------------------------
// Values and printing

const isObject = (v: unknown): v is Record<string | symbol, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeName(v: unknown): string {
  if (isObject(v) && typeof v[TYPE_NAME] === 'string') return v[TYPE_NAME] as string;
  if (v === null || v === undefined || v === NO_VALUE) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Go's fmt %v for the values templates see. */
export function goPrint(v: unknown, top = true): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'function') return top ? goPrint((v as Func)(), top) : '0x0';
  if (Array.isArray(v)) return '[' + v.map((e) => goPrint(e, false)).join(' ') + ']';
  if (isObject(v)) {
    if (v[STRICT]) {
      const s = (v as { String?: unknown }).String;
      if (typeof s === 'function') return String(s.call(v));
      return '{' + Object.keys(v).map((k) => goPrint(typeof v[k] === 'function' ? undefined : v[k], false)).join(' ') + '}';
    }
    const keys = Object.keys(v).sort();
    return 'map[' + keys.map((k) => `${k}:${goPrint(v[k], false)}`).join(' ') + ']';
  }
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  // Go %v of a float64: shortest representation, exponent when < 1e-4 or >= 1e21.
  const s = String(n);
  if (s.includes('e')) {
    const [mant, exp] = s.split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return s;
}

/** Go's text/template truth. */
function truth(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return v[STRICT] ? true : Object.keys(v).length > 0;
  return true;
}

/**
 * An object's own JSON text (Go's json.Marshaler): used verbatim by `json`. The docker CLI's
 * row contexts marshal with json.Marshal, which escapes <, > and & (see htmlEscapedJSON).
 */
export const MARSHAL = Symbol('marshalJSON');

/** JSON.stringify with Go's json.Marshal escaping of <, >, &, U+2028 and U+2029. */
export function htmlEscapedJSON(v: unknown): string {
  return (JSON.stringify(v) ?? 'null')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** JSON as the docker CLI's `json` template function writes it (an Encoder with SetEscapeHTML(false)). */
export function goJSON(v: unknown): string {
  if (v === NO_VALUE || v === undefined) return 'null';
  const marshalled: string[] = [];
  const s = JSON.stringify(v, (_k, val: unknown) => {
    if (val === NO_VALUE) return null;
    if (isObject(val) && typeof val[MARSHAL] === 'function') {
      marshalled.push((val[MARSHAL] as () => string)());
      return `\u0000marshal${marshalled.length - 1}\u0000`;
    }
    return val;
  });
  return (s ?? 'null')
    .replace(/"\\u0000marshal(\d+)\\u0000"/g, (_m, i: string) => marshalled[Number(i)])
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ---------------------------------------------------------------------------------------------
// Functions

function cmpArgs(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError('incompatible types for comparison');
}

function goSprintf(format: string, args: unknown[]): string {
  let ai = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (whole, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (ai >= args.length) return `%!${verb}(MISSING)`;
    const a = args[ai++];
    let s: string;
    switch (verb) {
      case 'd':
        s = typeof a === 'number' ? Math.trunc(a).toString() : `%!d(${typeName(a)}=${goPrint(a)})`;
        break;
      case 'q':
        s = JSON.stringify(goPrint(a));
        break;
      case 'x':
        s = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(goPrint(a)).toString('hex');
        break;
      case 'f':
        s = typeof a === 'number' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${typeName(a)}=${goPrint(a)})`;
        break;
      case 's':
      case 'v':
      case 't':
      default:
        s = goPrint(a);
        if (prec !== undefined && verb === 's') s = s.slice(0, Number(prec));
        break;
    }
    void whole;
    if (width !== undefined && s.length < Number(width)) s = flags.includes('-') ? s.padEnd(Number(width)) : s.padStart(Number(width), flags.includes('0') ? '0' : ' ');
    return s;
  });
}

function goSprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goPrint(a);
  });
  return out;
}

function asString(v: unknown, fn: string): string {
  if (typeof v === 'string') return v;
  throw new TemplateError(`wrong type for value; expected string; got ${typeName(v)} in ${fn}`);
}

const BUILTINS: Record<string, Func> = {
  json: (v) => goJSON(v),
  split: (s, sep) => asString(s, 'split').split(asString(sep, 'split')),
  join: (a, sep) => {
    if (!Array.isArray(a)) throw new TemplateError(`wrong type for value; expected []string; got ${typeName(a)}`);
    return a.map((e) => goPrint(e)).join(asString(sep, 'join'));
  },
  title: (s) => asString(s, 'title').replace(/(^|[^A-Za-z0-9_'])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase()),
  lower: (s) => asString(s, 'lower').toLowerCase(),
  upper: (s) => asString(s, 'upper').toUpperCase(),
  pad: (s, prefix, suffix) => {
    const str = asString(s, 'pad');
    if (str === '') return str;
    return ' '.repeat(Number(prefix)) + str + ' '.repeat(Number(suffix));
  },
  truncate: (s, n) => {
    const str = asString(s, 'truncate');
    const len = Number(n);
    return Buffer.byteLength(str) < len ? str : Buffer.from(str).subarray(0, len).toString();
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur) || typeof cur === 'string') {
        const idx = Number(k);
        if (!Number.isInteger(idx) || idx < 0 || idx >= cur.length) throw new TemplateError(`error calling index: index out of range: ${goPrint(k)}`);
        cur = Array.isArray(cur) ? cur[idx] : cur.charCodeAt(idx);
      } else if (isObject(cur)) {
        const key = goPrint(k);
        cur = Object.prototype.hasOwnProperty.call(cur, key) ? cur[key] : NO_VALUE;
        if (typeof cur === 'function') cur = (cur as Func)();
      } else if (cur === null || cur === undefined || cur === NO_VALUE) {
        throw new TemplateError('error calling index: index of untyped nil');
      } else {
        throw new TemplateError(`error calling index: can't index item of type ${typeName(cur)}`);
      }
    }
    return cur;
  },
  len: (v) => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new TemplateError(`error calling len: len of type ${typeName(v)}`);
  },
  printf: (f, ...args) => goSprintf(asString(f, 'printf'), args),
  print: (...args) => goSprint(args),
  println: (...args) => args.map((a) => goPrint(a)).join(' ') + '\n',
  eq: (a, ...bs) => bs.some((b) => a === b || (a === NO_VALUE && b === null)),
  ne: (a, b) => a !== b,
  lt: (a, b) => cmpArgs(a, b) < 0,
  le: (a, b) => cmpArgs(a, b) <= 0,
  gt: (a, b) => cmpArgs(a, b) > 0,
  ge: (a, b) => cmpArgs(a, b) >= 0,
  not: (a) => !truth(a),
  and: (...args) => {
    for (const a of args) if (!truth(a)) return a;
    return args[args.length - 1];
  },
  or: (...args) => {
    for (const a of args) if (truth(a)) return a;
    return args[args.length - 1];
  },
  html: (s) => goPrint(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  urlquery: (...args) => encodeURIComponent(goSprint(args)),
};

/** The docker CLI's HeaderFunctions: table headers pass through unchanged. */
export const HEADER_OVERRIDES: Record<string, Func> = {
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  truncate: (v) => v,
};

// ---------------------------------------------------------------------------------------------
// Execution

class BreakSignal {}
class ContinueSignal {}

interface Scope {
  vars: Array<[string, unknown]>;
}

class Executor {
  out = '';
  constructor(
    private readonly funcs: Record<string, Func>,
    private readonly missingKeyError: boolean,
  ) {}

  run(nodes: Node[], dot: unknown, scope: Scope): void {
    for (const node of nodes) {
      switch (node.n) {
        case 'text':
          this.out += node.text;
          break;
        case 'action': {
          const v = this.evalPipeline(node.pipe, dot, scope);
          if (node.pipe.decl.length === 0) this.out += goPrint(v);
          break;
        }
        case 'if':
        case 'with': {
          const mark = scope.vars.length;
          const v = this.evalPipeline(node.pipe, dot, scope);
          if (truth(v)) this.run(node.list, node.n === 'with' ? v : dot, scope);
          else if (node.elseList) this.run(node.elseList, dot, scope);
          scope.vars.length = mark;
          break;
        }
        case 'range':
          this.runRange(node, dot, scope);
          break;
        case 'break':
          throw new BreakSignal();
        case 'continue':
          throw new ContinueSignal();
      }
    }
  }

  private runRange(node: Extract<Node, { n: 'range' }>, dot: unknown, scope: Scope): void {
    const mark = scope.vars.length;
    const pipe: Pipeline = { ...node.pipe, decl: [] };
    let v = this.evalPipeline(pipe, dot, scope);
    if (typeof v === 'function') v = (v as Func)();
    let entries: Array<[unknown, unknown]> = [];
    if (Array.isArray(v)) entries = v.map((e, i) => [i, e]);
    else if (isObject(v)) entries = Object.keys(v).sort().map((k) => [k, v[k]]);
    else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v !== null && v !== undefined && v !== NO_VALUE) throw new TemplateError(`range can't iterate over ${goPrint(v)}`);
    if (entries.length === 0) {
      if (node.elseList) this.run(node.elseList, dot, scope);
      return;
    }
    for (const [k, e] of entries) {
      const m2 = scope.vars.length;
      if (node.pipe.decl.length === 1) scope.vars.push([node.pipe.decl[0], e]);
      else if (node.pipe.decl.length >= 2) {
        scope.vars.push([node.pipe.decl[0], k]);
        scope.vars.push([node.pipe.decl[1], e]);
      }
      try {
        this.run(node.list, e, scope);
      } catch (err) {
        if (err instanceof BreakSignal) break;
        if (!(err instanceof ContinueSignal)) throw err;
      } finally {
        scope.vars.length = m2;
      }
    }
    scope.vars.length = mark;
  }

  evalPipeline(pipe: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown = undefined;
    let has = false;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(cmd, dot, scope, has ? [value] : []);
      has = true;
    }
    if (pipe.decl.length > 0) {
      if (pipe.assign) {
        const name = pipe.decl[0];
        const slot = [...scope.vars].reverse().find(([n]) => n === name);
        if (!slot) throw new TemplateError(`undefined variable: ${name}`);
        slot[1] = value;
      } else {
        scope.vars.push([pipe.decl[0], value]);
      }
    }
    return value;
  }

  private evalArg(arg: Arg, dot: unknown, scope: Scope): unknown {
    switch (arg.k) {
      case 'lit':
        return arg.value;
      case 'dot':
        return dot;
      case 'field':
        return this.fieldChain(dot, arg.names, [], '', arg.pos);
      case 'var':
        return this.fieldChain(this.lookupVar(arg.name, scope), arg.names, [], arg.name, arg.pos);
      case 'pipe':
        return this.fieldChain(this.evalPipeline(arg.pipe, dot, scope), arg.names, [], '', -1);
      case 'fn':
        return this.callFunc(arg.name, []);
    }
  }

  private evalCommand(cmd: Command, dot: unknown, scope: Scope, final: unknown[]): unknown {
    const [first, ...rest] = cmd.args;
    const args = (): unknown[] => [...rest.map((a) => this.evalArg(a, dot, scope)), ...final];
    switch (first.k) {
      case 'fn':
        return this.callFunc(first.name, args());
      case 'field':
        return this.fieldChain(dot, first.names, args(), '', first.pos);
      case 'var':
        if (first.names.length > 0) return this.fieldChain(this.lookupVar(first.name, scope), first.names, args(), first.name, first.pos);
        break;
      case 'pipe':
        if (first.names.length > 0) return this.fieldChain(this.evalPipeline(first.pipe, dot, scope), first.names, args(), '', -1);
        break;
      default:
        break;
    }
    if (rest.length > 0 || final.length > 0) throw new TemplateError(`can't give argument to non-function ${describe(first)}`);
    return this.evalArg(first, dot, scope);
  }

  private lookupVar(name: string, scope: Scope): unknown {
    for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i][0] === name) return scope.vars[i][1];
    throw new TemplateError(`undefined variable: ${name}`);
  }

  private callFunc(name: string, args: unknown[]): unknown {
    const f = this.funcs[name];
    if (!f) throw new TemplateError(`function "${name}" not defined`);
    const resolved = args.map((a) => (typeof a === 'function' ? (a as Func)() : a));
    return f(...resolved);
  }

  /** Evaluates `.A.B.C` on `recv`; the last field receives `args` when it is a method. */
  private fieldChain(recv: unknown, names: string[], args: unknown[], prefix: string, pos: number): unknown {
    let cur = recv;
    let path = prefix;
    const fail: (msg: string) => never = (msg) => {
      throw Object.assign(new TemplateError(`executing "" at <${path || '.'}>: ${msg}`), { pos });
    };
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const last = i === names.length - 1;
      path += '.' + name;
      if (typeof cur === 'function') cur = (cur as Func)();
      if (cur === NO_VALUE) {
        if (this.missingKeyError) fail(`nil data; no entry for key "${name}"`);
        return NO_VALUE;
      }
      if (cur === null || cur === undefined) fail(`nil pointer evaluating interface {}.${name}`);
      if (!isObject(cur)) fail(`can't evaluate field ${name} in type ${typeName(cur)}`);
      const strict = Boolean(cur[STRICT]);
      if (!Object.prototype.hasOwnProperty.call(cur, name)) {
        if (strict) fail(`can't evaluate field ${name} in type ${typeName(cur)}`);
        if (this.missingKeyError) fail(`map has no entry for key "${name}"`);
        if (last && args.length > 0) fail(`${name} is not a method but has arguments`);
        cur = NO_VALUE;
        continue;
      }
      const v = cur[name];
      if (typeof v === 'function') {
        const fn = v as Func;
        if (last) return fn.call(cur, ...args.map((a) => (typeof a === 'function' ? (a as Func)() : a)));
        cur = fn.call(cur);
      } else {
        if (last && args.length > 0) fail(`${name} is not a method but has arguments`);
        cur = v;
      }
    }
    if (names.length === 0 && args.length > 0) fail(`can't give argument to non-function ${prefix || '.'}`);
    return cur;
  }
}

function describe(a: Arg): string {
  switch (a.k) {
    case 'lit':
      return goPrint(a.value);
    case 'dot':
      return '.';
    case 'var':
      return a.name;
    default:
      return a.k;
  }
}

export interface TemplateOptions {
  /** Extra or replacement functions. */
  funcs?: Record<string, Func>;
  /** Go's Option("missingkey=error"). */
  missingKeyError?: boolean;
}

/** Go's ErrorContext: ":line:col" for a byte offset (":1" when unknown). */
function location(source: string, pos: number | undefined): string {
  if (pos === undefined || pos < 0) return ':1';
  const before = source.slice(0, pos);
  const line = before.split('\n').length;
  const col = Buffer.byteLength(before.slice(before.lastIndexOf('\n') + 1));
  return `:${line}:${col}`;
}

/** A parsed template. */
export class Template {
  private readonly nodes: Node[];

  constructor(
    readonly source: string,
    private readonly options: TemplateOptions = {},
  ) {
    try {
      const known = new Set([...Object.keys(BUILTINS), ...Object.keys(options.funcs ?? {})]);
      this.nodes = new Parser(splitTemplate(source), known).parse();
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(`template: :1: ${e.message}`);
      throw e;
    }
  }

  /** Runs the template on `data`; `funcs` replace functions for this run (header rendering). */
  execute(data: unknown, funcs?: Record<string, Func>): string {
    const ex = new Executor({ ...BUILTINS, ...this.options.funcs, ...funcs }, Boolean(this.options.missingKeyError));
    try {
      ex.run(this.nodes, data, { vars: [['$', data]] });
    } catch (e) {
      if (e instanceof TemplateError) {
        const pos = (e as { pos?: number }).pos;
        const err = new TemplateError(`template: ${location(this.source, pos)}: ${e.message}`);
        (err as TemplateError & { partial?: string }).partial = ex.out;
        throw err;
      }
      throw e;
    }
    return ex.out;
  }
}

/** Parses a template (the docker CLI's templates.Parse). */
export function parseTemplate(source: string, options?: TemplateOptions): Template {
  return new Template(source, options);
}
