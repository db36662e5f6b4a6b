/**
 * The gate an agent asks before every tool call (design §5, §10).
 *
 * createGate pins the kernel's public key and refuses to start when the kernel is unreachable or
 * presents another key ("no kernel, no agent"). check() asks the kernel and returns a decision whose
 * signature, key, action digest, actor and expiry this process has verified itself — the body of the
 * answer is never trusted. guard() runs a function only on such a permit, after redeeming it once.
 *
 * Everything that is not a verified permit is a refusal: timeouts, network errors, 5xx, garbage,
 * forged or foreign signatures, answers about another action or actor, expired or reused permits.
 * Refusals carry a KernelBlockedError with a stable code; check() returns them, guard() throws them.
 */
import { parseAction } from "../kernel/action";
import {
  DECISION_DOMAIN,
  actionDigest,
  isDecisionRecord,
  keyIdOf,
  verifyPermit,
  type DecisionRecord,
  type DecisionViolation,
  type PermitFailureCode,
} from "../kernel/signing";
import { isHex } from "../kernel/bytes";
import { parseIso } from "../kernel/iso-time";
import type { Action, Flag } from "../kernel/types";
import { ErrorBody } from "../contracts";
import { ROUTES } from "../contracts/routes";
import { CircuitBreaker, type BreakerState, type BreakerTicket } from "./breaker";
import { KernelBlockedError, type BlockCode } from "./errors";
import { exchange, parseJson, type Exchange, type FetchLike } from "./http";

/** A public key to pin: 64 lowercase hex characters, or with the key id it must have. */
export type PinnedKey = string | { readonly keyId: string; readonly publicKey: string };

export interface GateOptions {
  /** The kernel: `http://host:port` or `http://host:port/api/v1`. */
  readonly url: string;
  /** The machine's API token (`fkm_...`). Sent only to `url`. */
  readonly token: string;
  /** The machine this token belongs to: every action's actor. */
  readonly machine: string;
  /** The kernel's Ed25519 public key, obtained out of band (GET /api/v1/keys on a trusted path). */
  readonly publicKey: PinnedKey;
  /** Per request, including reading the body. Default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Consecutive kernel failures that open the circuit breaker. Default 3. */
  readonly failureThreshold?: number | undefined;
  /** How long the breaker stays open before one probe. Default 10 000 ms. */
  readonly coolDownMs?: number | undefined;
  /** Check at start that the token is a valid machine token (no audit entry is made). Default true. */
  readonly verifyToken?: boolean | undefined;
  readonly fetch?: FetchLike | undefined;
  /** The clock for permit expiry, ms since the epoch. Default Date.now. */
  readonly now?: (() => number) | undefined;
  /** Fresh action ids. Default crypto.randomUUID. */
  readonly newActionId?: (() => string) | undefined;
}

/** What an agent asks about; actionId and actor are filled in by the gate when absent. */
export type ActionRequest = {
  readonly actionId?: string | undefined;
  readonly actor?: string | undefined;
  readonly reads?: readonly string[] | undefined;
  readonly writes?: readonly string[] | undefined;
  readonly delegates?: readonly string[] | undefined;
  readonly governsHumans?: readonly string[] | undefined;
  readonly description?: string | undefined;
  readonly argument?: string | undefined;
} & { readonly [F in Flag]?: boolean | undefined };

export interface CheckOptions {
  /** Session id: the kernel tracks information flow across the session's calls. */
  readonly session?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Names the tool in refusals. */
  readonly tool?: string | undefined;
}

/** A verified permit: a live PERMITTED decision, signed by the pinned key, for exactly this action. */
export interface Permit {
  readonly permitted: true;
  readonly action: Action;
  readonly record: DecisionRecord;
  readonly signature: string;
  readonly keyId: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export interface Refusal {
  readonly permitted: false;
  readonly code: BlockCode;
  readonly violations: readonly DecisionViolation[];
  readonly error: KernelBlockedError;
  /** The parsed action, when it parsed. */
  readonly action?: Action | undefined;
}

export type Decision = Permit | Refusal;

export interface Gate {
  readonly machine: string;
  readonly keyId: string;
  readonly api: string;
  readonly breakerState: BreakerState;
  /** Asks the kernel; never throws. A Permit has been verified in this process. */
  check(action: ActionRequest, options?: CheckOptions): Promise<Decision>;
  /** Redeems a permit (single use). Throws KernelBlockedError when the kernel refuses or cannot be reached. */
  redeem(permit: Permit, options?: CheckOptions): Promise<void>;
  /** check + redeem; never throws. */
  authorize(action: ActionRequest, options?: CheckOptions): Promise<Decision>;
  /** Runs `fn` only on a verified, redeemed permit; otherwise throws KernelBlockedError and `fn` never runs. */
  guard<T>(action: ActionRequest, fn: (permit: Permit) => T | Promise<T>, options?: CheckOptions): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** `http://h:p` or `http://h:p/api/v1` (with or without a trailing slash) -> `http://h:p/api/v1`. */
export function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KernelBlockedError("INVALID_CONFIG", `the kernel URL "${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new KernelBlockedError("INVALID_CONFIG", "the kernel URL must be http: or https:");
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new KernelBlockedError("INVALID_CONFIG", "the kernel URL must not carry credentials, a query or a fragment");
  }
  const path = parsed.pathname.replace(/\/+$/, "");
  return `${parsed.origin}${path.endsWith("/api/v1") ? path : `${path}/api/v1`}`;
}

function pinnedKey(key: PinnedKey): { keyId: string; publicKey: string } {
  const publicKey = typeof key === "string" ? key : key?.publicKey;
  if (typeof publicKey !== "string" || !/^[0-9a-fA-F]{64}$/.test(publicKey.trim())) {
    throw new KernelBlockedError("INVALID_CONFIG", "publicKey must be the kernel's 32-byte Ed25519 public key as 64 hex characters");
  }
  // Hex case carries no meaning; the kernel's own helpers take lowercase.
  const pk = publicKey.trim().toLowerCase();
  const keyId = keyIdOf(pk);
  if (typeof key !== "string" && key.keyId !== keyId) {
    throw new KernelBlockedError("WRONG_KEY", `the pinned keyId ${key.keyId} is not the id of the pinned public key (${keyId})`);
  }
  return { keyId, publicKey: pk };
}

function errorBodyOf(text: string): { code: string; message: string; reason?: string } | undefined {
  const parsed = ErrorBody.safeParse(parseJson(text));
  if (!parsed.success) return undefined;
  const { code, message, details } = parsed.data.error;
  // `details.reason` is the structured refusal reason of the permit routes (e.g. BUDGET_EXHAUSTED).
  const reason = typeof details === "object" && details !== null && !Array.isArray(details) ? (details as { reason?: unknown }).reason : undefined;
  return typeof reason === "string" ? { code, message, reason } : { code, message };
}

/**
 * Starts a gate: pins the key, asks the kernel for its keys, and (by default) checks the token.
 * Rejects with KernelBlockedError — INVALID_CONFIG, KERNEL_UNAVAILABLE, TIMEOUT, BAD_RESPONSE,
 * WRONG_KEY or UNAUTHENTICATED — instead of starting an agent that could never act safely.
 */
export async function createGate(options: GateOptions): Promise<Gate> {
  if (typeof options !== "object" || options === null) throw new KernelBlockedError("INVALID_CONFIG", "createGate needs options");
  const api = apiBase(options.url);
  if (typeof options.token !== "string" || options.token.trim() === "" || /\s/.test(options.token)) {
    throw new KernelBlockedError("INVALID_CONFIG", "token must be the machine's API token");
  }
  if (typeof options.machine !== "string" || options.machine === "") {
    throw new KernelBlockedError("INVALID_CONFIG", "machine must be the id of the token's machine");
  }
  const key = pinnedKey(options.publicKey);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new KernelBlockedError("INVALID_CONFIG", "timeoutMs must be a positive number");
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = options.now ?? (() => Date.now());
  const newActionId = options.newActionId ?? (() => globalThis.crypto.randomUUID());
  const breaker = new CircuitBreaker({ failureThreshold: options.failureThreshold, coolDownMs: options.coolDownMs, now });
  const config: GateConfig = { api, token: options.token, machine: options.machine, key, timeoutMs, fetch: doFetch, now, newActionId, breaker };

  await checkKernelKey(config);
  if (options.verifyToken ?? true) await checkToken(config);
  return new KernelGate(config);
}

interface GateConfig {
  readonly api: string;
  readonly token: string;
  readonly machine: string;
  readonly key: { readonly keyId: string; readonly publicKey: string };
  readonly timeoutMs: number;
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly newActionId: () => string;
  readonly breaker: CircuitBreaker;
}

function unreachable(ex: Exclude<Exchange, { kind: "response" }>, api: string, timeoutMs: number): KernelBlockedError {
  switch (ex.kind) {
    case "timeout":
      return new KernelBlockedError("TIMEOUT", `the kernel at ${api} did not answer within ${timeoutMs} ms`);
    case "network":
      return new KernelBlockedError("KERNEL_UNAVAILABLE", `the kernel at ${api} cannot be reached: ${ex.message}`);
    case "too-large":
      return new KernelBlockedError("BAD_RESPONSE", `the kernel at ${api} sent an oversized answer`);
    case "aborted":
      return new KernelBlockedError("ABORTED", "the request to the kernel was aborted by the caller");
    default: {
      const never: never = ex;
      return never;
    }
  }
}

async function checkKernelKey(c: GateConfig): Promise<void> {
  const ex = await exchange(`${c.api}${ROUTES.keys.path}`, { method: "GET", timeoutMs: c.timeoutMs, fetch: c.fetch });
  if (ex.kind !== "response") throw unreachable(ex, c.api, c.timeoutMs);
  if (ex.status !== 200) {
    throw new KernelBlockedError("KERNEL_UNAVAILABLE", `the kernel at ${c.api} answered ${ex.status} to GET ${ROUTES.keys.path}`);
  }
  const parsed = ROUTES.keys.response.safeParse(parseJson(ex.text));
  if (!parsed.success || parsed.data.domain !== DECISION_DOMAIN) {
    throw new KernelBlockedError("BAD_RESPONSE", `${c.api}${ROUTES.keys.path} is not a Freedom Kernel key list`);
  }
  const current = parsed.data.keys.filter((k) => k.status === "current").map((k) => k.keyId);
  const pinned = parsed.data.keys.find((k) => k.keyId === c.key.keyId);
  if (pinned === undefined || pinned.publicKey !== c.key.publicKey) {
    throw new KernelBlockedError("WRONG_KEY", `the kernel at ${c.api} signs with ${current.join(", ") || "no current key"}, not with the pinned key ${c.key.keyId}`);
  }
  if (pinned.status !== "current") {
    throw new KernelBlockedError("WRONG_KEY", `the pinned key ${c.key.keyId} is retired; the kernel signs with ${current.join(", ") || "no current key"}`);
  }
}

/**
 * A valid machine token passes authentication and is then refused by the redeem route's body
 * contract (400) before anything is redeemed or audited; a bad token is refused with 401/403 first.
 */
async function checkToken(c: GateConfig): Promise<void> {
  const ex = await exchange(`${c.api}${ROUTES.redeemPermit.path}`, { method: "POST", token: c.token, body: {}, timeoutMs: c.timeoutMs, fetch: c.fetch });
  if (ex.kind !== "response") throw unreachable(ex, c.api, c.timeoutMs);
  if (ex.status === 400 && errorBodyOf(ex.text)?.code === "VALIDATION_FAILED") return;
  if (ex.status === 401 || ex.status === 403) {
    throw new KernelBlockedError("UNAUTHENTICATED", `the kernel refuses this token: ${errorBodyOf(ex.text)?.message ?? `HTTP ${ex.status}`}`);
  }
  throw new KernelBlockedError(ex.status >= 500 ? "KERNEL_UNAVAILABLE" : "BAD_RESPONSE", `the kernel at ${c.api} answered ${ex.status} while checking the token`);
}

/** Whether a refusal says something about the kernel's health (for the breaker). */
type Health = "ok" | "failure" | "neutral";

class KernelGate implements Gate {
  readonly #c: GateConfig;

  constructor(config: GateConfig) {
    this.#c = config;
  }

  get machine(): string {
    return this.#c.machine;
  }
  get keyId(): string {
    return this.#c.key.keyId;
  }
  get api(): string {
    return this.#c.api;
  }
  get breakerState(): BreakerState {
    return this.#c.breaker.state;
  }

  async check(request: ActionRequest, options: CheckOptions = {}): Promise<Decision> {
    const tool = options.tool;
    const prepared = this.#prepare(request, tool);
    if (!prepared.ok) return prepared.refusal;
    const { action } = prepared;
    const refuse = (code: BlockCode, message: string, extra: { violations?: readonly DecisionViolation[]; record?: DecisionRecord; kernelCode?: string } = {}): Refusal =>
      refusal(new KernelBlockedError(code, message, { ...extra, tool, actionId: action.actionId }), action);

    const ticket = this.#c.breaker.acquire();
    if (ticket === undefined) {
      return refuse("CIRCUIT_OPEN", `the kernel failed ${this.#c.breaker.failureThreshold} times in a row; calls are refused without asking until ${this.#c.breaker.coolDownMs} ms have passed`);
    }
    const body = options.session === undefined ? { action } : { action, session: options.session };
    const ex = await exchange(`${this.#c.api}${ROUTES.verify.path}`, { method: "POST", token: this.#c.token, body, timeoutMs: this.#c.timeoutMs, fetch: this.#c.fetch, signal: options.signal });
    const [health, decision] = this.#interpretVerify(ex, action, options.session, refuse);
    settle(ticket, health);
    return decision;
  }

  #prepare(request: ActionRequest, tool: string | undefined): { ok: true; action: Action } | { ok: false; refusal: Refusal } {
    if (typeof request !== "object" || request === null) {
      return { ok: false, refusal: refusal(new KernelBlockedError("INVALID_ACTION", "an action is an object", { tool })) };
    }
    if (request.actor !== undefined && request.actor !== this.#c.machine) {
      return { ok: false, refusal: refusal(new KernelBlockedError("ACTOR_MISMATCH", `this gate acts for ${this.#c.machine}, not ${request.actor}`, { tool })) };
    }
    const parsed = parseAction({ ...request, actionId: request.actionId ?? this.#c.newActionId(), actor: this.#c.machine });
    if (!parsed.ok) {
      return { ok: false, refusal: refusal(new KernelBlockedError("INVALID_ACTION", `the action is malformed: ${parsed.errors.join("; ")}`, { tool, actionId: parsed.actionId })) };
    }
    return { ok: true, action: parsed.action };
  }

  #interpretVerify(
    ex: Exchange,
    action: Action,
    session: string | undefined,
    refuse: (code: BlockCode, message: string, extra?: { violations?: readonly DecisionViolation[]; record?: DecisionRecord; kernelCode?: string }) => Refusal,
  ): [Health, Decision] {
    if (ex.kind !== "response") {
      const e = unreachable(ex, this.#c.api, this.#c.timeoutMs);
      return [ex.kind === "aborted" ? "neutral" : "failure", refuse(e.code, e.message)];
    }
    if (ex.status !== 200) return this.#httpError(ex.status, ex.text, refuse);
    const json = parseJson(ex.text);
    if (!ROUTES.verify.response.safeParse(json).success) return ["failure", refuse("BAD_RESPONSE", "the kernel's answer is not a signed decision")];
    // The raw parsed object is what gets verified: nothing is re-serialised or normalised first.
    const { record, signature, keyId } = json as { record: unknown; signature: string; keyId: string };
    const digest = actionDigest(action);
    const check = verifyPermit(record, signature, this.#c.key.publicKey, { now: this.#c.now(), expectedActionDigest: digest, expectedActor: this.#c.machine });
    if (check.ok) {
      const r = record as DecisionRecord;
      if (keyId !== r.keyId) return ["failure", refuse("BAD_RESPONSE", "the answer's keyId differs from the signed record's")];
      if (r.actionId !== action.actionId || r.session !== session) {
        return ["failure", refuse("ACTION_MISMATCH", "the signed permit is for another action id or session")];
      }
      const permit: Permit = Object.freeze({
        permitted: true as const,
        action,
        record: deepFreeze(r),
        signature,
        keyId,
        expiresAt: parseIso(r.expiresAt) as number,
      });
      return ["ok", permit];
    }
    switch (check.reason) {
      case "NOT_PERMITTED": {
        // Signed by the pinned key and well-formed: a genuine refusal — if it is about this action.
        const r = record as DecisionRecord;
        if (r.actionDigest !== digest || r.actionId !== action.actionId) {
          return ["failure", refuse("ACTION_MISMATCH", "the signed refusal is about another action")];
        }
        if (r.actor !== this.#c.machine) return ["failure", refuse("ACTOR_MISMATCH", `the signed refusal names ${r.actor}, not ${this.#c.machine}`)];
        const reasons = r.violations.map((v) => `${v.code}: ${v.message}`).join("; ");
        return ["ok", refuse("BLOCKED", `the kernel blocked the action: ${reasons || "no reason given"}`, { violations: r.violations, record: r })];
      }
      case "EXPIRED":
        // Signed and genuine, but already expired here: the clocks disagree or the answer was slow.
        return ["neutral", refuse("EXPIRED", "the permit had already expired when it arrived (check this machine's clock)")];
      case "WRONG_KEY":
        return ["failure", refuse("WRONG_KEY", `the decision is signed by ${isDecisionRecord(record) ? record.keyId : "another key"}, not by the pinned key ${this.#c.key.keyId}`)];
      case "BAD_SIGNATURE":
        return ["failure", refuse("BAD_SIGNATURE", "the decision's signature does not verify under the pinned key")];
      case "ACTION_MISMATCH":
        return ["failure", refuse("ACTION_MISMATCH", "the signed permit is for another action (digest differs)")];
      case "ACTOR_MISMATCH":
        return ["failure", refuse("ACTOR_MISMATCH", `the signed permit is for another actor than ${this.#c.machine}`)];
      case "STATELESS":
        return ["failure", refuse("BAD_RESPONSE", "a stateless record is not a permit")];
      case "MALFORMED":
        return ["failure", refuse("BAD_RESPONSE", "the decision record is malformed")];
      default: {
        const never: never = check.reason;
        return never;
      }
    }
  }

  #httpError(
    status: number,
    text: string,
    refuse: (code: BlockCode, message: string, extra?: { kernelCode?: string }) => Refusal,
  ): [Health, Refusal] {
    const err = errorBodyOf(text);
    if (status >= 500) {
      return ["failure", refuse("KERNEL_UNAVAILABLE", `the kernel could not decide (HTTP ${status}${err ? `, ${err.code}: ${err.message}` : ""}); nothing is permitted`, err ? { kernelCode: err.code } : {})];
    }
    if (err === undefined) return ["failure", refuse("BAD_RESPONSE", `the kernel answered HTTP ${status} without an error body`)];
    if (status === 401 || status === 403) return ["neutral", refuse("UNAUTHENTICATED", `the kernel refuses this token: ${err.message}`, { kernelCode: err.code })];
    if (err.code === "PERMIT_REUSED") return ["ok", refuse("PERMIT_REUSED", "the permit was already redeemed: a permit is good for one tool call", { kernelCode: err.code })];
    if (err.code === "PERMIT_INVALID") {
      // The reason is `details.reason`; the message also names it after a colon ("...: EXPIRED"), the
      // fallback for an answer without details. A used-up budget is curable, unlike a void permit.
      const reason = err.reason ?? /:\s*([A-Z_]+)\b/.exec(err.message)?.[1];
      const code: BlockCode = reason === "EXPIRED" ? "EXPIRED" : reason === "BUDGET_EXHAUSTED" ? "BUDGET_EXHAUSTED" : "PERMIT_INVALID";
      const message = code === "BUDGET_EXHAUSTED" ? `the kernel refused to redeem the permit: a budget the owner set is used up (${err.message})` : err.message;
      return ["ok", refuse(code, message, { kernelCode: err.code })];
    }
    return ["neutral", refuse("KERNEL_REFUSED", `the kernel refused the request (${err.code}): ${err.message}`, { kernelCode: err.code })];
  }

  async redeem(permit: Permit, options: CheckOptions = {}): Promise<void> {
    const tool = options.tool;
    const fail = (code: BlockCode, message: string, kernelCode?: string) =>
      new KernelBlockedError(code, message, { tool, actionId: permit.action.actionId, kernelCode });
    // Check locally first: an expired permit is not sent anywhere.
    const now = this.#c.now();
    if (!(now <= permit.expiresAt)) throw fail("EXPIRED", `the permit expired ${now - permit.expiresAt} ms ago`);
    const check = verifyPermit(permit.record, permit.signature, this.#c.key.publicKey, { now, expectedActionDigest: actionDigest(permit.action), expectedActor: this.#c.machine });
    if (!check.ok) throw fail(permitFailureCode(check.reason), `the permit does not verify here: ${check.reason}`);

    const ticket = this.#c.breaker.acquire();
    if (ticket === undefined) throw fail("CIRCUIT_OPEN", "the kernel failed repeatedly; the permit cannot be redeemed now");
    const ex = await exchange(`${this.#c.api}${ROUTES.redeemPermit.path}`, {
      method: "POST",
      token: this.#c.token,
      body: { record: permit.record, signature: permit.signature, keyId: permit.keyId },
      timeoutMs: this.#c.timeoutMs,
      fetch: this.#c.fetch,
      signal: options.signal,
    });
    if (ex.kind !== "response") {
      if (ex.kind === "aborted") ticket.release();
      else ticket.failure();
      const e = unreachable(ex, this.#c.api, this.#c.timeoutMs);
      throw fail(e.code, e.message);
    }
    if (ex.status === 200) {
      const parsed = ROUTES.redeemPermit.response.safeParse(parseJson(ex.text));
      if (!parsed.success || parsed.data.nonce !== permit.record.nonce || parsed.data.actionId !== permit.record.actionId) {
        ticket.failure();
        throw fail("BAD_RESPONSE", "the kernel's redemption answer does not match the permit");
      }
      ticket.success();
      return;
    }
    const [health, r] = this.#httpError(ex.status, ex.text, (code, message, extra) => refusal(fail(code, message, extra?.kernelCode)));
    settle(ticket, health);
    throw r.error;
  }

  async authorize(action: ActionRequest, options: CheckOptions = {}): Promise<Decision> {
    const decision = await this.check(action, options);
    if (!decision.permitted) return decision;
    try {
      await this.redeem(decision, options);
      return decision;
    } catch (error) {
      const e = error instanceof KernelBlockedError ? error : new KernelBlockedError("KERNEL_UNAVAILABLE", "the permit could not be redeemed", { cause: error, tool: options.tool });
      return refusal(e, decision.action);
    }
  }

  async guard<T>(action: ActionRequest, fn: (permit: Permit) => T | Promise<T>, options: CheckOptions = {}): Promise<T> {
    const decision = await this.authorize(action, options);
    if (!decision.permitted) throw decision.error;
    return fn(decision);
  }
}

function settle(ticket: BreakerTicket, health: Health): void {
  if (health === "ok") ticket.success();
  else if (health === "failure") ticket.failure();
  else ticket.release();
}

/** A Refusal carrying `error` (for adapters and mappings that refuse before asking the kernel). */
export function refusal(error: KernelBlockedError, action?: Action): Refusal {
  return Object.freeze({ permitted: false as const, code: error.code, violations: error.violations, error, ...(action ? { action } : {}) });
}

function permitFailureCode(reason: PermitFailureCode): BlockCode {
  switch (reason) {
    case "WRONG_KEY":
    case "BAD_SIGNATURE":
    case "EXPIRED":
    case "ACTION_MISMATCH":
    case "ACTOR_MISMATCH":
      return reason;
    case "NOT_PERMITTED":
      return "BLOCKED";
    case "MALFORMED":
    case "STATELESS":
      return "BAD_RESPONSE";
    default: {
      const never: never = reason;
      return never;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The kernel's current key from GET /keys — trust on first use. Use it only for demos and to look the
 * key up once; an agent should pin a key obtained on a trusted path, or a compromised network could
 * hand it an attacker's key. Throws KernelBlockedError when the kernel cannot be reached or answers
 * something else than a key list.
 */
export async function fetchKernelKey(url: string, options: { fetch?: FetchLike; timeoutMs?: number } = {}): Promise<{ keyId: string; publicKey: string }> {
  const api = apiBase(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ex = await exchange(`${api}${ROUTES.keys.path}`, { method: "GET", timeoutMs, fetch: options.fetch ?? ((i, init) => globalThis.fetch(i, init)) });
  if (ex.kind !== "response") throw unreachable(ex, api, timeoutMs);
  const parsed = ROUTES.keys.response.safeParse(parseJson(ex.text));
  const current = parsed.success ? parsed.data.keys.find((k) => k.status === "current") : undefined;
  if (ex.status !== 200 || current === undefined || !isHex(current.publicKey, 32) || keyIdOf(current.publicKey) !== current.keyId) {
    throw new KernelBlockedError("BAD_RESPONSE", `${api}${ROUTES.keys.path} did not list a current key`);
  }
  return { keyId: current.keyId, publicKey: current.publicKey };
}
