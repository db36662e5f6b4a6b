import "server-only";
import crypto from "node:crypto";
import type { z } from "zod";
import type * as C from "../contracts";
import { sha256Hex } from "../kernel/bytes";
import { canonicalJson, utf8 } from "../kernel/canonical";
import { buildSimulationRecord, replayDecisions, simulationSigningBytes, type ReplayItem } from "../kernel/simulate";
import type { HumanPrincipal } from "./auth";
import { auditProposal, proposeChanges, type AuthorityChange } from "./authority/commit";
import { grantChange, revokeChange } from "./authority/grants";
import { haltChange, resumeChange } from "./authority/halts";
import { addResourceChange, removeResourceChange } from "./authority/resources";
import { addRuleChange, removeRuleChange } from "./authority/rules";
import { actorName } from "./authority/shared";
import { getDb } from "./db/client";
import { notFound } from "./errors";
import { Turns } from "./turns";

/**
 * What-if replay (issue 12): "what would this change of authority have done to my machines'
 * recent decisions?" The change set is applied by the very change functions of the real commits
 * inside a transaction that is rolled back (authority/commit.ts proposeChanges), the registry it
 * leaves is validated by the kernel, and the window's logged actions are verified against the
 * committed and the proposed snapshot (kernel replayDecisions). The answer is a record signed
 * under its own domain — never a permit nor a decision — and the request is audited: who asked,
 * the change set, the digest of the answer. Nothing else is written.
 */

type SimulateRequest = z.infer<typeof C.SimulateRequest>;
type Change = SimulateRequest["changes"][number];

/** The change function each proposed change is applied with: the one its real commit runs. */
function changeOf(principal: HumanPrincipal, c: Change): AuthorityChange<unknown> {
  switch (c.op) {
    case "grant": {
      const { op: _op, ...body } = c;
      return grantChange(principal, body);
    }
    case "revoke":
      return revokeChange(principal, c.grant);
    case "halt":
      return haltChange(principal, c.machine);
    case "resume":
      return resumeChange(principal, c.machine);
    case "addResource": {
      const { op: _op, ...body } = c;
      return addResourceChange(principal, body);
    }
    case "removeResource":
      return removeResourceChange(principal, c.resource);
    case "addRule": {
      const { op: _op, ...body } = c;
      return addRuleChange(principal, body);
    }
    case "removeRule":
      return removeRuleChange(principal, c.rule);
    default: {
      const unreachable: never = c;
      return unreachable;
    }
  }
}

export const DEFAULT_WINDOW = 500;

/** The machines a window covers: the caller's own (an owner), or any (the operator). */
async function windowMachines(principal: HumanPrincipal, asked: readonly string[] | undefined): Promise<string[] | null> {
  if (principal.kind === "operator") return asked ? [...asked] : null;
  const own = new Set((await getDb().entity.findMany({ where: { ownerId: principal.entityId, kind: "MACHINE" }, select: { id: true } })).map((m) => m.id));
  if (!asked) return [...own];
  for (const m of asked) if (!own.has(m)) throw notFound(`machine ${m}`);
  return [...asked];
}

/** The window's decisions as the kernel replays them, oldest first (entries without an action are skipped). */
async function windowItems(machines: string[] | null, last: number, since: string | undefined): Promise<ReplayItem[]> {
  const rows = await getDb().auditEntry.findMany({
    where: { kind: "decision", ...(machines ? { machineId: { in: machines } } : {}), ...(since ? { recordedAt: { gte: new Date(since) } } : {}) },
    orderBy: { seq: "desc" },
    take: last,
    select: { seq: true, payload: true, machineId: true },
  });
  const items: ReplayItem[] = [];
  for (const r of rows.reverse()) {
    const p = JSON.parse(r.payload) as { action?: unknown; record?: { actionId?: unknown } };
    if (p.action === undefined || r.machineId === null || typeof p.record?.actionId !== "string") continue;
    items.push({ auditSeq: r.seq, actionId: p.record.actionId, machine: r.machineId, action: p.action });
  }
  return items;
}

/**
 * One simulation at a time per process, 32 more waiting, the rest 429: applying a change set holds
 * the append lock, and previews come in bursts (one per inbox card).
 */
const turns = new Turns("what-if simulations", 1, 32);

export function simulate(principal: HumanPrincipal, body: SimulateRequest) {
  return turns.run(() => simulateNow(principal, body));
}

async function simulateNow(principal: HumanPrincipal, body: SimulateRequest) {
  const machines = await windowMachines(principal, body.window?.machines);
  const changes = body.changes.map((c) => changeOf(principal, c));
  const { current, proposed } = await proposeChanges(principal, changes);
  const last = body.window?.last ?? DEFAULT_WINDOW;
  const items = machines !== null && machines.length === 0 ? [] : await windowItems(machines, last, body.window?.since);
  const now = Date.now();
  const replay = replayDecisions(current, proposed, items, now);
  const by = actorName(principal);
  const changesDigest = sha256Hex(utf8(canonicalJson(body.changes)));
  return auditProposal((audit) => {
    const record = buildSimulationRecord({
      requestedBy: by,
      changesDigest,
      current: current.ref,
      proposed: proposed.ref,
      window: { machines: machines ?? ["*"], last, ...(body.window?.since ? { since: body.window.since } : {}) },
      replayed: replay.replayed,
      flips: replay.flips,
      counts: replay.counts,
      now,
      nonce: crypto.randomBytes(16).toString("hex"),
      keyId: audit.keyId,
    });
    const bytes = simulationSigningBytes(record);
    const signature = audit.sign(bytes);
    return {
      result: { record, signature, keyId: audit.keyId },
      entry: [
        { kind: "system", op: "simulate", by, changes: JSON.parse(JSON.stringify(body.changes)), changesDigest, recordDigest: sha256Hex(bytes), replayed: replay.replayed, flips: replay.flips.length },
        { kind: "system", actorId: by, ownerId: principal.kind === "owner" ? principal.entityId : null, machineId: null },
        now,
      ],
    };
  });
}
