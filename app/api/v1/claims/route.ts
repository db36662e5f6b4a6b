import { ROUTES } from "@/lib/contracts/routes";
import { createRootClaim } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Operator only: a root (ownership) claim for a human, e.g. an import or a disputed claim. */
export const POST = route(ROUTES.createRootClaim, async ({ body, principal }) => createRootClaim(principal, body));
