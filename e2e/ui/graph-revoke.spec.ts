import { expect, test } from "@playwright/test";
import { Fixture, graphNode, shot, signIn } from "./support";

test("revoking a grant edge in the graph cuts the machine off at its next verify", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Revoker");
  const bot = await fx.machine(owner, undefined, "Revoked bot");
  const res = await fx.resource(owner);
  const grant = await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  expect((await fx.verify(token, { actionId: "before-revoke", actor: bot, reads: [res] })).permitted).toBe(true);

  await signIn(page, owner, "/graph");
  const edge = page.locator(`.react-flow__edge[data-id="c:${grant.id}"]`);
  await expect(edge).toBeVisible();
  await edge.click({ force: true });
  const details = page.getByTestId("edge-details");
  await expect(details).toContainText(grant.id);
  await expect(details).toContainText(`grantor${owner.id}`);
  await details.getByRole("button", { name: "Revoke grant" }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke this grant?" });
  await expect(confirm).toContainText(`${bot} loses R on resource ${res}`);
  await confirm.getByRole("button", { name: "Revoke grant" }).click();
  await expect(confirm).toBeHidden();
  await expect(edge).toHaveCount(0);
  await shot(page, testInfo, "graph-revoked", { fullPage: false });

  const after = await fx.verify(token, { actionId: "after-revoke", actor: bot, reads: [res] });
  expect(after.permitted).toBe(false);
  expect(after.codes).toContain("READ_DENIED");
});

test("selecting a grant edge and pressing Delete asks before revoking", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Deleter");
  const bot = await fx.machine(owner);
  const res = await fx.resource(owner);
  const grant = await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: true, canDelegate: false });
  await signIn(page, owner, "/graph");
  const edge = page.locator(`.react-flow__edge[data-id="c:${grant.id}"]`);
  await edge.click({ force: true });
  await page.keyboard.press("Delete");
  const confirm = page.getByRole("dialog", { name: "Revoke this grant?" });
  await expect(confirm).toBeVisible();
  // Cancelling keeps the grant: nothing is removed locally.
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(edge).toBeVisible();
  await expect(graphNode(page, "e", bot)).toBeVisible();
  await edge.click({ force: true });
  await page.keyboard.press("Delete");
  await page.getByRole("dialog", { name: "Revoke this grant?" }).getByRole("button", { name: "Revoke grant" }).click();
  await expect(edge).toHaveCount(0);
});
