import { defineConfig } from '@playwright/test'

// Debian's Chromium (scripts/ensure-chromium.sh installs it); Playwright never downloads one.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  outputDir: '../../test-artifacts/e2e-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // The local stack shares two cores with the rest of the suite: wait on UI state, generously.
  timeout: 240_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  globalSetup: './stack.ts',
  use: {
    viewport: { width: 1280, height: 800 },
    locale: 'es-ES',
    timezoneId: 'Europe/Madrid',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath,
      args: ['--headless', '--lang=es-ES', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
})
