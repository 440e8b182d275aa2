// Networks as the daemon keeps them: the built-ins (bridge, host, none) and user-defined bridges,
// one JSON file each under <data-root>/network, with their address allocations.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'fs';
import { writeJsonAtomic } from '../util/atomic';
import type { IpamState } from './ipam';

export type Builtin = 'bridge' | 'host' | 'none';

export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  /** bridge, host or null (none), as Docker names its drivers. */
  Driver: 'bridge' | 'host' | 'null';
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  IPAMOptions: Record<string, string> | null;
  builtin?: Builtin;
  /** The Linux bridge of a bridge network. */
  bridgeName?: string;
  ipam?: IpamState;
  /** Whether this daemon made the Linux bridge (and so removes it). */
  ownedBridge?: boolean;
}

export class NetworkStore {
  private readonly records = new Map<string, NetworkRecord>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      const r = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as NetworkRecord;
      this.records.set(r.Id, r);
    }
  }

  all(): NetworkRecord[] {
    return [...this.records.values()];
  }

  byName(name: string): NetworkRecord | undefined {
    return this.all().find((r) => r.Name === name);
  }

  builtin(kind: Builtin): NetworkRecord | undefined {
    return this.all().find((r) => r.builtin === kind);
  }

  /** Docker's lookup order: full ID, exact name, then unique ID prefix. */
  find(ref: string): NetworkRecord | 'ambiguous' | undefined {
    const exact = this.records.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    const matches = this.all().filter((r) => r.Id.startsWith(ref));
    if (matches.length > 1) return 'ambiguous';
    return matches[0];
  }

  save(r: NetworkRecord): void {
    this.records.set(r.Id, r);
    writeJsonAtomic(`${this.dir}/${r.Id}.json`, r);
  }

  delete(id: string): void {
    this.records.delete(id);
    rmSync(`${this.dir}/${id}.json`, { force: true });
  }

  exists(id: string): boolean {
    return existsSync(`${this.dir}/${id}.json`);
  }
}
