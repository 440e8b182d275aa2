// Copies a hijacked attach connection to the terminal, as the docker CLI's hijackedIOStreamer:
// raw bytes with a TTY, demultiplexed stdout/stderr frames without; stdin goes the other way
// (and its end half-closes the connection); with a TTY the detach keys (ctrl-p,ctrl-q) leave
// the container running.

import type { Socket } from 'net';
import type { Writable } from 'stream';
import type { InStream } from './cli';
import { FrameDemuxer, StreamError } from './stream';

export interface AttachStreams {
  socket: Socket;
  head: Buffer;
  tty: boolean;
  stdin?: InStream;
  stdout?: Writable;
  stderr?: Writable;
  detachKeys?: string;
}

export interface AttachSession {
  /** Settles when the output stream ends (or the user detaches). */
  done: Promise<{ detached: boolean }>;
  /** Tears the session down (start failed, or we are exiting). */
  close(): void;
}

/** The docker CLI's term.ToBytes: "ctrl-p,ctrl-q" → [16, 17]. */
export function detachKeyBytes(spec: string | undefined): number[] {
  const s = spec && spec.trim() !== '' ? spec : 'ctrl-p,ctrl-q';
  const out: number[] = [];
  for (const raw of s.split(',')) {
    const k = raw.trim().toLowerCase();
    if (k.length === 1 && k.charCodeAt(0) < 128) out.push(raw.trim().charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/.test(k)) {
      const c = k[5];
      out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c] ?? 0);
    } else throw new Error(`Unknown character: '${raw}'`);
  }
  return out;
}

export function streamAttach(s: AttachStreams): AttachSession {
  const { socket } = s;
  let settled = false;
  let resolveDone!: (v: { detached: boolean }) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<{ detached: boolean }>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const raw = Boolean(s.tty && s.stdin?.isTTY && s.stdin.setRawMode);
  let rawOn = false;
  const restore = (): void => {
    if (rawOn) {
      s.stdin?.setRawMode?.(false);
      rawOn = false;
    }
  };
  const stopInput = (): void => {
    if (s.stdin) {
      s.stdin.removeListener('data', onInput);
      s.stdin.removeListener('end', onInputEnd);
      s.stdin.pause();
    }
  };
  const finish = (v: { detached: boolean } | Error): void => {
    if (settled) return;
    settled = true;
    restore();
    stopInput();
    if (v instanceof Error) rejectDone(v);
    else resolveDone(v);
  };

  // Output.
  const demux = s.tty ? undefined : new FrameDemuxer();
  const onOutput = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    if (!demux) {
      s.stdout?.write(chunk);
      return;
    }
    try {
      for (const f of demux.push(chunk)) {
        if (f.stream === 'stdout' || f.stream === 'stdin') s.stdout?.write(f.payload);
        else if (f.stream === 'stderr') s.stderr?.write(f.payload);
        else {
          finish(new StreamError(`error from daemon in stream: ${f.payload.toString()}`));
          socket.destroy();
          return;
        }
      }
    } catch (e) {
      finish(e as Error);
      socket.destroy();
    }
  };
  onOutput(s.head);
  socket.on('data', onOutput);
  socket.on('end', () => finish({ detached: false }));
  socket.on('close', () => finish({ detached: false }));
  socket.on('error', (e) => {
    // A reset after the container exited is the end of the stream, not a failure.
    if ((e as { code?: string }).code === 'ECONNRESET' || (e as { code?: string }).code === 'EPIPE') finish({ detached: false });
    else finish(e);
  });

  // Input.
  const keys = s.tty ? detachKeyBytes(s.detachKeys) : [];
  let matched = 0;
  function onInput(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (keys.length === 0) {
      socket.write(buf);
      return;
    }
    // Hold back a partial detach sequence; pass it on if the next byte breaks it.
    const out: number[] = [];
    for (const b of buf) {
      if (b === keys[matched]) {
        matched++;
        if (matched === keys.length) {
          if (out.length) socket.write(Buffer.from(out));
          socket.destroy();
          finish({ detached: true });
          return;
        }
        continue;
      }
      if (matched > 0) {
        out.push(...keys.slice(0, matched));
        matched = 0;
      }
      if (b === keys[0]) matched = 1;
      else out.push(b);
    }
    if (out.length) socket.write(Buffer.from(out));
  }
  function onInputEnd(): void {
    // EOF on stdin: tell the daemon (half-close) and keep reading output.
    if (!socket.destroyed) socket.end();
  }
  if (s.stdin) {
    if (raw) {
      s.stdin.setRawMode?.(true);
      rawOn = true;
    }
    s.stdin.on('data', onInput);
    s.stdin.on('end', onInputEnd);
    s.stdin.resume();
  }

  return {
    done,
    close: () => {
      socket.destroy();
      finish({ detached: false });
    },
  };
}
