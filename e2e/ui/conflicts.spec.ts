import { expect, test } from "@playwright/test";
import Database from "better-sqlite3";
import path from "node:path";
import { API, Fixture, operatorHeaders, shot, signIn, uid } from "./support";

/**
 * No API call creates a second root (ownership) claim on someone else's resource — registering a
 * resource is the only way to get one — so a dispute can only come from data written outside the
 * API (an import, a restored backup). The fixture does exactly that: it writes a competing root
 * claim straight into the test server's SQLite file and bumps the registry version, and the next
 * change of authority through the API queues the conflict, as it would for imported data.
 */
function insertCompetingRootClaim(holder: string, resource: string, confidence: number): string {
  const file = path.join(process.env.FK_E2E_DATA_DIR ?? "", "freedom-kernel.db");
  const db = new Database(file);
  try {
    const id = uid("clm-import");
    db.prepare(
      `INSERT INTO "Claim" ("id","holderId","resourceId","scope","canRead","canWrite","canDelegate","confidence","expiresAt","grantorId","revokedAt","approvalId","createdAt","createdBy")
       VALUES (?, ?, ?, NULL, 1, 1, 1, ?, NULL, NULL, NULL, NULL, ?, 'e2e-import')`,
    ).run(id, holder, resource, confidence, Date.now());
    db.prepare(`UPDATE "RegistryState" SET "version" = "version" + 1, "updatedAt" = ? WHERE "id" = 1`).run(Date.now());
    return id;
  } finally {
    db.close();
  }
}

test("an owner resolves a write conflict by keeping one claim", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const alice = await fx.owner("Keeper");
  const bob = await fx.owner("Claimant");
  const wiki = await fx.resource(alice, uid("wiki"), `/shared/${alice.id}`);
  const imported = insertCompetingRootClaim(bob.id, wiki, 0.6);
  await fx.machine(alice); // any change of authority runs the conflict detector

  await signIn(page, alice, "/conflicts");
  const card = page.getByTestId(`conflict-${wiki}`);
  await expect(card).toBeVisible();
  await expect(card.getByTestId("claim-A").or(card.getByTestId("claim-B")).first()).toBeVisible();
  await expect(card).toContainText(bob.id);
  await expect(card).toContainText(alice.id);
  await expect(card.getByTestId("suggestion")).toContainText(`${bob.id} loses write on ${wiki}`);
  await shot(page, testInfo, "conflicts");

  // Accept the suggestion (keep the better-evidenced claim: the owner's own, confidence 1).
  await card.getByRole("button", { name: "Resolve" }).click();
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId(`resolved-${wiki}`)).toContainText("the other lost write");

  const conflicts = (await (await request.get(`${API}/conflicts`, { headers: operatorHeaders() })).json()) as { resourceId: string; status: string; resolvedBy: string }[];
  const c = conflicts.find((x) => x.resourceId === wiki)!;
  expect(c.status).toBe("RESOLVED");
  expect(c.resolvedBy).toBe(alice.id);
  const grants = (await (await request.get(`${API}/grants`, { headers: operatorHeaders() })).json()) as { id: string; canWrite: boolean }[];
  expect(grants.find((g) => g.id === imported)?.canWrite).toBe(false);
});

test("a conflict can be resolved by lowering confidence, so every write is contested", async ({ page, request }) => {
  const fx = new Fixture(request);
  const alice = await fx.owner("Lowerer");
  const bob = await fx.owner("Other");
  const doc = await fx.resource(alice);
  const imported = insertCompetingRootClaim(bob.id, doc, 1);
  await fx.machine(alice);

  await signIn(page, bob, "/conflicts");
  const card = page.getByTestId(`conflict-${doc}`);
  await expect(card.getByTestId("suggestion")).toContainText("lower both to confidence 0.5");
  await card.getByLabel("Lower confidence").check();
  await card.getByLabel("New confidence").fill("0.4");
  await card.getByRole("button", { name: "Resolve" }).click();
  await expect(page.getByTestId(`resolved-${doc}`)).toContainText("lowered confidence to 0.4");
  const grants = (await (await request.get(`${API}/grants`, { headers: operatorHeaders() })).json()) as { id: string; confidence: number }[];
  expect(grants.find((g) => g.id === imported)?.confidence).toBe(0.4);
});
