import { ROUTES } from "@/lib/contracts/routes";
import { createResource, listResources } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Registers a resource and the owner's root claim over it. */
export const POST = route(ROUTES.createResource, async ({ body, principal }) => createResource(principal, body));
export const GET = route(ROUTES.listResources, async ({ principal }) => listResources(principal));
