/**
 * The mapping layer: how a tool call (name + arguments) becomes the action the kernel decides on —
 * which resources it reads, writes and delegates, which humans it governs, and which flags it
 * raises. A mapping is either a typed function `(args) => ActionFields` or a declarative object for
 * the simple cases. Unknown tools have no mapping and are blocked: a tool the kernel was never told
 * about must not run because nobody thought of it.
 *
 * Mappings are code the integrator writes and the model never sees; the arguments are the model's.
 * A mapping that throws, or returns anything that is not an action, blocks the call (MAPPING_FAILED).
 */
import { z } from "zod";
import { canonicalizeReference, isObjectReference } from "../kernel/object-ref";
import { validateScope } from "../kernel/scope";
import { FLAGS, type Flag } from "../kernel/types";
import { KernelBlockedError } from "./errors";

/** What a mapping contributes to an action; actionId and actor come from the gate. */
export type ActionFields = {
  readonly reads?: readonly string[] | undefined;
  readonly writes?: readonly string[] | undefined;
  readonly delegates?: readonly string[] | undefined;
  readonly governsHumans?: readonly string[] | undefined;
  readonly description?: string | undefined;
  readonly argument?: string | undefined;
} & { readonly [F in Flag]?: boolean | undefined };

/** The typed form: any function of the tool's arguments. */
export type ToolMapper<A = never> = (args: A) => ActionFields;

/** A list of resource (or human) ids: fixed, or computed from the arguments. */
export type ListSpec<A> = readonly string[] | ((args: A) => readonly string[] | string);

/** The declarative form, e.g. `{ reads: ["dataset-x"], writes: (args) => [args.path] }`. */
export interface DeclarativeToolMapping<A = never> {
  readonly reads?: ListSpec<A>;
  readonly writes?: ListSpec<A>;
  readonly delegates?: ListSpec<A>;
  readonly governsHumans?: ListSpec<A>;
  readonly flags?: Partial<Record<Flag, boolean>> | ((args: A) => Partial<Record<Flag, boolean>>);
  readonly description?: string | ((args: A) => string);
  readonly argument?: (args: A) => string | undefined;
}

// `any` here is deliberate: a map holds mappings for tools with different argument types, and each
// mapping is checked against its own arguments where it is written (see defineToolMap).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ToolMapping<A = any> = ToolMapper<A> | DeclarativeToolMapping<A>;

export type ToolMappings = { readonly [tool: string]: ToolMapping };

export type MapResult =
  /** `args`: the arguments to run the tool with, when the mapping rewrote them (a relative path resolved against a `file:` root). */
  | { readonly ok: true; readonly fields: ActionFields; readonly args?: Record<string, unknown> }
  | { readonly ok: false; readonly error: KernelBlockedError };

/** Where a JSON mapping hands its rewritten arguments to ToolMap.map (a symbol: invisible to fieldsProblem). */
const REWRITTEN_ARGS: unique symbol = Symbol("freedom-kernel/rewritten-args");

const LIST_KEYS = ["reads", "writes", "delegates", "governsHumans"] as const;
const DECLARATIVE_KEYS: ReadonlySet<string> = new Set([...LIST_KEYS, "flags", "description", "argument"]);
const FLAG_SET: ReadonlySet<string> = new Set(FLAGS);

/**
 * A set of tool mappings, looked up by exact tool name. The table is copied into a null-prototype
 * object: a tool called "__proto__" or "constructor" finds no mapping unless one was written for it.
 */
export class ToolMap {
  readonly #table: Record<string, ToolMapping>;

  constructor(mappings: ToolMappings) {
    const table = Object.create(null) as Record<string, ToolMapping>;
    for (const name of Object.keys(mappings)) {
      const m = mappings[name];
      if (typeof m !== "function" && !isDeclarative(m)) {
        throw new TypeError(`the mapping of tool "${name}" is neither a function nor a declarative mapping`);
      }
      table[name] = m;
    }
    this.#table = table;
  }

  /** Names of the mapped tools. */
  get tools(): readonly string[] {
    return Object.keys(this.#table);
  }

  has(tool: string): boolean {
    return Object.hasOwn(this.#table, tool);
  }

  /** The action fields for one call; never throws. Unknown tool: UNMAPPED_TOOL. */
  map(tool: string, args: unknown): MapResult {
    if (!Object.hasOwn(this.#table, tool)) {
      return fail("UNMAPPED_TOOL", `no kernel mapping for tool "${tool}": unknown tools are blocked`, tool);
    }
    const mapping = this.#table[tool] as ToolMapping;
    let fields: unknown;
    try {
      fields = typeof mapping === "function" ? mapping(args as never) : applyDeclarative(mapping, args);
    } catch (error) {
      return fail("MAPPING_FAILED", `the mapping of tool "${tool}" failed: ${error instanceof Error ? error.message : String(error)}`, tool, error);
    }
    const problem = fieldsProblem(fields);
    if (problem !== undefined) return fail("MAPPING_FAILED", `the mapping of tool "${tool}" ${problem}`, tool);
    // Every object reference must canonicalize: one that does not refuses the call before the kernel is asked.
    const f = fields as Record<string, unknown>;
    for (const key of ["reads", "writes", "delegates"] as const) {
      for (const entry of (f[key] as readonly string[] | undefined) ?? []) {
        if (!isObjectReference(entry)) continue;
        const c = canonicalizeReference(entry);
        if (!c.ok) return fail("MAPPING_FAILED", `the mapping of tool "${tool}" produced ${JSON.stringify(entry.slice(0, 200))} in ${key}, which is not a valid object reference: ${c.reason}`, tool);
      }
    }
    const rewritten = (fields as { [REWRITTEN_ARGS]?: Record<string, unknown> })[REWRITTEN_ARGS];
    const { [REWRITTEN_ARGS]: _dropped, ...plain } = fields as ActionFields & { [REWRITTEN_ARGS]?: unknown };
    return rewritten !== undefined ? { ok: true, fields: plain, args: rewritten } : { ok: true, fields: plain };
  }
}

/** Builds a ToolMap. Typed per tool: `defineToolMap({ write: (a: { path: string }) => ({ writes: [a.path] }) })`. */
export function defineToolMap(mappings: ToolMappings): ToolMap {
  return new ToolMap(mappings);
}

/** Accepts a ToolMap or a plain mapping object. */
export function toToolMap(map: ToolMap | ToolMappings): ToolMap {
  return map instanceof ToolMap ? map : new ToolMap(map);
}

function fail(code: "UNMAPPED_TOOL" | "MAPPING_FAILED", message: string, tool: string, cause?: unknown): MapResult {
  return { ok: false, error: new KernelBlockedError(code, message, { tool, cause }) };
}

function isDeclarative(m: unknown): m is DeclarativeToolMapping {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return false;
  return Object.keys(m).every((k) => DECLARATIVE_KEYS.has(k));
}

function applyDeclarative(m: DeclarativeToolMapping<unknown>, args: unknown): ActionFields {
  const out: Record<string, unknown> = {};
  for (const key of LIST_KEYS) {
    const spec = m[key];
    if (spec === undefined) continue;
    const value = typeof spec === "function" ? spec(args) : spec;
    out[key] = typeof value === "string" ? [value] : value;
  }
  if (m.flags !== undefined) {
    const flags = typeof m.flags === "function" ? m.flags(args) : m.flags;
    if (typeof flags !== "object" || flags === null) throw new TypeError("flags must be an object");
    for (const [flag, value] of Object.entries(flags)) {
      if (!FLAG_SET.has(flag)) throw new TypeError(`unknown flag "${flag}"`);
      out[flag] = value;
    }
  }
  if (m.description !== undefined) out.description = typeof m.description === "function" ? m.description(args) : m.description;
  if (m.argument !== undefined) {
    const argument = m.argument(args);
    if (argument !== undefined) out.argument = argument;
  }
  return out as ActionFields;
}

const FIELD_KEYS: ReadonlySet<string> = new Set([...LIST_KEYS, "description", "argument", ...FLAGS]);

/** Why `fields` is not ActionFields, or undefined. The kernel's parser re-checks everything later. */
function fieldsProblem(fields: unknown): string | undefined {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) return "did not return an object";
  for (const key of Object.keys(fields)) {
    if (key === "actionId" || key === "actor") return `returned "${key}": the gate sets it, a mapping may not`;
    if (!FIELD_KEYS.has(key)) return `returned the unknown field "${key}"`;
  }
  const f = fields as Record<string, unknown>;
  for (const key of LIST_KEYS) {
    const v = f[key];
    if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === "string"))) return `returned ${key} that is not a list of strings`;
  }
  for (const flag of FLAGS) {
    if (f[flag] !== undefined && typeof f[flag] !== "boolean") return `returned a non-boolean flag ${flag}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The JSON form (MCP proxy mapping files): templates instead of functions.
// ---------------------------------------------------------------------------------------------

const TemplateList = z.array(z.string().min(1).max(1024)).max(1000);
/** A root for relative paths in `file:{…}` templates: an absolute path, canonical (no "..", "//", trailing "/"). */
const FileRoot = z
  .string()
  .max(1024)
  .refine((r) => r.startsWith("/") && r !== "/" && validateScope(r).ok && canonicalizeReference(r).ok, "root must be an absolute, canonical path other than /");
const JsonToolMapping = z.strictObject({
  root: FileRoot.optional(),
  reads: TemplateList.optional(),
  writes: TemplateList.optional(),
  delegates: TemplateList.optional(),
  governsHumans: TemplateList.optional(),
  flags: z.partialRecord(z.enum(FLAGS), z.boolean()).optional(),
  description: z.string().max(10_000).optional(),
});
export const ToolMapFile = z.strictObject({ root: FileRoot.optional(), tools: z.record(z.string().min(1).max(256), JsonToolMapping) });
export type ToolMapFile = z.infer<typeof ToolMapFile>;

/**
 * Builds a ToolMap from a mapping file: `{ "tools": { "<name>": { "reads": ["{path}"], "writes":
 * [...], "delegates": [...], "governsHumans": [...], "flags": { "<flag>": true }, "description":
 * "..." } } }`. Unknown keys are errors (a misspelt "writes" must not silently permit writes).
 *
 * Templates: `{name}` is replaced by the argument `name` (`{a.b}` for nested objects), which must be a
 * string or a finite number; an item with one `{name}` whose argument is a list of strings gives
 * one entry per element ("mailto:{to}" over two recipients: two references), and an empty list
 * blocks the call. `{{` and `}}` are literal braces. A missing argument, or one of another type,
 * blocks the call (MAPPING_FAILED): a template never falls back to something broader.
 *
 * Object references: an entry that is a path or URI ("{url}", "mailto:{to}", "/srv/{name}") must
 * canonicalize (ToolMap.map), or the call is blocked before the kernel is asked. "file:{path}"
 * takes the argument as a literal path: absolute as given, relative joined to the tool's `root` or
 * the file's `root` (refused without one), never a URI or "~" (see fileReference). Other templates
 * starting with "file:" that fill in arguments are refused at load (see fileTemplateProblem).
 * Throws a TypeError listing the problems when the file does not match this shape.
 */
export function toolMapFromJson(json: unknown): ToolMap {
  const parsed = ToolMapFile.safeParse(json);
  if (!parsed.success) {
    throw new TypeError(`invalid tool mapping file:\n  ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("\n  ")}`);
  }
  const mappings: Record<string, ToolMapper<unknown>> = Object.create(null) as Record<string, ToolMapper<unknown>>;
  for (const [name, spec] of Object.entries(parsed.data.tools)) {
    // Fail at load, not at call time.
    for (const list of LIST_KEYS) {
      for (const t of spec[list] ?? []) {
        const problem = fileTemplateProblem(t, compileTemplate(t));
        if (problem !== undefined) throw new TypeError(problem);
      }
    }
    if (spec.description !== undefined) compileTemplate(spec.description);
    const root = spec.root ?? parsed.data.root;
    mappings[name] = (args: unknown) => {
      const out: Record<string, unknown> = {};
      const rewrites = new Map<string, { path: readonly string[]; value: unknown }>();
      for (const list of LIST_KEYS) {
        const items = spec[list];
        if (items !== undefined) out[list] = items.flatMap((t) => expandTemplate(t, args, root, rewrites));
      }
      for (const [flag, value] of Object.entries(spec.flags ?? {})) out[flag] = value;
      if (spec.description !== undefined) out.description = renderTemplate(spec.description, args);
      if (rewrites.size > 0) (out as { [REWRITTEN_ARGS]?: unknown })[REWRITTEN_ARGS] = rewriteArgs(args, [...rewrites.values()]);
      return out as ActionFields;
    };
  }
  return new ToolMap(mappings);
}

/** A copy of `args` with each rewritten argument replaced (plain JSON data: the tool's arguments). */
function rewriteArgs(args: unknown, rewrites: readonly { path: readonly string[]; value: unknown }[]): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
  for (const { path, value } of rewrites) {
    let v: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) v = v[key] as Record<string, unknown>;
    v[path[path.length - 1] as string] = value;
  }
  return copy;
}

/**
 * The object reference of one file argument of a `file:{path}` template: an absolute path or a
 * `file:` URI as given; a relative path joined to the mapping's root (refused without one); a
 * path starting with "~" refused (servers expand it to a home directory the kernel cannot see).
 * The result is canonicalized by ToolMap.map, which refuses every "..", "//", "%2F" and the rest.
 * Returns the reference and, for a relative path, the absolute path the tool must be run with.
 */
function fileReference(value: string, root: string | undefined, name: string): { ref: string; absolute?: string } {
  // The argument is a literal path, as the tool will read it: never a URI (a server that gets
  // "file:///a" resolves it as a relative path named "file:", and "%61" is not decoded there).
  if (value.startsWith("/")) return { ref: value };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) throw new TypeError(`argument "${name}": give a path, not a URI (${JSON.stringify(value.slice(0, 40))})`);
  if (value.startsWith("~")) throw new TypeError(`argument "${name}": a path starting with "~" names a home directory; give an absolute path`);
  if (value === "" || root === undefined) throw new TypeError(`argument "${name}": relative path ${JSON.stringify(value.slice(0, 200))} and the mapping sets no root`);
  const absolute = `${root}/${value}`;
  return { ref: absolute, absolute };
}

type TemplatePart = { readonly text: string } | { readonly path: readonly string[] };

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

function compileTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    const next = template[i + 1];
    if ((ch === "{" && next === "{") || (ch === "}" && next === "}")) {
      text += ch;
      i++;
      continue;
    }
    if (ch === "}") throw new TypeError(`template "${template}": unmatched "}" (write "}}" for a literal brace)`);
    if (ch !== "{") {
      text += ch;
      continue;
    }
    const end = template.indexOf("}", i + 1);
    if (end < 0) throw new TypeError(`template "${template}": unclosed "{"`);
    const path = template.slice(i + 1, end).split(".");
    if (!path.every((p) => NAME.test(p))) throw new TypeError(`template "${template}": "{${path.join(".")}}" is not an argument name`);
    if (text) parts.push({ text });
    text = "";
    parts.push({ path });
    i = end;
  }
  if (text) parts.push({ text });
  return parts;
}

function lookup(args: unknown, path: readonly string[]): unknown {
  let v: unknown = args;
  for (const key of path) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) {
      throw new TypeError(`argument "${path.join(".")}" is missing`);
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function scalar(value: unknown, path: readonly string[]): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new TypeError(`argument "${path.join(".")}" must be a string or a number`);
}

function renderTemplate(template: string, args: unknown): string {
  return compileTemplate(template)
    .map((p) => ("text" in p ? p.text : scalar(lookup(args, p.path), p.path)))
    .join("");
}

/**
 * Why a template that starts with the scheme "file:" (in any case) and fills in arguments is not
 * the one form the mapping treats as a literal path, "file:{arg}"; undefined when it is fine.
 * Anything else ("file:/srv/{name}", "FILE:{path}") would be canonicalized as a file: URI, which
 * percent-decodes ("%61" -> "a") where the tool opens the literal name: kernel and tool would see
 * two different files. Templates without arguments ("file:///srv/fixed") are fixed references.
 */
function fileTemplateProblem(template: string, parts: readonly TemplatePart[]): string | undefined {
  const first = parts[0];
  if (first === undefined || !("text" in first) || !/^file:/i.test(first.text) || !parts.some((p) => "path" in p)) return undefined;
  if (parts.length === 2 && first.text === "file:") return undefined;
  return `template "${template}": write a file template as "file:{arg}", or as a plain path such as "/srv/{name}"`;
}

/**
 * One template item to its entries. A template with exactly one `{arg}` whose argument is a list
 * of strings gives one entry per element (several recipients, several paths); an empty list is
 * refused (a call with no target must not become an action on nothing). `file:{arg}` (the text
 * "file:" and one argument, nothing else) names a file: see fileReference.
 */
function expandTemplate(
  template: string,
  args: unknown,
  root?: string,
  rewrites?: Map<string, { path: readonly string[]; value: unknown }>,
): string[] {
  const parts = compileTemplate(template);
  const holes = parts.filter((p): p is { path: readonly string[] } => "path" in p);
  const isFile = parts.length === 2 && "text" in parts[0]! && parts[0].text === "file:" && "path" in parts[1]!;
  const problem = fileTemplateProblem(template, parts);
  if (problem !== undefined) throw new TypeError(problem);
  if (holes.length === 1) {
    const hole = holes[0]!;
    const name = hole.path.join(".");
    const value = lookup(args, hole.path);
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string")) throw new TypeError(`argument "${name}" must be a list of strings`);
      if (value.length === 0) throw new TypeError(`argument "${name}" is an empty list`);
    }
    const strings = values.map((v) => scalar(v, hole.path));
    if (isFile) {
      const refs = strings.map((v) => fileReference(v, root, name));
      if (rewrites !== undefined && refs.some((r) => r.absolute !== undefined)) {
        const rewritten = refs.map((r, i) => r.absolute ?? strings[i]);
        rewrites.set(name, { path: hole.path, value: Array.isArray(value) ? rewritten : rewritten[0] });
      }
      return refs.map((r) => r.ref);
    }
    return strings.map((v) => parts.map((p) => ("text" in p ? p.text : v)).join(""));
  }
  return [renderTemplate(template, args)];
}
