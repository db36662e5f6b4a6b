import { listApprovals } from "@/lib/server/authority";
import { requireHuman, route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route({ audience: "human" }, async ({ req, principal }) => {
  const status = new URL(req.url).searchParams.get("status") ?? undefined;
  return listApprovals(requireHuman(principal), status === "PENDING" || status === "APPROVED" || status === "REFUSED" ? status : undefined);
});
