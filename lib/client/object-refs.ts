/**
 * Object references (issue 10) as the console shows them: the reference as written, its
 * canonical path and the registered resource it resolved to. Canonicalizing and resolving are the
 * kernel's (canonicalizeReference, and verify's own resolution read back from `result.resolved`),
 * so the console never has a second rule for either. Pure functions; no React.
 */
import { readArray, readPlainObject } from "@/lib/kernel/internal";
import { canonicalizeReference, isObjectReference } from "@/lib/kernel/object-ref";
import type { Snapshot } from "@/lib/kernel/snapshot";
import type { ResolvedReference } from "@/lib/kernel/types";
import { verify } from "@/lib/kernel/verify";

export type ReferenceView =
  | { readonly ok: true; readonly ref: string; readonly canonical: string; readonly resource: string | null }
  | { readonly ok: false; readonly ref: string; readonly reason: string };

/**
 * Canonicalizes `ref` and asks the kernel's verify (a read probe by `actor`, who must be a known
 * entity for verify to get as far as resolving) which resource the object resolves to. Never
 * throws: a reference that does not canonicalize comes back `ok: false` with the kernel's reason;
 * one under no registered resource (or none known to this view) has `resource: null`.
 */
export function resolveReference(snapshot: Snapshot | null, ref: string, actor: string, now: number): ReferenceView {
  const c = canonicalizeReference(ref);
  if (!c.ok) return { ok: false, ref, reason: c.reason };
  if (!snapshot || !actor) return { ok: true, ref, canonical: c.canonical, resource: null };
  const r = verify(snapshot, { actionId: "console-resolve-probe", actor, reads: [ref] }, now);
  const hit = r.resolved?.find((x) => x.ref === ref);
  return { ok: true, ref, canonical: hit?.canonical ?? c.canonical, resource: hit?.resource ?? null };
}

/**
 * Splits what someone typed into a list of reads/writes/delegates entries: one entry per line;
 * a line that is not an object reference may hold several ids separated by commas or spaces (as
 * the playground always accepted), while a line that is a reference is taken whole, because a
 * path or URL may itself contain commas and spaces.
 */
export function splitEntries(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    // isObjectReference narrows its argument; a plain boolean keeps `line` a string on both branches.
    const whole: boolean = isObjectReference(line);
    if (whole) out.push(line);
    else out.push(...line.split(/[\s,]+/).filter(Boolean));
  }
  return out;
}

/**
 * Reads a decision record's `resolved` (signed data from the server) for display only, through
 * the kernel's readers (each property read once, no getter runs). Anything malformed is skipped.
 */
export function readResolved(record: unknown): ResolvedReference[] {
  const r = readPlainObject(record, "record", 256);
  if (!r.ok) return [];
  const list = readArray(r.value.get("resolved"), "resolved", 3000);
  if (!list.ok) return [];
  const out: ResolvedReference[] = [];
  for (const item of list.value) {
    const f = readPlainObject(item, "resolved entry", 8);
    if (!f.ok) continue;
    const ref = f.value.get("ref");
    const canonical = f.value.get("canonical");
    const resource = f.value.get("resource");
    if (typeof ref !== "string" || typeof canonical !== "string") continue;
    out.push(typeof resource === "string" ? { ref, canonical, resource } : { ref, canonical });
  }
  return out;
}
