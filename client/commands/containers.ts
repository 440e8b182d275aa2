// Container commands: run, create, start, stop, restart, kill, rm, ps, logs, wait.

import { registryAuthHeader } from '../auth-config';
import { ApiError, type ApiClient } from '../api';
import { streamAttach } from '../attach';
import { StatusError, joinErrors, parallel, println, withHelp, type Cli } from '../cli';
import { buildContainerConfig, type ContainerConfig, type ContainerFlags } from '../container-config';
import { CONTAINER_HEADERS, containerContext, containerFormat, renderRows, type ContainerSummary } from '../format/context';
import { familiarString, fullName, parseNormalizedNamed, tagNameOnly, type Reference } from '../format/reference';
import { parseTemplate } from '../format/template';
import { getTimestamp } from '../format/time';
import { parseFilters } from '../opts';
import { FrameDemuxer, StreamError } from '../stream';
import { displayJSONStream } from './images';

// ---------------------------------------------------------------------------------------------
// create / run

export interface CreateFlags extends ContainerFlags {
  name?: string;
  pull?: string;
  quiet?: boolean;
  platform?: string;
}

export interface RunFlags extends CreateFlags {
  detach?: boolean;
  detachKeys?: string;
  sigProxy?: boolean;
}

function validatePull(pull: string | undefined): string {
  const p = pull ?? 'missing';
  if (!['always', 'missing', 'never', ''].includes(p)) throw new Error(`invalid pull option: '${p}': must be one of "always", "missing" or "never"`);
  return p === '' ? 'missing' : p;
}

/** Pulls an image for create/run: progress to stderr, as the docker CLI's pullImage. */
async function pullImage(cli: Cli, ref: Reference, quiet: boolean, platform?: string): Promise<void> {
  const named = { domain: ref.domain, path: ref.path };
  const tag = ref.digest ?? tagNameOnly(ref).tag;
  const res = await cli.api.request('POST', '/images/create', { query: { fromImage: fullName(named), tag, platform }, headers: { 'X-Registry-Auth': registryAuthHeader(cli.env, ref.domain) } });
  await displayJSONStream(res.body, quiet ? undefined : cli.err);
}

/** createContainer: POST /containers/create, pulling the image once on a 404. Returns the ID. */
async function createContainer(cli: Cli, cc: ContainerConfig, flags: CreateFlags, image: string): Promise<string> {
  const pull = validatePull(flags.pull);
  let ref: Reference | undefined;
  try {
    ref = parseNormalizedNamed(image);
  } catch (e) {
    // A full image ID is not a name; anything else that does not parse is an error.
    if (!/^(sha256:)?[a-f0-9]{64}$/.test(image)) throw new Error((e as Error).message);
  }
  const body = { ...cc.config, HostConfig: cc.hostConfig, NetworkingConfig: cc.networkingConfig };
  const query = { name: flags.name, platform: flags.platform };
  if (pull === 'always' && ref) await pullImage(cli, ref, Boolean(flags.quiet), flags.platform);
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await cli.api.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', { query, body });
  } catch (e) {
    if (!(e instanceof ApiError && e.statusCode === 404 && ref && pull === 'missing')) throw e;
    if (!flags.quiet) println(cli.err, `Unable to find image '${familiarString(tagNameOnly(ref))}' locally`);
    await pullImage(cli, ref, Boolean(flags.quiet), flags.platform);
    res = await cli.api.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', { query, body });
  }
  for (const w of res.Warnings ?? []) println(cli.err, `WARNING: ${w}`);
  return res.Id;
}

function consoleSize(cli: Cli): [number, number] {
  return cli.out.isTTY ? [cli.out.rows ?? 0, cli.out.columns ?? 0] : [0, 0];
}

/** toStatusError: 127 for a missing executable, 126 for a permission problem, else 125. */
export function runErrorStatus(message: string): number {
  if (message.includes('executable file not found') || message.includes('no such file or directory') || message.includes('system cannot find the file specified')) return 127;
  if (message.includes('permission denied') || message.includes('is a directory')) return 126;
  return 125;
}

function toStatusError(e: unknown): StatusError {
  const message = (e as Error).message;
  return new StatusError(runErrorStatus(message), withHelp(message, 'run'));
}

export async function createCommand(cli: Cli, image: string, args: string[], flags: CreateFlags): Promise<void> {
  let cc: ContainerConfig;
  try {
    validatePull(flags.pull);
    cc = buildContainerConfig(flags, image, args, { env: cli.env, consoleSize: consoleSize(cli) });
  } catch (e) {
    throw new StatusError(125, withHelp((e as Error).message, 'create'));
  }
  const id = await createContainer(cli, cc, flags, image);
  println(cli.out, id);
}

interface WaitHandle {
  status: Promise<number>;
  cancel(): void;
}

/**
 * waitExitOrRemoved: POST /containers/{id}/wait, sent before the container starts so a fast
 * exit is not missed. Resolves to the exit status, 125 (with the docker CLI's log line) on errors.
 */
async function waitExitOrRemoved(cli: Cli, id: string, removed: boolean): Promise<WaitHandle> {
  const condition = removed ? 'removed' : 'next-exit';
  let cancelled = false;
  let body: { destroy(): void } | undefined;
  const response = cli.api.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
  const status = (async (): Promise<number> => {
    try {
      const res = await response;
      body = res.body;
      if (cancelled) {
        res.body.destroy();
        return 125;
      }
      const text = await res.body.text();
      const result = JSON.parse(text) as { StatusCode?: number; Error?: { Message?: string } | null };
      if (result.Error?.Message) {
        println(cli.err, `ERRO[0000] Error waiting for container: ${result.Error.Message}`);
        return 125;
      }
      return result.StatusCode ?? 0;
    } catch (e) {
      if (!cancelled) println(cli.err, `ERRO[0000] error waiting for container: ${(e as Error).message}`);
      return 125;
    }
  })();
  // Let the daemon take the request (it answers the headers at once) before the container
  // starts, but do not depend on it: a daemon that only answers at exit must not deadlock us.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    response.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
    }),
  ]);
  clearTimeout(timer);
  return {
    status,
    cancel: () => {
      cancelled = true;
      body?.destroy();
    },
  };
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** ForwardAllSignals: signals the client gets go to the container (POST /kill). */
function forwardSignals(cli: Cli, id: string): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED_SIGNALS) {
    if (sig === 'SIGWINCH') continue;
    const h = (): void => {
      cli.api.request('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: sig } }).then(
        (r) => r.body.resume(),
        (e: Error) => println(cli.err, `ERRO[0000] Error sending signal: ${e.message}`),
      );
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}

/** Resizes the container's (or, with `resizePath`, an exec's) TTY to the client terminal, now and on SIGWINCH. */
export function monitorTtySize(cli: Cli, id: string, resizePath = `/containers/${encodeURIComponent(id)}/resize`): () => void {
  if (!cli.out.isTTY) return () => undefined;
  const resize = (): void => {
    const h = cli.out.rows ?? 0;
    const w = cli.out.columns ?? 0;
    if (h === 0 && w === 0) return;
    cli.api.request('POST', resizePath, { query: { h, w } }).then(
      (r) => r.body.resume(),
      () => undefined,
    );
  };
  resize();
  process.on('SIGWINCH', resize);
  return () => process.removeListener('SIGWINCH', resize);
}

export async function runCommand(cli: Cli, image: string, args: string[], flags: RunFlags): Promise<number> {
  let cc: ContainerConfig;
  try {
    validatePull(flags.pull);
    cc = buildContainerConfig(flags, image, args, { env: cli.env, consoleSize: consoleSize(cli) });
  } catch (e) {
    throw new StatusError(125, withHelp((e as Error).message, 'run'));
  }
  const config = cc.config;
  if (!flags.detach) {
    if (cc.attachStdin && config.Tty && !cli.in.isTTY) throw new Error('the input device is not a TTY');
  } else {
    if ((flags.attach ?? []).length > 0) throw new Error('conflicting options: cannot specify both --attach and --detach');
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }
  const attachStdin = Boolean(config.AttachStdin);
  const attachStdout = Boolean(config.AttachStdout);
  const attachStderr = Boolean(config.AttachStderr);
  const attach = attachStdin || attachStdout || attachStderr;
  const tty = Boolean(config.Tty);

  let id: string;
  try {
    id = await createContainer(cli, cc, flags, image);
  } catch (e) {
    throw toStatusError(e);
  }
  const unforward = flags.sigProxy === false ? () => undefined : forwardSignals(cli, id);
  try {
    if (!attach) println(cli.out, id);

    let session: ReturnType<typeof streamAttach> | undefined;
    if (attach) {
      const h = await cli.api.hijack(`/containers/${encodeURIComponent(id)}/attach`, {
        stream: true,
        stdin: attachStdin,
        stdout: attachStdout,
        stderr: attachStderr,
        detachKeys: flags.detachKeys,
      });
      session = streamAttach({
        socket: h.socket,
        head: h.head,
        tty,
        stdin: attachStdin ? cli.in : undefined,
        stdout: attachStdout ? cli.out : undefined,
        stderr: attachStderr ? (tty ? cli.out : cli.err) : undefined,
        detachKeys: flags.detachKeys,
      });
    }

    const wait = await waitExitOrRemoved(cli, id, cc.autoRemove);

    try {
      const r = await cli.api.request('POST', `/containers/${encodeURIComponent(id)}/start`);
      r.body.resume();
    } catch (e) {
      session?.close();
      if (cc.autoRemove) await wait.status;
      else wait.cancel();
      throw toStatusError(e);
    }

    if (!attach) {
      wait.cancel();
      return 0;
    }
    const unresize = tty ? monitorTtySize(cli, id) : () => undefined;
    try {
      const result = await Promise.race([session!.done.then((r) => ({ kind: 'stream' as const, r })), wait.status.then((s) => ({ kind: 'exit' as const, s }))]);
      if (result.kind === 'stream') {
        if (result.r.detached) {
          wait.cancel();
          return 0;
        }
        return await wait.status;
      }
      // The container exited first: let the output finish streaming.
      if (!attachStdout && !attachStderr) session!.close();
      await session!.done.catch(() => undefined);
      return result.s;
    } finally {
      unresize();
    }
  } finally {
    unforward();
  }
}

// ---------------------------------------------------------------------------------------------
// start / stop / restart / kill / rm / wait

interface InspectSummary {
  Id: string;
  Config: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig: { AutoRemove?: boolean };
}

export async function startCommand(cli: Cli, containers: string[], flags: { attach?: boolean; interactive?: boolean; detachKeys?: string }): Promise<number> {
  if (flags.attach || flags.interactive) {
    if (containers.length > 1) throw new Error('you cannot start and attach multiple containers at once');
    const c = await cli.api.json<InspectSummary>('GET', `/containers/${encodeURIComponent(containers[0])}/json`);
    const tty = Boolean(c.Config.Tty);
    const stdin = Boolean(flags.interactive && c.Config.OpenStdin);
    const unforward = tty ? () => undefined : forwardSignals(cli, c.Id);
    try {
      const h = await cli.api.hijack(`/containers/${c.Id}/attach`, { stream: true, stdin, stdout: true, stderr: true, detachKeys: flags.detachKeys });
      const session = streamAttach({ socket: h.socket, head: h.head, tty, stdin: stdin ? cli.in : undefined, stdout: cli.out, stderr: cli.err, detachKeys: flags.detachKeys });
      const wait = await waitExitOrRemoved(cli, c.Id, Boolean(c.HostConfig.AutoRemove));
      try {
        const r = await cli.api.request('POST', `/containers/${c.Id}/start`);
        r.body.resume();
      } catch (e) {
        session.close();
        if (c.HostConfig.AutoRemove) await wait.status;
        else wait.cancel();
        throw e;
      }
      const unresize = tty ? monitorTtySize(cli, c.Id) : () => undefined;
      try {
        const r = await session.done;
        if (r.detached) {
          wait.cancel();
          return 0;
        }
        return await wait.status;
      } finally {
        unresize();
      }
    } finally {
      unforward();
    }
  }
  const failed: string[] = [];
  for (const name of containers) {
    try {
      const r = await cli.api.request('POST', `/containers/${encodeURIComponent(name)}/start`);
      r.body.resume();
      println(cli.out, name);
    } catch (e) {
      println(cli.err, (e as Error).message);
      failed.push(name);
    }
  }
  if (failed.length > 0) throw new Error(`Error: failed to start containers: ${failed.join(', ')}`);
  return 0;
}

/** Runs `op` on every container in parallel, printing each name that succeeded, in order. */
async function eachContainer(cli: Cli, containers: string[], op: (name: string) => Promise<void>, ignore?: (e: Error) => boolean): Promise<void> {
  const results = await parallel(containers, op);
  const errors: Error[] = [];
  results.forEach((r, i) => {
    if (r.ok) {
      println(cli.out, containers[i]);
      return;
    }
    if (ignore?.(r.error)) {
      println(cli.err, r.error.message);
      return;
    }
    errors.push(r.error);
  });
  joinErrors(errors);
}

async function post(api: ApiClient, path: string, query?: Record<string, string | number | boolean | undefined>): Promise<void> {
  const r = await api.request('POST', path, { query });
  await r.body.text();
}

export async function stopCommand(cli: Cli, containers: string[], flags: { time?: string; signal?: string }): Promise<void> {
  const t = flags.time === undefined ? undefined : Number(flags.time);
  await eachContainer(cli, containers, (name) => post(cli.api, `/containers/${encodeURIComponent(name)}/stop`, { t, signal: flags.signal || undefined }));
}

export async function restartCommand(cli: Cli, containers: string[], flags: { time?: string; signal?: string }): Promise<void> {
  const t = flags.time === undefined ? undefined : Number(flags.time);
  const errors: Error[] = [];
  for (const name of containers) {
    try {
      await post(cli.api, `/containers/${encodeURIComponent(name)}/restart`, { t, signal: flags.signal || undefined });
      println(cli.out, name);
    } catch (e) {
      errors.push(e as Error);
    }
  }
  joinErrors(errors);
}

export async function killCommand(cli: Cli, containers: string[], flags: { signal?: string }): Promise<void> {
  await eachContainer(cli, containers, (name) => post(cli.api, `/containers/${encodeURIComponent(name)}/kill`, { signal: flags.signal || undefined }));
}

export async function rmCommand(cli: Cli, containers: string[], flags: { force?: boolean; volumes?: boolean; link?: boolean }): Promise<void> {
  await eachContainer(
    cli,
    containers,
    async (name) => {
      const id = name.replace(/^\/+|\/+$/g, '');
      if (id === '') throw new Error('container name cannot be empty');
      const r = await cli.api.request('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: flags.force || undefined, v: flags.volumes || undefined, link: flags.link || undefined } });
      await r.body.text();
    },
    (e) => Boolean(flags.force) && e instanceof ApiError && e.statusCode === 404,
  );
}

export async function waitCommand(cli: Cli, containers: string[]): Promise<void> {
  const errors: Error[] = [];
  for (const name of containers) {
    try {
      const r = await cli.api.json<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(name)}/wait`);
      println(cli.out, String(r.StatusCode));
    } catch (e) {
      errors.push(e as Error);
    }
  }
  joinErrors(errors);
}

// ---------------------------------------------------------------------------------------------
// ps

export interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  size?: boolean;
  last?: string;
  latest?: boolean;
  noTrunc?: boolean;
  format?: string;
  filter?: string[];
}

export async function psCommand(cli: Cli, flags: PsFlags, sizeGiven: boolean): Promise<void> {
  let format = flags.format ?? '';
  if (format !== '' && flags.quiet) cli.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  let last = -1;
  if (flags.last !== undefined) {
    if (!/^-?\d+$/.test(flags.last)) throw new StatusError(125, `invalid argument "${flags.last}" for "-n, --last" flag: strconv.ParseInt: parsing "${flags.last}": invalid syntax\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information`);
    last = Number(flags.last);
  }
  let size = Boolean(flags.size);
  if (format !== '') {
    // Like the docker CLI, check the raw --format first: parse it, then run it on an empty row.
    let tmpl;
    try {
      tmpl = parseTemplate(format);
    } catch (e) {
      throw new Error(`failed to parse template: ${(e as Error).message}`);
    }
    try {
      tmpl.execute(containerContext({ Id: '' }, true));
    } catch (e) {
      throw new Error(`failed to execute template: ${(e as Error).message}`);
    }
    // A template that shows .Size asks for sizes, unless --size=false was given.
    if (!flags.quiet && !size && !sizeGiven && /\.Size\b/.test(format)) size = true;
  }
  let limit = last;
  if (flags.latest && last === -1) limit = 1;
  const filters = parseFilters(flags.filter ?? []);
  const list = await cli.api.json<ContainerSummary[]>('GET', '/containers/json', {
    query: { all: flags.all || undefined, limit: limit > 0 ? limit : undefined, size: size || undefined, filters },
  });
  const now = Date.now();
  const rows = (list ?? []).map((c) => containerContext(c, !flags.noTrunc, now));
  if (format === '') format = 'table';
  cli.out.write(renderRows(containerFormat(format, Boolean(flags.quiet), size), rows, CONTAINER_HEADERS));
}

// ---------------------------------------------------------------------------------------------
// logs

export interface LogsFlags {
  follow?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  details?: boolean;
  tail?: string;
}

export async function logsCommand(cli: Cli, container: string, flags: LogsFlags): Promise<void> {
  const c = await cli.api.json<InspectSummary>('GET', `/containers/${encodeURIComponent(container)}/json`);
  const res = await cli.api.request('GET', `/containers/${c.Id}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      since: flags.since ? getTimestamp(flags.since) : undefined,
      until: flags.until ? getTimestamp(flags.until) : undefined,
      timestamps: flags.timestamps || undefined,
      details: flags.details || undefined,
      follow: flags.follow || undefined,
      tail: flags.tail ?? 'all',
    },
  });
  const demux = c.Config.Tty ? undefined : new FrameDemuxer();
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    if (!demux) {
      cli.out.write(chunk);
      continue;
    }
    for (const f of demux.push(chunk)) {
      if (f.stream === 'stderr') cli.err.write(f.payload);
      else if (f.stream === 'systemerr') throw new StreamError(`error from daemon in stream: ${f.payload.toString()}`);
      else cli.out.write(f.payload);
    }
  }
}
