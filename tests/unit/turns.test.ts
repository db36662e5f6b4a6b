import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/server/errors";
import { Turns } from "@/lib/server/turns";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("Turns", () => {
  it("runs at most maxActive at once, queues maxWaiting in order, refuses the rest before they start", async () => {
    const turns = new Turns("tests", 1, 2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const started: number[] = [];
    const job = (n: number) =>
      turns.run(async () => {
        started.push(n);
        running++;
        most = Math.max(most, running);
        await tick();
        running--;
        order.push(n);
        return n;
      });
    const outcomes = await Promise.allSettled([job(1), job(2), job(3), job(4), job(5)]);
    expect(outcomes.slice(0, 3).map((o) => (o.status === "fulfilled" ? o.value : null))).toEqual([1, 2, 3]);
    for (const o of outcomes.slice(3)) {
      expect(o.status).toBe("rejected");
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(ApiError);
      expect(((o as PromiseRejectedResult).reason as ApiError).code).toBe("RATE_LIMITED");
    }
    expect(started).toEqual([1, 2, 3]);
    expect(order).toEqual([1, 2, 3]);
    expect(most).toBe(1);
    expect(turns.active).toBe(0);
    expect(turns.waiting).toBe(0);
  });

  it("a failing call hands its turn on and leaves the count right", async () => {
    const turns = new Turns("tests", 1, 4);
    const results = await Promise.allSettled([
      turns.run(async () => {
        await tick();
        throw new Error("boom");
      }),
      turns.run(async () => "after"),
    ]);
    expect(results[0].status).toBe("rejected");
    expect(results[1]).toEqual({ status: "fulfilled", value: "after" });
    expect(turns.active).toBe(0);
    expect(await turns.run(async () => "again")).toBe("again");
  });
});
