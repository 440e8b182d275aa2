// ADD <url>: the file downloaded into a scratch directory, named as Docker names it (the URL's
// last path segment), with a clear error when there is no network or the server refuses.
import { createWriteStream } from 'fs';
import { Readable } from 'stream';
import type { ReadableStream } from 'stream/web';
import { pipeline } from 'stream/promises';
import { badRequest } from '../server/errors';

/** Downloads `url` into `dir`; returns the file's name there. */
export async function download(url: string, dir: string, destIsDir: boolean): Promise<string> {
  const segment = new URL(url).pathname.split('/').filter(Boolean).pop() ?? '';
  if (!segment && destIsDir) throw badRequest(`ADD failed: cannot determine filename for source ${url}`);
  const name = segment || '__unnamed__';
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause;
    throw badRequest(`ADD failed: Get ${JSON.stringify(url)}: ${cause?.message ?? (e as Error).message}`);
  }
  if (res.status >= 400 || !res.body) throw badRequest(`ADD failed: failed to GET ${url} with status ${res.status} ${res.statusText}`);
  await pipeline(Readable.fromWeb(res.body as ReadableStream), createWriteStream(`${dir}/${name}`, { mode: 0o600 }));
  return name;
}
