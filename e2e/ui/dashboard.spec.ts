import { expect, test } from "@playwright/test";
import { Fixture, shot, signIn } from "./support";

test("the dashboard counts the owner's decisions, approvals and halted machines", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Watcher");
  const bot = await fx.machine(owner, undefined, "Busy bot");
  const idle = await fx.machine(owner, undefined, "Idle bot");
  const res = await fx.resource(owner);
  await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  await fx.verify(token, { actionId: "d1", actor: bot, reads: [res] });
  await fx.verify(token, { actionId: "d2", actor: bot, reads: [res] });
  await fx.verify(token, { actionId: "d3", actor: bot, writes: [res] });
  await fx.verify(token, { actionId: "d4", actor: bot, coerces: true });
  await request.post(`/api/v1/machines/${idle}/halt`, { headers: { authorization: `Bearer ${process.env.FK_OPERATOR_TOKEN}` }, data: {} });

  await signIn(page, owner);
  await expect(page.getByTestId("tile-decisions")).toContainText("4");
  await expect(page.getByTestId("tile-decisions")).toContainText("2 blocked");
  await expect(page.getByTestId("tile-approvals")).toContainText("1");
  await expect(page.getByTestId("tile-approvals")).toContainText("1 more blocked by an invariant");
  await expect(page.getByTestId("tile-halted")).toContainText("1");
  await expect(page.getByTestId("tile-halted")).toContainText("of 2 machines");
  await expect(page.getByTestId("halted-list")).toContainText("Idle bot");
  await expect(page.getByRole("img", { name: /2 permitted, 2 blocked/ })).toBeVisible();
  const codes = page.getByRole("region", { name: "Top violation codes" });
  await expect(codes).toContainText("WRITE_DENIED");
  await expect(codes).toContainText("FORBIDDEN_FLAG");
  await page.getByRole("button", { name: "24h" }).click();
  await expect(page.getByRole("img", { name: /Decisions per hour: 2 permitted, 2 blocked/ })).toBeVisible();
  await shot(page, testInfo, "dashboard");
});
