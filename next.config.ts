import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // FK_NEXT_DIST_DIR lets parallel work in one checkout build side by side.
  distDir: process.env.FK_NEXT_DIST_DIR ?? ".next",
  // Native and WASM-backed server packages stay outside the bundle and are loaded by Node.
  serverExternalPackages: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "@prisma/adapter-pg", "pg"],
  poweredByHeader: false,
  typedRoutes: false,
  devIndicators: false,
  // `npm test` type-checks the whole repository (tsc --noEmit) as its own step; skipping it in
  // `next build` keeps the first `npm start` quick on small machines.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
