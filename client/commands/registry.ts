// Registry commands: push, login, logout, search.
import { eraseCredentials, registryAuthHeader, serverKey, storeCredentials } from '../auth-config';
import { println, type Cli } from '../cli';
import { fullName, parseNormalizedNamed, tagNameOnly } from '../format/reference';
import { ellipsis, tabulate } from '../format/table';
import { parseFilters } from '../opts';
import { displayJSONStream } from './images';

export async function pushCommand(cli: Cli, name: string, flags: { allTags?: boolean; quiet?: boolean }): Promise<void> {
  let ref = parseNormalizedNamed(name);
  const nameOnly = ref.tag === undefined && ref.digest === undefined;
  if (flags.allTags && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
  if (!flags.allTags && nameOnly) {
    ref = tagNameOnly(ref);
    if (!flags.quiet) println(cli.out, `Using default tag: ${ref.tag}`);
  }
  const res = await cli.api.request('POST', `/images/${fullName(ref)}/push`, {
    query: { tag: ref.tag },
    headers: { 'X-Registry-Auth': registryAuthHeader(cli.env, ref.domain) },
  });
  await displayJSONStream(res.body, flags.quiet ? undefined : cli.out);
  if (flags.quiet) println(cli.out, fullName(ref) + (ref.tag ? `:${ref.tag}` : ''));
}

export async function tagCommand(cli: Cli, source: string, target: string): Promise<void> {
  const ref = parseNormalizedNamed(target);
  if (ref.digest) throw new Error('refusing to create a tag with a digest reference');
  await cli.api.request('POST', `/images/${source}/tag`, { query: { repo: fullName(ref), tag: tagNameOnly(ref).tag } });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const c of stream) s += c.toString();
  return s;
}

export async function loginCommand(cli: Cli, server: string | undefined, flags: { username?: string; password?: string; passwordStdin?: boolean }): Promise<void> {
  let password = flags.password;
  if (flags.passwordStdin) {
    if (flags.password) throw new Error('--password and --password-stdin are mutually exclusive');
    if (!flags.username) throw new Error('Must provide --username with --password-stdin');
    password = (await readAll(cli.in)).replace(/\r?\n$/, '');
  } else if (password !== undefined) {
    println(cli.err, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  }
  if (!flags.username || password === undefined) throw new Error('Cannot perform an interactive login from a non TTY device');
  const key = serverKey(server);
  await cli.api.json('POST', '/auth', { body: { username: flags.username, password, serveraddress: key } });
  const file = storeCredentials(cli.env, key, flags.username, password);
  println(cli.out, `WARNING! Your password will be stored unencrypted in ${file}.`);
  println(cli.out, 'Configure a credential helper to remove this warning. See');
  println(cli.out, 'https://docs.docker.com/engine/reference/commandline/login/#credentials-store');
  println(cli.out);
  println(cli.out, 'Login Succeeded');
}

export function logoutCommand(cli: Cli, server: string | undefined): void {
  const key = serverKey(server);
  if (!eraseCredentials(cli.env, key)) {
    println(cli.out, `Not logged in to ${key}`);
    return;
  }
  println(cli.out, `Removing login credentials for ${key}`);
}

interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export async function searchCommand(cli: Cli, term: string, flags: { limit?: number; filter?: string[]; noTrunc?: boolean; format?: string }): Promise<void> {
  const results = await cli.api.json<SearchResult[]>('GET', '/images/search', { query: { term, limit: flags.limit, filters: parseFilters(flags.filter ?? []) } });
  const ok = (b: boolean): string => (b ? '[OK]' : '');
  const rows = (results ?? []).map((r) => [r.name, flags.noTrunc ? r.description : ellipsis(r.description.replace(/\n/g, ' '), 45), String(r.star_count), ok(r.is_official), ok(r.is_automated)].join('\t'));
  cli.out.write(tabulate(['NAME\tDESCRIPTION\tSTARS\tOFFICIAL\tAUTOMATED', ...rows].join('\n') + '\n'));
}
