// jsonmessage streams drawn on a terminal as the docker CLI draws them: one line per layer ID,
// rewritten in place (cursor up, clear line, cursor down) as its progress changes.
import { StreamError, type JSONMessage } from './stream';

const ESC = '\x1b';

export class TerminalProgress {
  private ids = new Map<string, number>();

  /** The bytes to write for one message; throws for an error message. */
  render(jm: JSONMessage): string {
    if (jm.errorDetail || jm.error) throw new StreamError(jm.errorDetail?.message || jm.error || 'unknown error');
    if (jm.aux !== undefined) return '';
    let out = '';
    let diff = 0;
    const tracked = Boolean(jm.id) && (jm.progressDetail !== undefined || jm.progress !== undefined);
    if (tracked) {
      const id = jm.id as string;
      let line = this.ids.get(id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(id, line);
        out += '\n';
      }
      diff = this.ids.size - line;
      out += `${ESC}[${diff}A`;
    } else {
      this.ids = new Map();
    }
    out += `${ESC}[2K\r`;
    if (jm.id) out += `${jm.id}: `;
    if (jm.progress) out += `${jm.status ?? ''} ${jm.progress}\r`;
    else if (jm.stream) out += jm.stream;
    else out += `${jm.status ?? ''}${tracked ? '\r' : '\n'}`;
    if (tracked) out += `${ESC}[${diff}B`;
    return out;
  }
}
