/**
 * Long-run fuzzing of the kernel's properties (the same ones the quick suite runs in
 * lib/kernel/__tests__/properties.test.ts, with far more runs).
 *
 *   npx tsx bench/kernel-fuzz.ts
 *
 * Environment:
 *   FK_FUZZ_RUNS    runs per property, divided by the property's relative cost (default 1e6)
 *   FK_FUZZ_SEED    fast-check seed, to replay a failure (default: random)
 *   FK_FUZZ_FILTER  only properties whose name contains this text
 *
 * Exits 1 on the first failing property, printing fast-check's counterexample and seed.
 */
import { KERNEL_PROPERTIES } from "../lib/kernel/__tests__/properties";

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const runs = envNumber("FK_FUZZ_RUNS", 1e6);
const seedRaw = process.env.FK_FUZZ_SEED;
const seed = seedRaw === undefined || seedRaw === "" ? undefined : Number(seedRaw);
const filter = process.env.FK_FUZZ_FILTER ?? "";

const selected = KERNEL_PROPERTIES.filter((p) => p.name.includes(filter));
if (selected.length === 0) {
  console.error(`no property matches FK_FUZZ_FILTER=${JSON.stringify(filter)}`);
  process.exit(2);
}

console.log(`kernel fuzz: ${selected.length} properties, FK_FUZZ_RUNS=${runs}${seed !== undefined ? `, seed ${seed}` : ""}`);
const started = performance.now();
for (const p of selected) {
  const numRuns = Math.max(1, Math.round(runs / p.cost));
  const t = performance.now();
  process.stdout.write(`- ${p.name} (${numRuns} runs) ... `);
  try {
    p.run(numRuns, seed);
  } catch (e) {
    console.log("FAILED");
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
  console.log(`ok in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
console.log(`all properties held (${((performance.now() - started) / 1000).toFixed(1)} s)`);
