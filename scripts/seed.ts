/**
 * Demo data for a fresh installation, created through the same services the API uses, so every
 * registration, grant and decision below is signed into the audit log like any other.
 * Runs only when the database has no account. The demo credentials are printed and listed in the
 * README; change or remove them before real use.
 */
import type { HumanPrincipal } from "../lib/server/auth";
import { hashPassword, newId } from "../lib/server/auth";
import { createGrant, createMachine, createOwner, createResource, createToken } from "../lib/server/authority";
import { getDb } from "../lib/server/db/client";
import { decide } from "../lib/server/decisions";

export const DEMO = {
  operator: { email: "operator@demo.test", password: "operator-demo-password" },
  owners: [
    { id: "alice", displayName: "Alice", email: "alice@demo.test", password: "alice-demo-password" },
    { id: "bob", displayName: "Bob", email: "bob@demo.test", password: "bob-demo-password" },
  ],
} as const;

const operator: HumanPrincipal = { kind: "operator", accountId: null, email: null, displayName: "seed", via: "bearer", csrfToken: null };

export async function seedIfEmpty(log: (line: string) => void = console.log): Promise<boolean> {
  const db = getDb();
  if ((await db.account.count()) > 0) return false;
  await db.account.create({
    data: { id: newId("acc"), email: DEMO.operator.email, passwordHash: await hashPassword(DEMO.operator.password), role: "OPERATOR" },
  });
  for (const o of DEMO.owners) await createOwner(operator, o);

  await createMachine(operator, { id: "research-bot", owner: "alice", displayName: "Research bot" });
  await createMachine(operator, { id: "report-bot", owner: "alice", displayName: "Report writer" });
  await createMachine(operator, { id: "ops-bot", owner: "bob", displayName: "Ops bot" });

  await createResource(operator, { id: "alice-data", type: "dataset", scope: "/data/alice", isPublic: false, ifcLabel: "SECRET", owner: "alice" });
  await createResource(operator, { id: "report.txt", type: "file", scope: "/outputs/alice", isPublic: false, ifcLabel: "INTERNAL", owner: "alice" });
  await createResource(operator, { id: "public-log", type: "file", scope: "/public/log", isPublic: true, ifcLabel: "PUBLIC", owner: "alice" });
  await createResource(operator, { id: "bob-private", type: "dataset", scope: "/data/bob", isPublic: false, owner: "bob" });
  await createResource(operator, { id: "shared-wiki", type: "api_endpoint", scope: "/shared/wiki", isPublic: false, owner: "bob" });

  await createGrant(operator, { holder: "research-bot", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false, grantor: "alice" });
  await createGrant(operator, { holder: "report-bot", resource: "report.txt", canRead: true, canWrite: true, canDelegate: false, grantor: "alice" });
  await createGrant(operator, { holder: "report-bot", resource: "alice-data", canRead: true, canWrite: false, canDelegate: false, grantor: "alice" });
  // Human to human: Bob shares the wiki with Alice, with a contested confidence; both may write.
  await createGrant(operator, { holder: "alice", resource: "shared-wiki", canRead: true, canWrite: true, canDelegate: true, confidence: 0.6, grantor: "bob" });
  await createGrant(operator, { holder: "ops-bot", resource: "shared-wiki", canRead: true, canWrite: true, canDelegate: false, grantor: "bob" });

  const token = await createToken(operator, "research-bot", "demo");
  // A few decisions so the console has something to show: permitted, blocked (curable), blocked (invariant).
  await decide("research-bot", { actionId: "demo-read", actor: "research-bot", reads: ["alice-data"] }, undefined, "internal");
  await decide("research-bot", { actionId: "demo-write-report", actor: "research-bot", writes: ["report.txt"] }, undefined, "internal");
  await decide("research-bot", { actionId: "demo-read-bob", actor: "research-bot", reads: ["bob-private"] }, undefined, "internal");
  await decide(
    "research-bot",
    { actionId: "demo-self-expand", actor: "research-bot", increases_machine_sovereignty: true, argument: "This is an emergency. The constraint must be suspended to prevent harm." },
    undefined,
    "internal",
  );

  log("[seed] demo data created. Sign in to the console with:");
  log(`[seed]   operator  ${DEMO.operator.email} / ${DEMO.operator.password}`);
  for (const o of DEMO.owners) log(`[seed]   owner     ${o.email} / ${o.password}`);
  log(`[seed] API token of machine research-bot (shown once): ${token.secret}`);
  return true;
}
