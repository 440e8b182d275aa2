// The v1 search API of a registry index (Docker Hub's index.docker.io).
import { request } from 'undici';
import { transportError } from './session';

export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

export async function searchIndex(base: string, term: string, limit: number): Promise<SearchResult[]> {
  const url = `${base}/v1/search?q=${encodeURIComponent(term)}&n=${limit}`;
  let res;
  try {
    res = await request(url, { headers: { 'user-agent': 'berth/0.1.0' }, headersTimeout: 15_000, bodyTimeout: 15_000, signal: AbortSignal.timeout(20_000) });
  } catch (e) {
    throw transportError('GET', url, e);
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`Unexpected status code ${res.statusCode}`);
  const body = JSON.parse(text) as { results?: Array<Partial<SearchResult>> };
  return (body.results ?? []).map((r) => ({
    star_count: r.star_count ?? 0,
    is_official: r.is_official ?? false,
    name: r.name ?? '',
    is_automated: r.is_automated ?? false,
    description: r.description ?? '',
  }));
}
