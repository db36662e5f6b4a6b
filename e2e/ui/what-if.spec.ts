import { expect, test, type APIRequestContext } from "@playwright/test";
import { API, Fixture, OPERATOR_LOGIN, graphNode, operatorHeaders, shot, signIn, uid } from "./support";

/** Issue 12: see before you change — what-if previews, the What-if page, shadow rules. */

async function grantsAsOperator(request: APIRequestContext): Promise<{ id: string; holder: string; resource: string | null; revokedAt: string | null }[]> {
  const res = await request.get(`${API}/grants`, { headers: operatorHeaders() });
  expect(res.status()).toBe(200);
  return (await res.json()) as { id: string; holder: string; resource: string | null; revokedAt: string | null }[];
}

test("revoking in the graph shows the replay first; Cancel leaves everything as it was", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Previewer");
  const bot = await fx.machine(owner, undefined, "Research bot");
  const res = await fx.resource(owner);
  const other = await fx.resource(owner, uid("other"), `/data/${owner.id}/other`);
  const grant = await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  for (let i = 1; i <= 3; i++) expect((await fx.verify(token, { actionId: `read-${i}`, actor: bot, reads: [res] })).permitted).toBe(true);
  // Blocked already: stays blocked without the grant, so it is no flip.
  expect((await fx.verify(token, { actionId: "read-other", actor: bot, reads: [other] })).permitted).toBe(false);

  await signIn(page, owner, "/graph");
  const edge = page.locator(`.react-flow__edge[data-id="c:${grant.id}"]`);
  await edge.click({ force: true });
  await page.getByTestId("edge-details").getByRole("button", { name: "Revoke grant" }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke this grant?" });
  const preview = confirm.getByTestId("what-if-preview");
  await expect(preview.getByTestId("what-if-sentence")).toContainText("Revoking this grant would have blocked 3 of Research bot's last 4 actions.");
  await expect(preview.getByTestId("what-if-confirmed")).toContainText("Confirmed by the server");
  await preview.getByRole("button", { name: "Show the 3 flipped actions" }).click();
  const list = preview.getByTestId("flip-list");
  await expect(list.locator("tbody tr")).toHaveCount(3);
  for (let i = 1; i <= 3; i++) await expect(list.getByTestId(`flip-read-${i}`)).toContainText("READ_DENIED");
  await expect(list.getByTestId("flip-read-other")).toHaveCount(0);
  await shot(page, testInfo, "revoke-preview", { fullPage: false });

  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(edge).toBeVisible();
  // Nothing changed: the grant is active and the agent still permitted.
  const g = (await grantsAsOperator(request)).find((x) => x.id === grant.id)!;
  expect(g.revokedAt).toBeNull();
  expect((await fx.verify(token, { actionId: "read-after-cancel", actor: bot, reads: [res] })).permitted).toBe(true);
});

test("the operator promotes a shadow rule from the dashboard; the next such decision is POLICY_DENIED", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Shadowed");
  const bot = await fx.machine(owner);
  const res = await fx.resource(owner);
  await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  const ruleId = uid("rul");
  const created = await request.post(`${API}/rules`, {
    headers: operatorHeaders(),
    data: { id: ruleId, priority: 100, effect: "deny", operations: ["read"], actorPattern: bot, scope: `/data/${owner.id}`, mode: "shadow", description: "e2e shadow" },
  });
  expect(created.status()).toBe(200);
  // The shadow rule matches and would deny, and blocks nothing.
  const shadowed = await fx.verify(token, { actionId: "shadowed-read", actor: bot, reads: [res] });
  expect(shadowed.permitted).toBe(true);
  expect(shadowed.body.record.shadow).toEqual([{ ruleId, wouldDeny: true }]);

  await signIn(page, OPERATOR_LOGIN, "/");
  const row = page.getByTestId("shadow-rules-panel").getByTestId(`shadow-rule-${ruleId}`);
  await expect(row.getByTestId(`shadow-would-deny-${ruleId}`)).toHaveText("1 of 1");
  await row.getByRole("button", { name: "Show the decisions it would have denied" }).click();
  await expect(row.getByTestId("shadow-denied-shadowed-read")).toContainText(bot);
  await shot(page, testInfo, "shadow-rules");
  await row.getByRole("button", { name: `Promote ${ruleId}` }).click();
  // Promoting is previewed too: the replay of the recent decisions with the rule enforced.
  const confirm = page.getByRole("dialog", { name: `Promote ${ruleId} to enforce?` });
  await expect(confirm.getByTestId("what-if-sentence")).toContainText(`Promoting this rule would have blocked 1 of ${bot}'s last 1 action.`);
  await expect(confirm.getByTestId("what-if-confirmed")).toBeVisible();
  await confirm.getByRole("button", { name: "Show the 1 flipped action" }).click();
  await expect(confirm.getByTestId("flip-shadowed-read")).toContainText("POLICY_DENIED");
  await confirm.getByRole("button", { name: "Promote rule" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId(`shadow-rule-${ruleId}`)).toHaveCount(0);

  const rules = (await (await request.get(`${API}/rules`, { headers: operatorHeaders() })).json()) as { id: string; mode: string }[];
  expect(rules.find((r) => r.id === ruleId)?.mode).toBe("enforce");
  const next = await fx.verify(token, { actionId: "enforced-read", actor: bot, reads: [res] });
  expect(next.permitted).toBe(false);
  expect(next.codes).toContain("POLICY_DENIED");

  // Drop removes a shadow rule outright.
  const dropId = uid("rul");
  const second = await request.post(`${API}/rules`, {
    headers: operatorHeaders(),
    data: { id: dropId, priority: 50, effect: "deny", operations: ["write"], actorPattern: bot, scope: `/data/${owner.id}`, mode: "shadow" },
  });
  expect(second.status()).toBe(200);
  await page.reload();
  await page.getByTestId(`shadow-rule-${dropId}`).getByRole("button", { name: `Drop ${dropId}` }).click();
  await expect(page.getByTestId(`shadow-rule-${dropId}`)).toHaveCount(0);
  const after = (await (await request.get(`${API}/rules`, { headers: operatorHeaders() })).json()) as { id: string }[];
  expect(after.some((r) => r.id === dropId)).toBe(false);
});

test("the What-if page replays a hand-made change set, filters the flips and verifies the signed answer", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Planner");
  const haltee = await fx.machine(owner, undefined, "Haltee");
  const reader = await fx.machine(owner, undefined, "Reader");
  const res = await fx.resource(owner);
  const notes = await fx.resource(owner, uid("notes"), `/data/${owner.id}/notes`);
  await fx.grant({ holder: haltee, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const th = await fx.token(haltee);
  const tr = await fx.token(reader);
  expect((await fx.verify(th, { actionId: "h-1", actor: haltee, reads: [res] })).permitted).toBe(true);
  expect((await fx.verify(th, { actionId: "h-2", actor: haltee, reads: [res] })).permitted).toBe(true);
  expect((await fx.verify(tr, { actionId: "r-1", actor: reader, reads: [notes] })).codes).toContain("READ_DENIED");

  await signIn(page, owner, "/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "What if" }).click();
  await expect(page.getByRole("heading", { name: "What if", level: 1 })).toBeVisible();
  const add = page.getByRole("form", { name: "Add a change" });
  await add.getByLabel("Kind of change").selectOption("halt");
  await add.getByLabel("Machine").selectOption(haltee);
  await add.getByRole("button", { name: "Add to the change set" }).click();
  await add.getByLabel("Kind of change").selectOption("grant");
  await add.getByLabel("Holder").selectOption(reader);
  await add.getByLabel("Resource", { exact: true }).selectOption(notes);
  await add.getByRole("button", { name: "Add to the change set" }).click();
  await expect(page.getByTestId("change-set")).toContainText(`halt machine ${haltee}`);
  await expect(page.getByTestId("change-set")).toContainText(`grant read on ${notes} to ${reader}`);
  await page.getByRole("button", { name: "Run what-if" }).click();

  const result = page.getByTestId("what-if-result");
  await expect(result.getByTestId("what-if-counts")).toHaveAttribute("data-blocked", "2");
  await expect(result.getByTestId("what-if-counts")).toHaveAttribute("data-permitted", "1");
  await expect(result.getByTestId("what-if-counts")).toHaveAttribute("data-replayed", "3");
  await expect(result.getByTestId("what-if-signature")).toHaveAttribute("data-valid", "true");
  await expect(result.getByTestId("what-if-browser-agrees")).toHaveAttribute("data-agree", "true");
  const rows = result.getByTestId("flip-list").locator("tbody tr");
  await expect(rows).toHaveCount(3);

  await result.getByLabel("Filter by machine").selectOption(reader);
  await expect(rows).toHaveCount(1);
  await expect(result.getByTestId("flip-r-1")).toHaveAttribute("data-direction", "permitted");
  await result.getByLabel("Filter by machine").selectOption("");
  await result.getByLabel("Filter by direction").selectOption("blocked");
  await expect(rows).toHaveCount(2);
  await expect(result.getByTestId("flip-h-1")).toContainText("HALTED");
  await result.getByLabel("Filter by direction").selectOption("");
  await result.getByLabel("Filter by code").selectOption("READ_DENIED");
  await expect(rows).toHaveCount(1);
  await expect(result.getByTestId("flips-shown")).toHaveText("1 of 3 flips");
  await shot(page, testInfo, "what-if-page");

  // Nothing was changed: the machine still runs.
  expect((await fx.verify(th, { actionId: "h-3", actor: haltee, reads: [res] })).permitted).toBe(true);
});

test("granting and approving show the replay before anything commits", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Granter");
  const bot = await fx.machine(owner, undefined, "Asker");
  const res = await fx.resource(owner);
  const token = await fx.token(bot);
  expect((await fx.verify(token, { actionId: "ask-read", actor: bot, reads: [res] })).codes).toContain("READ_DENIED");

  await signIn(page, owner, "/approvals");
  const card = page.getByTestId("approval-ask-read");
  const approvePreview = card.getByTestId("what-if-preview");
  await expect(approvePreview.getByTestId("what-if-sentence")).toContainText("Approving would have permitted 1 of Asker's last 1 action that was blocked.");
  await expect(approvePreview.getByTestId("what-if-confirmed")).toBeVisible();
  await shot(page, testInfo, "approve-preview");

  await page.goto("/graph");
  await expect(graphNode(page, "r", res)).toBeVisible();
  await page.getByRole("button", { name: "Grant…" }).click();
  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await dialog.getByLabel("Resource", { exact: true }).selectOption(res);
  await dialog.getByLabel("Holder").selectOption(bot);
  const grantPreview = dialog.getByTestId("what-if-preview");
  await expect(grantPreview.getByTestId("what-if-sentence")).toContainText("This grant would have permitted 1 of Asker's last 1 action that was blocked.");
  await expect(grantPreview.getByTestId("what-if-confirmed")).toBeVisible();
  await grantPreview.getByRole("button", { name: "Show the 1 flipped action" }).click();
  await expect(grantPreview.getByTestId("flip-ask-read")).toContainText("READ_DENIED");
  await dialog.getByRole("button", { name: "Grant", exact: true }).click();
  await expect(dialog).toBeHidden();
  expect((await fx.verify(token, { actionId: "ask-read-again", actor: bot, reads: [res] })).permitted).toBe(true);
});

test("when the server's replay differs from the browser's, the server's answer is shown as authoritative", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Raced");
  const bot = await fx.machine(owner, undefined, "Racer");
  const res = await fx.resource(owner);
  await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  for (let i = 1; i <= 2; i++) expect((await fx.verify(token, { actionId: `race-${i}`, actor: bot, reads: [res] })).permitted).toBe(true);

  await signIn(page, owner, "/machines");
  // One more decision lands after the browser read the log and before the server replays it.
  await page.route("**/api/v1/simulate", async (route) => {
    await expect(page.getByTestId("what-if-sentence")).toBeVisible();
    expect((await fx.verify(token, { actionId: "race-3", actor: bot, reads: [res] })).permitted).toBe(true);
    await route.continue();
  });
  await page.getByTestId(`machine-row-${bot}`).getByRole("button", { name: "Halt" }).click();
  const confirm = page.getByRole("dialog", { name: "Halt Racer?" });
  await expect(confirm.getByTestId("what-if-sentence")).toContainText("Halting Racer would have blocked 2 of Racer's last 2 actions.");
  const server = confirm.getByTestId("what-if-server-answer");
  await expect(server).toContainText("The server's answer differs — it is authoritative");
  await expect(server).toContainText("Halting Racer would have blocked 3 of the 3 decisions the server replayed (Racer: 3).");
  await expect(confirm.getByTestId("what-if-server")).toHaveAttribute("data-agree", "false");
  await expect(confirm.getByTestId("what-if-confirmed")).toHaveCount(0);
  // The list is the server's: all three.
  await confirm.getByRole("button", { name: "Show the 3 flipped actions" }).click();
  await expect(confirm.getByTestId("flip-race-3")).toContainText("HALTED");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  expect((await fx.verify(token, { actionId: "race-4", actor: bot, reads: [res] })).permitted).toBe(true);
});
