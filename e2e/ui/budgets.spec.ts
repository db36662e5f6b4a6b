import { expect, test, type APIRequestContext } from "@playwright/test";
import { API, Fixture, graphNode, operatorHeaders, recordMutations, shot, signIn } from "./support";

type GrantJson = { id: string; holder: string; resource: string | null; grantor: string | null; budget: unknown; usage: { uses: number; remaining: { uses?: number } } | null };

/** The agent's side of one use: verify, then redeem the permit (where the budget is consumed). */
async function useOnce(request: APIRequestContext, fx: Fixture, token: string, action: Record<string, unknown>) {
  const d = await fx.verify(token, action);
  if (!d.permitted) return { permitted: false, codes: d.codes, redeemed: null };
  const res = await request.post(`${API}/permits/redeem`, { headers: { authorization: `Bearer ${token}` }, data: d.body });
  return { permitted: true, codes: d.codes, redeemed: res.status(), record: d.body.record };
}

async function grantsAsOperator(request: APIRequestContext): Promise<GrantJson[]> {
  const res = await request.get(`${API}/grants`, { headers: operatorHeaders() });
  expect(res.status()).toBe(200);
  return (await res.json()) as GrantJson[];
}

test("a budget set in the grant dialog runs out, the inbox raises it, and every page shows what is left", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Budgeter");
  const bot = await fx.machine(owner, undefined, "Metered");
  const res = await fx.resource(owner);
  const token = await fx.token(bot);

  // The grant, drawn in the console with a budget of two uses.
  await signIn(page, owner, "/graph");
  await expect(graphNode(page, "r", res)).toBeVisible();
  await page.getByRole("button", { name: "Grant…" }).click();
  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await dialog.getByLabel("Resource", { exact: true }).selectOption(res);
  await dialog.getByLabel("Holder").selectOption(bot);
  await dialog.getByLabel("Max uses").fill("2");
  await expect(dialog.getByTestId("grant-check")).toContainText("Kernel check passed");
  await expect(dialog.getByTestId("grant-check")).toContainText("under a budget of 2 uses");
  await dialog.getByRole("button", { name: "Grant" }).click();
  await expect(dialog).toBeHidden();
  const grant = (await grantsAsOperator(request)).find((g) => g.holder === bot && g.resource === res)!;
  expect(grant.budget).toEqual({ maxUses: 2 });
  await expect(page.locator(".react-flow__edge-text").filter({ hasText: "2/2 left" })).toBeVisible();

  // Two uses from the agent, the third is refused for the budget.
  const first = await useOnce(request, fx, token, { actionId: "use-1", actor: bot, reads: [res] });
  expect(first).toMatchObject({ permitted: true, redeemed: 200 });
  expect(first.record?.budgets).toEqual([{ grant: grant.id, remaining: { uses: 1 } }]);
  expect(await useOnce(request, fx, token, { actionId: "use-2", actor: bot, reads: [res] })).toMatchObject({ permitted: true, redeemed: 200 });
  const third = await fx.verify(token, { actionId: "use-3", actor: bot, reads: [res] });
  expect(third.permitted).toBe(false);
  expect(third.codes).toEqual(["BUDGET_EXHAUSTED"]);

  // The inbox offers to raise it; the owner raises it to 3 (not the suggested 4) and approves.
  await page.goto("/approvals");
  const card = page.getByTestId("approval-use-3");
  await expect(card).toBeVisible();
  await expect(card.getByRole("table", { name: "Missing grants" })).toHaveCount(0);
  const exhausted = card.getByTestId(`exhausted-${grant.id}`);
  await expect(exhausted).toContainText("Raise the budget");
  await expect(exhausted.getByTestId("exhausted-left")).toHaveText("0/2 left");
  await expect(exhausted.getByLabel(`Raise the budget of ${grant.id}`)).toBeChecked();
  await expect(exhausted.getByLabel("Max uses")).toHaveValue("4");
  // Unchecked, there is nothing to approve.
  await exhausted.getByLabel(`Raise the budget of ${grant.id}`).uncheck();
  await expect(card.getByRole("button", { name: "Approve" })).toBeDisabled();
  await exhausted.getByLabel(`Raise the budget of ${grant.id}`).check();
  // A lowering is not a raise.
  await exhausted.getByLabel("Max uses").fill("1");
  await expect(exhausted).toContainText("smaller than the budget now");
  await expect(card.getByRole("button", { name: "Approve" })).toBeDisabled();
  await exhausted.getByLabel("Max uses").fill("3");
  await expect(card.getByTestId("approval-gain")).toContainText(`Approving raises the budget of ${grant.id} to 3 uses`);
  await shot(page, testInfo, "approvals-budget");
  const approved = page.waitForResponse((r) => r.url().includes("/approve") && r.request().method() === "POST");
  await card.getByRole("button", { name: "Approve" }).click();
  const body = (await approved).request().postDataJSON() as { raise?: unknown };
  expect(body.raise).toEqual([{ grant: grant.id, budget: { maxUses: 3 } }]);
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId("decided-use-3")).toContainText("Approved");

  // The retry, with a new actionId, passes and takes the last use.
  const retry = await useOnce(request, fx, token, { actionId: "use-3-retry", actor: bot, reads: [res] });
  expect(retry).toMatchObject({ permitted: true, redeemed: 200 });
  expect(retry.record?.budgets).toEqual([{ grant: grant.id, remaining: { uses: 0 } }]);
  expect((await fx.verify(token, { actionId: "use-4", actor: bot, reads: [res] })).codes).toEqual(["BUDGET_EXHAUSTED"]);

  // The graph edge and its details say what is left.
  await page.goto("/graph");
  const edgeText = page.locator(".react-flow__edge-text").filter({ hasText: "0/3 left" });
  await expect(edgeText).toBeVisible();
  await page.locator(".react-flow__edge").filter({ has: page.locator("text=0/3 left") }).first().click({ force: true });
  await expect(page.getByTestId("edge-budget")).toHaveText("3 uses");
  await expect(page.getByTestId("edge-budget-left")).toHaveText("0/3 left");

  // The machine page lists the budget and sets a new one.
  await page.goto("/machines");
  const row = page.getByTestId(`budget-${grant.id}`);
  await expect(row).toContainText("3 uses");
  await expect(row.getByTestId("budget-left")).toHaveText("0/3 left");
  await row.getByRole("button", { name: "Set budget…" }).click();
  const set = page.getByRole("dialog", { name: "Set budget" });
  await expect(set.getByLabel("Max uses")).toHaveValue("3");
  await set.getByLabel("Max uses").fill("5");
  await set.getByLabel("Rate uses").fill("10");
  // Per day, so the window holds every use of this test: what is left does not depend on timing.
  await set.getByLabel("Rate period").selectOption("day");
  await set.getByRole("button", { name: "Save budget" }).click();
  await expect(set).toBeHidden();
  await expect(row.getByTestId("budget-left")).toHaveText("2/5 left · 7/10 per day left");
  await shot(page, testInfo, "machines-budgets");
  expect(await useOnce(request, fx, token, { actionId: "use-5", actor: bot, reads: [res] })).toMatchObject({ permitted: true, redeemed: 200 });

  // The dashboard lists it among the budgets closest to exhaustion.
  await page.goto("/");
  const panel = page.getByTestId("budgets-panel");
  const dash = panel.getByTestId(`budget-row-${grant.id}`);
  await expect(dash).toContainText(bot);
  await expect(dash).toContainText("5 uses · 10 per day");
  await expect(dash).toContainText("1/5 left · 6/10 per day left");
  await shot(page, testInfo, "dashboard-budgets");
});

test("a grant larger than the grantor's own budget is refused in the browser before anything is sent", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Capped");
  const bot = await fx.machine(owner);
  const res = await fx.resource(owner);
  // The owner's own (root) claim on the resource gets a ceiling of five uses.
  const root = (await grantsAsOperator(request)).find((g) => g.holder === owner.id && g.resource === res && g.grantor === null)!;
  const capped = await request.post(`${API}/grants/${root.id}/budget`, { headers: operatorHeaders(), data: { budget: { maxUses: 5 } } });
  expect(capped.status()).toBe(200);

  await signIn(page, owner, "/graph");
  await expect(graphNode(page, "r", res)).toBeVisible();
  const mutations = recordMutations(page);
  await page.getByRole("button", { name: "Grant…" }).click();
  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await dialog.getByLabel("Resource", { exact: true }).selectOption(res);
  await dialog.getByLabel("Holder").selectOption(bot);
  // No budget, or one past the owner's, does not fit.
  await expect(dialog.getByTestId("grant-refused")).toContainText("EXCEEDS_GRANTOR_BUDGET");
  await expect(dialog.getByRole("button", { name: "Grant" })).toBeDisabled();
  await dialog.getByLabel("Max uses").fill("6");
  await expect(dialog.getByTestId("grant-refused")).toContainText("EXCEEDS_GRANTOR_BUDGET");
  await dialog.getByLabel("Max uses").fill("0");
  await expect(dialog.getByTestId("budget-fields").getByRole("alert")).toContainText("maxUses");
  await expect(dialog.getByRole("button", { name: "Grant" })).toBeDisabled();
  expect(mutations).toEqual([]);
  await dialog.getByLabel("Max uses").fill("5");
  await expect(dialog.getByTestId("grant-check")).toContainText("Kernel check passed");
  await dialog.getByRole("button", { name: "Grant" }).click();
  await expect(dialog).toBeHidden();
  const grant = (await grantsAsOperator(request)).find((g) => g.holder === bot && g.resource === res)!;
  expect(grant.budget).toEqual({ maxUses: 5 });
});
