import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * End-to-end tests against the real product: `npm start` (migrate, seed, build, `next start`) on a
 * free port with a fresh data directory, driven by Debian's Chromium (never a downloaded browser).
 * The port and data directory are chosen once and passed to the workers through the environment.
 */
if (!process.env.FK_E2E_PORT) {
  process.env.FK_E2E_PORT = execFileSync(process.execPath, [
    "-e",
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});",
  ]).toString();
}
// The operator's bearer token: tests create their own owners and data through the API with it.
if (!process.env.FK_OPERATOR_TOKEN) {
  process.env.FK_OPERATOR_TOKEN = `e2e-operator-${crypto.randomBytes(18).toString("hex")}`;
}
if (!process.env.FK_E2E_DATA_DIR) {
  process.env.FK_E2E_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "fk-e2e-"));
}
const port = Number(process.env.FK_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;
const chromium = process.env.FK_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/e2e",
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  reporter: process.env.CI ? [["list"], ["json", { outputFile: "test-results/e2e-report.json" }]] : [["list"], ["json", { outputFile: "test-results/e2e-report.json" }]],
  use: { baseURL, trace: "retain-on-failure" },
  projects: [
    { name: "api", testMatch: /api\/.*\.spec\.ts/ },
    {
      name: "ui",
      testMatch: /ui\/.*\.spec\.ts/,
      use: {
        browserName: "chromium",
        viewport: { width: 1280, height: 800 },
        launchOptions: {
          executablePath: chromium,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "node node_modules/tsx/dist/cli.mjs --conditions=react-server scripts/start.ts",
    url: `${baseURL}/api/health`,
    timeout: 360_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      FK_DATA_DIR: process.env.FK_E2E_DATA_DIR,
      DATABASE_URL: "",
      NEXT_TELEMETRY_DISABLED: "1",
      FK_OPERATOR_TOKEN: process.env.FK_OPERATOR_TOKEN,
      // Every answer is checked against the route table (lib/contracts/routes.ts); drift is a 500.
      FK_CHECK_RESPONSES: "1",
    },
  },
});
