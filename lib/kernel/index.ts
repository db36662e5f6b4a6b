/**
 * The kernel's public API. One `export *` line per file, kept sorted so that concurrent
 * additions merge trivially. internal.ts and resolve.ts are deliberately absent: they hold and read the snapshot indexes,
 * which must stay unreachable from outside the kernel.
 */
export * from "./action";
export * from "./audit";
export * from "./audit-export";
export * from "./budget";
export * from "./bytes";
export * from "./canonical";
export * from "./extensions/compass";
export * from "./extensions/conflicts";
export * from "./extensions/manipulation";
export * from "./extensions/synthesis";
export * from "./grant";
export * from "./ifc";
export * from "./iso-time";
export * from "./merkle";
export * from "./object-ref";
export * from "./plan";
export * from "./policy";
export * from "./receipts";
export * from "./scope";
export * from "./signing";
export * from "./simulate";
export * from "./snapshot";
export * from "./stream-batch";
export * from "./types";
export * from "./verify";
export * from "./wire";
