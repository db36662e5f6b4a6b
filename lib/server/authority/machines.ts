import "server-only";
import type { z } from "zod";
import type * as C from "../../contracts";
import { formatIso } from "../../kernel/iso-time";
import type { HumanPrincipal } from "../auth";
import { getDb } from "../db/client";
import { ApiError } from "../errors";
import { currentSnapshot } from "../registry";
import { commitAuthority } from "./commit";
import { actingOwner, idTaken, ownedMachine, requireHumanEntity, type Row } from "./shared";

/** Machines (agents), each owned by one human (A4). */
function machineOut(m: Row<{ id: string; displayName: string; ownerId: string | null }>, halted: boolean) {
  return { id: m.id, displayName: m.displayName, owner: m.ownerId ?? "", halted, createdAt: formatIso(m.createdAt.getTime()) };
}

export async function createMachine(principal: HumanPrincipal, body: z.infer<typeof C.CreateMachineRequest>) {
  const owner = actingOwner(principal, body.owner);
  return commitAuthority(principal, async ({ tx, by }) => {
    await requireHumanEntity(tx, owner);
    if (await idTaken(tx, body.id)) throw new ApiError("CONFLICT", `the id ${body.id} is taken`);
    const m = await tx.entity.create({ data: { id: body.id, kind: "MACHINE", displayName: body.displayName ?? body.id, ownerId: owner, createdBy: by } });
    return { changed: true, result: machineOut(m, false), op: "register-machine", data: { machine: m.id, owner }, ownerId: owner, machineId: m.id };
  });
}

export async function listMachines(principal: HumanPrincipal) {
  const db = getDb();
  const where = principal.kind === "owner" ? { kind: "MACHINE", ownerId: principal.entityId } : { kind: "MACHINE" };
  const [machines, snapshot] = await Promise.all([db.entity.findMany({ where, orderBy: { id: "asc" } }), currentSnapshot(db)]);
  return machines.map((m) => machineOut(m, snapshot.isHalted(m.id)));
}

export async function getMachine(principal: HumanPrincipal, id: string) {
  const db = getDb();
  const m = await ownedMachine(db, principal, id);
  const snapshot = await currentSnapshot(db);
  return machineOut(m, snapshot.isHalted(m.id));
}
