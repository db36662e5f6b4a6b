import { VerifyPlanEnvelope } from "@/lib/contracts";
import { decidePlanFor, MalformedBody } from "@/lib/server/decisions";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** A body with a duplicated member name is a signed, audited MALFORMED_ACTION plan decision. */
export const POST = route(
  {
    audience: "agent",
    body: VerifyPlanEnvelope,
    maxBytes: 1024 * 1024,
    onMalformedBody: async (reason, raw, principal) => {
      if (principal?.kind !== "agent") throw new Error("unreachable: audience checked");
      return decidePlanFor(principal.machineId, new MalformedBody(reason, raw), undefined, principal);
    },
  },
  async ({ body, principal }) => {
    if (principal?.kind !== "agent") throw new Error("unreachable: audience checked");
    return decidePlanFor(principal.machineId, body.actions, body.session, principal);
  },
);
