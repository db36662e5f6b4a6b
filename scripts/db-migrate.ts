/** npm run db:migrate — applies pending migrations to the configured database (DATABASE_URL or the embedded SQLite file). */
import { databaseConfig, describeDatabase } from "../lib/server/config";
import { applyPendingMigrations } from "../lib/server/db/migrations";

const config = databaseConfig();
applyPendingMigrations(config)
  .then((applied) => {
    console.log(
      applied.length === 0
        ? `${config.provider} ${describeDatabase(config)}: up to date`
        : `${config.provider} ${describeDatabase(config)}: applied ${applied.join(", ")}`,
    );
  })
  .catch((e: unknown) => {
    console.error(`migration failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
