// Stands in for the `debug` package inside the init bundle (scripts/bundle-init.mjs). ffi-napi and
// ref-napi make loggers with it at load time, and loading it builds process.stderr, which pulls in
// Node's stream, net and tty modules: milliseconds on every container start and exec, for logs
// the init never writes.
function createDebug(): (...args: unknown[]) => void {
  return Object.assign(() => undefined, { enabled: false });
}

export = createDebug;
