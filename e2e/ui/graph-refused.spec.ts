import { expect, test } from "@playwright/test";
import { Fixture, OPERATOR_LOGIN, graphNode, recordMutations, shot, signIn } from "./support";

test("the browser's checkGrant explains a refused edge before anything is sent", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const owner = await fx.owner("Refused");
  const reader = await fx.machine(owner, undefined, "Reader");
  const helper = await fx.machine(owner, undefined, "Helper");
  const res = await fx.resource(owner);
  await fx.grant({ holder: reader, grantor: owner.id, resource: res, canRead: true, canWrite: false, canDelegate: false });
  await signIn(page, owner, "/graph");
  await expect(graphNode(page, "r", res)).toBeVisible();
  const mutations = recordMutations(page);

  await graphNode(page, "r", res).click();
  await page.getByRole("button", { name: "Grant this resource…" }).click();
  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await dialog.getByLabel("Holder").selectOption(helper);
  await dialog.getByLabel("Write").check();

  // Attenuation: the reader machine holds read only, without delegate, so it cannot pass on read+write.
  await dialog.getByLabel("Grantor").selectOption(reader);
  const refused = dialog.getByTestId("grant-refused");
  await expect(refused).toContainText("The kernel would refuse this grant");
  await expect(refused).toContainText("attenuation");
  await expect(refused).toContainText("GRANTOR_LACKS_RIGHT");
  await expect(dialog.getByRole("button", { name: "Grant" })).toBeDisabled();
  await shot(page, testInfo, "grant-refused", { fullPage: false });

  // Cross-owner: authority flows from humans to machines, never from a machine to its owner.
  await dialog.getByLabel("Holder").selectOption(owner.id);
  await expect(refused).toContainText("cross-owner");
  await expect(refused).toContainText("MACHINE_TO_HUMAN");

  // Fixing the grantor clears the refusal: the owner may grant read+write to their own machine.
  await dialog.getByLabel("Holder").selectOption(helper);
  await dialog.getByLabel("Grantor").selectOption(owner.id);
  await expect(dialog.getByTestId("grant-check")).toContainText("Kernel check passed");
  await expect(dialog.getByRole("button", { name: "Grant" })).toBeEnabled();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  expect(mutations).toEqual([]);
});

test("granting another owner's machine is refused as the wrong grantor, in the browser and by the server", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const alice = await fx.owner("Ann");
  const bob = await fx.owner("Ben");
  const bobBot = await fx.machine(bob, undefined, "Ben's bot");
  const res = await fx.resource(alice);
  await signIn(page, OPERATOR_LOGIN, "/graph");
  await expect(page.getByTestId("graph-stats")).toBeVisible();
  const mutations = recordMutations(page);

  await page.getByRole("button", { name: "Grant…" }).click();
  const dialog = page.getByRole("dialog", { name: "Grant rights" });
  await dialog.getByLabel("Resource", { exact: true }).selectOption(res);
  await dialog.getByLabel("Holder").selectOption(bobBot);
  await dialog.getByLabel("Grantor").selectOption(alice.id);
  const refused = dialog.getByTestId("grant-refused");
  await expect(refused).toContainText("wrong grantor");
  await expect(refused).toContainText("HUMAN_GRANTOR_TO_FOREIGN_MACHINE");
  await expect(dialog.getByRole("button", { name: "Grant" })).toBeDisabled();
  expect(mutations).toEqual([]);
  await shot(page, testInfo, "grant-refused-foreign", { fullPage: false });

  // The server checks again: the same grant sent directly is refused with the same reason.
  const res2 = await request.post("/api/v1/grants", {
    headers: { authorization: `Bearer ${process.env.FK_OPERATOR_TOKEN}` },
    data: { holder: bobBot, grantor: alice.id, resource: res, canRead: true, canWrite: false, canDelegate: false },
  });
  expect(res2.status()).toBe(422);
  const body = (await res2.json()) as { error: { code: string; details: { code: string }[] } };
  expect(body.error.code).toBe("GRANT_REFUSED");
  expect(body.error.details.map((d) => d.code)).toContain("HUMAN_GRANTOR_TO_FOREIGN_MACHINE");
});
