/**
 * The gate's circuit breaker. A kernel that keeps failing (timeouts, network errors, 5xx, garbage,
 * bad signatures) should not be asked again and again while every tool call waits for a timeout:
 * after `failureThreshold` consecutive failures the breaker opens and every call is refused at once,
 * without a request. After `coolDownMs` one call — and only one — is let through as a probe
 * (half-open); its success closes the breaker, its failure opens it for another cool-down.
 *
 * Open and half-open both mean "refuse": the breaker only ever removes requests, it never permits.
 */
export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. Default 3. */
  readonly failureThreshold?: number | undefined;
  /** How long the breaker stays open before a single probe. Default 10 s. */
  readonly coolDownMs?: number | undefined;
  readonly now: () => number;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;

  constructor(options: BreakerOptions) {
    this.failureThreshold = positiveInt(options.failureThreshold, 3, "failureThreshold");
    this.coolDownMs = nonNegative(options.coolDownMs, 10_000, "coolDownMs");
    this.#now = options.now;
  }

  get state(): BreakerState {
    if (this.#openedAt === undefined) return "closed";
    return this.#now() - this.#openedAt >= this.coolDownMs ? "half-open" : "open";
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /**
   * Asks to send one request. Returns a ticket to settle with success() or failure(), or undefined
   * when the breaker refuses (open, or half-open with its one probe already in flight).
   */
  acquire(): BreakerTicket | undefined {
    const state = this.state;
    if (state === "open") return undefined;
    if (state === "half-open") {
      if (this.#probing) return undefined;
      this.#probing = true;
      return this.#ticket(true);
    }
    return this.#ticket(false);
  }

  #ticket(isProbe: boolean): BreakerTicket {
    let settled = false;
    const settle = (ok: boolean | undefined) => {
      if (settled) return;
      settled = true;
      if (isProbe) this.#probing = false;
      if (ok === undefined) return;
      if (ok) {
        this.#failures = 0;
        this.#openedAt = undefined;
        return;
      }
      this.#failures += 1;
      // A failed probe re-opens at once; otherwise the threshold decides.
      if (isProbe || this.#failures >= this.failureThreshold) this.#openedAt = this.#now();
    };
    return {
      isProbe,
      success: () => settle(true),
      failure: () => settle(false),
      // The request said nothing about the kernel's health (e.g. refused locally): release a probe slot.
      release: () => settle(undefined),
    };
  }
}

export interface BreakerTicket {
  readonly isProbe: boolean;
  success(): void;
  failure(): void;
  release(): void;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}
