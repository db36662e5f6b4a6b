import { HaltRequest } from "@/lib/contracts";
import { haltOwner } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Halts every machine of one owner (the owner themselves, or the operator). */
export const POST = route({ audience: "human", body: HaltRequest }, async ({ body, params, principal }) =>
  haltOwner(requireHuman(principal), params.id!, body.reason),
);
