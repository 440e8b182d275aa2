import { randomBytes } from 'crypto';

/** A 64-hex identifier, as Docker's container and network IDs. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
