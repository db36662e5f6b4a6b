import { expect, test } from "@playwright/test";
import { Fixture, shot, signIn } from "./support";

test("API tokens: the secret is shown once, listed without it, and a revoked token stops working", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Tokens");
  const bot = await fx.machine(owner, undefined, "Token bot");
  await signIn(page, owner, "/machines");
  const row = page.getByTestId(`machine-row-${bot}`);
  await row.getByRole("button", { name: "API tokens" }).click();
  const panel = page.getByTestId(`tokens-${bot}`);
  await panel.getByLabel("Token label").fill("ci-runner");
  await panel.getByRole("button", { name: "Create token" }).click();
  const secret = (await page.getByTestId("token-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^fkm_[A-Za-z0-9_-]{20,}$/);
  await shot(page, testInfo, "machines-token-created");
  const action = { actionId: "tok-1", actor: bot };
  expect((await request.post("/api/v1/verify", { headers: { authorization: `Bearer ${secret}` }, data: { action } })).status()).toBe(200);

  // After a reload the secret is gone for good; the list shows the label only.
  await page.reload();
  await row.getByRole("button", { name: "API tokens" }).click();
  await expect(panel.getByRole("table")).toContainText("ci-runner");
  await expect(page.locator("body")).not.toContainText(secret);

  await panel.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("dialog", { name: "Revoke this token?" }).getByRole("button", { name: "Revoke token" }).click();
  await expect(panel.getByRole("table")).toContainText("revoked");
  const refused = await request.post("/api/v1/verify", { headers: { authorization: `Bearer ${secret}` }, data: { action: { ...action, actionId: "tok-2" } } });
  expect(refused.status()).toBe(401);
  expect(((await refused.json()) as { permitted: boolean }).permitted).toBe(false);
});
