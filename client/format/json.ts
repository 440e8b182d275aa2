// JSON text re-indentation as Go's encoding/json.Indent does it: the daemon's bytes are kept
// as they are (key order, number spelling, escapes such as \u003c); only whitespace changes.
// `docker inspect` prints the raw responses this way with a 4-space indent.

/** Go's json.Indent(dst, src, prefix, indent). Leading whitespace of `src` is dropped, trailing kept. */
export function indentJSON(src: string, prefix = '', indent = '    '): string {
  let out = '';
  let depth = 0;
  let needIndent = false; // an opening bracket was just written
  let i = 0;
  // Skip leading whitespace.
  while (i < src.length && ' \t\r\n'.includes(src[i])) i++;
  const newline = (): string => '\n' + prefix + indent.repeat(depth);
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (depth === 0) out += c; // whitespace after the top-level value is kept
      continue;
    }
    if (c === '"') {
      if (needIndent) {
        depth++;
        out += newline();
        needIndent = false;
      }
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j;
      continue;
    }
    if (needIndent && c !== ']' && c !== '}') {
      depth++;
      out += newline();
      needIndent = false;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        needIndent = true;
        break;
      case ',':
        out += c + newline();
        break;
      case ':':
        out += ': ';
        break;
      case '}':
      case ']':
        if (needIndent) {
          // Empty object or array: stays compact.
          needIndent = false;
        } else {
          depth--;
          out += newline();
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** Go's json.Compact: removes insignificant whitespace. */
export function compactJSON(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j;
    } else if (!' \t\r\n'.includes(c)) {
      out += c;
    }
  }
  return out;
}
