import { VerifyPlanEnvelope } from "@/lib/contracts";
import { decidePlanFor } from "@/lib/server/decisions";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const POST = route({ audience: "agent", body: VerifyPlanEnvelope, maxBytes: 1024 * 1024 }, async ({ body, principal }) => {
  if (principal?.kind !== "agent") throw new Error("unreachable: audience checked");
  return decidePlanFor(principal.machineId, body.actions, body.session, principal);
});
