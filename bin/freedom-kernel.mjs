#!/usr/bin/env node
// The `freedom-kernel` command: registers tsx so the TypeScript kernel runs as is, then hands
// process.argv to lib/cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/main.ts");
process.exitCode = await main(process.argv);
