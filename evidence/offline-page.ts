// The Allure report's template loads Google's tag manager and reports each opening to it (the
// awesome plugin sets `analyticsEnable: true` with no option to turn it off). An evidence page of
// this lab is opened by auditors, often on machines without a route out: it must not tell a third
// party that it was opened, nor wait on a host it cannot reach. Every script fetched from a
// network host, and the inline tag-manager set-up that would call it, is cut out of the page.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REMOTE_SCRIPT = /<script\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]+["']?[^>]*>\s*<\/script>/gi;
const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;
const TAG_MANAGER = /\bgtag\s*\(|\bdataLayer\b/;

export interface OfflinePage {
  html: string;
  /** The tags removed, shortened to their opening, for the run's log. */
  removed: string[];
}

export function offlinePage(html: string): OfflinePage {
  const removed: string[] = [];
  const cut = (tag: string) => {
    removed.push(tag.slice(0, tag.indexOf('>') + 1));
    return '';
  };
  const out = html.replace(REMOTE_SCRIPT, cut).replace(INLINE_SCRIPT, (tag: string, body: string) => (TAG_MANAGER.test(body) && body.length < 2_000 ? cut(tag) : tag));
  return { html: out, removed };
}

/** Rewrites a generated page in place without its remote scripts, and says what it cut. */
export function keepOffline(file: string, say: (line: string) => void): void {
  const { html, removed } = offlinePage(readFileSync(file, 'utf8'));
  if (removed.length === 0) return;
  writeFileSync(file, html);
  say(`ecm-lab: ${path.relative(process.cwd(), file)}: removed ${removed.length} script(s) that would call a network host when the page is opened (${removed.join(' ')})`);
}
