/**
 * npm test — every suite, in order: lint, typecheck, unit, integration (SQLite and PostgreSQL),
 * e2e (Playwright against `next start` in Chromium). Every step runs even when an earlier one
 * failed, so one run shows everything; the exit status is non-zero if any step failed or if a
 * test step ran no test. FK_TEST_STEPS=unit,e2e runs a subset.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

interface StepResult {
  name: string;
  ok: boolean;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  note?: string;
}

const root = process.cwd();
const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", FORCE_COLOR: process.env.CI ? "0" : (process.env.FORCE_COLOR ?? "1") };
fs.mkdirSync(path.join(root, "test-results"), { recursive: true });

function run(cmd: string, args: string[]): { status: number; seconds: number } {
  const start = Date.now();
  const r = spawnSync(cmd, args, { stdio: "inherit", env, cwd: root });
  return { status: r.status ?? 1, seconds: (Date.now() - start) / 1000 };
}

function plain(name: string, cmd: string, args: string[]): StepResult {
  const r = run(cmd, args);
  return { name, ok: r.status === 0, passed: 0, failed: 0, skipped: 0, seconds: r.seconds };
}

function vitest(project: "unit" | "integration"): StepResult {
  const out = path.join(root, "test-results", `vitest-${project}.json`);
  fs.rmSync(out, { force: true });
  const r = run(bin("vitest"), ["run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`]);
  if (!fs.existsSync(out)) return { name: project, ok: false, passed: 0, failed: 0, skipped: 0, seconds: r.seconds, note: "no report" };
  const report = JSON.parse(fs.readFileSync(out, "utf8")) as {
    numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number; numTotalTests: number;
  };
  const ran = report.numPassedTests + report.numFailedTests;
  return {
    name: project,
    ok: r.status === 0 && report.numFailedTests === 0 && ran > 0,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + report.numTodoTests,
    seconds: r.seconds,
    note: ran === 0 ? "ran no test" : undefined,
  };
}

function playwright(): StepResult {
  const out = path.join(root, "test-results", "e2e-report.json");
  fs.rmSync(out, { force: true });
  const r = run(bin("playwright"), ["test"]);
  if (!fs.existsSync(out)) return { name: "e2e", ok: false, passed: 0, failed: 0, skipped: 0, seconds: r.seconds, note: "no report" };
  const stats = (JSON.parse(fs.readFileSync(out, "utf8")) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } }).stats;
  const ran = stats.expected + stats.unexpected + stats.flaky;
  return {
    name: "e2e",
    ok: r.status === 0 && stats.unexpected === 0 && ran > 0,
    passed: stats.expected + stats.flaky,
    failed: stats.unexpected,
    skipped: stats.skipped,
    seconds: r.seconds,
    note: ran === 0 ? "ran no test" : undefined,
  };
}

const STEPS: Record<string, () => StepResult> = {
  lint: () => plain("lint", bin("eslint"), ["--max-warnings", "0", "."]),
  typecheck: () => plain("typecheck", bin("tsc"), ["--noEmit"]),
  // Integration suites that talk to a real server and the e2e suite start from this one build.
  build: () => plain("build", process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/build-if-stale.ts"]),
  unit: () => vitest("unit"),
  integration: () => vitest("integration"),
  e2e: () => playwright(),
};

const wanted = (process.env.FK_TEST_STEPS ?? Object.keys(STEPS).join(",")).split(",").map((s) => s.trim()).filter(Boolean);
const results: StepResult[] = [];
for (const name of wanted) {
  const step = STEPS[name];
  if (!step) {
    console.error(`unknown step ${name}; known: ${Object.keys(STEPS).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  results.push(step());
}

console.log("\n=== summary ===");
for (const r of results) {
  const counts = r.passed + r.failed > 0 ? ` ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped` : "";
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(12)}${counts} (${r.seconds.toFixed(1)} s)${r.note ? ` — ${r.note}` : ""}`);
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0) + results.filter((r) => !r.ok && r.failed === 0).length;
const skipped = results.reduce((n, r) => n + r.skipped, 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
