import { expect, test } from "@playwright/test";
import { API, Fixture, csrfOf, shot, signIn } from "./support";

test("owner B can see and change nothing of owner A's, in the pages and through the API", async ({ page, request }, testInfo) => {
  const fx = new Fixture(request);
  const a = await fx.owner("Alpha");
  const b = await fx.owner("Beta");
  const aBot = await fx.machine(a, undefined, "Alpha secret bot");
  const aRes = await fx.resource(a, undefined, `/private/${a.id}`);
  const aGrant = await fx.grant({ holder: aBot, grantor: a.id, resource: aRes, canRead: true, canWrite: false, canDelegate: false });
  const aToken = await fx.token(aBot);
  await fx.verify(aToken, { actionId: "alpha-blocked-write", actor: aBot, writes: [aRes] });
  const approvals = (await (await request.get(`${API}/approvals`, { headers: { authorization: `Bearer ${process.env.FK_OPERATOR_TOKEN}` } })).json()) as {
    id: string;
    machineId: string;
  }[];
  const aApproval = approvals.find((x) => x.machineId === aBot)!;
  expect(aApproval).toBeTruthy();
  const bBot = await fx.machine(b, undefined, "Beta bot");

  await signIn(page, b, "/graph");
  await expect(page.locator(`.react-flow__node[data-id="e:${bBot}"]`)).toBeVisible();
  const pages: [string, string][] = [
    ["/graph", "graph"],
    ["/machines", "machines"],
    ["/approvals", "approvals"],
    ["/audit", "audit"],
    ["/playground", "playground"],
    ["/", "dashboard"],
  ];
  for (const [path, name] of pages) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    const text = await page.locator("body").innerText();
    for (const secret of [a.id, aBot, aRes, "Alpha secret bot"]) expect(text, `${path} must not show ${secret}`).not.toContain(secret);
    await shot(page, testInfo, `isolation-${name}`, { fullPage: path !== "/graph" });
  }
  await expect(page.getByTestId("tile-approvals")).toContainText("0");

  // The API, with B's own session and a valid CSRF token: A's things do not exist for B.
  const api = page.request;
  const headers = { "x-csrf-token": await csrfOf(page.context()) };
  const registry = JSON.stringify(await (await api.get(`${API}/console/registry`)).json());
  for (const secret of [a.id, aBot, aRes, aGrant.id]) expect(registry).not.toContain(secret);
  const notFound = async (p: Promise<{ status(): number }>) => expect((await p).status()).toBe(404);
  await notFound(api.get(`${API}/machines/${aBot}`));
  await notFound(api.get(`${API}/machines/${aBot}/tokens`));
  await notFound(api.post(`${API}/machines/${aBot}/halt`, { headers, data: {} }));
  await notFound(api.post(`${API}/machines/${aBot}/resume`, { headers }));
  await notFound(api.post(`${API}/machines/${aBot}/tokens`, { headers, data: { label: "steal" } }));
  await notFound(api.delete(`${API}/grants/${aGrant.id}`, { headers }));
  await notFound(api.post(`${API}/approvals/${aApproval.id}/approve`, { headers, data: {} }));
  await notFound(api.post(`${API}/approvals/${aApproval.id}/refuse`, { headers, data: { reason: "x" } }));
  await notFound(api.post(`${API}/owners/${a.id}/halt`, { headers, data: {} }));
  // B cannot grant A's resource to B's own machine, nor register things in A's name.
  const grant = await api.post(`${API}/grants`, { headers, data: { holder: bBot, resource: aRes, canRead: true, canWrite: false, canDelegate: false } });
  expect(grant.status()).toBe(422);
  expect((await api.post(`${API}/machines`, { headers, data: { id: `${aBot}-2`, owner: a.id } })).status()).toBe(403);
  expect((await api.get(`${API}/audit/export`)).status()).toBe(403);
  for (const list of ["machines", "grants", "resources", "approvals", "conflicts", "owners"]) {
    const body = JSON.stringify(await (await api.get(`${API}/${list}`)).json());
    expect(body, `${list}`).not.toContain(aBot);
    expect(body, `${list}`).not.toContain(aRes);
  }
  const audit = JSON.stringify(await (await api.get(`${API}/audit?machine=${aBot}`)).json());
  expect(audit).toBe(JSON.stringify({ entries: [], nextAfterSeq: null }));

  // And A's world is unchanged: the machine runs and its grant holds.
  const still = await fx.verify(aToken, { actionId: "alpha-read", actor: aBot, reads: [aRes] });
  expect(still.permitted).toBe(true);
});
