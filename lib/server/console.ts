import "server-only";
import type { z } from "zod";
import type { ConsoleRegistry, ConsoleStats, StatsWindow, StreamSinkStatus } from "../contracts/console";
import { VIOLATION_CODES, type Claim, type Halt, type RegistryData, type ViolationCode } from "../kernel/types";
import { formatIso } from "../kernel/iso-time";
import { scopeAncestors, scopeContains } from "../kernel/scope";
import type { Snapshot } from "../kernel/snapshot";
import { authenticate, type HumanPrincipal } from "./auth";
import { config } from "./config";
import { getDb } from "./db/client";
import { ApiError } from "./errors";
import { currentSnapshot, SnapshotUnavailableError } from "./registry";

/**
 * What the console needs beyond the public API: the signed-in principal for server components
 * (the same `authenticate` the route wrapper uses, fed the request's cookies), the part of the
 * registry an owner may see (the browser builds its kernel snapshot from it for the graph editor's
 * checkGrant and the playground's verify), and the dashboard's counts.
 */

/**
 * The console principal behind a Cookie header, or null when there is none or it is not valid
 * (expired session, unknown token). Machine tokens never reach the console.
 */
export async function principalFromCookieHeader(cookieHeader: string): Promise<HumanPrincipal | null> {
  if (!cookieHeader) return null;
  try {
    const principal = await authenticate(new Request("http://console.invalid/", { headers: { cookie: cookieHeader } }));
    return principal && principal.kind !== "agent" ? principal : null;
  } catch (e) {
    if (e instanceof ApiError) return null;
    throw e;
  }
}

async function snapshotOrUnavailable(): Promise<Snapshot> {
  try {
    return await currentSnapshot(getDb());
  } catch (e) {
    if (e instanceof SnapshotUnavailableError) throw new ApiError("SERVICE_UNAVAILABLE", "the registry cannot be loaded");
    throw e;
  }
}

/** The target scope a claim covers: its scope, or the scope of its resource. */
function claimTarget(snapshot: Snapshot, c: Claim): string | undefined {
  return c.scope ?? (c.resource !== undefined ? snapshot.resource(c.resource)?.scope : undefined);
}

/**
 * Whether claim `upstream` (held by a grantor) could back claim `c` (granted by that grantor).
 * A claim on a resource may back a scope claim inside that resource's scope: the kernel lets a
 * holder of a resource grant part of it (a scope that stands for part of that one resource,
 * issue 10). This over-approximates the kernel's rule (it ignores resources registered inside the
 * scope); the view only needs every claim that could back, and the browser's kernel decides.
 */
function mayBack(snapshot: Snapshot, upstream: Claim, c: Claim): boolean {
  if (!upstream.canDelegate) return false;
  if (c.resource !== undefined && upstream.resource === c.resource) return true;
  const target = claimTarget(snapshot, c);
  if (target === undefined) return false;
  if (upstream.scope !== undefined) return scopeContains(upstream.scope, target);
  if (c.scope === undefined || upstream.resource === undefined) return false;
  const held = snapshot.resource(upstream.resource);
  return held !== undefined && scopeContains(held.scope, c.scope);
}

/**
 * The most specific registered resources whose scope contains `scope` (several when they share
 * that scope: the kernel then resolves objects there to none, and the browser must see that too).
 * Objects under a scope claim resolve to these unless a resource is registered inside the claim.
 */
function containingResources(byScope: ReadonlyMap<string, readonly string[]>, scope: string): readonly string[] {
  for (const a of scopeAncestors(scope)) {
    const ids = byScope.get(a);
    if (ids !== undefined) return ids;
  }
  return [];
}

const MAX_CHAIN_ROUNDS = 64;

/**
 * The registry as one owner may see it. Included:
 *  - the owner, their machines, and who owns those machines;
 *  - every unrevoked claim held or granted by the owner or their machines, and — so the browser's
 *    kernel can check a chain exactly as the server does — the claims upstream of them: the
 *    grantor's claims that could back each one, up to the root. Those reveal only that a human
 *    who shared something with this owner holds it themselves;
 *  - the entities those claims name (id, kind, display name), and machine owners for machines;
 *  - the resources those claims name or cover, the resource(s) that objects under the owner's
 *    scope claims resolve to (the most specific containing each claim's scope), and public
 *    resources (anyone may read them, and GET /api/v1/resources lists them to every owner already);
 *  - the halts that stop this owner's machines (machine, owner-wide, global).
 * Left out: other owners' machines, resources, claims among themselves and halts. So a what-if
 * in the playground cannot see other writers of a shared resource (WRITE_CONFLICT warnings) —
 * the server's verify still does; the page says so.
 */
export function ownerView(snapshot: Snapshot, ownerId: string): { registry: RegistryData; omitted: string[] } {
  const data = snapshot.data;
  const mine = new Set<string>([ownerId, ...snapshot.machinesOf(ownerId)]);
  const live = data.claims.filter((c) => c.revokedAt === undefined);
  const claims = new Map<string, Claim>();
  for (const c of live) if (mine.has(c.holder) || (c.grantor !== undefined && mine.has(c.grantor))) claims.set(c.id, c);

  // Upstream closure: for every delegated claim included, the grantor's claims that may back it.
  let frontier = [...claims.values()];
  for (let round = 0; round < MAX_CHAIN_ROUNDS && frontier.length > 0; round++) {
    const next: Claim[] = [];
    for (const c of frontier) {
      if (c.grantor === undefined) continue;
      for (const up of snapshot.claimsOf(c.grantor)) {
        if (up.revokedAt !== undefined || claims.has(up.id) || !mayBack(snapshot, up, c)) continue;
        claims.set(up.id, up);
        next.push(up);
      }
    }
    frontier = next;
  }

  const entityIds = new Set<string>(mine);
  for (const c of claims.values()) {
    entityIds.add(c.holder);
    if (c.grantor !== undefined) entityIds.add(c.grantor);
  }
  // A machine named by a claim comes with its owner, so the snapshot knows who answers for it.
  for (const id of [...entityIds]) {
    const owner = snapshot.ownerOf(id);
    if (owner !== undefined) entityIds.add(owner);
  }

  const scopeClaims = [...claims.values()].filter((c) => c.scope !== undefined && mine.has(c.holder));
  const resourceIds = new Set<string>();
  for (const c of claims.values()) if (c.resource !== undefined) resourceIds.add(c.resource);
  // A scope claim on objects (a file of a resource, a folder in it) needs the resource those
  // objects resolve to, so the browser's kernel resolves them as the server's does (issue 10).
  const byScope = new Map<string, string[]>();
  for (const r of data.resources) {
    const ids = byScope.get(r.scope);
    if (ids === undefined) byScope.set(r.scope, [r.id]);
    else ids.push(r.id);
  }
  for (const c of scopeClaims) for (const id of containingResources(byScope, c.scope as string)) resourceIds.add(id);
  const resources = data.resources.filter(
    (r) => r.isPublic || resourceIds.has(r.id) || scopeClaims.some((c) => scopeContains(c.scope as string, r.scope)),
  );
  const keptResources = new Set(resources.map((r) => r.id));
  // A claim must name a resource the view has (an upstream claim on a resource outside it cannot occur, but stay safe).
  const keptClaims = [...claims.values()].filter((c) => c.resource === undefined || keptResources.has(c.resource));

  const halts = data.halts.filter(
    (h: Halt) => h.kind === "all" || (h.kind === "owner" && h.target === ownerId) || (h.kind === "machine" && mine.has(h.target)),
  );
  const registry: RegistryData = {
    version: data.version,
    entities: data.entities.filter((e) => entityIds.has(e.id)),
    machineOwners: data.machineOwners.filter((m) => entityIds.has(m.machine) && entityIds.has(m.owner)),
    resources,
    claims: keptClaims.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    halts,
    ...(data.lattice ? { lattice: data.lattice } : {}),
  };
  return {
    registry,
    omitted: [
      "other owners' machines, resources and the claims among them",
      "other writers of resources shared with you (the server's verify still sees them)",
      "revoked claims",
    ],
  };
}

function toJson(data: RegistryData): z.infer<typeof ConsoleRegistry>["registry"] {
  return {
    version: data.version,
    entities: data.entities.map((e) => ({ id: e.id, kind: e.kind, displayName: e.displayName })),
    machineOwners: data.machineOwners.map((m) => ({ machine: m.machine, owner: m.owner })),
    resources: data.resources.map((r) => ({
      id: r.id,
      type: r.type,
      scope: r.scope,
      isPublic: r.isPublic,
      ...(r.ifcLabel !== undefined ? { ifcLabel: r.ifcLabel } : {}),
      ...(r.owner !== undefined ? { owner: r.owner } : {}),
    })),
    claims: data.claims.map((c) => ({
      id: c.id,
      holder: c.holder,
      ...(c.resource !== undefined ? { resource: c.resource } : {}),
      ...(c.scope !== undefined ? { scope: c.scope } : {}),
      canRead: c.canRead,
      canWrite: c.canWrite,
      canDelegate: c.canDelegate,
      confidence: c.confidence,
      ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
      ...(c.grantor !== undefined ? { grantor: c.grantor } : {}),
      ...(c.revokedAt !== undefined ? { revokedAt: c.revokedAt } : {}),
      ...(c.budget !== undefined ? { budget: c.budget } : {}),
    })),
    halts: data.halts.map((h) => (h.kind === "all" ? { kind: "all" as const } : { kind: h.kind, target: h.target })),
    ...(data.lattice ? { lattice: [...data.lattice] } : {}),
  };
}

export async function consoleRegistry(principal: HumanPrincipal): Promise<z.infer<typeof ConsoleRegistry>> {
  const snapshot = await snapshotOrUnavailable();
  const generatedAt = formatIso(Date.now());
  if (principal.kind === "operator") {
    const data = snapshot.data;
    const live = { ...data, claims: data.claims.filter((c) => c.revokedAt === undefined) };
    return { view: "operator", viewer: null, registry: toJson(live), omitted: ["revoked claims"], generatedAt };
  }
  const { registry, omitted } = ownerView(snapshot, principal.entityId);
  return { view: "owner", viewer: principal.entityId, registry: toJson(registry), omitted, generatedAt };
}

// ------------------------------------------------------------------------------------------------
// Dashboard
// ------------------------------------------------------------------------------------------------

const HOUR = 3_600_000;
const WINDOWS: Record<z.infer<typeof StatsWindow>, { span: number; bucket: number }> = {
  "24h": { span: 24 * HOUR, bucket: HOUR },
  "7d": { span: 7 * 24 * HOUR, bucket: 24 * HOUR },
  "30d": { span: 30 * 24 * HOUR, bucket: 24 * HOUR },
};
/** Most decision rows read for one dashboard; beyond it the counts are marked truncated. */
const MAX_ROWS = 100_000;
const KNOWN_CODES: ReadonlySet<string> = new Set(VIOLATION_CODES);

export async function consoleStats(principal: HumanPrincipal, window: z.infer<typeof StatsWindow>, now = Date.now()): Promise<z.infer<typeof ConsoleStats>> {
  const db = getDb();
  const { span, bucket } = WINDOWS[window];
  // Buckets end at the current bucket's end, aligned to UTC bucket boundaries.
  const end = Math.floor(now / bucket) * bucket + bucket;
  const start = end - span;
  const owner = principal.kind === "owner" ? principal.entityId : undefined;
  const snapshot = await snapshotOrUnavailable();

  const [rows, pendingApprovals, openConflicts] = await Promise.all([
    db.auditEntry.findMany({
      where: { kind: { in: ["decision", "plan"] }, recordedAt: { gte: new Date(start) }, ...(owner ? { ownerId: owner } : {}) },
      select: { recordedAt: true, permitted: true, codes: true },
      orderBy: { seq: "desc" },
      take: MAX_ROWS + 1,
    }),
    db.approval.findMany({ where: { status: "PENDING", ...(owner ? { ownerId: owner } : {}) }, select: { curable: true } }),
    db.conflict.count({ where: { status: "OPEN", ...(owner ? { OR: [{ ownerAId: owner }, { ownerBId: owner }] } : {}) } }),
  ]);
  const truncated = rows.length > MAX_ROWS;
  const counted = truncated ? rows.slice(0, MAX_ROWS) : rows;

  const n = Math.round(span / bucket);
  const buckets = Array.from({ length: n }, (_, i) => ({ start: formatIso(start + i * bucket), permitted: 0, blocked: 0 }));
  const codeCounts = new Map<ViolationCode, number>();
  let permitted = 0;
  let blocked = 0;
  for (const r of counted) {
    const i = Math.floor((r.recordedAt.getTime() - start) / bucket);
    const b = buckets[i];
    if (r.permitted) permitted++;
    else blocked++;
    if (b) {
      if (r.permitted) b.permitted++;
      else b.blocked++;
    }
    for (const code of (r.codes ?? "").split(",")) {
      if (KNOWN_CODES.has(code)) codeCounts.set(code as ViolationCode, (codeCounts.get(code as ViolationCode) ?? 0) + 1);
    }
  }
  const topCodes = [...codeCounts].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1)).slice(0, 8);

  const machineIds = owner ? snapshot.machinesOf(owner) : snapshot.data.machineOwners.map((m) => m.machine);
  const halted = machineIds
    .filter((m) => snapshot.isHalted(m))
    .map((m) => ({ id: m, displayName: snapshot.entity(m)?.displayName ?? m, owner: snapshot.ownerOf(m) ?? "" }));

  return {
    window,
    bucketMs: bucket,
    from: formatIso(start),
    to: formatIso(end),
    buckets,
    totals: { permitted, blocked },
    topCodes,
    approvals: {
      pending: pendingApprovals.length,
      curable: pendingApprovals.filter((a) => a.curable).length,
      invariant: pendingApprovals.filter((a) => !a.curable).length,
    },
    conflicts: { open: openConflicts },
    machines: { total: machineIds.length, halted },
    truncated,
    stream: principal.kind === "operator" ? await streamStatus(now) : [],
  };
}

/** Every sink's row (cursor, lease, failures) against the log's head: the whole installation's view. */
async function streamStatus(now: number): Promise<StreamSinkStatus[]> {
  const db = getDb();
  const [rows, head] = await Promise.all([
    db.streamSink.findMany({ orderBy: { sink: "asc" } }),
    db.auditEntry.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } }),
  ]);
  const settings = config().stream;
  const configured = { nats: settings.nats !== null, webhook: settings.webhook !== null, stdout: settings.stdout };
  const headSeq = head?.seq ?? -1;
  const iso = (d: Date | null) => (d ? formatIso(d.getTime()) : null);
  return rows.flatMap((r): StreamSinkStatus[] => {
    if (r.sink !== "nats" && r.sink !== "webhook" && r.sink !== "stdout") return [];
    const live = r.holder !== null && r.leaseUntil !== null && r.leaseUntil.getTime() >= now;
    return [
      {
        sink: r.sink,
        configured: configured[r.sink],
        cursor: r.cursor,
        lag: Math.max(0, headSeq - r.cursor),
        holder: live ? r.holder : null,
        leaseUntil: live ? iso(r.leaseUntil) : null,
        takeovers: r.takeovers,
        failures: r.failures,
        lastError: r.lastError,
        lastShippedAt: iso(r.lastShippedAt),
      },
    ];
  });
}
