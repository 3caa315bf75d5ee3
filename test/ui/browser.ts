/**
 * Headless Chromium for the page tests: Debian's `chromium` (scripts/system-deps.sh installs it),
 * driven by playwright-core. Every console error and uncaught page error is collected so a
 * test can fail on them.
 */
import { execFileSync } from 'node:child_process';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The chromium binary on PATH (fails with the install hint when missing). */
export function chromiumPath(): string {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {}
  }
  throw new Error(
    'no chromium on PATH: run `bash scripts/system-deps.sh` (apt-get install chromium)',
  );
}

export interface OpenPage {
  browser: Browser;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
}

export async function openPage(url: string): Promise<OpenPage> {
  const executablePath = chromiumPath();
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1500, height: 860 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { browser, page, errors };
}
