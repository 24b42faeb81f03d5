#!/usr/bin/env node
// @ts-check
// The first-load budget: the JavaScript and CSS that index.html loads (entry scripts, their
// static imports and the style sheets), gzip-compressed, against 60 KB. Run after `vite build`.
// Prints one line per file and the total; exits 1 over budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 60 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const first = new Set();
for (const m of html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="\/([^"]+\.(?:js|css))"/g)) first.add(m[1]);
// Static imports of the entry chunks load before the app starts, so they count too.
const queue = [...first].filter((f) => f.endsWith(".js"));
while (queue.length) {
  const file = /** @type {string} */ (queue.pop());
  const code = readFileSync(join(dist, file), "utf8");
  for (const m of code.matchAll(/(?:^|[;}\n])\s*import\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    const dep = `assets/${m[1]}`;
    if (!first.has(dep)) {
      first.add(dep);
      queue.push(dep);
    }
  }
}
let total = 0;
for (const file of [...first].sort()) {
  const gz = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(7)} KB  ${file}`);
}
console.log(`first load: ${(total / 1024).toFixed(1)} KB of JavaScript and CSS after gzip (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error("over budget");
  process.exit(1);
}
