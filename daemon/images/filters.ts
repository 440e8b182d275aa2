// GET /images/json filtering as Docker 24 does it: dangling, label, before, since, reference.
import { badRequest, notFound } from '../server/errors';
import { familiarName } from './reference';
import { unixSeconds } from './shapes';
import type { ImageRecord } from './store';

const ACCEPTED = ['dangling', 'label', 'before', 'since', 'reference'];

/** Go's path.Match as a RegExp: `*` and `?` never match `/`; `[...]` classes with `^` and ranges. */
export function globRegExp(pattern: string): RegExp {
  const bad = (): Error => new Error('syntax error in pattern');
  // With the `u` flag an escape must be one the context allows: `-` only inside a class.
  const esc = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  const escInClass = (c: string): string => c.replace(/[\\\]^-]/g, '\\$&');
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (++i >= pattern.length) throw bad();
      re += esc(pattern[i]);
    } else if (c === '[') {
      let cls = '';
      i++;
      if (pattern[i] === '^') {
        cls += '^';
        i++;
      }
      let ranges = 0;
      const char = (): string => {
        let ch = pattern[i];
        if (ch === undefined || ch === '-' || ch === ']') throw bad();
        if (ch === '\\') ch = pattern[++i];
        if (ch === undefined) throw bad();
        i++;
        return ch;
      };
      while (pattern[i] !== ']' || ranges === 0) {
        const lo = char();
        let item = escInClass(lo);
        if (pattern[i] === '-') {
          i++;
          const hi = char();
          if (hi < lo) throw bad();
          item += `-${escInClass(hi)}`;
        }
        cls += item;
        ranges++;
      }
      re += `[${cls}]`;
    } else re += esc(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

/** Docker's `dangling` value: true/1 or false/0, anything else (or both) refused. */
function danglingOnly(values: string[]): boolean {
  const t = values.includes('true') || values.includes('1');
  const f = values.includes('false') || values.includes('0');
  if (t === f) throw badRequest(`invalid filter 'dangling=[${values.join(' ')}]'`);
  return t;
}

/**
 * The images the filters select, newest first. With a `reference` filter an image lists only
 * its matching tags and digests, and one with none is left out.
 */
export function filterImages(images: ImageRecord[], filters: Record<string, string[]>, resolve: (ref: string) => ImageRecord | undefined): ImageRecord[] {
  for (const key of Object.keys(filters)) if (!ACCEPTED.includes(key)) throw badRequest(`invalid filter '${key}'`);
  const dangling = filters.dangling ? danglingOnly(filters.dangling) : false;
  const createdOf = (ref: string): number => {
    const img = resolve(ref);
    if (!img) throw notFound(`No such image: ${familiarName(ref)}`);
    return Date.parse(img.created) || 0;
  };
  const before = filters.before?.length ? Math.min(...filters.before.map(createdOf)) : undefined;
  const since = filters.since?.length ? Math.max(...filters.since.map(createdOf)) : undefined;
  const patterns = filters.reference?.map(globRegExp);
  const matches = (ref: string): boolean => !patterns || patterns.some((p) => p.test(ref) || p.test(ref.replace(/[:@][^/]*$/, '')));
  const out: ImageRecord[] = [];
  for (const img of images) {
    const created = Date.parse(img.created) || 0;
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (filters.label) {
      const labels = img.config.config?.Labels ?? {};
      const ok = filters.label.every((f) => {
        const eq = f.indexOf('=');
        return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
      });
      if (!ok || !img.config.config) continue;
    }
    const repoTags = img.repoTags.filter(matches);
    const repoDigests = img.repoDigests.filter(matches);
    if (repoTags.length === 0 && repoDigests.length === 0) {
      if ((filters.dangling && !dangling) || patterns) continue;
    } else if (dangling && repoTags.length > 0) continue;
    out.push({ ...img, repoTags, repoDigests });
  }
  return out.sort((a, b) => unixSeconds(b.created) - unixSeconds(a.created));
}
