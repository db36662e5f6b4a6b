import { ResolveConflictRequest } from "@/lib/contracts";
import { resolve } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "human", body: ResolveConflictRequest }, async ({ body, params, principal }) =>
  resolve(requireHuman(principal), params.id!, body),
);
