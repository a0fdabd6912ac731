// The small HTML kit of the evidence pages: escaping and one page shell (inline CSS, no script,
// no network), so each page opens from disk by a double click and prints as it shows.
import { VERDICT_LABELS, VERDICT_LEGEND, VERDICTS, type Verdict } from './verdicts.ts';

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
body{font:14px system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem;margin-bottom:.3rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #eaeef2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.id{white-space:nowrap;font-weight:600}ul.scenarios{margin:0;padding-left:1rem}
.badge{display:inline-block;border-radius:10px;padding:0 .5rem;font-size:12px;font-weight:600;white-space:nowrap}
.proven,.passed{background:#dafbe1;color:#116329}.proven-with-deviation{background:#ddf4ff;color:#0a3069}.failed{background:#ffebe9;color:#a40e26}
.partly-shown,.not-run,.skipped{background:#fff8c5;color:#7d4e00}.known-gap,.succeeds-by-design{background:#ffe7d1;color:#8a3b00}.not-shown{background:#eaeef2;color:#424a53}
.departure,.conflict{background:#fbefff;color:#6639ba}tr.seed th{background:#eaeef2;font-size:13px}.deviation h3{font-size:1rem;margin:1rem 0 .2rem}
dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:.4rem 0}dl.legend dd{margin:0;color:#57606a;font-size:13px}
.muted{color:#57606a}.note{color:#57606a;font-size:13px}.kpis{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .7rem;min-width:8rem}.kpi b{display:block;font-size:1.2rem}
code{font-size:12px}
ul.cols{columns:2;column-gap:2rem;padding-left:0;list-style:none;margin:.4rem 0}ul.cols>li{break-inside:avoid;margin:0 0 .25rem}
ul.cols ul{list-style:none;padding-left:.6rem;margin:.1rem 0 .4rem}ul.cols li.group{margin-bottom:.4rem}
@media print{body{margin:0;max-width:none;font-size:9.5px}code{font-size:8.5px}h1{font-size:1.2rem}h2{font-size:1rem;margin-top:.8rem;break-after:avoid}tr{break-inside:avoid}.badge{font-size:9px}.note{font-size:9px}.kpi{min-width:6rem;padding:.2rem .5rem}.kpi b{font-size:1rem}}
`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style></head><body>
${body}
</body></html>
`;
}

export const badge = (cls: string, text = cls): string => `<span class="badge ${esc(cls)}">${esc(text)}</span>`;

export const kpi = (label: string, value: string | number): string => `<div class="kpi">${esc(label)}<b>${esc(value)}</b></div>`;

/** A verdict as the pages show it: its class, its words ("proven with deviation"). */
export const verdictBadge = (v: Verdict): string => badge(v, VERDICT_LABELS[v]);

/** The verdict rules as a definition list, in the order the pages count them. */
export const verdictLegend = (): string =>
  `<dl class="legend">${VERDICTS.map((v) => `<dt>${verdictBadge(v)}</dt><dd>${esc(VERDICT_LEGEND[v])}</dd>`).join('')}</dl>`;
