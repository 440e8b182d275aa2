// One run of a health check: the test command as an exec in the container (its namespaces, cgroup,
// user and environment, with exec's events), its output kept up to 4096 bytes, killed at the timeout.
import type { ExecManager } from '../containers/exec';
import { nowNano, type ContainerRecord } from '../containers/record';
import { goDuration, type HealthResult, type Probe } from './config';

const MAX_OUTPUT = 4096;

/** The first 4096 bytes of stdout and stderr together, "..." after them when more came (as dockerd). */
export class LimitedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  text(): string {
    const out = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${out}...` : out;
  }
}

/** Runs the probe once; `stop` aborts it (the container paused or stopped) by killing the process. */
export async function runProbe(execs: ExecManager, c: ContainerRecord, probe: Probe, stop: AbortSignal): Promise<HealthResult> {
  const Start = nowNano();
  const output = new LimitedOutput();
  const failed = (e: unknown): HealthResult => ({ Start, End: nowNano(), ExitCode: -1, Output: (e as Error).message });
  let inst;
  try {
    inst = execs.create(c, {
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      Env: [],
      Cmd: probe.cmd,
      Privileged: false,
      User: c.Config.User,
      WorkingDir: c.Config.WorkingDir,
      DetachKeys: '',
    });
  } catch (e) {
    return failed(e);
  }
  const exec = inst;
  let ended = false;
  // The process may still be starting when the timeout or the stop comes: kill it once it runs.
  const kill = (): void => {
    if (ended) return;
    if (!exec.Running) return void setTimeout(kill, 10).unref();
    try {
      process.kill(exec.Pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, probe.timeoutMs);
  stop.addEventListener('abort', kill);
  try {
    await execs.start(c, exec, { data: (_stream, d) => output.write(d), end: () => undefined }, null);
  } catch (e) {
    return failed(e);
  } finally {
    ended = true;
    clearTimeout(timer);
    stop.removeEventListener('abort', kill);
    execs.discard(exec.ID);
  }
  const End = nowNano();
  if (timedOut) {
    const out = output.text();
    const msg = `Health check exceeded timeout (${goDuration(probe.timeoutMs)})`;
    return { Start, End, ExitCode: -1, Output: out ? `${msg}: ${out}` : msg };
  }
  // An exec that could not start wrote Docker's message in place of output; dockerd reports that error.
  if (exec.Pid === 0) return { Start, End, ExitCode: -1, Output: output.text().replace(/\r\n$/, '') };
  return { Start, End, ExitCode: exec.ExitCode ?? -1, Output: output.text() };
}
