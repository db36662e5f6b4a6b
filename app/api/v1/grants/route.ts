import { CreateGrantRequest } from "@/lib/contracts";
import { createGrant, listGrants } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Delegation; the kernel's checkGrant decides (422 GRANT_REFUSED with its reasons). */
export const POST = route({ audience: "human", body: CreateGrantRequest }, async ({ body, principal }) => createGrant(requireHuman(principal), body));
export const GET = route({ audience: "human" }, async ({ principal }) => listGrants(requireHuman(principal)));
