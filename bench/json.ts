/**
 * `npx tsx bench/json.ts`: the strict JSON parser (lib/kernel/json.ts) against JSON.parse on a
 * typical ~1 KB `POST /api/v1/verify` body, and on a ~10 KB plan. Prints median and p99 per parse.
 */
import { parseJsonStrict } from "../lib/kernel/json";

const action = {
  actionId: "report-2026-12-07-0001",
  actor: "research-bot",
  description: "Summarise the quarterly figures and write the report for the finance team",
  reads: ["alice-data", "finance/q3-ledger.csv", "finance/q3-forecast.xlsx", "shared/templates/report.md"],
  writes: ["reports/q3-summary.md", "reports/q3-summary.pdf"],
  delegates: [],
  sink: "PUBLIC",
  selfModify: false,
  deceives: false,
  governsHumans: [],
  exfiltrates: false,
  acquiresResources: false,
  evadesOversight: false,
  resistsShutdown: false,
  manipulatesHumans: false,
  createsAgents: false,
  argumentHash: "9f2c1e0b7a6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b",
  metadata: { tool: "write_file", model: "fake-model-1", step: 3, tokens: 1842, temperature: 0.2, tags: ["finance", "q3", "report"] },
};
const small = JSON.stringify({ action, session: "session-7f3a9c21-4b8e-4d6a-9f12-0c3b5a7e8d91" });
const plan = JSON.stringify({ actions: Array.from({ length: 10 }, (_, i) => ({ ...action, actionId: `step-${i}` })), session: "s" });

function measure(name: string, text: string, fn: (t: string) => unknown, rounds = 20, per = 2000): number {
  for (let i = 0; i < per * 2; i++) fn(text); // warm up
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) fn(text);
    samples.push(Number(process.hrtime.bigint() - t0) / per / 1000);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  const p99 = samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))] ?? 0;
  console.log(`${name.padEnd(34)} median ${median.toFixed(2).padStart(7)} µs   p99 ${p99.toFixed(2).padStart(7)} µs   ${Math.round(1e6 / median).toLocaleString("en-US").padStart(9)} parses/s`);
  return median;
}

for (const [label, text] of [
  [`verify body (${small.length} bytes)`, small],
  [`plan body (${plan.length} bytes)`, plan],
] as const) {
  const ok = parseJsonStrict(text);
  if (!ok.ok || JSON.stringify(ok.value) !== JSON.stringify(JSON.parse(text))) throw new Error("the parsers disagree");
  console.log(label);
  const a = measure("  JSON.parse", text, (t) => JSON.parse(t));
  const b = measure("  parseJsonStrict", text, (t) => parseJsonStrict(t));
  console.log(`  ratio ${(b / a).toFixed(2)}x`);
}
