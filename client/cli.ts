// What every command gets: the API client, the standard streams, and the docker CLI's way of
// ending (an error message on stderr and an exit status).

import type { Readable, Writable } from 'stream';
import type { ApiClient } from './api';

export const PROGRAM = 'berth';

export interface InStream extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface OutStream extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface Cli {
  api: ApiClient;
  in: InStream;
  out: OutStream;
  err: OutStream;
  env: NodeJS.ProcessEnv;
}

/**
 * Ends a command with `status`; `message` (if any) goes to stderr. Plain Errors end with
 * status 1 and their message, as the docker CLI does.
 */
export class StatusError extends Error {
  constructor(
    readonly status: number,
    message = '',
  ) {
    super(message);
  }
}

/** "berth: <err>\n\nRun 'berth <cmd> --help' for more information" (the docker CLI's withHelp). */
export function withHelp(message: string, command: string): string {
  return `${PROGRAM}: ${message}\n\nRun '${PROGRAM} ${command} --help' for more information`;
}

export function println(stream: Writable, text = ''): void {
  stream.write(text + '\n');
}

/** Resolves once everything written to `stream` has been handed to the OS. */
export function drain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableEnded || stream.destroyed) return resolve();
    stream.write('', () => resolve());
  });
}

/** Runs `op` for every item with bounded parallelism, results in input order (parallelOperation). */
export async function parallel<T>(items: string[], op: (item: string) => Promise<T>, limit = 50): Promise<Array<{ ok: true; value: T } | { ok: false; error: Error }>> {
  const results: Array<{ ok: true; value: T } | { ok: false; error: Error }> = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await op(items[i]) };
      } catch (e) {
        results[i] = { ok: false, error: e as Error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Fails with the messages of `errors` joined by newlines (errors.Join), if there are any. */
export function joinErrors(errors: Error[]): void {
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
}
