import { CreateResourceRequest } from "@/lib/contracts";
import { createResource, listResources } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Registers a resource and the owner's root claim over it. */
export const POST = route({ audience: "human", body: CreateResourceRequest }, async ({ body, principal }) => createResource(requireHuman(principal), body));
export const GET = route({ audience: "human" }, async ({ principal }) => listResources(requireHuman(principal)));
