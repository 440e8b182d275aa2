// Column alignment as the docker CLI does it: Go's text/tabwriter (elastic tabstops) with
// display widths from go-runewidth. `docker ps`/`docker images` use
// NewWriter(out, minwidth=10, tabwidth=1, padding=3, ' ', 0); `docker version` uses (20, 1, 1).

/** Wide (2-column) code point ranges: East Asian Wide/Fullwidth and emoji presentation. */
const WIDE: Array<[number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x2e80, 0x303e],
  [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff], [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a], [0x1f200, 0x1f251], [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

/** Zero-width code points: combining marks, zero-width joiners and variation selectors. */
const ZERO: Array<[number, number]> = [
  [0x0300, 0x036f], [0x0483, 0x0489], [0x0591, 0x05bd], [0x0610, 0x061a], [0x064b, 0x065f], [0x0670, 0x0670],
  [0x06d6, 0x06dc], [0x0900, 0x0902], [0x093c, 0x093c], [0x0941, 0x0948], [0x094d, 0x094d], [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff], [0x200b, 0x200f], [0x20d0, 0x20ff], [0xfe00, 0xfe0f], [0xfe20, 0xfe2f], [0xe0100, 0xe01ef],
];

function inRanges(cp: number, ranges: Array<[number, number]>): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[mid][0]) hi = mid - 1;
    else if (cp > ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Display width of one code point (go-runewidth, non-East-Asian locale). */
export function runeWidth(cp: number): number {
  if (cp === 0) return 0;
  if (cp < 32 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (inRanges(cp, ZERO)) return 0;
  if (inRanges(cp, WIDE)) return 2;
  return 1;
}

/** Display width of a string. */
export function stringWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0) ?? 0);
  return w;
}

interface Cell {
  size: number; // length in UTF-16 units of the cell text
  width: number; // display width
  htab: boolean; // terminated by a tab
}

/** A port of Go's text/tabwriter (no escapes, no HTML filtering, left alignment). */
export class TabWriter {
  private out = '';
  private buf = '';
  private lines: Cell[][] = [[]];
  private cellSize = 0;
  private widths: number[] = [];

  constructor(
    private readonly minwidth: number,
    private readonly tabwidth: number,
    private readonly padding: number,
    private readonly padchar: string = ' ',
    private readonly alignRight = false,
  ) {}

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\t' || ch === '\v' || ch === '\n' || ch === '\f') {
        this.append(text.slice(start, i));
        start = i + 1;
        const ncells = this.terminateCell(ch === '\t');
        if (ch === '\n' || ch === '\f') {
          this.lines.push([]);
          if (ch === '\f' || ncells === 1) {
            // A line with one cell cannot affect later columns: flush what we have.
            this.flushInternal();
          }
        }
      }
    }
    this.append(text.slice(start));
  }

  /** Formats everything buffered and returns all output produced so far. */
  flush(): string {
    this.flushInternal();
    const s = this.out;
    this.out = '';
    return s;
  }

  private append(s: string): void {
    this.buf += s;
    this.cellSize += s.length;
  }

  private terminateCell(htab: boolean): number {
    const text = this.buf.slice(this.buf.length - this.cellSize);
    const line = this.lines[this.lines.length - 1];
    line.push({ size: this.cellSize, width: stringWidth(text), htab });
    this.cellSize = 0;
    return line.length;
  }

  private flushInternal(): void {
    if (this.cellSize > 0) this.terminateCell(false);
    this.format(0, 0, this.lines.length);
    this.buf = '';
    this.cellSize = 0;
    this.lines = [[]];
    this.widths = [];
  }

  private writePadding(textw: number, cellw: number): void {
    if (this.padchar === '\t') {
      if (this.tabwidth === 0) return;
      cellw = Math.ceil(cellw / this.tabwidth) * this.tabwidth;
      const n = cellw - textw;
      this.out += '\t'.repeat(Math.ceil(n / this.tabwidth));
      return;
    }
    this.out += this.padchar.repeat(Math.max(0, cellw - textw));
  }

  private writeLines(pos0: number, line0: number, line1: number): number {
    let pos = pos0;
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i];
      line.forEach((c, j) => {
        if (c.size === 0) {
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j]);
        } else if (!this.alignRight) {
          this.out += this.buf.slice(pos, pos + c.size);
          pos += c.size;
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j]);
        } else {
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j]);
          this.out += this.buf.slice(pos, pos + c.size);
          pos += c.size;
        }
      });
      if (i + 1 === this.lines.length) {
        // Last buffered line has no newline: write the incomplete cell, if any.
        this.out += this.buf.slice(pos, pos + this.cellSize);
        pos += this.cellSize;
      } else {
        this.out += '\n';
      }
    }
    return pos;
  }

  private format(pos0: number, line0: number, line1: number): number {
    let pos = pos0;
    const column = this.widths.length;
    for (let t = line0; t < line1; t++) {
      let line = this.lines[t];
      if (column >= line.length - 1) continue;
      // A cell exists in this column: print lines before the block, then size the block.
      pos = this.writeLines(pos, line0, t);
      line0 = t;
      let width = this.minwidth;
      let discardable = true;
      for (; t < line1; t++) {
        line = this.lines[t];
        if (column >= line.length - 1) break;
        const c = line[column];
        const w = c.width + this.padding;
        if (w > width) width = w;
        if (c.width > 0 || c.htab) discardable = false;
      }
      void discardable; // DiscardEmptyColumns is never set by the docker CLI.
      this.widths.push(width);
      pos = this.format(pos, line0, t);
      this.widths.pop();
      line0 = t;
    }
    return this.writeLines(pos, line0, line1);
  }
}

/** Aligns tab-separated text the way the docker CLI's list commands do. */
export function tabulate(text: string, minwidth = 10, tabwidth = 1, padding = 3): string {
  const w = new TabWriter(minwidth, tabwidth, padding, ' ');
  w.write(text);
  return w.flush();
}

/**
 * The docker CLI's Ellipsis: cut `s` to `maxWidth` display columns, ending in "…" when cut.
 * `docker ps` uses 20 for COMMAND.
 */
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const runes = Array.from(s);
  if (maxWidth === 1) return runes[0] ?? '';
  const byteLen = Buffer.byteLength(s, 'utf8');
  if (byteLen === runes.length) {
    if (byteLen <= maxWidth) return s;
    return runes.slice(0, maxWidth - 1).join('') + '…';
  }
  const display: number[] = [];
  let total = 0;
  for (const r of runes) {
    const cp = r.codePointAt(0) ?? 0;
    total += inRanges(cp, WIDE) ? 2 : 1;
    display.push(total);
  }
  if (total <= maxWidth) return s;
  for (let i = 0; i < display.length - 1; i++) {
    if (display[i] <= maxWidth - 1 && display[i + 1] > maxWidth - 1) return runes.slice(0, i + 1).join('') + '…';
  }
  return s;
}
