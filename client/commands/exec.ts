// exec and attach: a hijacked stream to a process in a running container, as the docker CLI's.
import { streamAttach } from '../attach';
import { StatusError, type Cli } from '../cli';
import { monitorTtySize } from './containers';

export interface ExecFlags {
  detach?: boolean;
  detachKeys?: string;
  env?: string[];
  interactive?: boolean;
  privileged?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

/** Runs the command; resolves with its exit code (the CLI's exit status). */
export async function execCommand(cli: Cli, container: string, cmd: string[], flags: ExecFlags): Promise<number> {
  const tty = Boolean(flags.tty);
  const attach = !flags.detach;
  const body = {
    User: flags.user ?? '',
    Privileged: Boolean(flags.privileged),
    Tty: tty,
    ConsoleSize: tty && cli.out.isTTY ? [cli.out.rows ?? 0, cli.out.columns ?? 0] : undefined,
    AttachStdin: Boolean(flags.interactive) && attach,
    AttachStdout: attach,
    AttachStderr: attach,
    DetachKeys: flags.detachKeys ?? '',
    Env: flags.env ?? [],
    WorkingDir: flags.workdir ?? '',
    Cmd: cmd,
  };
  const { Id } = await cli.api.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, { body });
  if (flags.detach) {
    const r = await cli.api.request('POST', `/exec/${Id}/start`, { body: { Detach: true, Tty: tty } });
    r.body.resume();
    return 0;
  }
  const h = await cli.api.hijack(`/exec/${Id}/start`, {});
  const session = streamAttach({ socket: h.socket, head: h.head, tty, stdin: body.AttachStdin ? cli.in : undefined, stdout: cli.out, stderr: cli.err, detachKeys: flags.detachKeys });
  const unresize = tty ? monitorTtySize(cli, Id, `/exec/${Id}/resize`) : () => undefined;
  try {
    await session.done;
  } finally {
    unresize();
  }
  const inspect = await cli.api.json<{ ExitCode: number | null }>('GET', `/exec/${Id}/json`);
  return inspect.ExitCode ?? 0;
}

export interface AttachFlags {
  noStdin?: boolean;
  detachKeys?: string;
}

interface AttachInspect {
  Id: string;
  Config: { Tty?: boolean; OpenStdin?: boolean };
  State: { Running: boolean; Paused: boolean; ExitCode: number };
}

/** Attaches to a running container; resolves with its exit code once it stops (0 on detach). */
export async function attachCommand(cli: Cli, container: string, flags: AttachFlags): Promise<number> {
  const c = await cli.api.json<AttachInspect>('GET', `/containers/${encodeURIComponent(container)}/json`);
  if (!c.State.Running) throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
  const tty = Boolean(c.Config.Tty);
  const stdin = !flags.noStdin && Boolean(c.Config.OpenStdin);
  const h = await cli.api.hijack(`/containers/${c.Id}/attach`, { stream: true, stdin, stdout: true, stderr: true, detachKeys: flags.detachKeys });
  const session = streamAttach({ socket: h.socket, head: h.head, tty, stdin: stdin ? cli.in : undefined, stdout: cli.out, stderr: cli.err, detachKeys: flags.detachKeys });
  const unresize = tty ? monitorTtySize(cli, c.Id) : () => undefined;
  try {
    const r = await session.done;
    if (r.detached) return 0;
  } finally {
    unresize();
  }
  const r = await cli.api.json<{ StatusCode: number }>('POST', `/containers/${c.Id}/wait`);
  return r.StatusCode;
}
