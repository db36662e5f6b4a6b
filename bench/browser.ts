/**
 * The console's what-if replay in a real browser (issue 12): `npm run bench:browser`.
 *
 * Bundles bench/browser-entry.ts (the kernel and the benches' world) with esbuild, opens it in
 * Debian's Chromium (FK_CHROMIUM, default /usr/bin/chromium; never a downloaded browser) through
 * Playwright, and prints, for an owner's window of 500 logged actions replayed against two
 * snapshots of the 200- and 10,000-resource registries, the replay's median next to its floor
 * measured in the same page: the same 2 × 500 verify calls in a bare loop. Target: under 200 ms.
 */
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { chromium } from "@playwright/test";
import type { BrowserRow } from "./browser-entry";

const RUNS = 7;
const WINDOW = 500;

async function main(): Promise<void> {
  const bundled = await build({
    entryPoints: [path.join(import.meta.dirname, "browser-entry.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: true,
  });
  const script = bundled.outputFiles[0]!.text;
  const browser = await chromium.launch({
    executablePath: process.env.FK_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>fk bench</title>");
    await page.addScriptTag({ content: script });
    const version = browser.version();
    console.log(`what-if replay in the browser — Chromium ${version}, ${os.cpus()[0]?.model ?? "unknown CPU"}; bundle ${(script.length / 1024).toFixed(0)} KiB; median of ${RUNS} runs`);
    console.log("| resources | actions | flips | two snapshots built | replay | floor: 2 x verify per action, bare loop | ratio |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|");
    let worst = 0;
    for (const sizeIndex of [0, 1]) {
      const row = await page.evaluate(([i, n, r]) => (globalThis as unknown as { fkBrowserBench: { run(i: number, n: number, r: number): BrowserRow } }).fkBrowserBench.run(i, n, r), [sizeIndex, WINDOW, RUNS] as const);
      worst = Math.max(worst, row.replayMs);
      console.log(`| ${row.resources} | ${row.actions} | ${row.flips} | ${row.snapshotsMs.toFixed(0)} ms | ${row.replayMs.toFixed(1)} ms | ${row.floorMs.toFixed(1)} ms | ${(row.replayMs / row.floorMs).toFixed(2)}x |`);
    }
    console.log(
      worst < 200
        ? `target "browser replay of the owner's last ${WINDOW} actions under 200 ms": MET (worst ${worst.toFixed(1)} ms)`
        : `target "browser replay of the owner's last ${WINDOW} actions under 200 ms": MISSED — ${worst.toFixed(1)} ms`,
    );
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
