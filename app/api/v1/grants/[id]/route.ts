import { ROUTES } from "@/lib/contracts/routes";
import { revokeGrant } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Revocation; everything delegated from this grant stops validating at the next decision. */
export const DELETE = route(ROUTES.revokeGrant, async ({ params, principal }) => revokeGrant(principal, params.id));
