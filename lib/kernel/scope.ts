/**
 * Scope paths: the formal prefix rule of the original kernel, plus strict validation at the
 * boundary so that one scope has exactly one spelling.
 *
 * Canonical form (what validateScope accepts):
 * - `""` is the root scope; it contains every scope.
 * - otherwise an absolute path: starts with "/", segments separated by single "/".
 * - `"/"` is accepted and contains every non-root scope ("/x", "/x/y", ...), but not `""`.
 * - No trailing slash except the scope "/" itself. "/data/alice/" is REJECTED rather than
 *   normalised: in the original kernel "/data/alice/" and "/data/alice" behaved differently as a
 *   child (`scope_contains("/data/alice/", "/data/alice")` was false), and two spellings of one
 *   scope would also give one registry two digests. The caller fixes the input, we never do.
 */

/** Longest scope accepted (UTF-16 code units). */
export const MAX_SCOPE_LENGTH = 1024;

const SLASH = 47;

/**
 * The formal prefix rule (design §3): true iff `parent` is the root `""`, or `child === parent`,
 * or `child` starts with `parent` without one trailing slash, followed by "/".
 * `/data/alice` covers `/data/alice/x` but not `/data/alice2`.
 *
 * Pure string rule, no validation: callers pass validated scopes. Returns false (never throws)
 * when either argument is not a string, except that the root `""` contains any string.
 */
export function scopeContains(parent: string, child: string): boolean {
  if (typeof parent !== "string" || typeof child !== "string") return false;
  if (parent.length === 0) return true;
  if (child === parent) return true;
  if (parent.charCodeAt(parent.length - 1) === SLASH) {
    // parent already ends in the separator, so "parent-without-slash + '/'" is parent itself.
    return child.startsWith(parent);
  }
  return child.length > parent.length && child.charCodeAt(parent.length) === SLASH && child.startsWith(parent);
}

/**
 * Every canonical scope that contains `scope` under scopeContains, most specific first:
 * "/a/b" -> ["/a/b", "/a", "/", ""]; "/" -> ["/", ""]; "" -> [""].
 * Used to index claims so that finding the claims covering a resource costs in proportion to the
 * depth of its path, not to the number of claims. For a non-canonical input the result is only
 * the prefixes at "/" boundaries; returns [] when `scope` is not a string.
 */
export function scopeAncestors(scope: string): string[] {
  if (typeof scope !== "string") return [];
  if (scope.length === 0) return [""];
  const out: string[] = [scope];
  for (let i = scope.length - 1; i > 0; i--) {
    if (scope.charCodeAt(i) === SLASH) out.push(scope.slice(0, i));
  }
  if (scope !== "/" && scope.charCodeAt(0) === SLASH) out.push("/");
  out.push("");
  return out;
}

// C0 controls (NUL included), DEL and C1 controls.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
// Direction overrides/isolates and invisible characters: they would let two different scopes
// render identically in the console ("Trojan Source"-style spoofing of a path an owner approves).
const INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type ScopeValidation = { ok: true; scope: string } | { ok: false; reason: string };

/**
 * Validates a scope at the boundary. Never throws and never rewrites its input: a scope is
 * either returned unchanged (`ok: true`) or refused with a reason.
 *
 * Accepts `""` (root), `"/"`, and absolute paths of non-empty segments. Refuses: non-strings,
 * more than MAX_SCOPE_LENGTH code units, a missing leading "/", a trailing "/" (other than the
 * scope "/"), empty segments ("//"), "." and ".." segments, NUL and every control character
 * (C0, DEL, C1), direction-override and zero-width characters, lone surrogates, and text that
 * is not in Unicode NFC.
 */
export function validateScope(input: unknown): ScopeValidation {
  if (typeof input !== "string") return { ok: false, reason: "scope must be a string" };
  if (input.length === 0) return { ok: true, scope: input };
  if (input.length > MAX_SCOPE_LENGTH) {
    return { ok: false, reason: `scope is longer than ${MAX_SCOPE_LENGTH} characters` };
  }
  if (input.charCodeAt(0) !== SLASH) return { ok: false, reason: 'scope must be "" (root) or start with "/"' };
  if (CONTROL.test(input)) return { ok: false, reason: "scope contains a control character" };
  if (LONE_SURROGATE.test(input)) return { ok: false, reason: "scope contains a lone surrogate" };
  if (INVISIBLE.test(input)) return { ok: false, reason: "scope contains an invisible or direction-changing character" };
  if (input.normalize("NFC") !== input) return { ok: false, reason: "scope is not in Unicode NFC form" };
  if (input === "/") return { ok: true, scope: input };
  if (input.charCodeAt(input.length - 1) === SLASH) {
    return { ok: false, reason: 'scope must not end with "/" (write "/a", not "/a/")' };
  }
  const segments = input.split("/");
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === "") return { ok: false, reason: 'scope contains an empty segment ("//")' };
    if (s === "." || s === "..") return { ok: false, reason: `scope contains a "${s}" segment` };
  }
  return { ok: true, scope: input };
}
