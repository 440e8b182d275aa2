// Image references as Docker's distribution/reference parses and normalises them:
// `busybox` is `docker.io/library/busybox:latest`, shown back as `busybox:latest`.
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
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export function invalidReference(detail?: string): Error {
  return badRequest(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

// Docker also takes an uppercase first component for a registry host; a host with neither dot nor
// port is never meant, so berth reports such names as not lowercase instead (`UPPER/case`).
function isDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

function validDomain(domain: string): boolean {
  const [host, port, extra] = domain.split(':');
  if (extra !== undefined || (port !== undefined && !/^\d+$/.test(port))) return false;
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** Parses and normalises a reference; throws Docker's 400 `invalid reference format` otherwise. */
export function parseReference(ref: string): Reference {
  if (!ref || ref.length > 255) throw invalidReference();
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidReference();
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalidReference();
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  if (parts.length > 1 && isDomain(parts[0])) {
    domain = parts.shift() as string;
    if (!validDomain(domain)) throw invalidReference();
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (parts.some((p) => p !== p.toLowerCase())) throw invalidReference(`repository name (${path}) must be lowercase`);
  if (!parts.every((p) => COMPONENT.test(p))) throw invalidReference();
  return { domain, path, tag, digest };
}

/** The normalised name without tag or digest: docker.io/library/busybox. */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The full normalised form, defaulting the tag to latest when there is no digest. */
export function normalized(r: Reference): string {
  if (r.digest) return `${repositoryName(r)}@${r.digest}`;
  return `${repositoryName(r)}:${r.tag ?? 'latest'}`;
}

/** The short repository name users see: busybox, user/app, localhost:5000/app. */
export function familiarRepository(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryName(r);
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice('library/'.length) : r.path;
}

/** The familiar form of a normalised reference: busybox:latest, user/app@sha256:.... */
export function familiar(r: Reference): string {
  return r.digest ? `${familiarRepository(r)}@${r.digest}` : `${familiarRepository(r)}:${r.tag ?? 'latest'}`;
}

/** For messages: the familiar form of what the user typed, or the input itself when it does not parse. */
export function familiarName(ref: string): string {
  try {
    return familiar(parseReference(ref));
  } catch {
    return ref;
  }
}
