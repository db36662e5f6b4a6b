import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, databaseConfig, describeDatabase } from "../config";

const env = (e: Record<string, string>) => e as unknown as NodeJS.ProcessEnv;

describe("databaseConfig", () => {
  it("defaults to the embedded SQLite file under the data directory", () => {
    expect(databaseConfig(env({ FK_DATA_DIR: "/srv/fk" }))).toEqual({ provider: "sqlite", url: path.join("/srv/fk", "freedom-kernel.db") });
    expect(databaseConfig(env({ DATABASE_URL: "file:/tmp/x.db" }))).toEqual({ provider: "sqlite", url: "/tmp/x.db" });
  });

  it("connects to PostgreSQL as psql would when the URL names no user", () => {
    const user = os.userInfo().username;
    expect(databaseConfig(env({ DATABASE_URL: "postgresql://127.0.0.1:5432/db" })).url).toBe(`postgresql://${user}@127.0.0.1:5432/db`);
    expect(databaseConfig(env({ DATABASE_URL: "postgresql://127.0.0.1:5432/db", PGUSER: "svc" })).url).toBe("postgresql://svc@127.0.0.1:5432/db");
    expect(databaseConfig(env({ DATABASE_URL: "postgres://app:pw@db:5432/x" })).url).toBe("postgres://app:pw@db:5432/x");
  });

  it("refuses other URLs and redacts passwords when describing one", () => {
    expect(() => databaseConfig(env({ DATABASE_URL: "mysql://x" }))).toThrow(ConfigError);
    expect(describeDatabase({ provider: "postgresql", url: "postgresql://app:secret@db:5432/x" })).not.toContain("secret");
  });
});
