import { expect, test, type APIRequestContext } from "@playwright/test";
import crypto from "node:crypto";

/** The console's read endpoints: what each caller may see, and nothing more. */
const OP = { authorization: `Bearer ${process.env.FK_OPERATOR_TOKEN}` };
const uid = (p: string) => `${p}-${crypto.randomBytes(4).toString("hex")}`;

async function post(request: APIRequestContext, path: string, data: unknown, headers: Record<string, string> = OP) {
  const res = await request.post(`/api/v1${path}`, { headers, data });
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return res.json();
}

async function signedIn(playwright: { request: { newContext(o: { baseURL?: string }): Promise<APIRequestContext> } }, baseURL: string, email: string, password: string) {
  const ctx = await playwright.request.newContext({ baseURL });
  const res = await ctx.post("/api/v1/session", { data: { email, password } });
  expect(res.status()).toBe(200);
  return ctx;
}

test("the registry view of an owner holds their part and the chains behind it, not other owners' data", async ({ request, playwright, baseURL }) => {
  const mk = async (name: string) => {
    const id = uid(name);
    const o = { id, displayName: name, email: `${id}@e2e.test`, password: `pw-${id}-long-enough` };
    await post(request, "/owners", o);
    return o;
  };
  const ann = await mk("ann");
  const ben = await mk("ben");
  const cat = await mk("cat");
  const annBot = uid("annbot");
  const benBot = uid("benbot");
  await post(request, "/machines", { id: annBot, owner: ann.id });
  await post(request, "/machines", { id: benBot, owner: ben.id });
  const shared = uid("shared");
  const benOnly = uid("benonly");
  const catPublic = uid("catpublic");
  await post(request, "/resources", { id: shared, type: "file", scope: `/b/${ben.id}/shared`, isPublic: false, owner: ben.id });
  await post(request, "/resources", { id: benOnly, type: "file", scope: `/b/${ben.id}/private`, isPublic: false, owner: ben.id });
  await post(request, "/resources", { id: catPublic, type: "file", scope: `/c/${cat.id}`, isPublic: true, owner: cat.id });
  // Ben shares with Ann (human to human), Ann passes it on to her machine; Ben also grants his own bot.
  const toAnn = await post(request, "/grants", { holder: ann.id, grantor: ben.id, resource: shared, canRead: true, canWrite: false, canDelegate: true });
  const toAnnBot = await post(request, "/grants", { holder: annBot, grantor: ann.id, resource: shared, canRead: true, canWrite: false, canDelegate: false });
  const toBenBot = await post(request, "/grants", { holder: benBot, grantor: ben.id, resource: shared, canRead: true, canWrite: true, canDelegate: false });

  const annCtx = await signedIn(playwright, baseURL!, ann.email, ann.password);
  const view = await (await annCtx.get("/api/v1/console/registry")).json();
  expect(view.view).toBe("owner");
  expect(view.viewer).toBe(ann.id);
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
  const claims = view.registry.claims as { id: string; holder: string; grantor?: string }[];
  // Ann's own grants, the share she received, and Ben's root claim that backs it.
  expect(ids(claims)).toEqual(expect.arrayContaining([toAnn.id, toAnnBot.id]));
  expect(claims.some((c) => c.holder === ben.id && c.grantor === undefined)).toBe(true);
  // Not Ben's grant to his own machine, not Ben's machine, not Ben's private resource.
  expect(ids(claims)).not.toContain(toBenBot.id);
  expect(ids(view.registry.entities)).not.toContain(benBot);
  expect(ids(view.registry.entities)).not.toContain(cat.id);
  expect(ids(view.registry.resources)).not.toContain(benOnly);
  // Public resources are readable by anyone, so they are in every view.
  expect(ids(view.registry.resources)).toEqual(expect.arrayContaining([shared, catPublic]));
  expect(view.omitted.length).toBeGreaterThan(0);

  const benCtx = await signedIn(playwright, baseURL!, ben.email, ben.password);
  const benView = JSON.stringify(await (await benCtx.get("/api/v1/console/registry")).json());
  expect(benView).not.toContain(annBot);
  expect(benView).not.toContain(toAnnBot.id);

  const all = await (await request.get("/api/v1/console/registry", { headers: OP })).json();
  expect(all.view).toBe("operator");
  expect(ids(all.registry.claims)).toEqual(expect.arrayContaining([toAnn.id, toAnnBot.id, toBenBot.id]));
  await annCtx.dispose();
  await benCtx.dispose();
});

test("the console endpoints refuse agents and anonymous callers", async ({ request }) => {
  const id = uid("own");
  await post(request, "/owners", { id, displayName: "x", email: `${id}@e2e.test`, password: `pw-${id}-long-enough` });
  const bot = uid("bot");
  await post(request, "/machines", { id: bot, owner: id });
  const token = (await post(request, `/machines/${bot}/tokens`, { label: "t" })).secret as string;
  for (const path of ["/api/v1/console/registry", "/api/v1/console/stats"]) {
    expect((await request.get(path)).status()).toBe(401);
    expect((await request.get(path, { headers: { authorization: `Bearer ${token}` } })).status()).toBe(403);
  }
  expect((await request.get("/api/v1/console/stats?window=1y", { headers: OP })).status()).toBe(400);
  expect((await request.get("/api/v1/console/stats?window=7d&extra=1", { headers: OP })).status()).toBe(400);
});

test("dashboard stats count an owner's own decisions only", async ({ request, playwright, baseURL }) => {
  const id = uid("own");
  const o = { id, displayName: "Stats", email: `${id}@e2e.test`, password: `pw-${id}-long-enough` };
  await post(request, "/owners", o);
  const bot = uid("bot");
  await post(request, "/machines", { id: bot, owner: id });
  const res = uid("res");
  await post(request, "/resources", { id: res, type: "file", scope: `/s/${id}`, isPublic: false, owner: id });
  const token = (await post(request, `/machines/${bot}/tokens`, { label: "t" })).secret as string;
  const agent = { authorization: `Bearer ${token}` };
  await post(request, "/verify", { action: { actionId: "s1", actor: bot, reads: [res] } }, agent);
  await post(request, "/verify", { action: { actionId: "s2", actor: bot, deceives: true } }, agent);
  const ctx = await signedIn(playwright, baseURL!, o.email, o.password);
  const stats = await (await ctx.get("/api/v1/console/stats?window=24h")).json();
  expect(stats.buckets).toHaveLength(24);
  expect(stats.totals).toEqual({ permitted: 0, blocked: 2 });
  expect(stats.topCodes.map((c: { code: string }) => c.code).sort()).toEqual(["FORBIDDEN_FLAG", "READ_DENIED"]);
  expect(stats.approvals).toEqual({ pending: 2, curable: 1, invariant: 1 });
  expect(stats.machines.total).toBe(1);
  await ctx.dispose();
});
