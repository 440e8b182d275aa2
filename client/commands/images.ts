// Image commands: images, rmi, load, import, pull.

import { createReadStream, statSync } from 'fs';
import type { Readable, Writable } from 'stream';
import { ApiError } from '../api';
import { println, type Cli } from '../cli';
import { IMAGE_HEADERS, imageContexts, imageFormat, renderRows, type ImageSummary } from '../format/context';
import { fullName, parseNormalizedNamed, tagNameOnly } from '../format/reference';
import { parseFilters } from '../opts';
import { registryAuthHeader } from '../auth-config';
import { TerminalProgress } from '../progress';
import { JSONStreamParser, displayJSONMessage, type JSONMessage } from '../stream';

/**
 * Prints a JSON message stream as the docker CLI does to a non-terminal (progress bars left
 * out) and fails with the first error message in it. `out` undefined discards the output.
 */
export async function displayJSONStream(body: AsyncIterable<Buffer | string> & Readable, out: (Writable & { isTTY?: boolean }) | undefined, onAux?: (aux: unknown) => void): Promise<void> {
  const parser = new JSONStreamParser();
  // On a terminal the per-layer lines are redrawn in place with their bars.
  const terminal = out?.isTTY ? new TerminalProgress() : undefined;
  for await (const chunk of body) {
    for (const m of parser.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))) {
      const jm = m as JSONMessage;
      if (jm.aux !== undefined && onAux) onAux(jm.aux);
      const text = terminal ? terminal.render(jm) : displayJSONMessage(jm);
      if (text !== undefined) out?.write(text);
    }
  }
}

export interface ImagesFlags {
  all?: boolean;
  quiet?: boolean;
  noTrunc?: boolean;
  digests?: boolean;
  format?: string;
  filter?: string[];
}

export async function imagesCommand(cli: Cli, repo: string | undefined, flags: ImagesFlags, calledAs = 'images'): Promise<void> {
  const filterArgs = [...(flags.filter ?? [])];
  if (repo) filterArgs.push(`reference=${repo}`);
  const filters = parseFilters(filterArgs);
  const list = (await cli.api.json<ImageSummary[]>('GET', '/images/json', { query: { all: flags.all || undefined, filters } })) ?? [];
  const format = imageFormat(flags.format || 'table', Boolean(flags.quiet), Boolean(flags.digests));
  const now = Date.now();
  const rows = list.flatMap((img) => imageContexts(img, { trunc: !flags.noTrunc, digest: Boolean(flags.digests), formatHasDigest: format.includes('{{.Digest}}') }, now));
  cli.out.write(renderRows(format, rows, IMAGE_HEADERS));
  const hints = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'];
  if (repo && list.length === 0 && calledAs === 'images' && hints.includes(repo)) {
    cli.err.write(`\nNo images found matching "${repo}": did you mean "berth image ${repo}"?\n`);
  }
}

export async function rmiCommand(cli: Cli, images: string[], flags: { force?: boolean; noPrune?: boolean }): Promise<void> {
  const errors: string[] = [];
  let fatal = false;
  for (const img of images) {
    try {
      const dels = await cli.api.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${img}`, {
        query: { force: flags.force || undefined, noprune: flags.noPrune || undefined },
      });
      for (const d of dels ?? []) {
        if (d.Deleted) println(cli.out, `Deleted: ${d.Deleted}`);
        else println(cli.out, `Untagged: ${d.Untagged ?? ''}`);
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.statusCode === 404)) fatal = true;
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) {
    const msg = errors.join('\n');
    if (!flags.force || fatal) throw new Error(msg);
    println(cli.err, msg);
  }
}

export async function loadCommand(cli: Cli, flags: { input?: string; quiet?: boolean }): Promise<void> {
  let input: Readable;
  let length: number | undefined;
  if (flags.input) {
    try {
      length = statSync(flags.input).size;
    } catch (e) {
      throw new Error(`open ${flags.input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    input = createReadStream(flags.input);
  } else {
    if (cli.in.isTTY) throw new Error('requested load from stdin, but stdin is empty');
    input = cli.in;
  }
  // The docker CLI asks for quiet output whenever stdout is not a terminal.
  const quiet = Boolean(flags.quiet) || !cli.out.isTTY;
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
  if (length !== undefined) headers['Content-Length'] = String(length);
  const res = await cli.api.request('POST', '/images/load', { query: { quiet: quiet ? '1' : '0' }, body: input, headers });
  const ct = String(res.headers['content-type'] ?? '');
  if (ct.split(';')[0].trim() === 'application/json') {
    await displayJSONStream(res.body, cli.out);
    return;
  }
  for await (const chunk of res.body as AsyncIterable<Buffer>) cli.out.write(chunk);
}

export async function importCommand(cli: Cli, source: string, reference: string | undefined, flags: { change?: string[]; message?: string; platform?: string }): Promise<void> {
  if (reference) parseNormalizedNamed(reference);
  let body: Readable | undefined;
  let fromSrc = '-';
  const headers: Record<string, string> = {};
  if (source === '-') {
    body = cli.in;
  } else if (/^https?:\/\//.test(source)) {
    fromSrc = source;
  } else {
    try {
      headers['Content-Length'] = String(statSync(source).size);
    } catch (e) {
      throw new Error(`open ${source}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    body = createReadStream(source);
  }
  const res = await cli.api.request('POST', '/images/create', {
    query: { fromSrc, repo: reference || undefined, message: flags.message || undefined, platform: flags.platform?.toLowerCase() || undefined, changes: flags.change ?? [] },
    body,
    headers,
  });
  await displayJSONStream(res.body, cli.out);
}

export async function pullCommand(cli: Cli, name: string, flags: { quiet?: boolean; platform?: string; allTags?: boolean }): Promise<void> {
  let ref = parseNormalizedNamed(name);
  const nameOnly = ref.tag === undefined && ref.digest === undefined;
  if (flags.allTags && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
  if (!flags.allTags && nameOnly) {
    ref = tagNameOnly(ref);
    if (!flags.quiet) println(cli.out, `Using default tag: ${ref.tag}`);
  }
  const res = await cli.api.request('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.digest ?? ref.tag ?? '', platform: flags.platform },
    headers: { 'X-Registry-Auth': registryAuthHeader(cli.env, ref.domain) },
  });
  await displayJSONStream(res.body, flags.quiet ? undefined : cli.out);
  println(cli.out, fullName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : ''));
}
