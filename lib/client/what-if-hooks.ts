/**
 * react-query hooks of the what-if console (issue 12): the rules and their shadow reports, a rule's
 * promotion or removal (operator), the window of decisions the browser replays, POST /simulate,
 * and the preview that combines them — computed in the browser first, then confirmed by the
 * server, whose signed answer is authoritative.
 */
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { z } from "zod";
import * as C from "@/lib/contracts";
import type { RegistryData } from "@/lib/kernel/types";
import { apiRequest } from "./api";
import { invalidateAuthority, useRegistry } from "./hooks";
import { queryKeys } from "./query-keys";
import { compareWithServer, DEFAULT_WINDOW, replayItems, replayLocally, simulateBody, withRules, type Change, type LocalReplay, type SignedSimulation } from "./what-if";

const DECISION_WINDOW = { kind: "decision", limit: DEFAULT_WINDOW } as const;

export function useRules() {
  return useQuery({
    queryKey: queryKeys.rules(),
    queryFn: ({ signal }) => apiRequest("/rules", z.array(C.ListedRule), { signal }),
    refetchInterval: 15_000,
  });
}

function useRuleMutation<V, R>(fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: queryKeys.rules() }), invalidateAuthority(qc)]).then(() => undefined),
  });
}

/** Promote a shadow rule to enforce, or put it back in shadow (operator). */
export function useSetRuleMode() {
  return useRuleMutation((v: { id: string; mode: "enforce" | "shadow" }) => apiRequest(`/rules/${encodeURIComponent(v.id)}/mode`, C.Rule, { method: "POST", body: { mode: v.mode } }));
}

/** Drop a rule (operator). */
export function useRemoveRule() {
  return useRuleMutation((id: string) => apiRequest(`/rules/${encodeURIComponent(id)}`, C.Rule, { method: "DELETE" }));
}

/**
 * The decisions the default window of POST /simulate replays, as the caller may read them: the
 * last 500 decision entries of GET /audit (an owner's: their machines'). Re-read whenever a
 * preview opens, so the browser replays what the server will.
 */
export function useDecisionWindow(enabled = true) {
  return useQuery({
    queryKey: queryKeys.audit(DECISION_WINDOW),
    queryFn: ({ signal }) => apiRequest("/audit", C.AuditPage, { query: DECISION_WINDOW, signal }),
    enabled,
    staleTime: 0,
    refetchOnMount: "always",
  });
}

export function useSimulate() {
  return useMutation({
    mutationFn: (body: ReturnType<typeof simulateBody>) => apiRequest("/simulate", C.SignedSimulation, { method: "POST", body }),
  });
}

/** `value`, once it has stayed the same for `ms`. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

export interface WhatIfPreview {
  /** Loading the registry, the rules or the window. */
  readonly loading: boolean;
  readonly local: LocalReplay | null;
  readonly server: { status: "idle" | "pending" | "error" | "done"; answer: SignedSimulation | null; error: unknown };
  /** Null until both answered; then whether the browser's counts are the server's. */
  readonly comparison: { agree: boolean; differences: string[] } | null;
  /** The viewer's registry (for names). */
  readonly registry: RegistryData | null;
}

/**
 * The preview of `changes` (null: none yet): the browser's replay on the owner's view with the
 * rules, and the server's signed answer for the same change set once it has stayed unchanged for
 * a moment (each simulation is an audited request, not one per keystroke).
 */
export function useWhatIfPreview(changes: readonly Change[] | null): WhatIfPreview {
  const registryQuery = useRegistry();
  const rules = useRules();
  const window = useDecisionWindow(changes !== null);
  const key = changes ? JSON.stringify(changes) : null;
  const settledKey = useSettled(key, 400);
  const registry = useMemo(() => (registryQuery.data ? withRules(registryQuery.data.registry as RegistryData, rules.data) : null), [registryQuery.data, rules.data]);
  const viewer = registryQuery.data?.viewer ?? null;
  // The time the change is judged at: when the change set or the window last changed.
  const local = useMemo<LocalReplay | null>(() => {
    if (!key || !registry || !window.data || rules.isPending) return null;
    return replayLocally(registry, JSON.parse(key) as Change[], replayItems(window.data.entries), { viewer, now: Date.now() });
  }, [key, registry, window.data, rules.isPending, viewer]);
  const server = useQuery({
    queryKey: queryKeys.simulation(settledKey ?? ""),
    queryFn: ({ signal }) => apiRequest("/simulate", C.SignedSimulation, { method: "POST", body: simulateBody(JSON.parse(settledKey as string) as Change[]), signal }),
    enabled: settledKey !== null && settledKey === key,
    staleTime: Infinity,
    gcTime: 0,
    retry: false,
    refetchOnWindowFocus: false,
  });
  const answer = settledKey === key ? (server.data ?? null) : null;
  const comparison = useMemo(() => (local?.ok && answer ? compareWithServer(local.result, answer.record) : null), [local, answer]);
  const status = key === null ? "idle" : settledKey !== key || server.isFetching ? "pending" : server.isError ? "error" : server.data ? "done" : "pending";
  return {
    loading: key !== null && (registryQuery.isPending || window.isPending || rules.isPending),
    local,
    server: { status, answer, error: settledKey === key ? server.error : null },
    comparison,
    registry,
  };
}
