// Sizes as the docker CLI prints and parses them (go-units semantics), including Go's `%.Ng`
// float formatting, which rounds the exact binary value half-to-even and switches to
// exponent form when the exponent reaches the precision (999.9 kB at precision 3 is "1e+03kB").

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Exact decimal digits of a finite positive double: value = 0.d1d2d3... × 10^dp. */
function exactDecimal(x: number): { digits: string; dp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biasedExp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biasedExp === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = biasedExp - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed === '' ? '0' : trimmed, dp };
}

/** Go's strconv rounding of a decimal to `nd` digits: half-to-even only on an exact tie. */
function roundDigits(digits: string, dp: number, nd: number): { digits: string; dp: number } {
  if (nd < 0 || nd >= digits.length) return { digits, dp };
  let up: boolean;
  if (digits[nd] === '5' && nd + 1 === digits.length) {
    up = nd > 0 && (digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = digits[nd] >= '5';
  }
  if (!up) {
    const d = digits.slice(0, nd).replace(/0+$/, '');
    return d === '' ? { digits: '0', dp: 0 } : { digits: d, dp };
  }
  const arr = digits.slice(0, nd).split('');
  let i = nd - 1;
  while (i >= 0 && arr[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: dp + 1 };
  arr[i] = String.fromCharCode(arr[i].charCodeAt(0) + 1);
  return { digits: arr.slice(0, i + 1).join(''), dp };
}

function fmtE(digits: string, dp: number, decimals: number): string {
  let s = digits[0];
  if (decimals > 0) {
    s += '.';
    for (let i = 1; i <= decimals; i++) s += i < digits.length ? digits[i] : '0';
  }
  const e = digits === '0' ? 0 : dp - 1;
  const abs = Math.abs(e);
  return `${s}e${e < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(digits: string, dp: number, decimals: number): string {
  let s = '';
  if (dp > 0) {
    for (let i = 0; i < dp; i++) s += i < digits.length ? digits[i] : '0';
  } else {
    s = '0';
  }
  if (decimals > 0) {
    s += '.';
    for (let i = 1; i <= decimals; i++) {
      const j = dp + i - 1;
      s += j >= 0 && j < digits.length ? digits[j] : '0';
    }
  }
  return s;
}

/** Go's `fmt.Sprintf("%.<prec>g", x)`. */
export function formatG(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : '';
  x = Math.abs(x);
  if (prec === 0) prec = 1;
  if (x === 0) return sign + '0';
  const exact = exactDecimal(x);
  const { digits, dp } = roundDigits(exact.digits, exact.dp, prec);
  const nd = digits.length;
  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    const p = prec > nd ? nd : prec;
    return sign + fmtE(digits, dp, p - 1);
  }
  const p = prec > dp ? nd : prec;
  return sign + fmtF(digits, dp, Math.max(p - dp, 0));
}

function sizeAndUnit(size: number, base: number, abbrs: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size = size / base;
    i++;
  }
  return [size, abbrs[i]];
}

/** go-units HumanSizeWithPrecision: decimal units, `precision` significant digits ("4.26MB"). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [n, unit] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return formatG(n, precision) + unit;
}

/** go-units HumanSize: 4 significant digits. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units, 4 significant digits ("15.51GiB"). */
export function bytesSize(size: number): string {
  const [n, unit] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return formatG(n, 4) + unit;
}

const BINARY_MULT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const DECIMAL_MULT: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

function parseSize(sizeStr: string, mult: Record<string, number>): number {
  let sep = -1;
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(sizeStr[i])) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${sizeStr}'`);
  let num: string;
  let sfx: string;
  if (sizeStr[sep] !== ' ') {
    num = sizeStr.slice(0, sep + 1);
    sfx = sizeStr.slice(sep + 1);
  } else {
    num = sizeStr.slice(0, sep);
    sfx = sizeStr.slice(sep + 1);
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  let size = parseFloat(num);
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = (): Error => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  const lower = sfx.toLowerCase();
  if (lower[0] === 'b') {
    if (lower.length > 1) throw bad();
    return Math.trunc(size);
  }
  const m = mult[lower[0]];
  if (m === undefined) throw bad();
  size *= m;
  if (lower.length === 2 && lower[1] !== 'b') throw bad();
  if (lower.length === 3 && lower.slice(1) !== 'ib') throw bad();
  return Math.trunc(size);
}

/** go-units RAMInBytes: "512m" → 536870912 (binary multiples, case-insensitive, optional b/ib). */
export function ramInBytes(s: string): number {
  return parseSize(s, BINARY_MULT);
}

/** go-units FromHumanSize: decimal multiples. */
export function fromHumanSize(s: string): number {
  return parseSize(s, DECIMAL_MULT);
}
