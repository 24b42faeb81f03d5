import { defineConfig } from "vite";

// No framework plugin: esbuild compiles the JSX for Preact, as tsconfig.json says.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2022",
    sourcemap: false,
    // The first load is budgeted (dev/budget.mjs); one chunk keeps it one round trip.
    modulePreload: { polyfill: false },
  },
});
