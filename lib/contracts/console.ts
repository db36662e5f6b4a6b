/**
 * Contracts of the console's own read endpoints (app/api/v1/console/**): the registry view the
 * browser builds its kernel snapshot from (graph editor, playground), and the dashboard's counts.
 * Strict objects, like every other contract: an unknown key is a bug, not something to ignore.
 */
import { z } from "zod";
import { Budget, IsoTime, ResourceType, ViolationCode } from "./index";

const Ms = z.number().int().describe("milliseconds since the Unix epoch");

export const RegistryEntity = z.strictObject({ id: z.string(), kind: z.enum(["HUMAN", "MACHINE"]), displayName: z.string() });
export const RegistryMachineOwner = z.strictObject({ machine: z.string(), owner: z.string() });
export const RegistryResource = z.strictObject({
  id: z.string(),
  type: ResourceType,
  scope: z.string(),
  isPublic: z.boolean(),
  ifcLabel: z.string().optional(),
  /** The human who registered it (lib/kernel/ownership.ts). */
  owner: z.string().optional(),
});
export const RegistryClaim = z.strictObject({
  id: z.string(),
  holder: z.string(),
  resource: z.string().optional(),
  scope: z.string().optional(),
  canRead: z.boolean(),
  canWrite: z.boolean(),
  canDelegate: z.boolean(),
  confidence: z.number(),
  expiresAt: Ms.optional(),
  grantor: z.string().optional(),
  revokedAt: Ms.optional(),
  budget: Budget.optional(),
});
export const RegistryHalt = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("machine"), target: z.string() }),
  z.strictObject({ kind: z.literal("owner"), target: z.string() }),
  z.strictObject({ kind: z.literal("all") }),
]);

/** The kernel's RegistryData (lib/kernel/types.ts) as JSON; buildSnapshot validates it again. */
export const RegistryDataJson = z.strictObject({
  version: z.number().int(),
  entities: z.array(RegistryEntity),
  machineOwners: z.array(RegistryMachineOwner),
  resources: z.array(RegistryResource),
  claims: z.array(RegistryClaim),
  halts: z.array(RegistryHalt),
  lattice: z.array(z.string()).optional(),
});
export type RegistryDataJson = z.infer<typeof RegistryDataJson>;

export const ConsoleRegistry = z.strictObject({
  /** "owner": the part of the registry this owner may see; "operator": all of it. */
  view: z.enum(["owner", "operator"]),
  /** The owner's entity id; null for the operator. */
  viewer: z.string().nullable(),
  registry: RegistryDataJson,
  /** What was left out, so the console can say so plainly. */
  omitted: z.array(z.string()),
  generatedAt: IsoTime,
});
export type ConsoleRegistry = z.infer<typeof ConsoleRegistry>;

export const StatsWindow = z.enum(["24h", "7d", "30d"]);
export const StatsQuery = z.strictObject({ window: StatsWindow.default("7d") });

/** One audit stream sink as the operator's dashboard shows it (lib/server/stream). */
export const StreamSinkStatus = z.strictObject({
  sink: z.enum(["nats", "webhook", "stdout"]),
  /** Whether this replica's configuration names the sink (a row stays after a sink is removed). */
  configured: z.boolean(),
  /** Seq of the last entry the sink acknowledged; -1 before the first. */
  cursor: z.number().int(),
  /** Entries in the log after the cursor. */
  lag: z.number().int(),
  /** The replica holding the lease, while it is unexpired; null when no replica ships to the sink. */
  holder: z.string().nullable(),
  leaseUntil: IsoTime.nullable(),
  takeovers: z.number().int(),
  /** Consecutive failed deliveries since the last success, and the last failure. */
  failures: z.number().int(),
  lastError: z.string().nullable(),
  lastShippedAt: IsoTime.nullable(),
});
export type StreamSinkStatus = z.infer<typeof StreamSinkStatus>;

export const ConsoleStats = z.strictObject({
  window: StatsWindow,
  bucketMs: z.number().int(),
  from: IsoTime,
  to: IsoTime,
  buckets: z.array(z.strictObject({ start: IsoTime, permitted: z.number().int(), blocked: z.number().int() })),
  totals: z.strictObject({ permitted: z.number().int(), blocked: z.number().int() }),
  topCodes: z.array(z.strictObject({ code: ViolationCode, count: z.number().int() })),
  approvals: z.strictObject({ pending: z.number().int(), curable: z.number().int(), invariant: z.number().int() }),
  conflicts: z.strictObject({ open: z.number().int() }),
  machines: z.strictObject({ total: z.number().int(), halted: z.array(z.strictObject({ id: z.string(), displayName: z.string(), owner: z.string() })) }),
  /** True when the window held more decisions than were counted (the counts are a lower bound). */
  truncated: z.boolean(),
  /** The audit stream's sinks; the operator's view only (empty for owners and without a stream). */
  stream: z.array(StreamSinkStatus),
});
export type ConsoleStats = z.infer<typeof ConsoleStats>;
