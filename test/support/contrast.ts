// The lowest WCAG 2 text/background contrast ratio over some kinds of a page's
// text, in the light and dark colour schemes: the example pages' tests assert
// it is at least 4.5 (AA for body text) wherever they show something new.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Evaluated in the page: the worst ratio over `selectors` (hidden ones left out). */
const worstContrast = (selectors: readonly string[]) => `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  let worst = { ratio: Infinity, what: '' };
  for (const sel of ${JSON.stringify(selectors)}) {
    const el = document.querySelector(sel);
    if (!el || el.closest('[hidden]')) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst.ratio) worst = { ratio, what: sel };
  }
  return worst;
})()`;

export async function expectContrast(page: Page, selectors: readonly string[]): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const worst = await page.evaluate<{ ratio: number; what: string }>(worstContrast(selectors));
    expect(worst.ratio, `${colorScheme}: ${worst.what}`).toBeGreaterThanOrEqual(4.5);
  }
  await page.emulateMedia({ colorScheme: null });
}

/** The notification stream page's kinds of text. */
export const NOTIFICATIONS_PAGE_TEXT = [
  'h1',
  'h1 .sub',
  '.lede',
  '#state-text',
  '.figures dt',
  '.figures dd',
  '.field label',
  '.field input',
  '.hint',
  '.user-form button',
  '.rooms h2',
  '.chip',
  '.toolbar h2 .sub',
  '.note[data-kind="message"] strong',
  '.note[data-kind="channels"] strong',
  '.note[data-kind="channels"] .note-text',
  '.note-meta',
  '.note-text',
  '.note code',
  '.notice',
  '.recovery-text',
  '.recovery strong',
  '.recovery-reason',
  '.recovery button',
  '.foot',
  '.foot a',
  '.foot code',
] as const;
