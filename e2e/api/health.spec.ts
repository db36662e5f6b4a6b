import { expect, test } from "@playwright/test";

test("health reports a migrated embedded SQLite database", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.status).toBe("ok");
  expect(body.database.provider).toBe("sqlite");
  expect(body.database.reachable).toBe(true);
  expect(body.database.migrations.pending).toEqual([]);
  expect(body.database.migrations.applied).toBeGreaterThan(0);
  expect(body.database.migrations.applied).toBe(body.database.migrations.expected);
  expect(body.database.location).toContain("fk-e2e-");
  // The e2e server checks every answer against the route table (FK_CHECK_RESPONSES=1).
  expect(res.headers()["x-fk-response-checked"]).toBe("1");
});
