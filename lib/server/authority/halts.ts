import "server-only";
import { newId, type HumanPrincipal } from "../auth";
import { forbidden, notFound } from "../errors";
import type { Tx } from "../registry";
import { commitAuthority, type AuthorityChange } from "./commit";
import { ownedMachine, requireHumanEntity } from "./shared";

/**
 * The kill switch (design §8): halts of one machine, of every machine of an owner, of every
 * machine. A halt row records the registry version its commit produces (createdVersion), so a
 * permit decided before it can be told apart from one decided after. Resuming lifts the halt
 * (liftedAt); halt rows are never deleted — they are the record of when a machine was stopped.
 */

type HaltKind = "machine" | "owner" | "all";

/** Adds an active halt unless one of the same kind and target is already in force. */
async function addHalt(tx: Tx, kind: HaltKind, target: string | null, by: string, version: number): Promise<void> {
  const active = await tx.halt.findFirst({ where: { kind, target, liftedAt: null } });
  if (!active) await tx.halt.create({ data: { id: newId("hlt"), kind, target, createdBy: by, createdVersion: version } });
}

async function liftHalts(tx: Tx, kind: HaltKind, target: string | null, by: string): Promise<void> {
  await tx.halt.updateMany({ where: { kind, target, liftedAt: null }, data: { liftedAt: new Date(), liftedBy: by } });
}

export async function haltMachine(principal: HumanPrincipal, machineId: string, reason?: string) {
  return commitAuthority(principal, haltChange(principal, machineId, reason));
}

/** A machine's halt as a change of authority (also what a what-if simulation applies). */
export function haltChange(principal: HumanPrincipal, machineId: string, reason?: string): AuthorityChange<{ halted: string[]; registryVersion: number }> {
  return async ({ tx, by, version }) => {
    const m = await ownedMachine(tx, principal, machineId);
    await addHalt(tx, "machine", m.id, by, version);
    return { changed: true, result: { halted: [m.id], registryVersion: version }, op: "halt", data: { machine: m.id, reason: reason ?? null }, ownerId: m.ownerId, machineId: m.id };
  };
}

export async function resumeMachine(principal: HumanPrincipal, machineId: string) {
  return commitAuthority(principal, resumeChange(principal, machineId));
}

export function resumeChange(principal: HumanPrincipal, machineId: string): AuthorityChange<{ resumed: string; registryVersion: number }> {
  return async ({ tx, by, version }) => {
    const m = await ownedMachine(tx, principal, machineId);
    await liftHalts(tx, "machine", m.id, by);
    return { changed: true, result: { resumed: m.id, registryVersion: version }, op: "resume", data: { machine: m.id }, ownerId: m.ownerId, machineId: m.id };
  };
}

export async function haltOwner(principal: HumanPrincipal, ownerId: string, reason?: string) {
  if (principal.kind === "owner" && principal.entityId !== ownerId) throw notFound(`owner ${ownerId}`);
  return commitAuthority(principal, async ({ tx, by, version }) => {
    await requireHumanEntity(tx, ownerId);
    await addHalt(tx, "owner", ownerId, by, version);
    const machines = await tx.entity.findMany({ where: { ownerId }, select: { id: true }, orderBy: { id: "asc" } });
    return { changed: true, result: { halted: machines.map((m) => m.id), registryVersion: version }, op: "halt-owner", data: { owner: ownerId, reason: reason ?? null }, ownerId };
  });
}

export async function resumeOwner(principal: HumanPrincipal, ownerId: string) {
  if (principal.kind === "owner" && principal.entityId !== ownerId) throw notFound(`owner ${ownerId}`);
  return commitAuthority(principal, async ({ tx, by, version }) => {
    await requireHumanEntity(tx, ownerId);
    await liftHalts(tx, "owner", ownerId, by);
    return { changed: true, result: { resumed: ownerId, registryVersion: version }, op: "resume-owner", data: { owner: ownerId }, ownerId };
  });
}

export async function haltAll(principal: HumanPrincipal, reason?: string) {
  if (principal.kind !== "operator") throw forbidden("only the operator halts every machine");
  return commitAuthority(principal, async ({ tx, by, version }) => {
    await addHalt(tx, "all", null, by, version);
    const machines = await tx.entity.findMany({ where: { kind: "MACHINE" }, select: { id: true }, orderBy: { id: "asc" } });
    return { changed: true, result: { halted: machines.map((m) => m.id), registryVersion: version }, op: "halt-all", data: { reason: reason ?? null }, ownerId: null };
  });
}

export async function resumeAll(principal: HumanPrincipal) {
  if (principal.kind !== "operator") throw forbidden("only the operator resumes every machine");
  return commitAuthority(principal, async ({ tx, by, version }) => {
    await liftHalts(tx, "all", null, by);
    return { changed: true, result: { resumed: "*", registryVersion: version }, op: "resume-all", data: {}, ownerId: null };
  });
}
