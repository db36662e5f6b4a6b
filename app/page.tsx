import { readHealth } from "@/lib/server/health";
import pkg from "@/package.json";

export const dynamic = "force-dynamic";

export default async function DashboardPage() {
  const health = await readHealth(pkg.version);
  const { database } = health;
  return (
    <>
      <h1>Console</h1>
      <p>
        Every action an agent takes is checked here first against its owner&apos;s delegations and ten hard
        invariants, signed, and written to an append-only audit log.
      </p>
      <section className="card" aria-labelledby="system-heading">
        <h2 id="system-heading">System</h2>
        <dl className="kv">
          <dt>Status</dt>
          <dd className={health.status === "ok" ? "status-ok" : "status-bad"} data-testid="health-status">
            {health.status}
          </dd>
          <dt>Version</dt>
          <dd>{health.version}</dd>
          <dt>Database</dt>
          <dd data-testid="db-provider">{database.provider}</dd>
          <dt>Migrations</dt>
          <dd>
            {database.migrations.applied}/{database.migrations.expected} applied
            {database.migrations.latest ? ` (latest ${database.migrations.latest})` : ""}
          </dd>
        </dl>
      </section>
    </>
  );
}
