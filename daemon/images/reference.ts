// Image references parsed and normalised as Docker 24 (API 1.43) does with distribution/reference:
// `busybox` is `docker.io/library/busybox:latest`, shown back to users as `busybox:latest`.
import { badRequest } from '../server/errors';

export interface Reference {
  /** Registry host, e.g. docker.io or localhost:5000. */
  domain: string;
  /** Repository path, e.g. library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const NAME_MAX = 255;

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_PARTS_RE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const FULL_ID_RE = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

const invalid = (message: string): Error => badRequest(message);

/** go-digest's validation, with its messages. */
function validateDigest(d: string): void {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) throw invalid('invalid checksum digest format');
  const length = DIGEST_HEX_LENGTH[d.slice(0, i)];
  if (length === undefined) throw invalid('unsupported digest algorithm');
  const hex = d.slice(i + 1);
  if (hex.length !== length) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw invalid('invalid checksum digest format');
}

/** Whether `s` is a valid content digest such as sha256:<64 hex>. */
export function isDigest(s: string): boolean {
  try {
    validateDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** distribution's Parse on an already-normalised string. */
function parse(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid('repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  if (m[1].length > NAME_MAX) throw invalid(`repository name must not be more than ${NAME_MAX} characters`);
  const parts = NAME_PARTS_RE.exec(m[1]);
  if (m[3]) validateDigest(m[3]);
  return { domain: parts?.[1] ?? '', path: parts?.[2] ?? m[1], tag: m[2] || undefined, digest: m[3] || undefined };
}

/**
 * ParseNormalizedNamed: a user's reference to its full form, or Docker's 400. A first component
 * is a registry only with a dot, a port or `localhost`; official images live under library/.
 */
export function parseReference(s: string): Reference {
  if (FULL_ID_RE.test(s)) throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const slash = s.indexOf('/');
  let domain = DEFAULT_DOMAIN;
  let remainder = s;
  if (slash >= 0 && (/[.:]/.test(s.slice(0, slash)) || s.slice(0, slash) === 'localhost')) {
    domain = s.slice(0, slash);
    remainder = s.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`;
  const colon = remainder.indexOf(':');
  const remoteName = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remoteName.toLowerCase() !== remoteName) throw invalid('invalid reference format: repository name must be lowercase');
  return parse(`${domain}/${remainder}`);
}

/** A tag as WithTag accepts it. */
export function withTag(r: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw invalid('invalid tag format');
  return { domain: r.domain, path: r.path, tag, digest: r.digest };
}

/** TagNameOnly: a bare name means its `latest` tag. */
export function tagNameOnly(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}

/** The repository: docker.io/library/busybox (a first component with a dot but not a valid host is no domain). */
export function repositoryName(r: Reference): string {
  return r.domain ? `${r.domain}/${r.path}` : r.path;
}

function suffix(r: Reference): string {
  return `${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The full string form, the key of the reference store: docker.io/library/busybox:latest. */
export function referenceString(r: Reference): string {
  return repositoryName(r) + suffix(r);
}

/** The short repository name users see: busybox, user/app, localhost:5000/app. */
export function familiarRepository(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryName(r);
  const parts = r.path.split('/');
  return parts.length === 2 && parts[0] === 'library' ? parts[1] : r.path;
}

/** FamiliarString: busybox:latest, user/app@sha256:.... */
export function familiar(r: Reference): string {
  return familiarRepository(r) + suffix(r);
}

/** A full image ID (sha256:<64 hex>) when `s` is one, with or without the prefix. */
export function asImageId(s: string): string | undefined {
  if (FULL_ID_RE.test(s)) return `sha256:${s}`;
  return s.startsWith('sha256:') && isDigest(s) ? s : undefined;
}

/** ErrImageDoesNotExist: Docker names what was asked for, with `:latest` added to a bare name. */
export function familiarName(refOrId: string): string {
  const id = asImageId(refOrId);
  if (id) return id;
  try {
    return familiar(tagNameOnly(parseReference(refOrId)));
  } catch {
    return refOrId;
  }
}
