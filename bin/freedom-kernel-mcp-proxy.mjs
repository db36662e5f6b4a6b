#!/usr/bin/env node
// The `freedom-kernel-mcp-proxy` command: registers tsx so the TypeScript SDK runs as is, then
// hands the arguments to lib/sdk/mcp/cli.ts. Logs go to stderr; stdout may be the MCP channel.
import { register } from "tsx/esm/api";

register();
const { runProxyCli } = await import("../lib/sdk/mcp/cli.ts");
process.exitCode = await runProxyCli(process.argv.slice(2));
process.exit();
