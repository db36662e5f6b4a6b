import { expect, test } from "@playwright/test";
import { Fixture, shot, signIn } from "./support";

test("halting a machine blocks its next verify; resuming permits again", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Halter");
  const bot = await fx.machine(owner, undefined, "Runaway");
  const res = await fx.resource(owner);
  await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  const read = (n: number) => fx.verify(token, { actionId: `read-${n}`, actor: bot, reads: [res] });
  expect((await read(1)).permitted).toBe(true);

  await signIn(page, owner, "/machines");
  const row = page.getByTestId(`machine-row-${bot}`);
  await expect(row).toContainText("Running");
  await expect(row).toContainText("read-1");
  await row.getByRole("button", { name: "Halt" }).click();
  const confirm = page.getByRole("dialog", { name: "Halt Runaway?" });
  await expect(confirm).toContainText("BLOCKED (HALTED)");
  // The what-if preview (issue 12): read-1 would have been blocked, computed in the browser and confirmed by the server.
  await expect(confirm.getByTestId("what-if-sentence")).toContainText("Halting Runaway would have blocked 1 of Runaway's last 1 action.");
  await expect(confirm.getByTestId("what-if-confirmed")).toBeVisible();
  await confirm.getByLabel("Reason").fill("e2e: investigating");
  await confirm.getByRole("button", { name: "Halt machine" }).click();
  await expect(row).toContainText("Halted");
  await expect(row).toContainText("halted directly");

  const halted = await read(2);
  expect(halted.permitted).toBe(false);
  expect(halted.codes).toContain("HALTED");
  await shot(page, testInfo, "machines-halted");

  await row.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("dialog", { name: "Resume Runaway?" }).getByRole("button", { name: "Resume machine" }).click();
  await expect(row).toContainText("Running");
  expect((await read(3)).permitted).toBe(true);
});

test("halt all my machines stops every machine of the owner until lifted", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Fleet");
  const a = await fx.machine(owner);
  const b = await fx.machine(owner);
  const res = await fx.resource(owner);
  for (const m of [a, b]) await fx.grant({ holder: m, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const [ta, tb] = [await fx.token(a), await fx.token(b)];
  // Another owner's machine is not touched by this owner's halt.
  const other = await fx.owner("Bystander");
  const c = await fx.machine(other);
  const rc = await fx.resource(other);
  await fx.grant({ holder: c, grantor: other.id, resource: rc, canRead: true, canWrite: false, canDelegate: false });
  const tc = await fx.token(c);

  // Traffic the preview replays: one permitted read of each machine, and one of the bystander's.
  expect((await fx.verify(ta, { actionId: "fa0", actor: a, reads: [res] })).permitted).toBe(true);
  expect((await fx.verify(tb, { actionId: "fb0", actor: b, reads: [res] })).permitted).toBe(true);
  expect((await fx.verify(tc, { actionId: "fc0", actor: c, reads: [rc] })).permitted).toBe(true);

  await signIn(page, owner, "/machines");
  await page.getByRole("button", { name: "Halt all my machines" }).click();
  const dialog = page.getByRole("dialog", { name: "Halt all your machines?" });
  // The what-if preview of the fleet halt: both of the owner's reads flip, the bystander's is not in the window.
  await expect(dialog.getByTestId("what-if-sentence")).toHaveAttribute("data-blocked", "2");
  await expect(dialog.getByTestId("what-if-sentence")).toHaveAttribute("data-replayed", "2");
  await expect(dialog.getByTestId("what-if-confirmed")).toBeVisible();
  await dialog.getByRole("button", { name: "Halt all my machines" }).click();
  await expect(page.getByTestId("fleet-halted")).toBeVisible();
  await expect(page.getByTestId(`machine-row-${a}`)).toContainText("owner-wide halt");
  expect((await fx.verify(ta, { actionId: "fa", actor: a, reads: [res] })).codes).toContain("HALTED");
  expect((await fx.verify(tb, { actionId: "fb", actor: b, reads: [res] })).codes).toContain("HALTED");
  expect((await fx.verify(tc, { actionId: "fc", actor: c, reads: [rc] })).permitted).toBe(true);

  await page.getByRole("button", { name: "Lift my owner-wide halt" }).click();
  await page.getByRole("dialog", { name: "Lift your owner-wide halt?" }).getByRole("button", { name: "Lift halt" }).click();
  await expect(page.getByTestId("fleet-halted")).toHaveCount(0);
  expect((await fx.verify(ta, { actionId: "fa2", actor: a, reads: [res] })).permitted).toBe(true);
});
