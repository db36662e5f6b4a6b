import { RedeemRequest } from "@/lib/contracts";
import { redeemPermit } from "@/lib/server/permits";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** Single use: the second redemption of a permit's nonce is refused (409). */
export const POST = route({ audience: "agent", body: RedeemRequest }, async ({ body, principal }) => {
  if (principal?.kind !== "agent") throw new Error("unreachable: audience checked");
  return redeemPermit(principal.machineId, body.record, body.signature);
});
