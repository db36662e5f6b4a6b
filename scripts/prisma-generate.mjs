#!/usr/bin/env node
// Renders one Prisma schema per provider from prisma/schema.base.prisma and generates both clients,
// without downloading anything: `prisma generate` only checks that PRISMA_SCHEMA_ENGINE_BINARY
// names an existing file (it never starts the schema engine), so we point it at this script.
// Runs as `postinstall`; plain JavaScript so it needs nothing but Node.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const base = readFileSync(join(root, "prisma/schema.base.prisma"), "utf8");

export const PROVIDERS = ["sqlite", "postgresql"];

export function renderSchema(provider) {
  return `// GENERATED from prisma/schema.base.prisma by scripts/prisma-generate.mjs: do not edit.
generator client {
  provider     = "prisma-client"
  output       = "../../lib/server/generated/${provider}"
  moduleFormat = "esm"
  runtime      = "nodejs"
}

datasource db {
  provider = "${provider}"
}

${base}`;
}

function main() {
  const require = createRequire(import.meta.url);
  let prismaCli;
  try {
    prismaCli = require.resolve("prisma/build/index.js");
  } catch {
    console.error("prisma-generate: the prisma package is not installed; skipping client generation");
    return;
  }
  for (const provider of PROVIDERS) {
    const dir = join(root, "prisma", provider);
    mkdirSync(dir, { recursive: true });
    const schemaPath = join(dir, "schema.prisma");
    const text = renderSchema(provider);
    if (!existsSync(schemaPath) || readFileSync(schemaPath, "utf8") !== text) writeFileSync(schemaPath, text);
    execFileSync(process.execPath, [prismaCli, "generate", "--schema", schemaPath], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url),
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
        PRISMA_GENERATE_NO_HINTS: "1",
      },
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
