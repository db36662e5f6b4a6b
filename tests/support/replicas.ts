/**
 * Two replicas of one installation: two server processes on one fresh PostgreSQL database, the
 * second with the first's data directory (so the same signing key), as an operator runs them.
 */
import { freshPostgres, type TestDatabase } from "./databases";
import { startServer, type TestServer } from "./server";

export interface Replicas {
  readonly database: TestDatabase;
  readonly a: TestServer;
  readonly b: TestServer;
  /** Stops both and drops the database. */
  stop(): Promise<void>;
}

export async function startPostgresReplicas(env?: Record<string, string>): Promise<Replicas> {
  const database = await freshPostgres();
  let a: TestServer | undefined;
  try {
    a = await startServer({ database: database.config, ...(env ? { env } : {}) });
    const b = await startServer({ database: database.config, dataDir: a.dataDir, ...(env ? { env } : {}) });
    const first = a;
    return {
      database,
      a: first,
      b,
      stop: async () => {
        await Promise.all([first.stop(), b.stop()]);
        await database.drop();
      },
    };
  } catch (error) {
    await a?.stop();
    await database.drop();
    throw error;
  }
}
