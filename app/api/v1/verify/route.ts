import { VerifyEnvelope } from "@/lib/contracts";
import { decide } from "@/lib/server/decisions";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** An agent asks before acting. Answers the signed, committed decision (PERMITTED = a permit). */
export const POST = route({ audience: "agent", body: VerifyEnvelope }, async ({ body, principal }) => {
  if (principal?.kind !== "agent") throw new Error("unreachable: audience checked");
  return decide(principal.machineId, body.action, body.session, principal);
});
