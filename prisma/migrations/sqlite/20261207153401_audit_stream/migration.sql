-- CreateTable
CREATE TABLE "StreamSink" (
    "sink" TEXT NOT NULL PRIMARY KEY,
    "cursor" INTEGER NOT NULL,
    "holder" TEXT,
    "leaseUntil" DATETIME,
    "takeovers" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "lastShippedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL
);
