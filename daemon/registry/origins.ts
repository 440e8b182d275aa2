// Which repositories of which registry are known to hold a blob (from pulls and pushes), so a
// push can mount the blob from one of them instead of uploading it again (Docker's v2metadata).
import { readFileSync } from 'fs';
import { writeJsonAtomic } from '../util/atomic';

const MAX_PER_BLOB = 8;

export class BlobOrigins {
  private data: Record<string, string[]>;

  constructor(private readonly file: string) {
    try {
      this.data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
    } catch {
      this.data = {};
    }
  }

  /** Records that `domain/repo` has the blob. */
  add(digest: string, domain: string, repo: string): void {
    const key = `${domain}/${repo}`;
    const list = (this.data[digest] ?? []).filter((k) => k !== key);
    this.data[digest] = [key, ...list].slice(0, MAX_PER_BLOB);
    writeJsonAtomic(this.file, this.data);
  }

  /** Repositories on `domain` known to hold the blob, most recent first. */
  repos(digest: string, domain: string): string[] {
    return (this.data[digest] ?? []).filter((k) => k.startsWith(`${domain}/`)).map((k) => k.slice(domain.length + 1));
  }
}
