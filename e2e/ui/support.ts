/**
 * Per-test data for the console specs: every test makes its own owner (and machines, resources,
 * grants) through the API with the operator's bearer token, so tests never share state and never
 * depend on the demo data.
 */
import { expect, type APIRequestContext, type BrowserContext, type Page, type TestInfo } from "@playwright/test";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const OPERATOR_TOKEN = process.env.FK_OPERATOR_TOKEN ?? "";
export const API = "/api/v1";

export const operatorHeaders = () => ({ authorization: `Bearer ${OPERATOR_TOKEN}` });

export function uid(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(4).toString("hex")}`;
}

export interface Owner {
  id: string;
  email: string;
  password: string;
  displayName: string;
}

async function ok<T>(res: Awaited<ReturnType<APIRequestContext["post"]>>, what: string): Promise<T> {
  if (!res.ok()) throw new Error(`${what}: ${res.status()} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Everything a test sets up, done as the operator on behalf of the test's owners. */
export class Fixture {
  constructor(private readonly request: APIRequestContext) {}

  async owner(name = "Owner"): Promise<Owner> {
    const id = uid("owner");
    const o = { id, displayName: `${name} ${id.slice(-4)}`, email: `${id}@e2e.test`, password: `pw-${id}-long-enough` };
    await ok(await this.request.post(`${API}/owners`, { headers: operatorHeaders(), data: o }), "create owner");
    return o;
  }

  async machine(owner: Owner, id = uid("bot"), displayName?: string): Promise<string> {
    await ok(await this.request.post(`${API}/machines`, { headers: operatorHeaders(), data: { id, owner: owner.id, ...(displayName ? { displayName } : {}) } }), "create machine");
    return id;
  }

  async resource(owner: Owner, id = uid("res"), scope = `/data/${owner.id}`, extra: Record<string, unknown> = {}): Promise<string> {
    await ok(await this.request.post(`${API}/resources`, { headers: operatorHeaders(), data: { id, type: "file", scope, isPublic: false, owner: owner.id, ...extra } }), "create resource");
    return id;
  }

  async grant(data: { holder: string; grantor: string; resource?: string; scope?: string; canRead: boolean; canWrite: boolean; canDelegate: boolean; confidence?: number }): Promise<{ id: string }> {
    return ok(await this.request.post(`${API}/grants`, { headers: operatorHeaders(), data }), "create grant");
  }

  async token(machine: string): Promise<string> {
    const t = await ok<{ secret: string }>(await this.request.post(`${API}/machines/${machine}/tokens`, { headers: operatorHeaders(), data: { label: "e2e" } }), "create token");
    return t.secret;
  }

  /** The agent's side: POST /api/v1/verify with the machine's token. */
  async verify(token: string, action: Record<string, unknown>): Promise<{ permitted: boolean; codes: string[]; body: { record: Record<string, unknown> } }> {
    const res = await this.request.post(`${API}/verify`, { headers: { authorization: `Bearer ${token}` }, data: { action } });
    expect(res.status()).toBe(200);
    const body = (await res.json()) as { record: { permitted: boolean; violations: { code: string }[] } };
    return { permitted: body.record.permitted, codes: body.record.violations.map((v) => v.code), body: body as unknown as { record: Record<string, unknown> } };
  }
}

export async function signIn(page: Page, who: { email: string; password: string }, next = "/"): Promise<void> {
  await page.goto(`/login${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === next);
}

export const OPERATOR_LOGIN = { email: "operator@demo.test", password: "operator-demo-password" };

export async function csrfOf(context: BrowserContext): Promise<string> {
  const c = (await context.cookies()).find((x) => x.name === "fk_csrf");
  if (!c) throw new Error("no fk_csrf cookie: not signed in");
  return c.value;
}

/**
 * A screenshot in the test's output. With FK_UPDATE_DOC_SCREENSHOTS=1 it is also copied to
 * docs/screenshots for the README; a plain test run never changes the checkout.
 */
export async function shot(page: Page, testInfo: TestInfo, name: string, opts: { fullPage?: boolean; docs?: string } = {}): Promise<string> {
  const file = testInfo.outputPath(`${name}.png`);
  // A full-page capture of a scrolled page would paint the sticky top bar mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
  if (opts.docs && process.env.FK_UPDATE_DOC_SCREENSHOTS === "1") {
    const dest = path.resolve(process.cwd(), "docs/screenshots", opts.docs);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(file, dest);
  }
  return file;
}

/**
 * Records every state-changing API call the page makes (to prove nothing was sent). What-if
 * previews (POST /api/v1/simulate, issue 12) are left out: a simulation changes nothing — the
 * server applies the change set in a transaction it rolls back — so it is not a change sent.
 */
export function recordMutations(page: Page): { method: string; url: string }[] {
  const seen: { method: string; url: string }[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/") && r.method() !== "GET" && !new URL(r.url()).pathname.endsWith("/api/v1/simulate")) seen.push({ method: r.method(), url: r.url() });
  });
  return seen;
}

/** The node of an entity or resource in the React Flow canvas. */
export const graphNode = (page: Page, kind: "e" | "r" | "s", id: string) => page.locator(`.react-flow__node[data-id="${kind}:${id}"]`);
