import { readHealth } from "@/lib/server/health";
import pkg from "@/package.json";

export const dynamic = "force-dynamic";

export async function GET() {
  const health = await readHealth(pkg.version);
  return Response.json(health, { status: health.status === "ok" ? 200 : 503 });
}
