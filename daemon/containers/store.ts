// Container records on disk (one directory each) and in memory, found by ID, name or unique ID prefix.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'fs';
import { writeJsonAtomic } from '../util/atomic';
import type { ContainerRecord } from './record';

export class ContainerStore {
  private readonly records = new Map<string, ContainerRecord>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    for (const id of readdirSync(root)) {
      const file = `${root}/${id}/config.json`;
      if (existsSync(file)) this.records.set(id, JSON.parse(readFileSync(file, 'utf8')) as ContainerRecord);
      // A directory without its record was a create that never finished.
      else rmSync(`${root}/${id}`, { recursive: true, force: true });
    }
  }

  dir(id: string): string {
    return `${this.root}/${id}`;
  }

  all(): ContainerRecord[] {
    return [...this.records.values()];
  }

  byId(id: string): ContainerRecord | undefined {
    return this.records.get(id);
  }

  /** Full ID, then name, then unique ID prefix; 'ambiguous' when several IDs start with it. */
  find(ref: string): ContainerRecord | 'ambiguous' | undefined {
    const exact = this.records.get(ref);
    if (exact) return exact;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    const named = this.all().find((c) => c.Name === name);
    if (named) return named;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = this.all().filter((c) => c.Id.startsWith(ref));
    return matches.length > 1 ? 'ambiguous' : matches[0];
  }

  byName(name: string): ContainerRecord | undefined {
    return this.all().find((c) => c.Name === name);
  }

  save(c: ContainerRecord): void {
    mkdirSync(this.dir(c.Id), { recursive: true });
    writeJsonAtomic(`${this.dir(c.Id)}/config.json`, c);
    this.records.set(c.Id, c);
  }

  delete(id: string): void {
    this.records.delete(id);
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
