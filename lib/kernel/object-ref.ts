/**
 * Object references: actions on open-ended objects (files, URLs, mail recipients, tables,
 * buckets, channels) named by an absolute path or a URI, mapped into the one path space that
 * registered resources' scopes live in (design §13, issue 10).
 *
 * A reference is a string that starts with "/", or with a scheme followed by ":/"
 * (`^[A-Za-z][A-Za-z0-9+.-]*:/`), or with "mailto:" (see isObjectReference for why not every
 * "scheme:"). Registration refuses resource ids of that shape, so a string is never both.
 *
 * Canonical forms (the "path space"):
 *   /data/alice/2026/q3.csv                    -> /data/alice/2026/q3.csv          (as written)
 *   file:///data/alice/q3.csv, file:/data/...  -> /data/alice/q3.csv               (a file is its path)
 *   https://API.GitHub.com:443/repos/acme      -> /https/api.github.com/repos/acme
 *   http://example.com:8080/a                  -> /http/example.com:8080/a
 *   mailto:Bob@Example.com                     -> /mailto/example.com/bob
 *   postgres://db.internal/sales/public/orders -> /postgres/db.internal/sales/public/orders
 *   s3://Bucket-1/reports/q3.csv               -> /s3/bucket-1/reports/q3.csv
 *   slack://acme/channels/C0123                -> /slack/acme/channels/C0123
 * (the full list is REFERENCE_SCHEMES; adding a scheme is adding one row).
 *
 * Case rules: the scheme and every host are lower-cased (DNS names are case-insensitive); paths,
 * keys, table and channel names are case-sensitive and kept as written; the local part of a mail
 * address is lower-cased (RFC 5321 allows case-sensitive local parts, but no mail system in use
 * treats Bob@ and bob@ as different people, and a grant to one must cover the other — or,
 * the other way round, a block on one must not be dodged by the other).
 *
 * Hosts: an internationalised label is lower-cased (Unicode toLowerCase), must be NFC, and is
 * written as "xn--" + Punycode (RFC 3492, ./punycode.ts); an "xn--" label must decode. A trailing
 * dot, empty labels, labels over 63 characters, IDNA label separators other than "." (U+3002,
 * U+FF0E, U+FF61), IPv6 literals and every numeric host that is not a canonical dotted quad
 * ("0x7f.1", "127.1", "017.0.0.1") are refused, because resolvers read those in more than one way.
 * The default port of a scheme is dropped; another port stays as "host:port" in the host segment.
 *
 * Percent-escapes (URIs only): the path space is decoded text, as the scopes it is matched
 * against are (a scope "/data/my docs" is registered as plain text). Escapes of unreserved
 * characters — ASCII letters, digits, "-._~", and (RFC 3987's iunreserved) non-ASCII characters
 * as valid UTF-8 — are decoded; an escape of any other ASCII character (":", " ", "?", ...) is
 * decoded too, since once a URI is mapped into the path space it names the same segment text and
 * cannot cross a segment boundary, so decoding cannot move an object to another scope. What an
 * escape could do harm with is refused instead of decoded: "%2F" and "%5C" (an encoded
 * separator), "%25" (an encoded "%": a consumer that decodes once more would see a new escape,
 * the classic double-decoding trick), encoded control characters, and bytes that are not UTF-8.
 * In a plain path a "%" is refused outright: a plain path is literal, and a consumer might decode it.
 *
 * Always refused: "." and ".." segments (also percent-encoded, in any case), segments of dots
 * only ("..." is ".." on some platforms), segments that look like a separator or a dot segment
 * under NFKC (fullwidth "．．", "／", "＼"), empty segments ("//"), backslashes, NUL and control
 * characters, direction-changing and zero-width characters, lone surrogates, text not in NFC,
 * userinfo ("user@host", also "host@evil"), query strings and fragments (no scheme maps them
 * today: a query can select a different object, so dropping it would widen the reference, and
 * keeping it would need a canonical order of parameters), a relative reference, a `file:` URI
 * with a host other than "localhost", and a mailto with more than one address (a tool map
 * expands a list into one reference each). One trailing "/" is allowed and dropped: "/a/b/"
 * names the object "/a/b" (the directory and the name of the directory are one object here).
 *
 * The decision does not use the WHATWG URL class: its repairs (backslash to slash, dot-segment
 * removal, IPv4 number parsing, percent-decoding rules that differ per component) are exactly what
 * must be refused rather than performed. Everything here is parsed by hand over char codes.
 */
import { punycodeDecode, punycodeEncode } from "./punycode";
import { MAX_SCOPE_LENGTH } from "./scope";

/** Longest reference accepted as written (UTF-16 code units). The canonical form must also fit a scope. */
export const MAX_REFERENCE_LENGTH = 2048;

export type ReferenceKind = "path" | "uri";

export type CanonicalReference =
  | { readonly ok: true; readonly kind: ReferenceKind; readonly written: string; readonly canonical: string }
  | { readonly ok: false; readonly reason: string };

/** How one scheme maps into the path space. */
export interface SchemeRule {
  /** "file": the path itself; "authority": //host[:port]/path; "mailto": one address. */
  readonly form: "file" | "authority" | "mailto";
  /** First segment of the canonical path (an alias maps to its scheme's prefix). */
  readonly prefix: string;
  /** Dropped from the canonical form when written. */
  readonly defaultPort?: number;
  /** "dns": a host name (IDN, IPv4 rules); "name": a lower-case ASCII name (bucket, workspace). */
  readonly host?: "dns" | "name";
}

function table(rows: Record<string, SchemeRule>): Readonly<Record<string, SchemeRule>> {
  const t = Object.create(null) as Record<string, SchemeRule>;
  for (const [k, v] of Object.entries(rows)) t[k] = Object.freeze(v);
  return Object.freeze(t);
}

/** The schemes an object reference may use (null-prototype, frozen). Extend by adding a row. */
export const REFERENCE_SCHEMES: Readonly<Record<string, SchemeRule>> = table({
  file: { form: "file", prefix: "" },
  http: { form: "authority", prefix: "http", defaultPort: 80, host: "dns" },
  https: { form: "authority", prefix: "https", defaultPort: 443, host: "dns" },
  mailto: { form: "mailto", prefix: "mailto" },
  postgres: { form: "authority", prefix: "postgres", defaultPort: 5432, host: "dns" },
  postgresql: { form: "authority", prefix: "postgres", defaultPort: 5432, host: "dns" },
  mysql: { form: "authority", prefix: "mysql", defaultPort: 3306, host: "dns" },
  s3: { form: "authority", prefix: "s3", host: "name" },
  gs: { form: "authority", prefix: "gs", host: "name" },
  slack: { form: "authority", prefix: "slack", host: "name" },
});

/**
 * True iff `s` is a string shaped like an object reference: it starts with "/"; or with a URI
 * scheme, ":" and "/" ("https://...", "file:/...", "s3://...", also an unknown "foo:/x", which
 * canonicalizeReference then refuses); or with the scheme of an opaque form ("mailto:").
 * Says nothing about whether it canonicalizes. Never throws.
 *
 * Why not every "scheme:" prefix: the original kernel's wire format names resources "rtype:name"
 * ("file:report", "dataset:sales"); those ids stay ids. Registration (buildSnapshot) refuses
 * every id for which this returns true, so a string is never both an id and a reference.
 */
export function isObjectReference(s: unknown): s is string {
  if (typeof s !== "string" || s.length === 0) return false;
  const c0 = s.charCodeAt(0);
  if (c0 === SLASH) return true;
  if (!isAlpha(c0)) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === COLON) {
      if (i + 1 < s.length && s.charCodeAt(i + 1) === SLASH) return true;
      const scheme = s.slice(0, i).toLowerCase();
      return Object.hasOwn(REFERENCE_SCHEMES, scheme) && (REFERENCE_SCHEMES[scheme] as SchemeRule).form === "mailto";
    }
    if (!(isAlpha(c) || isDigit(c) || c === 43 || c === 45 || c === 46)) return false;
  }
  return false;
}

const SLASH = 47;
const BACKSLASH = 92;
const COLON = 58;
const PERCENT = 37;
const DOT = 46;

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;
const NFKC_SEPARATOR = /[/\\]/;
const DOTS_ONLY = /^\.+$/;

class Refusal {
  constructor(readonly reason: string) {}
}
function refuse(reason: string): never {
  throw new Refusal(reason);
}

/**
 * Canonicalizes an object reference into the path space (see the module comment for the forms
 * and rules). Total: never throws; returns `{ ok: false, reason }` for a non-string, a string
 * that is not a reference, an unknown scheme, and every ambiguity listed above, and finally for
 * a canonical form that validateScope refuses.
 */
export function canonicalizeReference(text: unknown): CanonicalReference {
  try {
    if (typeof text !== "string") return { ok: false, reason: "a reference must be a string" };
    if (text.length === 0) return { ok: false, reason: "a reference must not be empty" };
    if (text.length > MAX_REFERENCE_LENGTH) return { ok: false, reason: `reference is longer than ${MAX_REFERENCE_LENGTH} characters` };
    if (!isObjectReference(text)) return { ok: false, reason: 'not an object reference (a path starting with "/" or a URI such as https://..., file:/..., mailto:...)' };
    checkText(text);
    let canonical: string;
    let kind: ReferenceKind;
    if (text.charCodeAt(0) === SLASH) {
      kind = "path";
      canonical = canonicalPath(text, false);
    } else {
      kind = "uri";
      canonical = canonicalUri(text);
    }
    if (canonical.length > MAX_SCOPE_LENGTH) return { ok: false, reason: `canonical path is longer than ${MAX_SCOPE_LENGTH} characters` };
    // Every rule of validateScope holds by construction (leading "/", no empty, dot or trailing
    // segment, no control or invisible character, NFC, no lone surrogate); the vectors and the
    // property tests check validateScope(canonical) on every accepted reference. Calling it here
    // would double the cost of a reference (it normalises every string to NFC).
    return { ok: true, kind, written: text, canonical };
  } catch (e) {
    return { ok: false, reason: e instanceof Refusal ? e.reason : "reference could not be canonicalized" };
  }
}

/** Whole-text checks: control characters, backslash, lone surrogates; NFC and invisibles when not ASCII. */
function checkText(s: string): void {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) refuse("reference contains a control character");
    if (c === BACKSLASH) refuse("reference contains a backslash");
    if (c >= 0x80) {
      ascii = false;
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) i++;
        else refuse("reference contains a lone surrogate");
      }
    }
  }
  if (!ascii) {
    if (INVISIBLE.test(s)) refuse("reference contains an invisible or direction-changing character");
    if (s.normalize("NFC") !== s) refuse("reference is not in Unicode NFC form");
  }
}

/**
 * The canonical form of an absolute path (plain, or the path part of a URI when `decode`).
 * One trailing "/" is dropped; "/" alone stays "/".
 */
function canonicalPath(p: string, decode: boolean): string {
  if (p.length === 0 || p === "/") return p;
  if (p.charCodeAt(0) !== SLASH) refuse("path must start with /");
  const end = p.charCodeAt(p.length - 1) === SLASH ? p.length - 1 : p.length;
  if (asciiWithoutEscapes(p, end)) return plainAsciiPath(p, end);
  let out = "";
  let start = 1;
  while (start <= end) {
    let stop = p.indexOf("/", start);
    if (stop < 0 || stop > end) stop = end;
    if (stop === start) refuse('reference contains an empty segment ("//")');
    out += "/" + canonicalSegment(p, start, stop, decode);
    start = stop + 1;
  }
  return out;
}

/** True iff p[0, end) holds only printable ASCII and no "%" (checkText already refused controls). */
function asciiWithoutEscapes(p: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = p.charCodeAt(i);
    if (c >= 0x80 || c === PERCENT) return false;
  }
  return true;
}

/**
 * The fast path of canonicalPath for printable ASCII without escapes, the common case: the
 * canonical form is the text itself without its trailing "/", so nothing is rebuilt; the same
 * refusals as canonicalSegment (empty and dot-only segments) apply. NFKC cannot change ASCII.
 */
function plainAsciiPath(p: string, end: number): string {
  let start = 1;
  while (start <= end) {
    let stop = p.indexOf("/", start);
    if (stop < 0 || stop > end) stop = end;
    if (stop === start) refuse('reference contains an empty segment ("//")');
    if (p.charCodeAt(start) === DOT) {
      let i = start + 1;
      while (i < stop && p.charCodeAt(i) === DOT) i++;
      if (i === stop) refuse(`reference contains a dot segment (${JSON.stringify(p.slice(start, stop))})`);
    }
    start = stop + 1;
  }
  return end === p.length ? p : p.slice(0, end);
}

function canonicalSegment(p: string, from: number, to: number, decode: boolean): string {
  let seg: string;
  let ascii = true;
  let hasEscape = false;
  for (let i = from; i < to; i++) {
    const c = p.charCodeAt(i);
    if (c === PERCENT) hasEscape = true;
    else if (c >= 0x80) ascii = false;
  }
  if (hasEscape) {
    if (!decode) refuse('a plain path must not contain "%" (write percent-escapes in a file: URI)');
    seg = percentDecode(p, from, to);
    for (let i = 0; i < seg.length && ascii; i++) if (seg.charCodeAt(i) >= 0x80) ascii = false;
  } else seg = p.slice(from, to);
  if (DOTS_ONLY.test(seg)) refuse(`reference contains a dot segment (${JSON.stringify(seg)})`);
  if (!ascii) {
    if (hasEscape) {
      if (INVISIBLE.test(seg)) refuse("reference contains an invisible or direction-changing character");
      if (seg.normalize("NFC") !== seg) refuse("reference is not in Unicode NFC form (after decoding)");
    }
    const k = seg.normalize("NFKC");
    if (NFKC_SEPARATOR.test(k)) refuse("reference contains a character that is a separator under NFKC");
    if (DOTS_ONLY.test(k)) refuse("reference contains a segment that is a dot segment under NFKC");
  }
  return seg;
}

/**
 * Decodes every escape of p[from, to) (strict UTF-8), refusing "%" without two hex digits,
 * encoded "/", "\" and "%", encoded control characters and invalid UTF-8.
 */
function percentDecode(p: string, from: number, to: number): string {
  let out = "";
  let i = from;
  while (i < to) {
    const c = p.charCodeAt(i);
    if (c !== PERCENT) {
      out += p[i];
      i++;
      continue;
    }
    const b = escapeAt(p, i, to);
    i += 3;
    if (b < 0x80) {
      if (b === SLASH || b === BACKSLASH) refuse("reference contains an encoded separator (%2F or %5C)");
      if (b === PERCENT) refuse('reference contains an encoded "%" (%25), which could be decoded twice');
      if (b < 0x20 || b === 0x7f) refuse("reference contains an encoded control character");
      out += String.fromCharCode(b);
      continue;
    }
    // A multi-byte UTF-8 sequence, every byte escaped.
    let need: number;
    let cp: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, cp, min] = [1, b & 0x1f, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, cp, min] = [2, b & 0x0f, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, cp, min] = [3, b & 0x07, 0x10000];
    else refuse("reference contains percent-escapes that are not UTF-8");
    for (let k = 0; k < need; k++) {
      if (i >= to || p.charCodeAt(i) !== PERCENT) refuse("reference contains percent-escapes that are not UTF-8");
      const cb = escapeAt(p, i, to);
      if ((cb & 0xc0) !== 0x80) refuse("reference contains percent-escapes that are not UTF-8");
      cp = (cp << 6) | (cb & 0x3f);
      i += 3;
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) refuse("reference contains percent-escapes that are not UTF-8");
    if (cp >= 0x80 && cp <= 0x9f) refuse("reference contains an encoded control character");
    out += String.fromCodePoint(cp);
  }
  return out;
}

function escapeAt(p: string, i: number, to: number): number {
  const h = i + 1 < to ? hexValue(p.charCodeAt(i + 1)) : -1;
  const l = i + 2 < to ? hexValue(p.charCodeAt(i + 2)) : -1;
  if (h < 0 || l < 0) refuse('reference contains a "%" that is not followed by two hex digits');
  return h * 16 + l;
}

function canonicalUri(text: string): string {
  const colon = text.indexOf(":");
  const scheme = text.slice(0, colon).toLowerCase();
  if (!Object.hasOwn(REFERENCE_SCHEMES, scheme)) refuse(`unknown scheme ${JSON.stringify(scheme.slice(0, 32))}`);
  const rule = REFERENCE_SCHEMES[scheme] as SchemeRule;
  const rest = text.slice(colon + 1);
  if (rest.includes("#")) refuse("reference contains a fragment (#), which no scheme maps");
  if (rest.includes("?")) refuse("reference contains a query string (?), which no scheme maps");
  switch (rule.form) {
    case "file":
      return fileUri(rest);
    case "mailto":
      return mailtoUri(rest);
    case "authority":
      return authorityUri(rest, rule);
    default: {
      const unreachable: never = rule.form;
      return unreachable;
    }
  }
}

function fileUri(rest: string): string {
  let path = rest;
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const host = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    if (host !== "" && host.toLowerCase() !== "localhost") refuse("a file: URI must not name a host other than localhost");
    path = slash < 0 ? "" : rest.slice(slash);
  }
  if (path.length === 0 || path.charCodeAt(0) !== SLASH) refuse("a file: URI must hold an absolute path");
  return canonicalPath(path, true);
}

function mailtoUri(rest: string): string {
  if (rest.length === 0) refuse("a mailto: URI must hold an address");
  if (rest.startsWith("//")) refuse("a mailto: URI has no authority");
  if (rest.includes(",")) refuse("a mailto: URI must hold one address (map a list to one reference per address)");
  const addr = rest.includes("%") ? percentDecode(rest, 0, rest.length) : rest;
  // checkText saw the address as written; what decoding produced needs the same checks.
  if (addr !== rest) {
    if (INVISIBLE.test(addr)) refuse("reference contains an invisible or direction-changing character");
    if (addr.normalize("NFC") !== addr) refuse("reference is not in Unicode NFC form (after decoding)");
  }
  const at = addr.lastIndexOf("@");
  if (at <= 0 || addr.indexOf("@") !== at) refuse("a mailto: address must hold exactly one @ and a local part");
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (local.length > 64) refuse("a mail local part is longer than 64 characters");
  for (let i = 0; i < local.length; i++) {
    const c = local.charCodeAt(i);
    if (c < 0x80 && !LOCAL_ASCII.has(c)) refuse(`a mail local part must not contain ${JSON.stringify(local[i])}`);
  }
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) refuse("a mail local part must not start or end with a dot or hold two in a row");
  const lower = local.toLowerCase();
  if (lower.normalize("NFC") !== lower) refuse("a mail local part is not in NFC once lower-cased");
  const host = dnsHost(domain);
  return "/mailto/" + host + canonicalPath("/" + lower, false);
}

// RFC 5322 atext without "/", "%", "?" and "#" (separators and escapes of the path space), plus ".".
const LOCAL_ASCII: ReadonlySet<number> = new Set(
  [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$&'*+=^_`{|}~.-"].map((ch) => ch.charCodeAt(0)),
);

function authorityUri(rest: string, rule: SchemeRule): string {
  if (!rest.startsWith("//")) refuse("this scheme needs an authority (scheme://host/...)");
  let slash = rest.indexOf("/", 2);
  if (slash < 0) slash = rest.length;
  const authority = rest.slice(2, slash);
  if (authority.includes("@")) refuse("a reference must not carry userinfo (user@host)");
  if (authority.includes("%")) refuse("a host must not contain percent-escapes");
  if (authority.startsWith("[")) refuse("IP-literal hosts ([...]) are not supported in references");
  let host = authority;
  let portText: string | undefined;
  const colon = authority.lastIndexOf(":");
  if (colon >= 0) {
    host = authority.slice(0, colon);
    portText = authority.slice(colon + 1);
  }
  let canonicalHost = rule.host === "name" ? nameHost(host) : dnsHost(host);
  if (portText !== undefined) {
    if (!/^[1-9][0-9]{0,4}$/.test(portText) || Number(portText) > 65535) refuse("a port must be a number from 1 to 65535 without leading zeros");
    if (Number(portText) !== rule.defaultPort) canonicalHost += ":" + portText;
  }
  const path = rest.slice(slash);
  return "/" + rule.prefix + "/" + canonicalHost + (path === "/" ? "" : canonicalPath(path, true));
}

/** A bucket, workspace or similar name: lower-cased ASCII letters, digits, ".", "_", "-". */
function nameHost(h: string): string {
  if (h.length === 0) refuse("a reference must name a host");
  const l = h.toLowerCase();
  if (!/^[a-z0-9._-]{1,255}$/.test(l)) refuse("a name must be ASCII letters, digits, '.', '_' or '-'");
  if (DOTS_ONLY.test(l)) refuse("a name must not be dots only");
  return l;
}

const IDNA_SEPARATORS = /[\u3002\uFF0E\uFF61]/;
const LDH = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** A DNS host: lower case, IDN labels as xn--punycode, numeric hosts only as canonical dotted quads. */
function dnsHost(h: string): string {
  if (h.length === 0) refuse("a reference must name a host");
  if (IDNA_SEPARATORS.test(h)) refuse("a host contains an IDNA label separator other than '.'");
  if (h.endsWith(".")) refuse("a host must not end with a dot");
  const labels = h.split(".");
  const out: string[] = [];
  for (const label of labels) {
    if (label.length === 0) refuse("a host contains an empty label");
    let a: string;
    if (/^[\x00-\x7f]*$/.test(label)) {
      a = label.toLowerCase();
      if (a.startsWith("xn--")) {
        const u = punycodeDecode(a.slice(4));
        if (u === undefined || u.length === 0 || /^[\x00-\x7f]*$/.test(u)) refuse("a host contains an invalid xn-- label");
        if (u.toLowerCase().normalize("NFC") !== u || punycodeEncode(u) !== a.slice(4)) refuse("a host contains an xn-- label that is not canonical");
        // The same host written in Unicode would be refused for these: refuse its xn-- spelling too.
        if (/[\u0000-\u001F\u007F-\u009F]/.test(u) || INVISIBLE.test(u)) refuse("a host contains an xn-- label that decodes to a control or invisible character");
        if (NFKC_SEPARATOR.test(u.normalize("NFKC")) || u.normalize("NFKC").includes(".")) refuse("a host label holds a separator under NFKC");
      }
    } else {
      const u = label.toLowerCase();
      if (u.normalize("NFC") !== u) refuse("a host label is not in NFC once lower-cased");
      if (NFKC_SEPARATOR.test(u.normalize("NFKC")) || u.normalize("NFKC").includes(".")) refuse("a host label holds a separator under NFKC");
      const enc = punycodeEncode(u);
      if (enc === undefined) refuse("a host label cannot be encoded as punycode");
      a = "xn--" + enc;
    }
    if (!LDH.test(a)) refuse("a host label must be letters, digits and inner hyphens, at most 63 characters");
    out.push(a);
  }
  const host = out.join(".");
  if (host.length > 253) refuse("a host is longer than 253 characters");
  if (NUMERIC_LABEL.test(out[out.length - 1] as string) && !DOTTED_QUAD.test(host)) {
    refuse("a numeric host must be a dotted quad without leading zeros");
  }
  return host;
}
