// Build arguments as Docker's classic builder tracks them: the values given with --build-arg,
// the ARGs declared before the first FROM (meta args) and in the current stage, the proxy
// variables allowed without a declaration, and which given ones were never consumed.

const BUILTIN = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export class BuildArgs {
  private allowed = new Map<string, string | null>();
  private readonly meta = new Map<string, string | null>();
  private readonly referenced = new Set<string>();

  private readonly given: Map<string, string | null>;

  constructor(given: Record<string, string | null>) {
    this.given = new Map(Object.entries(given));
  }

  /** A new stage: the declarations of the last one no longer apply, the meta args do. */
  resetAllowed(): void {
    this.allowed = new Map();
  }

  addMeta(key: string, value: string | null): void {
    this.meta.set(key, value);
  }

  add(key: string, value: string | null): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  private value(key: string, source: Map<string, string | null>): string | undefined {
    const given = this.given.get(key);
    if (given !== null && given !== undefined) return given;
    const declared = source.get(key);
    if (declared === null || declared === undefined) return this.meta.get(key) ?? undefined;
    return declared;
  }

  private all(source: Map<string, string | null>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of new Set([...source.keys(), ...BUILTIN])) {
      const v = this.value(key, source);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  /** The declared (and builtin) args with a value, as `KEY=value`. */
  allowedEnv(): string[] {
    return [...this.all(this.allowed)].map(([k, v]) => `${k}=${v}`);
  }

  /** The meta args with a value (what FROM lines expand with). */
  metaEnv(): string[] {
    return [...this.all(this.meta)].map(([k, v]) => `${k}=${v}`);
  }

  /** The allowed args the config's Env does not already set (an ENV wins over an ARG), sorted. */
  filterAllowed(env: string[]): string[] {
    const keys = new Set(env.map((e) => e.split('=')[0]));
    return this.allowedEnv()
      .filter((e) => !keys.has(e.split('=')[0]))
      .sort();
  }

  /** Builtin proxy args stay out of RUN's cache key unless declared (their values are often secret). */
  inCacheKey(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN.has(key);
  }

  /** Docker's warning for --build-arg values no ARG consumed; '' when there are none. */
  unusedWarning(): string {
    const left = [...this.given.keys()]
      .filter((k) => !this.referenced.has(k) && !BUILTIN.has(k))
      .sort();
    return left.length ? `[Warning] One or more build-args [${left.join(' ')}] were not consumed\n` : '';
  }
}
