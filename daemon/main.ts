#!/usr/bin/env node
// berthd: parse the flags, start the daemon, stop it cleanly on SIGTERM or SIGINT.
import pino from 'pino';
import { parseConfig } from './config';
import { startDaemon } from './daemon';

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  // Synchronous writes: the last lines before exit must not be lost.
  const log = pino({ level: cfg.logLevel, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  let daemon;
  try {
    daemon = await startDaemon(cfg, log);
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'failed to start daemon');
    process.stderr.write(`failed to start daemon: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info({ signal }, 'signal received');
    // A ref'd deadline: shutdown must never hang, nor end silently on an empty event loop.
    setTimeout(() => {
      log.error('shutdown did not finish in time');
      process.exit(1);
    }, 60_000);
    daemon.shutdown().then(
      () => process.exit(0),
      (e: Error) => {
        log.error({ err: e.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
