import { ROUTES } from "@/lib/contracts/routes";
import { route } from "@/lib/server/http";
import { redeemPermit } from "@/lib/server/permits";

export const dynamic = "force-dynamic";

/** Single use: the second redemption of a permit's nonce is refused (409). */
export const POST = route(ROUTES.redeemPermit, async ({ body, principal }) => redeemPermit(principal.machineId, body.record, body.signature, principal));
