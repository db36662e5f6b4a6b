-- CreateTable
CREATE TABLE "StreamSink" (
    "sink" TEXT NOT NULL,
    "cursor" INTEGER NOT NULL,
    "holder" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "takeovers" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "lastShippedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "StreamSink_pkey" PRIMARY KEY ("sink")
);
