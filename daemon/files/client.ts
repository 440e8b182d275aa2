// The daemon's side of the files helper: spawns it, reads its header line, hands over the streams.
import { spawn } from 'child_process';
import { join } from 'path';
import { PassThrough, type Readable } from 'stream';
import { ApiError } from '../server/errors';
import type { PathStat } from './archive';
import type { HelperLine, HelperSpec } from './helper';

const HELPER = join(__dirname, 'helper.js');

export interface HelperRun {
  stat?: PathStat;
  /** For `get`: the tar. */
  body: Readable;
  /** For `put`: the request body goes here. */
  input: NodeJS.WritableStream;
  /** For `put`: resolves once the archive is extracted; rejects with the helper's error. */
  result: Promise<void>;
  /** Resolves with the helper's exit code. */
  exited: Promise<number>;
  kill(): void;
}

/** Throws the helper's error (404 missing path, 400 not a directory...) before anything is sent. */
export function runHelper(spec: HelperSpec, containerName: string): Promise<HelperRun> {
  const child = spawn(process.execPath, [HELPER, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  const body = new PassThrough();
  const lines: HelperLine[] = [];
  const waiting: Array<(l: HelperLine) => void> = [];
  let buf = Buffer.alloc(0);
  let header = true;
  const push = (l: HelperLine): void => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  };
  child.stdout.on('data', (d: Buffer) => {
    if (spec.op === 'get' && !header) {
      body.write(d);
      return;
    }
    buf = Buffer.concat([buf, d]);
    let nl: number;
    while ((nl = buf.indexOf(10)) >= 0) {
      const text = buf.subarray(0, nl).toString();
      buf = buf.subarray(nl + 1);
      push(JSON.parse(text) as HelperLine);
      header = false;
      if (spec.op === 'get') {
        if (buf.length) body.write(buf);
        buf = Buffer.alloc(0);
        return;
      }
    }
  });
  child.stdout.on('end', () => body.end());
  void exited.then((code) => {
    if (code !== 0 && !body.writableEnded) body.destroy(new Error(`archive failed: ${stderr.trim() || `exit ${code}`}`));
    push({ ok: false, status: 500, message: stderr.trim().split('\n').pop() || `files helper exited with ${code}` });
  });
  const next = (): Promise<HelperLine> => new Promise((resolve) => (lines.length ? resolve(lines.shift() as HelperLine) : waiting.push(resolve)));
  const fail = (l: Extract<HelperLine, { ok: false }>): ApiError =>
    new ApiError(l.status, l.status === 404 ? `${l.message} in container ${containerName}` : l.message);
  return next().then((first) => {
    if (!first.ok) {
      child.kill('SIGKILL');
      throw fail(first);
    }
    const result = next().then((l) => {
      if (!l.ok) throw fail(l);
    });
    // Only `put` waits for the result; the others end by killing the helper.
    result.catch(() => undefined);
    return {
      stat: first.stat,
      body,
      input: child.stdin,
      result,
      exited,
      kill: () => child.kill('SIGKILL'),
    };
  });
}
