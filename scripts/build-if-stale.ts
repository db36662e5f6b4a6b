/**
 * Builds the Next.js app when its sources changed since the last build (a hash of the inputs is
 * kept beside the build). Used by `npm start` and by `npm test` before the suites that need a
 * server. FK_NEXT_DIST_DIR builds elsewhere than .next (parallel work in one checkout).
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childEnv, config } from "../lib/server/config";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUILD_INPUTS = ["app", "components", "lib", "public", "proxy.ts", "instrumentation.ts", "next.config.ts", "package.json", "package-lock.json", "tsconfig.json"];

export function distDir(): string {
  return path.join(root, config().nextDistDir);
}

function sourceHash(): string {
  const hash = crypto.createHash("sha256");
  const walk = (p: string) => {
    if (!fs.existsSync(p)) return;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      const base = path.basename(p);
      if (base === "node_modules" || base === "__tests__") return;
      for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name));
    } else {
      hash.update(path.relative(root, p)).update("\0").update(fs.readFileSync(p)).update("\0");
    }
  };
  for (const input of BUILD_INPUTS) walk(path.join(root, input));
  return hash.digest("hex");
}

/** Returns false when the build failed. */
export function buildIfStale(): boolean {
  const hashFile = path.join(distDir(), "fk-source-hash");
  const wanted = sourceHash();
  const built = fs.existsSync(hashFile) && fs.existsSync(path.join(distDir(), "BUILD_ID")) ? fs.readFileSync(hashFile, "utf8") : "";
  if (built === wanted) return true;
  console.log("[build] building the console (first start, or the sources changed)…");
  const result = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
    stdio: "inherit",
    cwd: root,
    env: childEnv({ NEXT_TELEMETRY_DISABLED: "1" }),
  });
  if (result.status !== 0) {
    console.error("[build] next build failed");
    return false;
  }
  fs.writeFileSync(hashFile, wanted);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(buildIfStale() ? 0 : 1);
