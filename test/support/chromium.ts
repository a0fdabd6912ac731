// Headless Chromium for the tests that look at a page as a person would: Debian's chromium
// package driven by playwright-core (first written for the perf report's check in
// fleet-load.test.ts). A missing browser fails the test with the command that installs it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with bash scripts/bootstrap.sh`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
}

/**
 * Every pair of <text> elements inside one <svg> of the page whose rendered boxes overlap
 * (by more than half a pixel each way), named by their text: labels drawn on top of each other.
 */
export async function overlappingSvgTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    document.querySelectorAll('svg').forEach((svg, n) => {
      const boxes = [...svg.querySelectorAll('text')].map((t) => ({ text: t.textContent ?? '', r: t.getBoundingClientRect() })).filter((b) => b.r.width > 0);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!.r;
          const b = boxes[j]!.r;
          const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (dx > 0.5 && dy > 0.5) found.push(`svg ${n} (${svg.getAttribute('aria-label')}): "${boxes[i]!.text}" and "${boxes[j]!.text}"`);
        }
      }
    });
    return found;
  });
}
