// What `docker ps` and `docker images` show for each row, and how a --format string turns into
// output (the docker CLI's formatter.Context): "table" formats get a header row and column
// alignment, "json" is `{{json .}}`, anything else is a per-row Go template.

import { tabulate, ellipsis } from './table';
import { parseTemplate, HEADER_OVERRIDES, MARSHAL, STRICT, TYPE_NAME, TemplateError, htmlEscapedJSON, type Template } from './template';
import { humanSize, humanSizeWithPrecision } from './size';
import { goTimeString, timeAgo } from './time';
import { familiarString, parseNormalizedNamed, truncateID } from './reference';

// ---------------------------------------------------------------------------------------------
// Go's strconv.Quote

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) out += ch;
    else if (cp >= 0x80 && PRINTABLE.test(ch)) out += ch;
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------------
// Ports

export interface ApiPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let groupType = parts[0];
  let ip = '';
  if (parts.length > 1) {
    ip = parts.slice(0, -1).join('/');
    groupType = parts[parts.length - 1];
  }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${groupType}`;
}

/** The docker CLI's DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9002/tcp". */
export function displayablePorts(ports: ApiPort[] | null | undefined): string {
  const list = [...(ports ?? [])].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    const ia = a.IP ?? '';
    const ib = b.IP ?? '';
    if (ia !== ib) return ia < ib ? -1 : 1;
    const pa = a.PublicPort ?? 0;
    const pb = b.PublicPort ?? 0;
    if (pa !== pb) return pa - pb;
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of list) {
    const current = port.PrivatePort;
    let portKey = port.Type;
    if (port.IP) {
      if ((port.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(port.IP, String(port.PublicPort ?? 0))}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      portKey = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(portKey);
    if (!group) {
      groups.set(portKey, { first: current, last: current });
      continue;
    }
    if (current === group.last + 1) {
      group.last = current;
      continue;
    }
    result.push(formGroup(portKey, group.first, group.last));
    groups.set(portKey, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  result.push(...hostMappings);
  return result.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Row contexts

export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: ApiPort[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: Array<{ Name?: string; Source?: string; Driver?: string }> | null;
}

export type RowContext = Record<string | symbol, unknown>;

export function makeContext(typeName: string, methods: Record<string, (...args: string[]) => unknown>): RowContext {
  const ctx: RowContext = { ...methods };
  ctx[STRICT] = true;
  ctx[TYPE_NAME] = typeName;
  // {{json .}} marshals every exported zero-argument method, keys sorted (Go map order),
  // with json.Marshal's HTML escaping.
  ctx[MARSHAL] = () => {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(methods).sort()) if (methods[k].length === 0) o[k] = methods[k]();
    return htmlEscapedJSON(o);
  };
  return ctx;
}

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

/** The docker CLI's ContainerContext for one `GET /containers/json` entry. */
export function containerContext(c: ContainerSummary, trunc: boolean, nowMs: number = Date.now()): RowContext {
  return makeContext('*formatter.ContainerContext', {
    ID: () => (trunc ? truncateID(c.Id) : c.Id),
    Names: () => {
      let names = (c.Names ?? []).map((n) => n.slice(1));
      if (trunc) {
        const plain = names.find((n) => n.split('/').length === 1);
        if (plain !== undefined) names = [plain];
      }
      return names.join(',');
    },
    Image: () => {
      const image = c.Image ?? '';
      if (image === '') return '<no image>';
      if (trunc) {
        const t = truncateID(c.ImageID ?? '');
        if (t === truncateID(image)) return t;
        try {
          const ref = parseNormalizedNamed(image);
          return familiarString({ domain: ref.domain, path: ref.path, tag: ref.tag });
        } catch {
          // Not a valid reference: shown as the daemon gave it.
        }
      }
      return image;
    },
    Command: () => {
      const cmd = c.Command ?? '';
      return goQuote(trunc ? ellipsis(cmd, 20) : cmd);
    },
    CreatedAt: () => goTimeString(c.Created ?? 0),
    RunningFor: () => timeAgo(c.Created ?? 0, nowMs),
    Platform: () => null,
    Ports: () => displayablePorts(c.Ports),
    State: () => c.State ?? '',
    Status: () => c.Status ?? '',
    Size: () => {
      const srw = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
      const sv = humanSizeWithPrecision(c.SizeRootFs ?? 0, 3);
      return (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${sv})` : srw;
    },
    Labels: () => {
      if (!c.Labels) return '';
      return Object.entries(c.Labels)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',');
    },
    Label: (name: string) => (c.Labels ? (c.Labels[name] ?? '') : ''),
    Mounts: () =>
      (c.Mounts ?? [])
        .map((m) => {
          const name = m.Name ? m.Name : (m.Source ?? '');
          return trunc ? ellipsis(name, 15) : name;
        })
        .join(','),
    LocalVolumes: () => String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Networks: () => (c.NetworkSettings?.Networks ? Object.keys(c.NetworkSettings.Networks).sort().join(',') : ''),
  });
}

export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  Containers?: number;
}

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

function imageRow(img: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string, nowMs: number): RowContext {
  return makeContext('*formatter.imageContext', {
    ID: () => (trunc ? truncateID(img.Id) : img.Id),
    Repository: () => repo,
    Tag: () => tag,
    Digest: () => digest,
    CreatedSince: () => timeAgo(img.Created ?? 0, nowMs),
    CreatedAt: () => goTimeString(img.Created ?? 0),
    Size: () => humanSizeWithPrecision(img.Size ?? 0, 3),
    Containers: () => (img.Containers === undefined || img.Containers === -1 ? 'N/A' : String(img.Containers)),
    VirtualSize: () => humanSize(img.Size ?? 0),
    SharedSize: () => (img.SharedSize === undefined || img.SharedSize === -1 ? 'N/A' : humanSize(img.SharedSize)),
    UniqueSize: () => (img.Size === -1 || img.SharedSize === undefined || img.SharedSize === -1 ? 'N/A' : humanSize((img.Size ?? 0) - img.SharedSize)),
  });
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/**
 * The rows `docker images` shows for one image: one per repository:tag, `<none>` for
 * dangling images, and digest-only rows for repositories without a tag.
 */
export function imageContexts(img: ImageSummary, opts: { trunc: boolean; digest: boolean; formatHasDigest: boolean }, nowMs: number = Date.now()): RowContext[] {
  if (isDangling(img)) return [imageRow(img, opts.trunc, '<none>', '<none>', '<none>', nowMs)];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const refString of img.RepoTags ?? []) {
    try {
      const ref = parseNormalizedNamed(refString);
      if (ref.tag === undefined) continue;
      const name = familiarString({ domain: ref.domain, path: ref.path });
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
    } catch {
      continue;
    }
  }
  for (const refString of img.RepoDigests ?? []) {
    try {
      const ref = parseNormalizedNamed(refString);
      if (ref.digest === undefined) continue;
      const name = familiarString({ domain: ref.domain, path: ref.path });
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
    } catch {
      continue;
    }
  }
  const rows: RowContext[] = [];
  const needDigest = opts.digest || opts.formatHasDigest;
  for (const [repo, tags] of repoTags) {
    let digests = repoDigests.get(repo) ?? [];
    repoDigests.delete(repo);
    if (!needDigest) digests = [];
    for (const tag of tags) {
      if (digests.length === 0) {
        rows.push(imageRow(img, opts.trunc, repo, tag, '<none>', nowMs));
        continue;
      }
      for (const d of digests) rows.push(imageRow(img, opts.trunc, repo, tag, d, nowMs));
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (opts.digest) for (const d of digests) rows.push(imageRow(img, opts.trunc, repo, '<none>', d, nowMs));
    else rows.push(imageRow(img, opts.trunc, repo, '<none>', '', nowMs));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Formats

export const DEFAULT_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const DEFAULT_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const DEFAULT_IMAGE_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** formatter.NewContainerFormat. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === 'table' || source === '') {
    if (quiet) return '{{.ID}}';
    return DEFAULT_CONTAINER_TABLE + (size ? '\t{{.Size}}' : '');
  }
  if (source === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    return (
      'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n' +
      (size ? 'size: {{.Size}}\\n' : '')
    );
  }
  return quiet ? '{{.ID}}' : source;
}

/** formatter.NewImageFormat. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    return digest ? DEFAULT_IMAGE_TABLE_DIGEST : DEFAULT_IMAGE_TABLE;
  }
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    return digest
      ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
      : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (source.startsWith('table') && digest && !source.includes('{{.Digest}}')) return source + '\t{{.Digest}}';
  return source;
}

export class FormatError extends Error {}

/** Prepares a --format value as formatter.Context.preFormat does. */
export function preFormat(format: string): { template: string; table: boolean } {
  let f = format;
  const table = format.startsWith('table');
  if (table) f = f.slice('table'.length);
  else if (format === 'json') f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '');
  f = f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { template: f, table };
}

/** Parses a --format template, with the docker CLI's error wording. */
export function compileFormat(format: string): { tmpl: Template; table: boolean } {
  const { template, table } = preFormat(format);
  try {
    return { tmpl: parseTemplate(template), table };
  } catch (e) {
    if (e instanceof TemplateError) throw new FormatError(`template parsing error: ${e.message}`);
    throw e;
  }
}

/**
 * Renders rows through a --format (formatter.Context.Write): each row is the template output
 * plus a newline; table formats get the header (the template run on the header names, with
 * the header functions) and go through the tabwriter (10, 1, 3, ' ').
 */
export function renderRows(format: string, rows: RowContext[], headers: Record<string, string>): string {
  const { tmpl, table } = compileFormat(format);
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row) + '\n';
    } catch (e) {
      if (e instanceof TemplateError) throw new FormatError(`template parsing error: ${e.message}`);
      throw e;
    }
  }
  if (!table) return body;
  let header: string;
  try {
    // SubHeaderContext is a map with a Label method: `{{.Label "com.x"}}` heads its column "com.x".
    const label = (name: string): string => (name.split('.').pop() ?? '').replace(/[-_]/g, ' ');
    header = tmpl.execute({ ...headers, Label: label }, HEADER_OVERRIDES);
  } catch (e) {
    // The docker CLI ignores header errors and prints what was rendered before the error.
    header = (e as { partial?: string }).partial ?? '';
  }
  return tabulate(header + '\n' + body);
}
