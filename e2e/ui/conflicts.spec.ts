import { expect, test, type APIRequestContext } from "@playwright/test";
import { API, Fixture, operatorHeaders, shot, signIn, uid } from "./support";

/**
 * A dispute: the operator registers a second human's ownership claim over a resource another owner
 * registered (POST /api/v1/claims, the operator's tool for imports and disputed claims). The same
 * transaction runs the kernel's conflict detector, which queues the conflict for the two owners.
 */
async function registerCompetingRootClaim(request: APIRequestContext, holder: string, resource: string, confidence: number): Promise<string> {
  const res = await request.post(`${API}/claims`, {
    headers: operatorHeaders(),
    data: { holder, resource, canRead: true, canWrite: true, canDelegate: true, confidence },
  });
  expect(res.status()).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

test("an owner resolves a write conflict by keeping one claim", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const alice = await fx.owner("Keeper");
  const bob = await fx.owner("Claimant");
  const wiki = await fx.resource(alice, uid("wiki"), `/shared/${alice.id}`);
  const imported = await registerCompetingRootClaim(request, bob.id, wiki, 0.6);

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
  const imported = await registerCompetingRootClaim(request, bob.id, doc, 1);

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
