import { ROUTES } from "@/lib/contracts/routes";
import { exportAudit } from "@/lib/server/audit-read";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(ROUTES.exportAudit, async ({ principal }) => {
  const text = await exportAudit(principal);
  return new Response(text, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="freedom-kernel-audit.jsonl"`,
      "cache-control": "no-store",
    },
  });
});
