import { expect, test } from "@playwright/test";
import { Fixture, graphNode, shot, signIn } from "./support";

test("dragging from a resource's handle onto a machine proposes that grant", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Dragger");
  const bot = await fx.machine(owner, undefined, "Drag target");
  const res = await fx.resource(owner);
  const token = await fx.token(bot);
  await signIn(page, owner, "/graph");

  const source = graphNode(page, "r", res).locator(".react-flow__handle.source");
  const target = graphNode(page, "e", bot).locator(".react-flow__handle.target");
  await expect(source).toBeVisible();
  await expect(target).toBeVisible();
  const a = (await source.boundingBox())!;
  const b = (await target.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + 40, a.y + 60, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();

  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Resource", { exact: true })).toHaveValue(res);
  await expect(dialog.getByLabel("Holder")).toHaveValue(bot);
  await dialog.getByLabel("Write").check();
  await expect(dialog.getByTestId("grant-check")).toContainText("would get read, write on");
  await dialog.getByRole("button", { name: "Grant" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(".react-flow__edge-text").filter({ hasText: new RegExp(`^R/W · by ${owner.id}$`) })).toHaveCount(1);
  const v = await fx.verify(token, { actionId: "drag-write", actor: bot, writes: [res] });
  expect(v.permitted).toBe(true);
  await shot(page, testInfo, "graph-dragged", { fullPage: false });
});
