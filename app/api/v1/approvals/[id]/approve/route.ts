import { ApproveRequest } from "@/lib/contracts";
import { approve } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "human", body: ApproveRequest }, async ({ body, params, principal }) =>
  approve(requireHuman(principal), params.id!, body.ttlSeconds, body.widen),
);
