import { expect, test } from "@playwright/test";
import { API, Fixture, graphNode, operatorHeaders, shot, signIn, uid } from "./support";

test("an owner adds a machine and a resource under a scope from the graph", async ({ page, request }, testInfo) => {
  const owner = await new Fixture(request).owner("Creator");
  await signIn(page, owner, "/graph");
  await expect(page.getByTestId("graph-stats")).toContainText("0 edges");

  const machine = uid("agent");
  await page.getByRole("button", { name: "+ Add machine" }).click();
  const mDialog = page.getByRole("dialog", { name: "Add a machine" });
  await mDialog.getByLabel("Machine id").fill(machine);
  await mDialog.getByLabel("Display name").fill("Inbox triage");
  await mDialog.getByRole("button", { name: "Add machine" }).click();
  await expect(mDialog).toBeHidden();
  await expect(graphNode(page, "e", machine)).toContainText("Inbox triage");

  const resource = uid("notes");
  await page.getByRole("button", { name: "+ Add resource" }).click();
  const rDialog = page.getByRole("dialog", { name: "Add a resource" });
  await rDialog.getByLabel("Resource id").fill(resource);
  await rDialog.getByLabel("Type").selectOption("dataset");
  // The kernel's scope rules run as the owner types: a trailing slash is refused, not "fixed".
  await rDialog.getByLabel("Scope").fill(`/teams/${owner.id}/`);
  await expect(rDialog.getByText('must not end with "/"')).toBeVisible();
  await expect(rDialog.getByRole("button", { name: "Add resource" })).toBeDisabled();
  await rDialog.getByLabel("Scope").fill(`/teams/${owner.id}/notes`);
  await rDialog.getByRole("button", { name: "Add resource" }).click();
  await expect(rDialog).toBeHidden();
  await expect(graphNode(page, "r", resource)).toContainText(`dataset · /teams/${owner.id}/notes`);

  // A second resource "under this scope": the form starts from the selected resource's scope.
  await graphNode(page, "r", resource).click();
  await page.getByRole("button", { name: "+ Add a resource under this scope" }).click();
  const sub = page.getByRole("dialog", { name: "Add a resource" });
  await expect(sub.getByLabel("Scope")).toHaveValue(`/teams/${owner.id}/notes`);
  await sub.getByLabel("Resource id").fill(`${resource}-2`);
  await sub.getByLabel("Scope").fill(`/teams/${owner.id}/notes/2026`);
  await sub.getByRole("button", { name: "Add resource" }).click();
  await expect(graphNode(page, "r", `${resource}-2`)).toBeVisible();

  // The server agrees: the owner holds both resources and the machine is theirs.
  const machines = (await (await request.get(`${API}/machines`, { headers: operatorHeaders() })).json()) as { id: string; owner: string }[];
  expect(machines.find((m) => m.id === machine)?.owner).toBe(owner.id);
  const resources = (await (await request.get(`${API}/resources`, { headers: operatorHeaders() })).json()) as { id: string; owner: string; scope: string }[];
  expect(resources.filter((r) => r.owner === owner.id).map((r) => r.scope).sort()).toEqual([`/teams/${owner.id}/notes`, `/teams/${owner.id}/notes/2026`]);
  await shot(page, testInfo, "graph-created", { fullPage: false });
});
