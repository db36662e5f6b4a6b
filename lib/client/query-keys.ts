/**
 * Every react-query key of the console comes from here, so invalidation after a change can name
 * exactly what went stale.
 */
import type { z } from "zod";
import type { AuditQuery } from "@/lib/contracts";
import type { StatsWindow } from "@/lib/contracts/console";

export type AuditFilters = Partial<z.input<typeof AuditQuery>>;

const root = ["fk"] as const;

export const queryKeys = {
  all: root,
  session: () => [...root, "session"] as const,
  registry: () => [...root, "registry"] as const,
  stats: (window: z.infer<typeof StatsWindow>) => [...root, "stats", window] as const,
  statsAll: () => [...root, "stats"] as const,
  owners: () => [...root, "owners"] as const,
  machines: () => [...root, "machines"] as const,
  tokens: (machineId: string) => [...root, "tokens", machineId] as const,
  tokensAll: () => [...root, "tokens"] as const,
  resources: () => [...root, "resources"] as const,
  grants: () => [...root, "grants"] as const,
  approvals: () => [...root, "approvals"] as const,
  conflicts: () => [...root, "conflicts"] as const,
  audit: (filters: AuditFilters) => [...root, "audit", filters] as const,
  auditAll: () => [...root, "audit"] as const,
  keys: () => [...root, "keys"] as const,
  rules: () => [...root, "rules"] as const,
  /** One what-if simulation per change set (its JSON); never refetched on its own. */
  simulation: (changes: string) => [...root, "simulation", changes] as const,
} as const;
