/**
 * One JSON reading (issue 9 item 3). `JSON.parse` keeps the last of two members with the same name,
 * so `{"deceives":true,"deceives":false}` is read as `false` by the kernel and possibly as `true` by
 * a proxy, a log shipper or a WAF in front of it: two components would decide about two different
 * requests. Every JSON the product reads from outside goes through `parseJsonStrict`, which refuses
 * duplicate member names at any depth.
 *
 * Grammar: RFC 8259 exactly. Refused: trailing commas, comments, single quotes, `NaN`/`Infinity`
 * literals, leading zeros (`01`), `+1`, `.5`, `1.`, a byte-order mark, raw control characters in
 * strings, unknown escapes, and anything after the top-level value except JSON whitespace
 * (space, tab, LF, CR). Choices where RFC 8259 leaves room (§4, §8.2, §9):
 * - duplicate member names are an error, compared after unescaping (`"a"` and `"\u0061"` are one
 *   name);
 * - a string with a lone surrogate (escaped `"\ud800"` or raw) is an error: it is not Unicode text,
 *   and the kernel's canonical JSON (RFC 8785) refuses it too, so such a value could never be
 *   signed or audited;
 * - nesting is limited (`maxDepth`, default 64 containers); deeper input is refused with a reason,
 *   never a stack overflow;
 * - numbers are converted exactly as JSON.parse does (IEEE-754 nearest; `1e400` is Infinity, `-0`
 *   is -0): the schemas after the parser decide what a number may be.
 *
 * Objects are ordinary objects (prototype Object.prototype, so zod and `readPlainObject` accept
 * them) and keep JSON.parse's key order. A member named `__proto__` becomes an own, enumerable data
 * property (defined, not assigned), so it never touches a prototype, exactly as with JSON.parse.
 */

/** Why a text was refused. `DUPLICATE_MEMBER` is the only refusal of otherwise valid JSON. */
/**
 * INVALID_JSON: not RFC 8259 JSON. The others are JSON that `JSON.parse` would read but this
 * parser refuses: DUPLICATE_MEMBER (a member name twice in one object), NOT_UNICODE (a string
 * with a lone surrogate), TOO_DEEP (nesting beyond maxDepth); TOO_LONG: beyond maxLength.
 */
export type StrictJsonErrorCode = "INVALID_JSON" | "DUPLICATE_MEMBER" | "NOT_UNICODE" | "TOO_DEEP" | "TOO_LONG";

export type StrictJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: StrictJsonErrorCode;
      /** What is wrong, for humans (includes the character offset for syntax errors). */
      readonly reason: string;
      /** Where: a JSONPath-like location such as `$.action.deceives` or `$.actions[2]["a b"]`. */
      readonly path: string;
    };

export interface StrictJsonOptions {
  /** Most containers (objects and arrays) nested in one another; default 64. */
  readonly maxDepth?: number;
  /** Longest accepted text, in UTF-16 code units; default unlimited (callers limit bytes first). */
  readonly maxLength?: number;
}

export const DEFAULT_MAX_JSON_DEPTH = 64;

class Refusal {
  readonly segments: (string | number)[] = [];
  constructor(
    readonly code: StrictJsonErrorCode,
    readonly reason: string,
  ) {}
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(segments: readonly (string | number)[]): string {
  let out = "$";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function describeChar(text: string, at: number): string {
  if (at >= text.length) return "end of input";
  const c = text.charCodeAt(at);
  const shown = c >= 0x20 && c < 0x7f ? `'${text[at] ?? ""}'` : `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
  return `${shown} at offset ${at}`;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly maxDepth: number,
  ) {}

  unexpected(what = "unexpected"): Refusal {
    return new Refusal("INVALID_JSON", `${what} ${describeChar(this.s, this.i)}`);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  value(depth: number): unknown {
    const s = this.s;
    const c = s.charCodeAt(this.i);
    switch (c) {
      case 0x7b /* { */:
        return this.object(depth + 1);
      case 0x5b /* [ */:
        return this.array(depth + 1);
      case 0x22 /* " */:
        return this.string();
      case 0x74 /* t */:
        return this.literal("true", true);
      case 0x66 /* f */:
        return this.literal("false", false);
      case 0x6e /* n */:
        return this.literal("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        throw this.unexpected(this.i >= s.length ? "unexpected" : "expected a JSON value, found");
    }
  }

  literal<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) throw this.unexpected("expected a JSON value, found");
    this.i += word.length;
    return value;
  }

  number(): number {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++;
    let c = s.charCodeAt(i);
    if (c === 0x30) {
      i++;
      c = s.charCodeAt(i);
      if (c >= 0x30 && c <= 0x39) {
        this.i = i;
        throw new Refusal("INVALID_JSON", `a number has a leading zero at offset ${start}`);
      }
    } else if (c >= 0x31 && c <= 0x39) {
      do c = s.charCodeAt(++i);
      while (c >= 0x30 && c <= 0x39);
    } else {
      this.i = i;
      throw this.unexpected("expected a digit, found");
    }
    if (c === 0x2e /* . */) {
      c = s.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) {
        this.i = i;
        throw this.unexpected("expected a digit after the decimal point, found");
      }
      do c = s.charCodeAt(++i);
      while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45 /* e E */) {
      c = s.charCodeAt(++i);
      if (c === 0x2b || c === 0x2d) c = s.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) {
        this.i = i;
        throw this.unexpected("expected a digit in the exponent, found");
      }
      do c = s.charCodeAt(++i);
      while (c >= 0x30 && c <= 0x39);
    }
    this.i = i;
    // The lexeme is valid JSON number grammar, for which Number() and JSON.parse round alike.
    return Number(s.slice(start, i));
  }

  /** At an opening quote: the unescaped string. */
  string(): string {
    const s = this.s;
    const start = this.i + 1;
    const n = s.length;
    for (let j = start; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        this.i = j + 1;
        return s.slice(start, j);
      }
      if (c === 0x5c || c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) return this.slowString(start, j);
    }
    this.i = n;
    throw new Refusal("INVALID_JSON", `unterminated string starting at offset ${start - 1}`);
  }

  slowString(start: number, from: number): string {
    const s = this.s;
    const n = s.length;
    let out = s.slice(start, from);
    let j = from;
    for (;;) {
      if (j >= n) {
        this.i = n;
        throw new Refusal("INVALID_JSON", `unterminated string starting at offset ${start - 1}`);
      }
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c < 0x20) {
        this.i = j;
        throw this.unexpected("a raw control character in a string:");
      }
      if (c !== 0x5c) {
        out += s[j] ?? "";
        j++;
        continue;
      }
      const e = s.charCodeAt(j + 1);
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += "\\";
          break;
        case 0x2f:
          out += "/";
          break;
        case 0x62:
          out += "\b";
          break;
        case 0x66:
          out += "\f";
          break;
        case 0x6e:
          out += "\n";
          break;
        case 0x72:
          out += "\r";
          break;
        case 0x74:
          out += "\t";
          break;
        case 0x75 /* u */: {
          let code = 0;
          for (let k = 2; k < 6; k++) {
            const h = hexValue(s.charCodeAt(j + k));
            if (h < 0) {
              this.i = j;
              throw new Refusal("INVALID_JSON", `a \\u escape needs four hex digits at offset ${j}`);
            }
            code = code * 16 + h;
          }
          out += String.fromCharCode(code);
          j += 6;
          continue;
        }
        default:
          this.i = j;
          throw new Refusal("INVALID_JSON", `unknown escape at offset ${j}`);
      }
      j += 2;
    }
    this.i = j + 1;
    if (!isWellFormed(out)) throw new Refusal("NOT_UNICODE", `a string starting at offset ${start - 1} has a lone surrogate (not Unicode text)`);
    return out;
  }

  object(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) throw new Refusal("TOO_DEEP", `nested deeper than ${this.maxDepth} objects and arrays`);
    const s = this.s;
    const o: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return o;
    }
    for (;;) {
      if (s.charCodeAt(this.i) !== 0x22) throw this.unexpected("expected a member name in double quotes, found");
      const key = this.string();
      if (Object.hasOwn(o, key)) {
        const r = new Refusal("DUPLICATE_MEMBER", `duplicate member name ${JSON.stringify(key)}`);
        r.segments.push(key);
        throw r;
      }
      this.ws();
      if (s.charCodeAt(this.i) !== 0x3a) throw this.unexpected("expected ':' after a member name, found");
      this.i++;
      this.ws();
      let v: unknown;
      try {
        v = this.value(depth);
      } catch (e) {
        if (e instanceof Refusal) e.segments.unshift(key);
        throw e;
      }
      // Assigning "__proto__" would set the prototype; defining it makes an own data property.
      if (key === "__proto__") Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
      else o[key] = v;
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return o;
      }
      throw this.unexpected("expected ',' or '}', found");
    }
  }

  array(depth: number): unknown[] {
    if (depth > this.maxDepth) throw new Refusal("TOO_DEEP", `nested deeper than ${this.maxDepth} objects and arrays`);
    const s = this.s;
    const a: unknown[] = [];
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return a;
    }
    for (;;) {
      try {
        a.push(this.value(depth));
      } catch (e) {
        if (e instanceof Refusal) e.segments.unshift(a.length);
        throw e;
      }
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return a;
      }
      throw this.unexpected("expected ',' or ']', found");
    }
  }
}

/**
 * Parses `text` as RFC 8259 JSON, refusing duplicate member names at any depth (compared after
 * unescaping), lone surrogates and nesting deeper than `maxDepth`. On success the value equals
 * `JSON.parse(text)`. Never throws: any other input (not a string, too long, invalid) is
 * `{ ok: false, code, reason, path }` with the JSONPath of the offending member.
 */
export function parseJsonStrict(text: unknown, options: StrictJsonOptions = {}): StrictJsonResult {
  if (typeof text !== "string") return { ok: false, code: "INVALID_JSON", reason: "JSON input must be text", path: "$" };
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (options.maxLength !== undefined && text.length > options.maxLength) {
    return { ok: false, code: "TOO_LONG", reason: `longer than ${options.maxLength} characters`, path: "$" };
  }
  const p = new Parser(text, maxDepth);
  try {
    p.ws();
    const value = p.value(0);
    p.ws();
    if (p.i !== text.length) throw p.unexpected("unexpected data after the JSON value:");
    return { ok: true, value };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, reason: e.reason, path: formatPath(e.segments) };
    // A RangeError (a maxDepth far beyond the stack, or out of memory): still an answer.
    return { ok: false, code: "TOO_DEEP", reason: "the JSON could not be parsed within this runtime's limits", path: "$" };
  }
}

/** "duplicate member name "x" at $.a.x": one line for an error message. */
export function describeJsonError(result: { readonly reason: string; readonly path: string }): string {
  return result.path === "$" ? result.reason : `${result.reason} at ${result.path}`;
}
