/**
 * react-query hooks over the API contracts: each query names its key from the key factory and
 * parses its answer with the route's zod schema; each mutation invalidates what it made stale.
 */
"use client";
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { z } from "zod";
import * as C from "@/lib/contracts";
import { ConsoleRegistry, ConsoleStats, type StatsWindow } from "@/lib/contracts/console";
import { apiRequest, beginSignOut } from "./api";
import { queryKeys, type AuditFilters } from "./query-keys";

export type Machine = z.infer<typeof C.Machine>;
export type Resource = z.infer<typeof C.Resource>;
export type Grant = z.infer<typeof C.Grant>;
export type Approval = z.infer<typeof C.Approval>;
export type Conflict = z.infer<typeof C.Conflict>;
export type Token = z.infer<typeof C.Token>;
export type CreatedToken = z.infer<typeof C.CreatedToken>;
export type AuditEntryJson = z.infer<typeof C.AuditEntry>;
export type AuditPage = z.infer<typeof C.AuditPage>;
export type KeysResponse = z.infer<typeof C.KeysResponse>;
export type Principal = z.infer<typeof C.Principal>;

const SignedOut = z.strictObject({ signedOut: z.literal(true) });
const Resumed = z.strictObject({ resumed: z.string(), registryVersion: z.number().int() });

// ------------------------------------------------------------------------------------------------
// Queries
// ------------------------------------------------------------------------------------------------

export function useRegistry() {
  return useQuery({ queryKey: queryKeys.registry(), queryFn: ({ signal }) => apiRequest("/console/registry", ConsoleRegistry, { signal }) });
}

export function useStats(window: z.infer<typeof StatsWindow>) {
  return useQuery({
    queryKey: queryKeys.stats(window),
    queryFn: ({ signal }) => apiRequest("/console/stats", ConsoleStats, { query: { window }, signal }),
    refetchInterval: 15_000,
  });
}

export function useMachines() {
  return useQuery({ queryKey: queryKeys.machines(), queryFn: ({ signal }) => apiRequest("/machines", z.array(C.Machine), { signal }) });
}

export function useResources() {
  return useQuery({ queryKey: queryKeys.resources(), queryFn: ({ signal }) => apiRequest("/resources", z.array(C.Resource), { signal }) });
}

/** Polled: agents use up budgets without the console, and what is left is read from here. */
export function useGrants() {
  return useQuery({
    queryKey: queryKeys.grants(),
    queryFn: ({ signal }) => apiRequest("/grants", z.array(C.Grant), { signal }),
    refetchInterval: 15_000,
  });
}

export function useTokens(machineId: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.tokens(machineId),
    queryFn: ({ signal }) => apiRequest(`/machines/${encodeURIComponent(machineId)}/tokens`, z.array(C.Token), { signal }),
    enabled,
  });
}

export function useApprovals() {
  return useQuery({
    queryKey: queryKeys.approvals(),
    queryFn: ({ signal }) => apiRequest("/approvals", z.array(C.Approval), { signal }),
    refetchInterval: 10_000,
  });
}

export function useConflicts() {
  return useQuery({ queryKey: queryKeys.conflicts(), queryFn: ({ signal }) => apiRequest("/conflicts", z.array(C.Conflict), { signal }) });
}

export function useAudit(filters: AuditFilters, enabled = true) {
  return useQuery({
    queryKey: queryKeys.audit(filters),
    queryFn: ({ signal }) => apiRequest("/audit", C.AuditPage, { query: filters as Record<string, string | number | undefined>, signal }),
    enabled,
  });
}

export function useKeys() {
  return useQuery({ queryKey: queryKeys.keys(), queryFn: ({ signal }) => apiRequest("/keys", C.KeysResponse, { signal }), staleTime: 60_000 });
}

// ------------------------------------------------------------------------------------------------
// Mutations
// ------------------------------------------------------------------------------------------------

/** Everything a change of authority can make stale. */
export function invalidateAuthority(qc: QueryClient): Promise<void> {
  const keys = [queryKeys.registry(), queryKeys.machines(), queryKeys.resources(), queryKeys.grants(), queryKeys.statsAll(), queryKeys.auditAll(), queryKeys.approvals(), queryKeys.conflicts()];
  return Promise.all(keys.map((queryKey) => qc.invalidateQueries({ queryKey }))).then(() => undefined);
}

function useAuthorityMutation<V, R>(fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => invalidateAuthority(qc) });
}

export function useCreateMachine() {
  return useAuthorityMutation((body: z.input<typeof C.CreateMachineRequest>) => apiRequest("/machines", C.Machine, { method: "POST", body }));
}

export function useCreateResource() {
  return useAuthorityMutation((body: z.input<typeof C.CreateResourceRequest>) => apiRequest("/resources", C.Resource, { method: "POST", body }));
}

export function useCreateGrant() {
  return useAuthorityMutation((body: z.input<typeof C.CreateGrantRequest>) => apiRequest("/grants", C.Grant, { method: "POST", body }));
}

/** Sets, raises or removes (null) a grant's budget; the server re-checks it against the grantor's. */
export function useSetGrantBudget() {
  return useAuthorityMutation((v: { id: string; budget: z.input<typeof C.SetBudgetRequest>["budget"] }) =>
    apiRequest(`/grants/${encodeURIComponent(v.id)}/budget`, C.Grant, { method: "POST", body: { budget: v.budget } }),
  );
}

export function useRevokeGrant() {
  return useAuthorityMutation((id: string) => apiRequest(`/grants/${encodeURIComponent(id)}`, C.Grant, { method: "DELETE" }));
}

export function useHaltMachine() {
  return useAuthorityMutation((v: { id: string; reason?: string }) =>
    apiRequest(`/machines/${encodeURIComponent(v.id)}/halt`, C.HaltResponse, { method: "POST", body: v.reason ? { reason: v.reason } : {} }),
  );
}

export function useResumeMachine() {
  return useAuthorityMutation((id: string) => apiRequest(`/machines/${encodeURIComponent(id)}/resume`, C.ResumeResponse, { method: "POST" }));
}

/** Owners halt every machine of their own; the operator halts every machine there is. */
export function useHaltAll(principal: Principal) {
  return useAuthorityMutation((reason: string | undefined) =>
    principal.role === "OPERATOR"
      ? apiRequest("/halt-all", C.HaltResponse, { method: "POST", body: reason ? { reason } : {} })
      : apiRequest(`/owners/${encodeURIComponent(principal.entityId ?? "")}/halt`, C.HaltResponse, { method: "POST", body: reason ? { reason } : {} }),
  );
}

export function useResumeAll(principal: Principal) {
  return useAuthorityMutation(() =>
    principal.role === "OPERATOR"
      ? apiRequest("/resume-all", Resumed, { method: "POST" })
      : apiRequest(`/owners/${encodeURIComponent(principal.entityId ?? "")}/resume`, Resumed, { method: "POST" }),
  );
}

export function useCreateToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { machineId: string; label: string }) =>
      apiRequest(`/machines/${encodeURIComponent(v.machineId)}/tokens`, C.CreatedToken, { method: "POST", body: { label: v.label } }),
    onSuccess: (_t, v) => qc.invalidateQueries({ queryKey: queryKeys.tokens(v.machineId) }),
  });
}

export function useRevokeToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiRequest(`/tokens/${encodeURIComponent(id)}`, C.Token, { method: "DELETE" }),
    onSuccess: (t) => qc.invalidateQueries({ queryKey: queryKeys.tokens(t.machineId) }),
  });
}

/**
 * Approves with the narrow default grants; `widen` (object references only) grants an enclosing
 * scope instead of exactly the object, and is sent only when the owner chose to widen; `raise`
 * (BUDGET_EXHAUSTED) sets new budgets on used-up grants in the same commit, sent only when given.
 */
export function useApprove() {
  return useAuthorityMutation(
    (v: { id: string; ttlSeconds: number; widen?: readonly { ref: string; scope: string }[]; raise?: readonly { grant: string; budget: z.input<typeof C.Budget> }[] }) =>
      apiRequest(`/approvals/${encodeURIComponent(v.id)}/approve`, C.Approval, {
        method: "POST",
        body: {
          ttlSeconds: v.ttlSeconds,
          ...(v.widen && v.widen.length > 0 ? { widen: v.widen } : {}),
          ...(v.raise && v.raise.length > 0 ? { raise: v.raise } : {}),
        },
      }),
  );
}

export function useRefuse() {
  return useAuthorityMutation((v: { id: string; reason: string }) =>
    apiRequest(`/approvals/${encodeURIComponent(v.id)}/refuse`, C.Approval, { method: "POST", body: { reason: v.reason } }),
  );
}

export function useResolveConflict() {
  return useAuthorityMutation((v: { id: string; body: z.input<typeof C.ResolveConflictRequest> }) =>
    apiRequest(`/conflicts/${encodeURIComponent(v.id)}/resolve`, C.Conflict, { method: "POST", body: v.body }),
  );
}

export function useSignOut() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      const r = await apiRequest("/session", SignedOut, { method: "DELETE" });
      beginSignOut();
      await qc.cancelQueries();
      qc.clear();
      return r;
    },
  });
}
