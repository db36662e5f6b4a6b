import { HaltRequest } from "@/lib/contracts";
import { haltAll } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "operator", body: HaltRequest }, async ({ body, principal }) => haltAll(requireHuman(principal), body.reason));
