import { CreateRootClaimRequest } from "@/lib/contracts";
import { createRootClaim } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Operator only: a root (ownership) claim for a human, e.g. an import or a disputed claim. */
export const POST = route({ audience: "operator", body: CreateRootClaimRequest }, async ({ body, principal }) => createRootClaim(requireHuman(principal), body));
