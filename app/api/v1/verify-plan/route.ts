import { ROUTES } from "@/lib/contracts/routes";
import { decidePlanFor, MalformedBody } from "@/lib/server/decisions";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

/** A body with a duplicated member name is a signed, audited MALFORMED_ACTION plan decision. */
export const POST = route(
  ROUTES.verifyPlan,
  async ({ body, principal }) => decidePlanFor(principal.machineId, body.actions, body.session, principal),
  { onMalformedBody: async (reason, raw, principal) => decidePlanFor(principal.machineId, new MalformedBody(reason, raw), undefined, principal) },
);
