import { expect, test } from "@playwright/test";
import { Fixture, graphNode, recordMutations, shot, signIn } from "./support";

test("a grant drawn with the Grant form takes effect on the agent's next verify", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Granter");
  const bot = await fx.machine(owner, undefined, "Summariser");
  const doc = await fx.resource(owner, undefined, `/docs/${owner.id}`);
  const other = await fx.resource(owner, undefined, `/docs/${owner.id}/other`);
  // Some context for the README screenshot: a second machine with its own grant.
  const reporter = await fx.machine(owner, undefined, "Reporter");
  const reports = await fx.resource(owner, `q3-report-${owner.id.slice(-4)}.md`, `/reports/${owner.id}`);
  await fx.grant({ holder: reporter, grantor: owner.id, resource: reports, canRead: true, canWrite: true, canDelegate: false, confidence: 0.9 });
  await signIn(page, owner, "/machines");

  // The machine's API token, created in the console: the secret is shown once.
  await page.getByTestId(`machine-row-${bot}`).getByRole("button", { name: "API tokens" }).click();
  await page.getByTestId(`tokens-${bot}`).getByRole("button", { name: "Create token" }).click();
  const secret = (await page.getByTestId("token-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^fkm_/);
  await page.getByRole("button", { name: "I have stored it" }).click();
  await expect(page.getByTestId("token-secret")).toHaveCount(0);
  await expect(page.getByTestId(`tokens-${bot}`).getByRole("table")).toContainText("active");

  const before = await fx.verify(secret, { actionId: "read-doc-1", actor: bot, reads: [doc] });
  expect(before.permitted).toBe(false);
  expect(before.codes).toContain("READ_DENIED");

  await page.goto("/graph");
  await expect(graphNode(page, "r", doc)).toBeVisible();
  const mutations = recordMutations(page);
  await page.getByRole("button", { name: "Grant…" }).click();
  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await dialog.getByLabel("Resource", { exact: true }).selectOption(doc);
  await dialog.getByLabel("Holder").selectOption(bot);
  // Read is checked by default; the kernel's check runs in the browser as the form changes.
  await expect(dialog.getByTestId("grant-check")).toContainText("Kernel check passed");
  await dialog.getByLabel("Expiry").selectOption("1d");
  await shot(page, testInfo, "grant-dialog", { fullPage: false });
  expect(mutations).toEqual([]);
  await dialog.getByRole("button", { name: "Grant" }).click();
  await expect(dialog).toBeHidden();

  // The edge appears with its rights, expiry and grantor.
  const edge = page.locator(".react-flow__edge").filter({ has: page.locator(`text=R · until`) });
  await expect(edge.first()).toBeVisible();
  await expect(page.locator(".react-flow__edge-textwrapper, .react-flow__edge-text").filter({ hasText: `by ${owner.id}` }).first()).toBeVisible();

  const after = await fx.verify(secret, { actionId: "read-doc-2", actor: bot, reads: [doc] });
  expect(after.permitted).toBe(true);
  // Only what was granted: the other resource and writing stay denied.
  const narrow = await fx.verify(secret, { actionId: "write-doc", actor: bot, writes: [doc], reads: [other] });
  expect(narrow.permitted).toBe(false);
  expect(narrow.codes).toEqual(expect.arrayContaining(["WRITE_DENIED", "READ_DENIED"]));
  // The new grant's details, as the README shows them.
  await page.locator(".react-flow__edge").filter({ has: page.locator("text=R · until") }).first().click({ force: true });
  await expect(page.getByTestId("edge-details")).toContainText(`grantor${owner.id}`);
  await page.getByRole("status").filter({ hasText: "Granted" }).click();
  await shot(page, testInfo, "graph", { fullPage: false, docs: "graph.png" });
});
