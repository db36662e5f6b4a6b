import "server-only";
import { ApiError } from "./errors";

/**
 * Takes turns: at most `active` calls of `run` at once, at most `waiting` more queued (in order),
 * and any call beyond those refused with RATE_LIMITED before it starts. What-if simulations take
 * turns so that a burst of them (every inbox card asks for its preview) never has more than one
 * holding the log's append lock at a time, between the decision batches that queue for it too.
 */
export class Turns {
  #active = 0;
  readonly #queue: (() => void)[] = [];

  constructor(
    private readonly what: string,
    private readonly maxActive: number,
    private readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.maxActive) {
      if (this.#queue.length >= this.maxWaiting) throw new ApiError("RATE_LIMITED", `too many ${this.what} at once; retry in a moment`);
      // The finishing call hands its turn over: #active stays as it is.
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
