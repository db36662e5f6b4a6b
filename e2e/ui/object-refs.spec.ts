import { expect, test, type Page } from "@playwright/test";
import { Fixture, graphNode, shot, signIn, uid, type Owner } from "./support";

/**
 * Object references (issue 10) in the console: a machine reads a file under a registered folder
 * that was never registered itself; the owner approves it in the inbox — exactly that file, or
 * widened to the folder — and the playground then says what the sibling file gets.
 */

interface Setup {
  fx: Fixture;
  owner: Owner;
  bot: string;
  folderRes: string;
  folder: string;
  file: string;
  sibling: string;
  token: string;
}

async function setUp(fx: Fixture, name: string): Promise<Setup> {
  const owner = await fx.owner(name);
  const bot = await fx.machine(owner, undefined, "File reader");
  const folder = `/data/${uid("objs")}`;
  const folderRes = await fx.resource(owner, undefined, folder);
  const token = await fx.token(bot);
  return { fx, owner, bot, folderRes, folder, file: `${folder}/a.txt`, sibling: `${folder}/b.txt`, token };
}

/** The playground's verdict on one read by the signed-in owner's machine. */
async function playgroundRead(page: Page, bot: string, ref: string): Promise<void> {
  await page.goto("/playground");
  await expect(page.getByLabel("Actor")).toHaveValue(bot);
  await page.getByLabel("Reads: other resource ids or object references").fill(ref);
  await expect(page.getByTestId("playground-action")).toContainText(`"reads": [\n      "${ref}"\n    ]`);
}

test("approving a blocked file grants exactly that file: the retry passes, the sibling stays blocked", async ({ page, request }, testInfo) => {
  const s = await setUp(new Fixture(request), "Exact");
  const first = await s.fx.verify(s.token, { actionId: "read-a", actor: s.bot, reads: [s.file] });
  expect(first.permitted).toBe(false);
  expect(first.codes).toEqual(["READ_DENIED"]);
  expect(first.body.record.resolved).toEqual([{ ref: s.file, canonical: s.file, resource: s.folderRes }]);

  await signIn(page, s.owner, "/approvals");
  const card = page.getByTestId("approval-read-a");
  await expect(card).toBeVisible();
  const object = card.getByTestId("approval-object");
  await expect(object.getByTestId("object-ref")).toHaveText(s.file);
  await expect(object.getByTestId("object-canonical")).toHaveText(s.file);
  await expect(object.getByTestId("object-resource")).toHaveText(s.folderRes);
  // The default is the object itself; the folder is offered, with what it would also cover.
  await expect(card.getByRole("radio", { name: `exactly this object (${s.file})` })).toBeChecked();
  await expect(card.getByRole("radio", { name: `every object under ${s.folder}` })).not.toBeChecked();
  await expect(card.getByTestId("widen-preview")).toHaveCount(0);
  await expect(card.getByTestId("approval-gain")).toContainText(`Approving gives ${s.bot} read on exactly ${s.file}, granted by ${s.owner.id}`);
  await expect(card.getByTestId("approval-precheck")).toHaveCount(0);
  await shot(page, testInfo, "approvals-object-exact");

  const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/approve"));
  await card.getByRole("button", { name: "Approve" }).click();
  // Nothing widened, so nothing but the lifetime is sent: the server grants exactly the object.
  expect((await sent).postDataJSON()).toEqual({ ttlSeconds: 300 });
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId("decided-read-a")).toContainText("Approved");

  const retry = await s.fx.verify(s.token, { actionId: "read-a-retry", actor: s.bot, reads: [s.file] });
  expect(retry.permitted).toBe(true);
  const siblingByAgent = await s.fx.verify(s.token, { actionId: "read-b", actor: s.bot, reads: [s.sibling] });
  expect(siblingByAgent.codes).toEqual(["READ_DENIED"]);

  // The playground, on the owner's registry in the browser, agrees with the server.
  await playgroundRead(page, s.bot, s.sibling);
  const result = page.getByTestId("playground-result");
  await expect(page.getByTestId("playground-verdict")).toHaveText("BLOCKED");
  await expect(result).toContainText("READ_DENIED");
  await expect(page.getByTestId("playground-resolved").locator(`tr[data-ref="${s.sibling}"]`)).toContainText(`${s.sibling}→ ${s.sibling}→ ${s.folderRes}`);
  await page.getByLabel("Reads: other resource ids or object references").fill(s.file);
  await expect(page.getByTestId("playground-verdict")).toHaveText("PERMITTED");
  await shot(page, testInfo, "playground-object");
});

test("approving widened to the folder covers the sibling too, and says so before granting", async ({ page, request }, testInfo) => {
  const s = await setUp(new Fixture(request), "Widen");
  const first = await s.fx.verify(s.token, { actionId: "read-a-wide", actor: s.bot, reads: [s.file] });
  expect(first.codes).toEqual(["READ_DENIED"]);

  await signIn(page, s.owner, "/approvals");
  const card = page.getByTestId("approval-read-a-wide");
  await expect(card.getByRole("radio", { name: `every object under ${s.folder}` })).toBeVisible();
  await card.getByRole("radio", { name: `every object under ${s.folder}` }).check();
  await expect(card.getByTestId("widen-preview")).toContainText(`also covers every object under ${s.folder}, including resources: ${s.folderRes}`);
  await expect(card.getByTestId("approval-gain")).toContainText(`Approving gives ${s.bot} read on every object under ${s.folder}`);
  await expect(card.getByTestId("approval-precheck")).toHaveCount(0);
  await shot(page, testInfo, "approvals-object-widen");

  const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/approve"));
  await card.getByRole("button", { name: "Approve" }).click();
  expect((await sent).postDataJSON()).toEqual({ ttlSeconds: 300, widen: [{ ref: s.file, scope: s.folder }] });
  await expect(page.getByTestId("decided-read-a-wide")).toContainText("Approved");

  await playgroundRead(page, s.bot, s.sibling);
  await expect(page.getByTestId("playground-verdict")).toHaveText("PERMITTED");
  await expect(page.getByTestId("playground-resolved")).toContainText(s.folderRes);
  expect((await s.fx.verify(s.token, { actionId: "read-b-wide", actor: s.bot, reads: [s.sibling] })).permitted).toBe(true);
  // Outside the folder stays denied: widening went to the folder, no further.
  expect((await s.fx.verify(s.token, { actionId: "read-outside", actor: s.bot, reads: [`${s.folder}-other/c.txt`] })).codes).toEqual(["READ_DENIED"]);
});

test("the graph, its reach questions and the audit viewer take object references", async ({ page, request }, testInfo) => {
  const s = await setUp(new Fixture(request), "Reach");
  // A claim on exactly one file inside the folder, as an approval would make it.
  await s.fx.grant({ holder: s.bot, grantor: s.owner.id, scope: s.file, canRead: true, canWrite: false, canDelegate: false });
  expect((await s.fx.verify(s.token, { actionId: "read-a-retry", actor: s.bot, reads: [s.file] })).permitted).toBe(true);
  await signIn(page, s.owner, "/playground");
  await playgroundRead(page, s.bot, `file://${s.sibling}`);
  await expect(page.getByTestId("playground-verdict")).toHaveText("BLOCKED");
  await expect(page.getByTestId("playground-result")).toContainText("READ_DENIED");
  await expect(page.getByTestId("playground-resolved")).toContainText(`file://${s.sibling}→ ${s.sibling}→ ${s.folderRes}`);
  await page.getByLabel("Reads: other resource ids or object references").fill(`file://${s.file}`);
  await expect(page.getByTestId("playground-verdict")).toHaveText("PERMITTED");

  await page.goto("/graph");

  // The graph shows the scope claim on the folder resource that contains it.
  await expect(graphNode(page, "r", s.folderRes).getByTestId("scope-claims")).toContainText(s.file);
  // "What can this machine reach", asked about one object, by the kernel's rule.
  await graphNode(page, "e", s.bot).click();
  await page.getByLabel("Object to check reach for").fill(s.sibling);
  await page.getByRole("button", { name: "What can this machine reach?" }).click();
  const panel = page.getByTestId("highlight-panel");
  await expect(panel.getByTestId("highlight-canonical")).toHaveText(s.sibling);
  await expect(panel.getByTestId("highlight-resource")).toHaveText(s.folderRes);
  await expect(panel).toContainText("Neither read nor write.");
  await page.getByLabel("Object to check reach for").fill(s.file);
  await page.getByRole("button", { name: "What can this machine reach?" }).click();
  await expect(panel.getByTestId("highlight-rows")).toContainText(`${s.file} R`);
  // "Who can reach this", asked about the object: the machine (by its grant) and its owner.
  await page.getByLabel("Resource or object to check").fill(s.file);
  await page.getByRole("button", { name: "Who can reach this?" }).click();
  await expect(panel.getByTestId("highlight-rows")).toContainText(`${s.bot} R`);
  await expect(panel.getByTestId("highlight-rows")).toContainText(`${s.owner.id} R/W`);
  await shot(page, testInfo, "graph-object-reach", { fullPage: false });
  // A reference the kernel refuses is refused here too, with its reason, and nothing is lit.
  await page.getByLabel("Resource or object to check").fill(`${s.folder}/../x`);
  await page.getByRole("button", { name: "Who can reach this?" }).click();
  await expect(page.getByTestId("reach-error")).toContainText("..");
  await expect(panel).toHaveCount(0);

  // The audit viewer shows how the retry's decision resolved the path.
  await page.goto("/audit");
  await page.getByLabel("Machine").fill(s.bot);
  await page.getByRole("button", { name: "Apply filters" }).click();
  const row = page.getByRole("row").filter({ hasText: "read-a-retry" });
  await expect(row).toContainText(`${s.file} → ${s.folderRes}`);
  await row.click();
  await expect(page.getByTestId("entry-resolved")).toContainText(`${s.file}→ ${s.file}→ ${s.folderRes}`);
});
