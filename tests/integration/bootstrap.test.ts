import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { verifyPassword } from "@/lib/server/auth";
import { createDb } from "@/lib/server/db/client";
import { applyPendingMigrations } from "@/lib/server/db/migrations";
import { PROVIDERS } from "../support/databases";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe.each(PROVIDERS)("npm run bootstrap on %s", (_provider, fresh) => {
  it("creates the operator and an owner without the browser, audited, and refuses duplicates", async () => {
    const database = await fresh();
    try {
      await applyPendingMigrations(database.config);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-boot-"));
      const url = database.config.provider === "sqlite" ? `file:${database.config.url}` : database.config.url;
      const run = (args: string[], env: Record<string, string> = {}) =>
        spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "--conditions=react-server", "scripts/bootstrap.ts", ...args], {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: url, FK_DATA_DIR: dataDir, ...env },
          encoding: "utf8",
        });
      const ok = run(["--operator-email", "op@example.com", "--owner-id", "carol", "--owner-email", "carol@example.com"], {
        FK_OPERATOR_PASSWORD: "operator-password-123",
        FK_OWNER_PASSWORD: "carol-password-123",
      });
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);
      const db = createDb(database.config);
      try {
        const op = await db.account.findUniqueOrThrow({ where: { email: "op@example.com" } });
        expect(op.role).toBe("OPERATOR");
        expect(await verifyPassword("operator-password-123", op.passwordHash)).toBe(true);
        const carol = await db.account.findUniqueOrThrow({ where: { email: "carol@example.com" } });
        expect(carol.entityId).toBe("carol");
        const audit = await db.auditEntry.findMany({ where: { kind: "authority" } });
        expect(audit.some((e) => e.payload.includes('"register-owner"'))).toBe(true);
      } finally {
        await db.$disconnect();
      }
      const again = run(["--operator-email", "op@example.com"], { FK_OPERATOR_PASSWORD: "operator-password-123" });
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/exists already/);
      const weak = run(["--operator-email", "x@example.com", "--operator-password", "short"]);
      expect(weak.status).toBe(2);
    } finally {
      await database.drop();
    }
  }, 60_000);
});
