import { defineConfig } from "@playwright/test";

const output = process.env["E2E_OUTPUT"] ?? "../.run/e2e";

// Debian's Chromium (scripts/lib.sh installs it), never a downloaded browser. The flags keep it
// from reaching for Google's services, which this machine's closed network refuses.
export default defineConfig({
  testDir: "e2e",
  outputDir: `${output}/results`,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [["list"], ["junit", { outputFile: `${output}/junit.xml` }]],
  use: {
    baseURL: process.env["APP_URL"],
    browserName: "chromium",
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    locale: "nb-NO",
    timezoneId: "Europe/Oslo",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
