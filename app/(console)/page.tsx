import { Dashboard } from "@/components/dashboard/dashboard";
import { readHealth } from "@/lib/server/health";
import pkg from "@/package.json";
import { requireConsolePrincipal } from "./session";

export const dynamic = "force-dynamic";

export default async function DashboardPage() {
  await requireConsolePrincipal("/");
  const health = await readHealth(pkg.version);
  return (
    <main>
      <Dashboard
        system={{
          status: health.status,
          version: health.version,
          provider: health.database.provider,
          migrations: `${health.database.migrations.applied}/${health.database.migrations.expected} applied`,
        }}
      />
    </main>
  );
}
