// Image references as the docker CLI normalises them (distribution/reference):
// "busybox" is docker.io/library/busybox, its familiar form drops the default registry and
// "library/", and TagNameOnly adds ":latest" when neither a tag nor a digest is given.

export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

export class ReferenceError extends Error {}

/** distribution/reference.ParseNormalizedNamed. Throws "invalid reference format" like Go. */
export function parseNormalizedNamed(s: string): Reference {
  if (s === '') throw new ReferenceError('invalid reference format');
  if (/^[a-f0-9]{64}$/.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError('invalid reference format');
  }
  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = rest;
  } else {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw new ReferenceError('invalid reference format');
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = 'library/' + path;
  if (path.toLowerCase() !== path) throw new ReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  if (!path.split('/').every((c) => COMPONENT.test(c))) throw new ReferenceError('invalid reference format');
  if (domain.length + 1 + path.length > 255) throw new ReferenceError('repository name must not be more than 255 characters');
  return { domain, path, tag, digest };
}

/** reference.FamiliarName: "busybox", "user/repo", "localhost:5000/x". */
export function familiarName(r: Reference): string {
  if (r.domain === DEFAULT_DOMAIN) {
    const p = r.path.startsWith('library/') && !r.path.slice(8).includes('/') ? r.path.slice(8) : r.path;
    return p;
  }
  return `${r.domain}/${r.path}`;
}

/** reference.FamiliarString: familiar name with tag and digest. */
export function familiarString(r: Reference): string {
  return familiarName(r) + (r.tag !== undefined ? ':' + r.tag : '') + (r.digest !== undefined ? '@' + r.digest : '');
}

/** reference.TagNameOnly: adds "latest" when the reference has neither tag nor digest. */
export function tagNameOnly(r: Reference): Reference {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r;
}

/** The full name ("docker.io/library/busybox"). */
export function fullName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** stringid.TruncateID: drops an algorithm prefix and keeps 12 characters. */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}
