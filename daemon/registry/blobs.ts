// Fetching manifests and blobs from a registry, each checked against its digest before use.
import { createHash } from 'crypto';
import { createWriteStream } from 'fs';
import { Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { MANIFEST_ACCEPT } from './manifest';
import type { RegistrySession } from './session';

const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_CONFIG = 8 * 1024 * 1024;

export const sha256Digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readLimited(body: AsyncIterable<Buffer>, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) throw new Error(`${what} is larger than ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string;
  digest: string;
}

/** A manifest by tag or digest; by digest, the bytes must hash to it. */
export async function getManifest(s: RegistrySession, reference: string): Promise<FetchedManifest> {
  const res = await s.request('GET', `/v2/${s.repo}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT } });
  const bytes = await readLimited(res.body, MAX_MANIFEST, 'manifest');
  const digest = sha256Digest(bytes);
  if (reference.startsWith('sha256:') && digest !== reference) throw new Error(`manifest verification failed for digest ${reference}`);
  return { bytes, contentType: String(res.headers['content-type'] ?? ''), digest };
}

/** A small blob (an image config) into memory, verified. */
export async function getBlob(s: RegistrySession, digest: string): Promise<Buffer> {
  const res = await s.request('GET', `/v2/${s.repo}/blobs/${digest}`);
  const bytes = await readLimited(res.body, MAX_CONFIG, `blob ${digest}`);
  if (sha256Digest(bytes) !== digest) throw new Error(`blob verification failed for digest ${digest}`);
  return bytes;
}

/**
 * A layer blob streamed into `path` while its bytes are counted and hashed; a digest or size
 * that does not match the descriptor is refused (the caller removes the file).
 */
export async function downloadBlob(s: RegistrySession, digest: string, size: number, path: string, onBytes: (n: number) => void, signal: AbortSignal): Promise<void> {
  const res = await s.request('GET', `/v2/${s.repo}/blobs/${digest}`);
  const hash = createHash('sha256');
  let n = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
  await pipeline(res.body, count, createWriteStream(path, { flags: 'wx' }), { signal });
  if ((size >= 0 && n !== size) || `sha256:${hash.digest('hex')}` !== digest) throw new Error(`filesystem layer verification failed for digest ${digest}`);
}
