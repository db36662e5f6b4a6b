#!/usr/bin/env node
/**
 * A transparent stdio shim for tests: runs the command given after its own arguments
 * (`stdio-tee.mjs <log> -- <command> [args...]`) and appends every line this process receives on
 * stdin (what the MCP proxy sends upstream) to <log> before passing it on unchanged. It lets a test
 * prove that a refused call never reached the real upstream server, without changing that server.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";

const [log, sep, command, ...args] = process.argv.slice(2);
if (!log || sep !== "--" || !command) {
  process.stderr.write("usage: stdio-tee.mjs <log> -- <command> [args...]\n");
  process.exit(2);
}
const child = spawn(command, args, { stdio: ["pipe", "inherit", "inherit"] });
let pending = "";
process.stdin.on("data", (chunk) => {
  pending += chunk.toString("utf8");
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    fs.appendFileSync(log, pending.slice(0, nl + 1));
    pending = pending.slice(nl + 1);
  }
  child.stdin.write(chunk);
});
process.stdin.on("end", () => child.stdin.end());
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const s of ["SIGTERM", "SIGINT"]) process.on(s, () => child.kill(s));
