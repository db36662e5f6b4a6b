import { expect, test } from "@playwright/test";
import { API, Fixture, csrfOf, signIn, uid } from "./support";

test("a state change with the session cookie but without the CSRF token is refused", async ({ page, request }) => {
  const owner = await new Fixture(request).owner("Csrf");
  await signIn(page, owner);
  const api = page.request; // shares the browser's cookies
  const machine = uid("csrf-bot");

  const missing = await api.post(`${API}/machines`, { data: { id: machine } });
  expect(missing.status()).toBe(403);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("CSRF_FAILED");

  const wrong = await api.post(`${API}/machines`, { data: { id: machine }, headers: { "x-csrf-token": "forged-token-value" } });
  expect(wrong.status()).toBe(403);

  // Nothing was created by the refused calls.
  expect(((await (await api.get(`${API}/machines`)).json()) as { id: string }[]).map((m) => m.id)).not.toContain(machine);

  // Sign-out is a state change too.
  expect((await api.delete(`${API}/session`)).status()).toBe(403);

  const good = await api.post(`${API}/machines`, { data: { id: machine }, headers: { "x-csrf-token": await csrfOf(page.context()) } });
  expect(good.status()).toBe(200);
  // The console itself sends the header: adding a machine through the UI works.
  await page.goto("/graph");
  await page.getByRole("button", { name: "+ Add machine" }).click();
  await page.getByLabel("Machine id").fill(`${machine}-ui`);
  await page.getByRole("dialog").getByRole("button", { name: "Add machine" }).click();
  await expect(page.locator(`.react-flow__node[data-id="e:${machine}-ui"]`)).toBeVisible();
});
