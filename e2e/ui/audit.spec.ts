import { expect, test, type Page } from "@playwright/test";
import { API, Fixture, OPERATOR_LOGIN, operatorHeaders, shot, signIn } from "./support";

async function openEntryOf(page: Page, machine: string, actionId: string) {
  await page.getByLabel("Machine").fill(machine);
  await page.getByRole("button", { name: "Apply filters" }).click();
  const row = page.getByRole("row").filter({ hasText: actionId });
  await expect(row).toHaveCount(1);
  await row.click();
  await expect(page.getByTestId("entry-detail")).toContainText(actionId);
}

test("an owner verifies an audit record in the browser against the pinned key", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Auditor");
  const bot = await fx.machine(owner, undefined, "Audited");
  const res = await fx.resource(owner);
  await fx.grant({ holder: bot, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  const token = await fx.token(bot);
  await fx.verify(token, { actionId: "audited-read", actor: bot, reads: [res] });
  await fx.verify(token, { actionId: "audited-write", actor: bot, writes: [res] });
  const keys = (await (await request.get(`${API}/keys`)).json()) as { keys: { keyId: string; status: string }[] };
  const current = keys.keys.find((k) => k.status === "current")!.keyId;

  await signIn(page, owner, "/audit");
  await expect(page.getByTestId("pinned-key")).toContainText(`${current}, pinned in this browser at the first sign-in`);

  // Filters: outcome and code narrow the list to the blocked write.
  await page.getByLabel("Outcome").selectOption("blocked");
  await page.getByLabel("Violation code").selectOption("WRITE_DENIED");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByRole("table", { name: "Audit entries" }).getByRole("row")).toHaveCount(2);
  await expect(page.getByRole("table", { name: "Audit entries" })).toContainText("audited-write");
  await page.getByRole("button", { name: "Clear" }).click();

  await openEntryOf(page, bot, "audited-read");
  await expect(page.getByTestId("entry-payload")).toContainText('"permitted": true');
  await page.getByRole("button", { name: "Verify in this browser" }).click();
  await expect(page.getByTestId("verify-verdict")).toContainText("verified.");
  await expect(page.getByTestId("verify-verdict")).toContainText(`against the pinned key ${current} (pinned at first sign-in)`);
  for (const id of ["key", "hash", "signature", "record", "checkpoint", "inclusion", "link"]) {
    await expect(page.getByTestId(`check-${id}`)).toHaveAttribute("data-status", "pass");
  }
  await shot(page, testInfo, "audit-verify", { docs: "audit-verify.png" });

  // An owner cannot export the whole log, and is told why.
  await expect(page.getByRole("button", { name: "Download export (.jsonl)" })).toBeDisabled();
  await expect(page.getByTestId("export-why")).toContainText("The full export is for the operator");
  expect((await page.request.get(`${API}/audit/export`)).status()).toBe(403);
});

test("a record altered on its way to the browser fails verification", async ({ page, request }) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Tamper");
  const bot = await fx.machine(owner);
  const res = await fx.resource(owner);
  const token = await fx.token(bot);
  await fx.verify(token, { actionId: "to-be-altered", actor: bot, reads: [res] });

  await signIn(page, owner, "/audit");
  // A man in the middle (or a lying server) turns the BLOCKED decision into PERMITTED.
  await page.route("**/api/v1/audit?**", async (route) => {
    const res = await route.fetch();
    const text = (await res.text()).replace('"permitted":false', '"permitted":true');
    await route.fulfill({ response: res, body: text });
  });
  await openEntryOf(page, bot, "to-be-altered");
  await expect(page.getByTestId("entry-payload")).toContainText('"permitted": true');
  await page.getByRole("button", { name: "Verify in this browser" }).click();
  await expect(page.getByTestId("verify-verdict")).toContainText("did NOT verify");
  await expect(page.getByTestId("check-hash")).toHaveAttribute("data-status", "fail");
  await expect(page.getByTestId("check-record")).toHaveAttribute("data-status", "fail");
});

test("the operator's export verifies offline in the page, and a tampered copy fails", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Exported");
  const bot = await fx.machine(owner);
  const res = await fx.resource(owner);
  const token = await fx.token(bot);
  await fx.verify(token, { actionId: "exported-read", actor: bot, reads: [res] });

  await signIn(page, OPERATOR_LOGIN, "/audit");
  await expect(page.getByTestId("export-link")).toHaveAttribute("href", "/api/v1/audit/export");
  const exported = await (await request.get(`${API}/audit/export`, { headers: operatorHeaders() })).text();
  expect(exported.split("\n")[0]).toContain('"type":"header"');

  const input = page.getByLabel("Export file to verify");
  await input.setInputFiles({ name: "audit.jsonl", mimeType: "application/x-ndjson", buffer: Buffer.from(exported) });
  await expect(page.getByTestId("export-verdict")).toContainText("audit.jsonl: the log verifies.");
  await expect(page.getByTestId("export-verdict")).toContainText("Keys: your pinned key only");

  // Flip one decision in the file: the offline check names the line and what failed.
  const lines = exported.split("\n");
  // The agent was refused (it holds no grant); the forged copy says it was permitted.
  const i = lines.findIndex((l) => l.includes('"actionId":"exported-read"') && l.includes('"type":"entry"'));
  expect(i).toBeGreaterThan(0);
  const forged = lines[i]!.replace('"permitted":false', '"permitted":true');
  expect(forged).not.toBe(lines[i]);
  lines[i] = forged;
  await input.setInputFiles({ name: "tampered.jsonl", mimeType: "application/x-ndjson", buffer: Buffer.from(lines.join("\n")) });
  await expect(page.getByTestId("export-verdict")).toContainText("tampered.jsonl: verification FAILED.");
  await expect(page.getByTestId("export-failure")).toContainText(`line ${i + 1}`);
  await expect(page.getByTestId("export-failure")).toContainText("BAD_HASH");
  await shot(page, testInfo, "audit-export-tampered");
});
