// Most CLI tests drive the docker CLI through spawnSync, so a file's tests can run for minutes
// without the worker's event loop ever reaching its poll phase. Vitest's worker answers the
// runner over an RPC with a fixed 60 s timeout, and a reply left unread that long fails the run
// with every test green ("Timeout calling onTaskUpdate"). One macrotask turn per test lets the
// worker read its messages; no single test blocks anywhere near 60 s.
import { beforeEach } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
