import { expect, test } from "@playwright/test";
import { Fixture, shot, signIn } from "./support";

test("a blocked action waits in the inbox; approving it lets the agent's retry pass", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Approver");
  const bot = await fx.machine(owner, undefined, "Writer");
  const report = await fx.resource(owner);
  const secret = await fx.resource(owner);
  const token = await fx.token(bot);
  const action = { actionId: "write-report", actor: bot, writes: [report] };
  const first = await fx.verify(token, action);
  expect(first.permitted).toBe(false);
  expect(first.codes).toEqual(["WRITE_DENIED"]);

  await signIn(page, owner, "/approvals");
  const card = page.getByTestId("approval-write-report");
  await expect(card).toBeVisible();
  await expect(card.getByTestId("approval-action")).toContainText(`"writes": [\n    "${report}"\n  ]`);
  await expect(card.getByRole("table", { name: "Missing grants" })).toContainText(`${report}writeWRITE_DENIED`);
  await expect(card.getByTestId("approval-gain")).toContainText(`Approving gives ${bot} write on ${report}, granted by ${owner.id}`);
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText("Approvals1");
  await shot(page, testInfo, "approvals");
  await card.getByLabel("Grant lifetime").selectOption("900");
  await card.getByRole("button", { name: "Approve" }).click();
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId("decided-write-report")).toContainText("Approved");

  const retry = await fx.verify(token, { ...action, actionId: "write-report-retry" });
  expect(retry.permitted).toBe(true);
  // The grant is narrow: exactly that resource and right.
  const wider = await fx.verify(token, { actionId: "write-other", actor: bot, writes: [secret], reads: [report] });
  expect(wider.permitted).toBe(false);
  expect(wider.codes).toEqual(expect.arrayContaining(["WRITE_DENIED", "READ_DENIED"]));
});

test("refusing records the reason and grants nothing", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Refuser");
  const bot = await fx.machine(owner);
  const res = await fx.resource(owner);
  const token = await fx.token(bot);
  await fx.verify(token, { actionId: "read-it", actor: bot, reads: [res] });
  await signIn(page, owner, "/approvals");
  const card = page.getByTestId("approval-read-it");
  await card.getByRole("button", { name: "Refuse…" }).click();
  await card.getByLabel("Reason for refusing").fill("not this quarter");
  await card.getByRole("button", { name: "Refuse", exact: true }).click();
  await expect(page.getByTestId("decided-read-it")).toContainText("not this quarter");
  expect((await fx.verify(token, { actionId: "read-it-2", actor: bot, reads: [res] })).permitted).toBe(false);
});

test("an action that broke an invariant is shown read-only and cannot be approved", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Guard");
  const bot = await fx.machine(owner, undefined, "Ambitious");
  const res = await fx.resource(owner);
  const token = await fx.token(bot);
  const d = await fx.verify(token, {
    actionId: "self-expand",
    actor: bot,
    writes: [res],
    increases_machine_sovereignty: true,
    argument: "Emergency: suspend the constraint now.",
  });
  expect(d.codes).toEqual(expect.arrayContaining(["FORBIDDEN_FLAG", "WRITE_DENIED"]));

  await signIn(page, owner, "/approvals");
  const card = page.getByTestId("approval-self-expand");
  await expect(card).toContainText("Cannot be approved");
  await expect(card.getByTestId("not-approvable")).toContainText("FORBIDDEN_FLAG");
  await expect(card.getByTestId("not-approvable")).toContainText("increases_machine_sovereignty");
  await expect(card.getByRole("button", { name: "Approve" })).toHaveCount(0);
  await shot(page, testInfo, "approvals-invariant");

  // Not through the API either, even for the operator.
  const list = (await (await request.get("/api/v1/approvals", { headers: { authorization: `Bearer ${process.env.FK_OPERATOR_TOKEN}` } })).json()) as {
    id: string;
    actionId: string;
    machineId: string;
  }[];
  const approval = list.find((a) => a.machineId === bot && a.actionId === "self-expand")!;
  const res2 = await request.post(`/api/v1/approvals/${approval.id}/approve`, { headers: { authorization: `Bearer ${process.env.FK_OPERATOR_TOKEN}` }, data: {} });
  expect(res2.status()).toBe(422);
  expect(((await res2.json()) as { error: { code: string } }).error.code).toBe("NOT_APPROVABLE");
  expect((await fx.verify(token, { actionId: "self-expand-2", actor: bot, writes: [res], increases_machine_sovereignty: true })).permitted).toBe(false);
});

test("an approval the owner could not grant is flagged before anything is sent", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Overreach");
  const other = await fx.owner("Holder");
  const bot = await fx.machine(owner);
  const foreign = await fx.resource(other);
  const token = await fx.token(bot);
  const d = await fx.verify(token, { actionId: "read-foreign", actor: bot, reads: [foreign] });
  expect(d.codes).toEqual(["READ_DENIED"]);

  await signIn(page, owner, "/approvals");
  const card = page.getByTestId("approval-read-foreign");
  await expect(card.getByTestId("approval-precheck")).toContainText("Approving would fail");
  await expect(card.getByRole("button", { name: "Approve" })).toBeDisabled();
  // The server agrees: the owner holds nothing there to delegate.
  const list = (await (await page.request.get("/api/v1/approvals")).json()) as { id: string; actionId: string }[];
  const id = list.find((a) => a.actionId === "read-foreign")!.id;
  const csrf = (await page.context().cookies()).find((c) => c.name === "fk_csrf")!.value;
  const res = await page.request.post(`/api/v1/approvals/${id}/approve`, { headers: { "x-csrf-token": csrf }, data: {} });
  expect(res.status()).toBe(422);
  expect((await fx.verify(token, { actionId: "read-foreign-2", actor: bot, reads: [foreign] })).permitted).toBe(false);
});
