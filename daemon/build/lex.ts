// Shell-style word processing as the Dockerfile lexer does it (buildkit's shell.Lex): quotes
// removed, escapes with the file's escape token, `$VAR`, `${VAR}`, `${VAR:-default}`,
// `${VAR:+alternative}` (and the forms without colon). Pure; used by the builder and by
// `commit --change` / `import --change` (images/changes.ts).
import { badRequest } from '../server/errors';

/** The last `NAME=value` for `name` in `env` (later entries win, as Docker's BuildEnvs). */
export function lookupEnv(env: string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const eq = env[i].indexOf('=');
    if (eq >= 0 && env[i].slice(0, eq) === name) return env[i].slice(eq + 1);
  }
  return undefined;
}

/**
 * The words of `input` after expansion. With `split`, unquoted whitespace separates words;
 * without, the result is a single word with whitespace kept.
 */
export function processWords(input: string, env: string[], split: boolean, escape = '\\'): string[] {
  const words: string[] = [];
  let word = '';
  let i = 0;
  const fail = (why: string): Error => badRequest(`failed to process "${input}": ${why}`);
  const variable = (): string => {
    i++; // past '$'
    if (input[i] === '{') {
      const close = input.indexOf('}', i);
      if (close < 0) throw fail("missing '}'");
      const body = input.slice(i + 1, close);
      i = close + 1;
      const m = /^([A-Za-z0-9_]+)(?:(:?[-+?])([\s\S]*))?$/.exec(body);
      if (!m) throw fail(`unsupported modifier (${body}) in substitution`);
      const value = lookupEnv(env, m[1]);
      const set = m[2]?.startsWith(':') ? !!value : value !== undefined;
      const op = m[2]?.slice(-1);
      if (op === '-') return set ? (value as string) : processWords(m[3], env, false, escape).join('');
      if (op === '+') return set ? processWords(m[3], env, false, escape).join('') : '';
      if (op === '?') {
        if (!set) throw fail(`${m[1]}: ${m[3] || 'is not allowed to be unset'}`);
        return value as string;
      }
      return value ?? '';
    }
    const m = /^[A-Za-z0-9_]+/.exec(input.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return lookupEnv(env, m[0]) ?? '';
  };
  while (i < input.length) {
    const ch = input[i];
    if (split && /\s/.test(ch)) {
      if (word) words.push(word);
      word = '';
      i++;
      continue;
    }
    if (ch === "'") {
      const close = input.indexOf("'", i + 1);
      if (close < 0) throw fail('unexpected end of statement while looking for matching single-quote');
      word += input.slice(i + 1, close);
      i = close + 1;
    } else if (ch === '"') {
      i++;
      while (i < input.length && input[i] !== '"') {
        if (input[i] === escape && ['"', '$', escape].includes(input[i + 1])) {
          word += input[i + 1];
          i += 2;
        } else if (input[i] === '$') word += variable();
        else word += input[i++];
      }
      if (i >= input.length) throw fail('unexpected end of statement while looking for matching double-quote');
      i++;
    } else if (ch === escape) {
      word += input[i + 1] ?? '';
      i += 2;
    } else if (ch === '$') {
      const value = variable();
      if (!split) word += value;
      else {
        // An unquoted expansion is split into words, as the shell does.
        for (const c of value) {
          if (!/\s/.test(c)) word += c;
          else if (word) {
            words.push(word);
            word = '';
          }
        }
      }
    } else {
      word += ch;
      i++;
    }
  }
  // As buildkit's lexer, splitting never yields an empty word.
  if (!split || word) words.push(word);
  return words;
}

/** One word, expanded (buildkit's ProcessWord). */
export const processWord = (word: string, env: string[], escape = '\\'): string => processWords(word, env, false, escape)[0];
