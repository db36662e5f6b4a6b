-- AlterTable
ALTER TABLE "StreamSink" ADD COLUMN     "cursorHash" TEXT;
