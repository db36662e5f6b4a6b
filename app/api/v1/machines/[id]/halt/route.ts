import { HaltRequest } from "@/lib/contracts";
import { haltMachine } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Kill switch: the machine's next decision, on every replica, is BLOCKED (HALTED). */
export const POST = route({ audience: "human", body: HaltRequest }, async ({ body, params, principal }) =>
  haltMachine(requireHuman(principal), params.id!, body.reason),
);
