// .dockerignore patterns as Docker's patternmatcher reads them: one per line, `#` comments,
// paths cleaned and made relative, `*`, `?`, `[...]` within a path segment, `**` across any
// number of them, `!` re-including what an earlier pattern excluded; the last match wins, and a
// pattern matching a directory matches everything under it. Pure; the client uses it to leave
// files out of the context it sends, the daemon to drop the Dockerfile when it is ignored.
import { posix } from 'path';

export interface IgnorePattern {
  exclusion: boolean;
  regexp: RegExp;
}

/** The lines of a .dockerignore file as patterns. */
export function parseIgnoreFile(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (!line) continue;
    let exclusion = false;
    if (line.startsWith('!')) {
      exclusion = true;
      line = line.slice(1).trim();
    }
    line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    if (!line || line === '.') continue;
    out.push({ exclusion, regexp: patternRegExp(line) });
  }
  return out;
}

function patternRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` matches zero or more directories; a trailing `**` anything below.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (ch === '\\' && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

/** Whether `rel` (a path inside the context) or one of its parent directories is excluded. */
export function isIgnored(rel: string, patterns: IgnorePattern[]): boolean {
  const path = posix.normalize(rel).replace(/^\/+/, '');
  const parents: string[] = [];
  for (let p = posix.dirname(path); p !== '.' && p !== '/'; p = posix.dirname(p)) parents.unshift(p);
  let matched = false;
  for (const pat of patterns) {
    const hit = pat.regexp.test(path) || parents.some((p) => pat.regexp.test(p));
    if (hit) matched = !pat.exclusion;
  }
  return matched;
}
