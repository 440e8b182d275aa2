// Stands in for Node's `assert` inside the init bundle (scripts/bundle-init.mjs): ffi-napi and
// ref-napi use only these three forms, and the real module loads Node's stream stack at start-up
// (through its error colouring, which opens process.stderr).
function assert(value: unknown, message?: string): asserts value {
  if (!value) throw new Error(message ?? 'assertion failed');
}

function equal(actual: unknown, expected: unknown, message?: string): void {
  assert(actual == expected, message ?? `${String(actual)} == ${String(expected)}`);
}

function strictEqual(actual: unknown, expected: unknown, message?: string): void {
  assert(actual === expected, message ?? `${String(actual)} === ${String(expected)}`);
}

export = Object.assign(assert, { equal, strictEqual });
