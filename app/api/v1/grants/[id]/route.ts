import { revokeGrant } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Revocation; everything delegated from this grant stops validating at the next decision. */
export const DELETE = route({ audience: "human" }, async ({ params, principal }) => revokeGrant(requireHuman(principal), params.id!));
