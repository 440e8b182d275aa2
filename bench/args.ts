// The bench scripts' command lines: each declares its flags, and one parser reads them all the
// same way (`--flag value` or `--flag=value`, integers within bounds, --help prints the usage).

/** A flag's value: the string, or an integer checked against its bounds. */
export interface Value {
  (): string;
  int(min: number, max: number): number;
}

/** Each flag sets what it sets on the options; a switch ignores its value. */
export type Flags<O> = Record<string, (o: O, value: Value) => void>;

export function parseFlags<O>(argv: string[], defaults: O, flags: Flags<O>, usage: string): O {
  const o = defaults;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usage);
      process.exit(0);
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const set = flags[flag];
    if (!set) throw new Error(`unknown option ${a}\n${usage}`);
    const str = (): string => {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (min: number, max: number): number => {
      const v = str();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} wants an integer from ${min} to ${max}, got ${v}`);
      return n;
    };
    set(o, Object.assign(str, { int }));
  }
  return o;
}
