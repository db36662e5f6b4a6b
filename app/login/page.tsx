import { redirect } from "next/navigation";
import { LoginForm } from "@/components/login/login-form";
import { readHealth } from "@/lib/server/health";
import pkg from "@/package.json";
import { readConsolePrincipal } from "../(console)/session";

export const dynamic = "force-dynamic";

/** Only local paths: `next` must never send a signed-in user to another site. */
function safeNext(next: string | string[] | undefined): string {
  const n = typeof next === "string" ? next : "/";
  return n.startsWith("/") && !n.startsWith("//") && !n.startsWith("/\\") && !n.startsWith("/login") ? n : "/";
}

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNext((await searchParams).next);
  if (await readConsolePrincipal()) redirect(next);
  const health = await readHealth(pkg.version);
  return (
    <div className="login-wrap">
      <div className="login-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Freedom Kernel
        </div>
        <h1>Sign in</h1>
        <p className="muted">Owners manage their machines, grants and approvals here; the operator administers the installation.</p>
        <LoginForm next={next} />
        <div className="login-foot">
          System{" "}
          <span className={health.status === "ok" ? "status-ok" : "status-bad"} data-testid="health-status">
            {health.status}
          </span>{" "}
          · database <span data-testid="db-provider">{health.database.provider}</span> · v{health.version}
        </div>
      </div>
    </div>
  );
}
