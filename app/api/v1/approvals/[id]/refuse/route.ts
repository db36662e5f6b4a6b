import { RefuseRequest } from "@/lib/contracts";
import { refuse } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "human", body: RefuseRequest }, async ({ body, params, principal }) =>
  refuse(requireHuman(principal), params.id!, body.reason),
);
