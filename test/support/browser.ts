// Headless Chromium for the browser tests: Debian's `chromium` driven by
// playwright-core, with a fresh profile per launch that is removed on close.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install chromium)`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'rxs-chromium-'));
  // playwright-core refuses --user-data-dir in args; a persistent context is how
  // it takes one, and this one is new and thrown away.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * sockjs-client as a page's script sees it (`window.SockJS`), for code run in
 * the page by `page.evaluate`: a type only, so nothing of it is sent there.
 */
export type PageSockJs = new (
  url: string,
  _: null,
  options: { transports: string[] },
) => {
  onopen: () => void;
  onmessage: (e: { data: string }) => void;
  onclose: (e: { code: number; reason: string }) => void;
  send(data: string): void;
  transport: string;
};
