/**
 * Reading audit payloads for display. Payloads are signed data from the server; nothing here
 * trusts them for anything but showing them (verification is in lib/client/audit-verify.ts).
 */
import { readResolved } from "@/lib/client/object-refs";
import type { ResolvedReference } from "@/lib/kernel/types";

export interface DecisionSummary {
  actionId: string;
  actor: string;
  permitted: boolean;
  codes: string[];
  kind: "decision" | "plan";
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export function decisionSummary(payload: unknown): DecisionSummary | null {
  const p = obj(payload);
  if (!p || (p.kind !== "decision" && p.kind !== "plan")) return null;
  const r = obj(p.record);
  if (!r) return null;
  const violations = Array.isArray(r.violations) ? r.violations : [];
  const codes = [...new Set(violations.map((v) => String(obj(v)?.code ?? "")).filter(Boolean))];
  return {
    actionId: String(r.actionId ?? r.planId ?? ""),
    actor: String(r.actor ?? ""),
    permitted: r.permitted === true,
    codes,
    kind: p.kind,
  };
}

/** A decision entry's `resolved` (as written → canonical → resource); [] for anything else. */
export function decisionResolved(payload: unknown): ResolvedReference[] {
  const p = obj(payload);
  if (!p || p.kind !== "decision") return [];
  return readResolved(p.record);
}

export interface EntrySummary {
  kind: string;
  title: string;
  detail: string;
  permitted: boolean | null;
  codes: string[];
  by: string | null;
}

export function entrySummary(payload: unknown): EntrySummary {
  const p = obj(payload) ?? {};
  const kind = typeof p.kind === "string" ? p.kind : "unknown";
  const d = decisionSummary(payload);
  if (d) {
    const objects = decisionResolved(payload).map((r) => `${r.ref} → ${r.resource ?? "no resource"}`);
    const detail = [d.codes.join(", "), objects.slice(0, 3).join(", ") + (objects.length > 3 ? ", …" : "")].filter(Boolean).join(" · ");
    return { kind, title: `${d.actor} · ${d.actionId}`, detail, permitted: d.permitted, codes: d.codes, by: null };
  }
  if (kind === "authority") {
    const data = obj(p.data) ?? {};
    const bits = Object.entries(data)
      .filter(([k, v]) => k !== "registryVersion" && (typeof v === "string" || typeof v === "number" || typeof v === "boolean"))
      .map(([k, v]) => `${k}=${String(v)}`)
      .slice(0, 4)
      .join(" ");
    return { kind, title: String(p.op ?? "change"), detail: bits, permitted: null, codes: [], by: typeof p.by === "string" ? p.by : null };
  }
  if (kind === "key") return { kind, title: `key ${String(p.op ?? "")}`, detail: String(p.keyId ?? ""), permitted: null, codes: [], by: null };
  return { kind, title: kind, detail: "", permitted: null, codes: [], by: null };
}
