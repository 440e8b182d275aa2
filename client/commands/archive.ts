// Image and container archives and snapshots: save, export, commit, image prune.
import { createWriteStream } from 'fs';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { println, type Cli } from '../cli';
import { familiarString, parseNormalizedNamed } from '../format/reference';
import { humanSize } from '../format/size';
import { parseFilters } from '../opts';

/** A tar body into the -o file (written whole or not at all is up to the daemon) or stdout, never a terminal. */
async function writeArchive(cli: Cli, body: Readable, output: string | undefined): Promise<void> {
  if (output) {
    await pipeline(body, createWriteStream(output));
    return;
  }
  if (cli.out.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  await pipeline(body, cli.out, { end: false });
}

export async function saveCommand(cli: Cli, images: string[], flags: { output?: string }): Promise<void> {
  if (!flags.output && cli.out.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await cli.api.request('GET', '/images/get', { query: { names: images } });
  await writeArchive(cli, res.body as unknown as Readable, flags.output);
}

export async function exportCommand(cli: Cli, container: string, flags: { output?: string }): Promise<void> {
  if (!flags.output && cli.out.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await cli.api.request('GET', `/containers/${encodeURIComponent(container)}/export`);
  await writeArchive(cli, res.body as unknown as Readable, flags.output);
}

export async function commitCommand(cli: Cli, container: string, reference: string | undefined, flags: { author?: string; change?: string[]; message?: string; pause?: boolean }): Promise<void> {
  let repo: string | undefined;
  let tag: string | undefined;
  if (reference) {
    const ref = parseNormalizedNamed(reference);
    if (ref.digest) throw new Error('refusing to create a tag with a digest reference');
    repo = familiarString({ domain: ref.domain, path: ref.path });
    tag = ref.tag;
  }
  const res = await cli.api.json<{ Id: string }>('POST', '/commit', {
    query: { container, repo, tag, comment: flags.message || undefined, author: flags.author || undefined, changes: flags.change ?? [], pause: flags.pause === false ? '0' : '1' },
  });
  println(cli.out, res.Id);
}

async function confirm(cli: Cli, warning: string): Promise<boolean> {
  cli.out.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  let answer = '';
  for await (const chunk of cli.in) {
    answer += chunk.toString();
    if (answer.includes('\n')) break;
  }
  return ['y', 'yes'].includes(answer.trim().toLowerCase());
}

export async function imagePruneCommand(cli: Cli, flags: { all?: boolean; force?: boolean; filter?: string[] }): Promise<void> {
  const warning = flags.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
  if (!flags.force && !(await confirm(cli, warning))) return;
  const filters = [...(flags.filter ?? []), ...(flags.all ? ['dangling=false'] : [])];
  const res = await cli.api.json<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: parseFilters(filters) } });
  if (res.ImagesDeleted?.length) {
    println(cli.out, 'Deleted Images:');
    for (const i of res.ImagesDeleted) println(cli.out, i.Untagged ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted ?? ''}`);
    println(cli.out);
  }
  println(cli.out, `Total reclaimed space: ${humanSize(res.SpaceReclaimed)}`);
}
