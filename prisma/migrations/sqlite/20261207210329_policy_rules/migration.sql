-- CreateTable
CREATE TABLE "PolicyRule" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "priority" INTEGER NOT NULL,
    "effect" TEXT NOT NULL,
    "operations" TEXT NOT NULL,
    "actorPattern" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "description" TEXT,
    "mode" TEXT NOT NULL DEFAULT 'enforce',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT
);
