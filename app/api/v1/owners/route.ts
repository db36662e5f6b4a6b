import { CreateOwnerRequest } from "@/lib/contracts";
import { createOwner, listOwners } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "operator", body: CreateOwnerRequest }, async ({ body, principal }) => createOwner(requireHuman(principal), body));
export const GET = route({ audience: "human" }, async ({ principal }) => listOwners(requireHuman(principal)));
