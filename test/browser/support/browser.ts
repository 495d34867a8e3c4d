import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb, webDir } from '../../../web/build.js';

/**
 * Browser tests drive Debian's chromium (CHROMIUM_PATH to use another). Where it is missing they
 * skip and say so; under CI=true a missing chromium is an error (.ci/run installs it).
 */
export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(chromiumPath);
if (!chromiumAvailable) {
  if (process.env['CI'] === 'true') throw new Error(`CI=true but there is no chromium at ${chromiumPath}: the browser tests would be skipped`);
  console.warn(`[holdfast tests] no chromium at ${chromiumPath}: browser tests are skipped (apt-get install chromium, or set CHROMIUM_PATH)`);
}

export const screenshotDir = join(import.meta.dirname, '../../../test-results');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, name);
  await page.screenshot({ path });
  return path;
}

/** Logs page errors into the test output (a broken page should say why). */
export function reportPageErrors(page: Page, label: string): void {
  page.on('pageerror', (error) => console.error(`[${label}] page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.error(`[${label}] console ${message.type()}: ${message.text()}`);
  });
}

const lockDir = join(webDir, '.build-lock');

/**
 * Builds web/dist when missing or older than its sources. Test files run in parallel processes,
 * so one builds while the others wait on a lock directory (a lock older than two minutes is a
 * crashed build's and is taken over).
 */
export async function ensureWebBuilt(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      const lockAgeMs = existsSync(lockDir) ? Date.now() - statSync(lockDir).mtimeMs : 0;
      if (lockAgeMs > 120_000 || Date.now() > deadline) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await buildWeb({ ifStale: true });
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
