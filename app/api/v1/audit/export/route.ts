import { exportAudit } from "@/lib/server/audit-read";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route({ audience: "human" }, async ({ principal }) => {
  const text = await exportAudit(requireHuman(principal));
  return new Response(text, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="freedom-kernel-audit.jsonl"`,
      "cache-control": "no-store",
    },
  });
});
