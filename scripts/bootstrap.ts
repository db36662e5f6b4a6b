/**
 * npm run bootstrap -- --operator-email E --operator-password P [--owner-id ID --owner-name N --owner-email E --owner-password P]
 *
 * Creates the operator account and, optionally, a first owner, without the browser, on the
 * configured database (DATABASE_URL or the embedded SQLite file; migrate it first). Passwords can
 * also come from FK_OPERATOR_PASSWORD / FK_OWNER_PASSWORD so they stay out of shell history.
 * Refuses to overwrite an existing account. The owner's registration is audited like any other.
 */
import { parseArgs } from "node:util";
import { CreateOwnerRequest, Email, Password } from "../lib/contracts";
import type { HumanPrincipal } from "../lib/server/auth";
import { hashPassword, newId } from "../lib/server/auth";
import { createOwner } from "../lib/server/authority";
import { config } from "../lib/server/config";
import { getDb } from "../lib/server/db/client";
import { resolveSigningKey } from "../lib/server/keys";

const { values } = parseArgs({
  options: {
    "operator-email": { type: "string" },
    "operator-password": { type: "string" },
    "owner-id": { type: "string" },
    "owner-name": { type: "string" },
    "owner-email": { type: "string" },
    "owner-password": { type: "string" },
  },
  strict: true,
});

function fail(message: string): never {
  console.error(`bootstrap: ${message}`);
  process.exit(2);
}

async function main() {
  const db = getDb();
  // The same key rule as npm start: a key is created only for a store that never signed; a store
  // that did must have its key (the audit entries below are signed).
  await resolveSigningKey(config(), db);
  const opEmail = values["operator-email"];
  if (opEmail) {
    const password = values["operator-password"] ?? config().bootstrap.operatorPassword;
    if (!Email.safeParse(opEmail).success) fail("--operator-email is not an email address");
    if (!password || !Password.safeParse(password).success) fail("the operator password must have at least 12 characters");
    if (await db.account.findUnique({ where: { email: opEmail.toLowerCase() } })) fail(`an account ${opEmail} exists already`);
    await db.account.create({ data: { id: newId("acc"), email: opEmail.toLowerCase(), passwordHash: await hashPassword(password), role: "OPERATOR" } });
    console.log(`operator ${opEmail} created`);
  }
  if (values["owner-id"]) {
    const body = CreateOwnerRequest.safeParse({
      id: values["owner-id"],
      displayName: values["owner-name"] ?? values["owner-id"],
      email: values["owner-email"],
      password: values["owner-password"] ?? config().bootstrap.ownerPassword ?? undefined,
    });
    if (!body.success) fail(body.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const bootstrap: HumanPrincipal = { kind: "operator", accountId: null, email: null, displayName: "bootstrap", via: "bearer", csrfToken: null };
    const owner = await createOwner(bootstrap, body.data);
    console.log(`owner ${owner.id} <${owner.email}> created`);
  }
  if (!opEmail && !values["owner-id"]) fail("nothing to do: pass --operator-email and/or --owner-id");
  await db.$disconnect();
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
