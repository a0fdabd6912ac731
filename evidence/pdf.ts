// The run summary as a PDF: printed by the Chromium the lab already uses for its browser tests
// (Debian's package through playwright-core), so a PDF costs no new tool. A4, backgrounds on,
// so the verdict badges print as they show.
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { locateTool } from '../environments/tools/tools.ts';

export async function printToPdf(htmlFile: string, pdfFile: string, toolsBinDir?: string): Promise<void> {
  // locateTool throws MissingToolError with the command that installs Chromium.
  const executablePath = locateTool('chromium', toolsBinDir);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    await page.pdf({ path: pdfFile, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
}
