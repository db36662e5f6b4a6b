import "server-only";
import type { z } from "zod";
import type * as C from "../../contracts";
import { validateScope } from "../../kernel/scope";
import { newId, type HumanPrincipal } from "../auth";
import { ApiError, forbidden, notFound } from "../errors";
import { budgetColumn } from "../budgets";
import { commitAuthority } from "./commit";
import { grantOut, requireHumanEntity } from "./shared";

/**
 * Registers a root (ownership) claim for a human: the operator's tool for imports and disputed
 * claims — the only way to claim a scope inside or around another owner's resource (resources.ts
 * refuses such registrations). The commit validates the registry with it, and queues the write
 * conflicts it creates with other humans for arbitration, in the same transaction.
 */
export async function createRootClaim(principal: HumanPrincipal, body: z.infer<typeof C.CreateRootClaimRequest>) {
  if (principal.kind !== "operator") throw forbidden("only the operator registers ownership claims");
  if (body.scope !== undefined) {
    const scope = validateScope(body.scope);
    if (!scope.ok) throw new ApiError("VALIDATION_FAILED", `scope: ${scope.reason}`);
  }
  if (!body.canRead && !body.canWrite && !body.canDelegate) throw new ApiError("VALIDATION_FAILED", "a claim holds at least one right");
  return commitAuthority(principal, async ({ tx, by }) => {
    await requireHumanEntity(tx, body.holder);
    if (body.resource !== undefined && !(await tx.resource.findUnique({ where: { id: body.resource } }))) throw notFound(`resource ${body.resource}`);
    const claim = await tx.claim.create({
      data: {
        id: newId("clm"),
        holderId: body.holder,
        resourceId: body.resource ?? null,
        scope: body.scope ?? null,
        canRead: body.canRead,
        canWrite: body.canWrite,
        canDelegate: body.canDelegate,
        confidence: body.confidence ?? 1,
        createdBy: by,
        budget: budgetColumn(body.budget),
      },
    });
    return { changed: true, result: grantOut(claim), op: "register-claim", data: { claim: grantOut(claim) }, ownerId: body.holder };
  });
}
