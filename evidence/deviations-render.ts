// The deviations register as a reader sees it: docs/deviations.md in the repository (generated,
// never edited by hand) and the HTML of reports/deviations/index.html, one entry per DEV id with
// its anchor, which the matrix and the run summary link to.
import { esc, page } from './html.ts';
import type { Deviation } from './deviations.ts';

const KIND_TEXT = { departure: 'departure from a seed', conflict: 'conflict between seeds' } as const;

/** seed "001" -> "seed 001". */
const seedName = (seed: string) => `seed ${seed}`;

export function renderDeviationsMarkdown(deviations: readonly Deviation[]): string {
  const lines = [
    '# Deviations register',
    '',
    '<!-- Generated from evidence/deviations.json by `node --import tsx evidence/generate-deviations.ts`; do not edit by hand (test/unit/evidence/deviations.test.ts fails when this file and the register differ). -->',
    '',
    'Every place where the lab departs from a seed\'s text (**departure**) and every place where two seeds disagree and the lab had to choose (**conflict**): what the seeds say, what the lab does, and why. A requirement named here reads at best *proven with deviation* in the traceability matrix (`reports/traceability/index.html`), which shows its DEV ids beside its verdict; the run summary and its PDF list this register.',
    '',
    '| id | kind | deviation | requirements |',
    '|---|---|---|---|',
    ...deviations.map((d) => `| [${d.id}](#${d.id.toLowerCase()}) | ${d.kind} | ${d.title} | ${d.requirements.join(', ')} |`),
    '',
  ];
  for (const d of deviations) {
    lines.push(`## ${d.id}`, '', `**${d.title}** (${KIND_TEXT[d.kind]})`, '', `Requirements: ${d.requirements.join(', ')}`, '', 'The seeds say:', '');
    for (const s of d.seeds) lines.push(`- ${seedName(s.seed)}: “${s.quote}”`);
    lines.push('', `What the lab does: ${d.lab}`, '', `Why: ${d.why}`, '', `Where: ${d.where.map((w) => `\`${w}\``).join(', ')}`, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** One register entry as HTML (the register page and the run summary both use it). */
export function deviationHtml(d: Deviation, requirementHref: (id: string) => string): string {
  const quotes = d.seeds.map((s) => `<li>${esc(seedName(s.seed))}: “${esc(s.quote)}”</li>`).join('');
  const reqs = d.requirements.map((id) => `<a href="${esc(requirementHref(id))}">${esc(id)}</a>`).join(' ');
  return `<div class="deviation" id="${esc(d.id)}"><h3>${esc(d.id)} <span class="badge ${esc(d.kind)}">${esc(d.kind)}</span> ${esc(d.title)}</h3>
<p class="muted">Requirements: ${reqs}</p><p>The seeds say:</p><ul>${quotes}</ul>
<p><b>What the lab does:</b> ${esc(d.lab)}</p><p><b>Why:</b> ${esc(d.why)}</p><p class="muted">Where: ${d.where.map((w) => `<code>${esc(w)}</code>`).join(', ')}</p></div>`;
}

export function renderDeviationsHtml(deviations: readonly Deviation[], links: { matrix: string; summary: string }): string {
  const rows = deviations.map((d) => `<tr><td class="id"><a href="#${esc(d.id)}">${esc(d.id)}</a></td><td>${esc(d.kind)}</td><td>${esc(d.title)}</td><td>${d.requirements.map((id) => `<a href="${esc(`${links.matrix}#${id}`)}">${esc(id)}</a>`).join(' ')}</td></tr>`);
  return page(
    'ecm-lab deviations register',
    `<h1>Deviations register</h1>
<p>Where the lab departs from a seed's text, and where two seeds disagree and the lab chose: what the seeds say, what the lab does, and why. From <code>evidence/deviations.json</code> (also <code>docs/deviations.md</code>). <a href="${esc(links.matrix)}">traceability matrix</a> · <a href="${esc(links.summary)}">run summary</a></p>
<table><thead><tr><th>id</th><th>kind</th><th>deviation</th><th>requirements</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${deviations.map((d) => deviationHtml(d, (id) => `${links.matrix}#${id}`)).join('\n')}`,
  );
}
