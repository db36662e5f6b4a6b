// The dependency rule of the design (§2), enforced here and by lib/kernel/__tests__/purity.test.ts:
//   app -> lib/server, lib/contracts, components
//   components -> lib/contracts, lib/kernel
//   lib/server -> lib/kernel, lib/contracts, the Prisma client
//   lib/kernel -> @noble/* only (pure: no I/O, no clock, no randomness)
import tseslint from "typescript-eslint";

const kernelPurity = {
  files: ["lib/kernel/**/*.ts"],
  ignores: ["lib/kernel/__tests__/**"],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            regex: "^(?!@noble/|\\.{1,2}/)",
            message: "lib/kernel is pure: it may import only @noble/* and kernel files.",
          },
          {
            regex: "^\\.\\./\\.\\./",
            message: "lib/kernel may not reach outside itself.",
          },
        ],
      },
    ],
    "no-restricted-globals": [
      "error",
      { name: "process", message: "lib/kernel takes configuration as arguments." },
      { name: "fetch", message: "lib/kernel does no I/O." },
      { name: "Date", message: "lib/kernel takes the time as an argument." },
      { name: "setTimeout", message: "lib/kernel has no clock." },
      { name: "setInterval", message: "lib/kernel has no clock." },
      { name: "crypto", message: "lib/kernel takes randomness as an argument; hashes come from @noble." },
      { name: "performance", message: "lib/kernel has no clock." },
      { name: "require", message: "lib/kernel imports only @noble/* and kernel files." },
    ],
    "no-restricted-properties": [
      "error",
      { object: "Math", property: "random", message: "lib/kernel takes randomness as an argument." },
    ],
  },
};

const layer = (files, forbidden, message) => ({
  files,
  rules: {
    "no-restricted-imports": ["error", { patterns: forbidden.map((regex) => ({ regex, message })) }],
  },
});

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      ".next-*/**",
      "data/**",
      "lib/server/generated/**",
      "test-results/**",
      "playwright-report/**",
      "next-env.d.ts",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "off",
    },
  },
  {
    // Tests read arbitrary JSON from real servers and assert on it field by field.
    files: ["tests/**/*.ts", "e2e/**/*.ts", "**/__tests__/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  kernelPurity,
  layer(
    ["lib/contracts/**/*.ts"],
    ["^(?!zod$|\\.{1,2}/|@/lib/kernel|\\.\\./kernel)", "server", "^@/(app|components)"],
    "lib/contracts may import only zod and lib/kernel.",
  ),
  layer(
    ["components/**/*.{ts,tsx}"],
    ["^@/lib/server", "lib/server", "^@prisma/", "^server-only$"],
    "components may use lib/contracts and lib/kernel, never lib/server or the database.",
  ),
  {
    ...layer(
      ["lib/sdk/**/*.ts"],
      ["^next(/|$)", "^react", "^server-only$", "lib/server", "^@/(app|components)/", "^node:", "^@prisma/"],
      "the SDK core runs in any agent process: no Next.js, no server code, no Node built-ins (adapters, the MCP proxy and audit fetch may).",
    ),
    ignores: ["lib/sdk/adapters/**", "lib/sdk/mcp/**", "lib/sdk/audit-fetch.ts"],
  },
  layer(
    ["lib/server/**/*.ts"],
    ["^@/(app|components)/", "^react$", "^react-dom"],
    "lib/server may not depend on the UI.",
  ),
  {
    // The environment is parsed once, with zod, in lib/server/config.ts (invalid configuration
    // stops the server at start). next.config.ts keeps its own FK_NEXT_DIST_DIR read: Next loads
    // it before any of our modules. The test runner and the postinstall script are dev tooling
    // that hands the environment to child processes.
    files: ["lib/server/**/*.ts", "app/**/*.{ts,tsx}", "scripts/**/*.{ts,mjs}"],
    ignores: ["lib/server/config.ts", "**/__tests__/**", "scripts/test-all.ts", "scripts/prisma-generate.mjs"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "read configuration through config() in lib/server/config.ts, which validates it at start." },
      ],
    },
  },
  layer(
    ["app/**/*.{ts,tsx}"],
    ["^@prisma/", "lib/server/generated", "lib/server/db/"],
    "app talks to the database only through lib/server services.",
  ),
);
