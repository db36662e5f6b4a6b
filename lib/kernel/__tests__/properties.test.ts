/**
 * Quick run of the kernel's properties (thousands of runs in total, a few seconds). The long run
 * is `npx tsx bench/kernel-fuzz.ts` with FK_FUZZ_RUNS.
 */
import { describe, it } from "vitest";
import { KERNEL_PROPERTIES } from "./properties";

const BASE_RUNS = 2000;

describe("kernel properties", () => {
  for (const p of KERNEL_PROPERTIES) {
    const numRuns = Math.max(200, Math.round(BASE_RUNS / p.cost));
    it(`${p.name} (${numRuns} runs)`, () => {
      p.run(numRuns);
    });
  }
});
