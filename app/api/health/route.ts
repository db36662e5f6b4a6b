import { ROUTES } from "@/lib/contracts/routes";
import { readHealth } from "@/lib/server/health";
import { route } from "@/lib/server/http";
import pkg from "@/package.json";

export const dynamic = "force-dynamic";

/** Answers without looking at credentials (the table says so): monitors need no account. */
export const GET = route(ROUTES.health, async () => {
  const health = await readHealth(pkg.version);
  return Response.json(health, { status: health.status === "ok" ? 200 : 503 });
});
