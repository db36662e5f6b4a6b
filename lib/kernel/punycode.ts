/**
 * Punycode (RFC 3492) encoding of one label, for turning internationalised host names into their
 * ASCII ("xn--") form inside the kernel, which imports nothing but @noble/*.
 *
 * Only encoding is needed: object references are canonicalized towards ASCII hosts; an "xn--"
 * label that arrives already encoded is kept as written (lower-cased) after a decoding round trip
 * check, so one host has one spelling.
 */

const BASE = 36;
const TMIN = 1;
const TMAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;
const MAX_INT = 0x7fffffff;

function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - TMIN) * TMAX) >> 1) {
    d = Math.floor(d / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - TMIN + 1) * d) / (d + SKEW));
}

function digit(d: number): string {
  // 0..25 -> a..z, 26..35 -> 0..9 (lower case, as the canonical form wants).
  return String.fromCharCode(d < 26 ? d + 97 : d + 22);
}

function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 22; // 0-9
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 97; // a-z
  return BASE;
}

/**
 * Encodes a label (a string of Unicode code points) as Punycode, without the "xn--" prefix.
 * Returns undefined (never throws) on overflow or for a lone surrogate.
 * Example (RFC 3492 §7.1 (A)): Arabic "ليهمابتكلموشعربي؟" -> "egbpdaj6bu4bxfgehfvwxn".
 */
export function punycodeEncode(input: string): string | undefined {
  const cps: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < input.length ? input.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return undefined;
      cps.push(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return undefined;
    else cps.push(c);
  }
  let out = "";
  for (const c of cps) if (c < 0x80) out += String.fromCharCode(c);
  const b = out.length;
  let h = b;
  if (b > 0) out += "-";
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (h < cps.length) {
    let m = MAX_INT;
    for (const c of cps) if (c >= n && c < m) m = c;
    if (m - n > Math.floor((MAX_INT - delta) / (h + 1))) return undefined;
    delta += (m - n) * (h + 1);
    n = m;
    for (const c of cps) {
      if (c < n) {
        delta++;
        if (delta > MAX_INT) return undefined;
      }
      if (c === n) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
          if (q < t) break;
          out += digit(t + ((q - t) % (BASE - t)));
          q = Math.floor((q - t) / (BASE - t));
        }
        out += digit(q);
        bias = adapt(delta, h + 1, h === b);
        delta = 0;
        h++;
      }
    }
    delta++;
    n++;
  }
  return out;
}

/**
 * Decodes a Punycode label (without "xn--") to Unicode. Returns undefined (never throws) for
 * invalid input: a non-ASCII basic code point, a bad digit, overflow, a truncated number, or a
 * code point that is a surrogate or above U+10FFFF.
 */
export function punycodeDecode(input: string): string | undefined {
  const out: number[] = [];
  let basic = input.lastIndexOf("-");
  if (basic < 0) basic = 0;
  for (let j = 0; j < basic; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return undefined;
    out.push(c);
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let index = basic > 0 ? basic + 1 : 0; index < input.length; ) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (index >= input.length) return undefined;
      const d = digitValue(input.charCodeAt(index++));
      if (d >= BASE) return undefined;
      if (d > Math.floor((MAX_INT - i) / w)) return undefined;
      i += d * w;
      const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
      if (d < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) return undefined;
      w *= BASE - t;
    }
    const len = out.length + 1;
    bias = adapt(i - oldi, len, oldi === 0);
    if (Math.floor(i / len) > MAX_INT - n) return undefined;
    n += Math.floor(i / len);
    i %= len;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return undefined;
    out.splice(i, 0, n);
    i++;
  }
  let s = "";
  for (const c of out) s += String.fromCodePoint(c);
  return s;
}
