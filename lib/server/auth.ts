import "server-only";
import crypto from "node:crypto";
import { promisify } from "node:util";
import { config } from "./config";
import { ApiError } from "./errors";
import { getDb } from "./db/client";
import type { Tx } from "./registry";
import { beginRequestTrace } from "./tracing";

/**
 * Who is asking. Owners and the operator sign in to the console (session cookie + CSRF token);
 * the operator may also use the bearer token from FK_OPERATOR_TOKEN; agents use machine API tokens.
 * Route handlers receive a Principal from the wrapper in lib/server/http.ts and check it themselves.
 */
export type Principal =
  | { kind: "owner"; accountId: string; entityId: string; email: string; displayName: string; via: "session"; csrfToken: string }
  | { kind: "operator"; accountId: string | null; email: string | null; displayName: string; via: "session" | "bearer"; csrfToken: string | null }
  | { kind: "agent"; machineId: string; tokenId: string; /** Registry version the token was last seen valid at. */ authVersion: number };

export type HumanPrincipal = Extract<Principal, { kind: "owner" | "operator" }>;

export const SESSION_COOKIE = "fk_session";
export const CSRF_COOKIE = "fk_csrf";
export const CSRF_HEADER = "x-csrf-token";
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, keylen: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** scrypt$N$r$p$salt$hash — parameters stored with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password.normalize("NFC"), salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(password.normalize("NFC"), Buffer.from(salt, "base64url"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

// A fixed hash to compare against when the account does not exist, so timing does not reveal it.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword("not-a-real-password-0000");
  await verifyPassword(password, await dummyHash);
}

export function sha256Hex(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${crypto.randomBytes(bytes).toString("base64url")}`;
}

export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(12).toString("base64url")}`;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

function operatorToken(): string | null {
  // A token that is set but too short stops the server at start (lib/server/config.ts).
  return config().operatorToken;
}

function bearerOf(req: Request): string | null {
  const h = req.headers.get("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : "";
}

function cookieOf(req: Request, name: string): string | null {
  const header = req.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

/**
 * Valid tokens seen recently, by hash, with the registry version they were valid at. Revoking a
 * token bumps the registry version, and the decision batch — which reads the version anyway —
 * re-checks any token last seen at an older version inside its transaction (recheckAgentToken),
 * so a revocation on any replica takes effect for the very next decision, as without a cache.
 *
 * One cache per process, on globalThis: under `npm start` this module is loaded twice, by the
 * server's lean path (scripts/server.ts, through tsx) and inside Next's bundle, and a token the
 * console revokes (forgetToken, in Next's copy) must be forgotten by the lean path's copy too.
 * The entries are plain data, so either copy can read what the other wrote.
 */
const tokenState = ((globalThis as unknown as { __fkTokens?: TokenState }).__fkTokens ??= {
  cache: new Map(),
  lastUsedWrites: new Map(),
});
interface TokenState {
  readonly cache: Map<string, { machineId: string; tokenId: string; version: number }>;
  /** When this process last wrote a token's lastUsedAt, by token id. */
  readonly lastUsedWrites: Map<string, number>;
}
const tokenCache = tokenState.cache;
const lastUsedWrites = tokenState.lastUsedWrites;
const TOKEN_CACHE_MAX = 10_000;

export function rememberToken(tokenId: string, version: number): void {
  for (const v of tokenCache.values()) if (v.tokenId === tokenId) v.version = Math.max(v.version, version);
}

async function agentFromToken(token: string): Promise<Principal | null> {
  if (!token.startsWith("fkm_")) return null;
  const hash = sha256Hex(token);
  const cached = tokenCache.get(hash);
  if (cached) return { kind: "agent", machineId: cached.machineId, tokenId: cached.tokenId, authVersion: cached.version };
  const db = getDb();
  const version = (await db.registryState.findUnique({ where: { id: 1 } }))?.version ?? 0;
  const row = await db.apiToken.findUnique({ where: { tokenHash: hash } });
  if (!row || row.revokedAt) return null;
  if (tokenCache.size >= TOKEN_CACHE_MAX) tokenCache.clear();
  tokenCache.set(hash, { machineId: row.machineId, tokenId: row.id, version });
  // Touch lastUsedAt at most once a minute per token: a write per decision would cost throughput.
  const now = Date.now();
  if ((lastUsedWrites.get(row.id) ?? 0) < now - 60_000) {
    lastUsedWrites.set(row.id, now);
    void db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
  }
  return { kind: "agent", machineId: row.machineId, tokenId: row.id, authVersion: version };
}

/** Forgets a token at once (this replica); other replicas re-check it through the version bump. */
export function forgetToken(tokenId: string): void {
  for (const [hash, v] of tokenCache) if (v.tokenId === tokenId) tokenCache.delete(hash);
}

async function humanFromSession(sessionToken: string): Promise<Principal | null> {
  const db = getDb();
  const session = await db.loginSession.findUnique({ where: { tokenHash: sha256Hex(sessionToken) } });
  if (!session || session.expiresAt.getTime() <= Date.now()) return null;
  const account = await db.account.findUnique({ where: { id: session.accountId } });
  if (!account) return null;
  if (account.role === "OPERATOR") {
    return { kind: "operator", accountId: account.id, email: account.email, displayName: "Operator", via: "session", csrfToken: session.csrfToken };
  }
  if (!account.entityId) return null;
  const entity = await db.entity.findUnique({ where: { id: account.entityId } });
  return {
    kind: "owner",
    accountId: account.id,
    entityId: account.entityId,
    email: account.email,
    displayName: entity?.displayName ?? account.email,
    via: "session",
    csrfToken: session.csrfToken,
  };
}

/**
 * Resolves the principal of a request, or null when it carries no credentials. A credential that
 * is present but wrong is an error (401), never silently ignored in favour of another one.
 * On a decision route with tracing on, this is where the decision's trace starts (tracing.ts):
 * an `authenticate` span, and a finished trace when the caller is refused here.
 */
export async function authenticate(req: Request): Promise<Principal | null> {
  const trace = beginRequestTrace(req);
  if (!trace) return resolvePrincipal(req);
  let principal: Principal | null;
  try {
    principal = await resolvePrincipal(req);
  } catch (error) {
    trace.phase("authenticate", trace.start);
    trace.finish({ outcome: "unauthenticated", reason: error instanceof ApiError ? error.code : "ERROR" });
    throw error;
  }
  trace.phase("authenticate", trace.start);
  // Decision routes are for agents: no credentials is a 401, a human's a 403 (lib/server/http.ts).
  if (principal === null) trace.finish({ outcome: "unauthenticated", reason: "UNAUTHENTICATED" });
  else if (principal.kind !== "agent") trace.finish({ outcome: "forbidden", reason: "FORBIDDEN" });
  return principal;
}

async function resolvePrincipal(req: Request): Promise<Principal | null> {
  const bearer = bearerOf(req);
  if (bearer !== null) {
    const op = operatorToken();
    if (op && safeEqual(bearer, op)) {
      return { kind: "operator", accountId: null, email: null, displayName: "Operator (token)", via: "bearer", csrfToken: null };
    }
    const agent = await agentFromToken(bearer);
    if (agent) return agent;
    throw new ApiError("UNAUTHENTICATED", "the bearer token is not valid");
  }
  const session = cookieOf(req, SESSION_COOKIE);
  if (session) {
    const human = await humanFromSession(session);
    if (human) return human;
    throw new ApiError("UNAUTHENTICATED", "the session has expired or is not valid; sign in again");
  }
  return null;
}

/** Double-submit check for cookie sessions: the header must carry the session's CSRF token. */
export function checkCsrf(req: Request, principal: Principal): void {
  if (principal.kind === "agent" || principal.via !== "session") return;
  const header = req.headers.get(CSRF_HEADER);
  if (!header || !principal.csrfToken || !safeEqual(header, principal.csrfToken)) {
    throw new ApiError("CSRF_FAILED", `state changes need the ${CSRF_HEADER} header of this session`);
  }
}

export interface NewSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function createLoginSession(accountId: string): Promise<NewSession> {
  const token = randomToken("fks_");
  const csrfToken = randomToken("", 24);
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await getDb().loginSession.create({
    data: { id: newId("ses"), accountId, tokenHash: sha256Hex(token), csrfToken, expiresAt },
  });
  return { token, csrfToken, expiresAt };
}

export async function endLoginSession(req: Request): Promise<void> {
  const token = cookieOf(req, SESSION_COOKIE);
  if (token) await getDb().loginSession.deleteMany({ where: { tokenHash: sha256Hex(token) } });
}

export function sessionCookies(req: Request, session: NewSession | null): string[] {
  const secure = new URL(req.url).protocol === "https:" || req.headers.get("x-forwarded-proto") === "https" ? "; Secure" : "";
  if (!session) {
    return [
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`,
      `${CSRF_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0${secure}`,
    ];
  }
  const maxAge = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
  return [
    `${SESSION_COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`,
    // Readable by the console's script, which echoes it in the CSRF header.
    `${CSRF_COOKIE}=${session.csrfToken}; Path=/; SameSite=Lax; Max-Age=${maxAge}${secure}`,
  ];
}

/**
 * Failed sign-ins per account name, per process: after MAX_FAILURES within the window, further
 * attempts are refused (429) without checking the password, until the window passes. Counted per
 * replica; a shared limiter would need the database.
 */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const failures = new Map<string, number[]>();

function recentFailures(key: string, now: number): number[] {
  const list = (failures.get(key) ?? []).filter((t) => t > now - FAILURE_WINDOW_MS);
  if (list.length) failures.set(key, list);
  else failures.delete(key);
  return list;
}

export async function signIn(email: string, password: string): Promise<{ accountId: string } | null> {
  const key = email.toLowerCase();
  const now = Date.now();
  if (recentFailures(key, now).length >= MAX_FAILURES) {
    throw new ApiError("RATE_LIMITED", "too many failed sign-ins for this account; try again later");
  }
  const ok = await checkCredentials(key, password);
  if (ok) failures.delete(key);
  else failures.set(key, [...recentFailures(key, now), now]);
  return ok;
}

async function checkCredentials(email: string, password: string): Promise<{ accountId: string } | null> {
  const account = await getDb().account.findUnique({ where: { email } });
  if (!account) {
    await burnPasswordCheck(password);
    return null;
  }
  return (await verifyPassword(password, account.passwordHash)) ? { accountId: account.id } : null;
}

/**
 * A token authenticated at an older registry version is re-checked inside the transaction of
 * whatever it is about to do (a decision, a redemption): the cache may predate its revocation
 * through another replica.
 */
export async function tokenStillValid(tx: Tx, auth: { tokenId: string; authVersion: number } | "internal", version: number): Promise<boolean> {
  if (auth === "internal" || auth.authVersion === version) return true;
  const row = await tx.apiToken.findUnique({ where: { id: auth.tokenId }, select: { revokedAt: true } });
  if (!row || row.revokedAt) {
    forgetToken(auth.tokenId);
    return false;
  }
  rememberToken(auth.tokenId, version);
  auth.authVersion = version;
  return true;
}
