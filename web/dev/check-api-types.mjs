#!/usr/bin/env node
// @ts-check
// The app's API types are generated from infra/openapi.yaml and checked in (src/api/schema.d.ts).
// This regenerates them and fails when the checked-in file is stale, so a change to the document
// reaches the type check (`tsc`), which then fails wherever the app disagrees with it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const web = new URL("..", import.meta.url).pathname;
const out = join(mkdtempSync(join(tmpdir(), "api-types-")), "schema.d.ts");
execFileSync(join(web, "node_modules/.bin/openapi-typescript"), ["../infra/openapi.yaml", "-o", out], { cwd: web, stdio: "ignore" });
if (readFileSync(out, "utf8") !== readFileSync(join(web, "src/api/schema.d.ts"), "utf8")) {
  console.error("web/src/api/schema.d.ts is stale: run `npm run gen:api` in web/ and commit it");
  process.exit(1);
}
console.log("web/src/api/schema.d.ts matches infra/openapi.yaml");
