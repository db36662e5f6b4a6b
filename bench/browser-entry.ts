/**
 * What bench/browser.ts runs inside Chromium: the console's what-if replay (the kernel's
 * replayDecisions, as lib/client/what-if.ts calls it) over the benches' world, with its floor
 * measured in the same page — the same verify calls in a bare loop. Bundled by esbuild; exposes
 * `globalThis.fkBrowserBench`.
 */
import { replayDecisions } from "../lib/kernel/simulate";
import { buildSnapshot } from "../lib/kernel/snapshot";
import { verify } from "../lib/kernel/verify";
import { buildWorld, NOW, replayScenario, SIZES } from "./world";

export interface BrowserRow {
  readonly resources: string;
  readonly actions: number;
  readonly flips: number;
  readonly snapshotsMs: number;
  readonly replayMs: number;
  readonly floorMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function run(sizeIndex: number, count: number, runs: number): BrowserRow {
  const size = SIZES[sizeIndex]!;
  const world = buildWorld(size, 42);
  const scenario = replayScenario(world, size, count);
  const t0 = performance.now();
  const current = buildSnapshot(world.data);
  const proposed = buildSnapshot(scenario.proposed);
  const snapshotsMs = performance.now() - t0;
  const replay: number[] = [];
  const floor: number[] = [];
  let flips = 0;
  // One untimed round first, so neither side is measured while the JIT warms up.
  replayDecisions(current, proposed, scenario.items, NOW);
  for (const it of scenario.items) verify(current, it.action, NOW);
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    flips = replayDecisions(current, proposed, scenario.items, NOW).flips.length;
    replay.push(performance.now() - t);
    t = performance.now();
    for (const it of scenario.items) {
      verify(current, it.action, NOW);
      verify(proposed, it.action, NOW);
    }
    floor.push(performance.now() - t);
  }
  return { resources: size.label, actions: scenario.items.length, flips, snapshotsMs, replayMs: median(replay), floorMs: median(floor) };
}

(globalThis as { fkBrowserBench?: unknown }).fkBrowserBench = { run };
