import { ROUTES } from "@/lib/contracts/routes";
import { createToken, listTokens } from "@/lib/server/authority";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** The secret is in this response only; the server keeps its SHA-256. */
export const POST = route(ROUTES.createToken, async ({ body, params, principal }) => createToken(principal, params.id, body.label));
export const GET = route(ROUTES.listTokens, async ({ params, principal }) => listTokens(principal, params.id));
