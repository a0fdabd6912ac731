// reports/traceability/index.html: the traceability matrix for stakeholders and auditors. One
// row per requirement of the catalogue (anchor = its id, which the Allure report links to),
// grouped by seed: its verdict with the rule that decided it and the DEV ids of the deviations
// register, the scenarios that name it with their last outcome (a known gap's scenario marked as
// such: it is never proof), what they do not show, and the reviewed reason where nothing shows it.
import { badge, esc, kpi, page, verdictBadge, verdictLegend } from './html.ts';
import type { Deviation } from './deviations.ts';
import type { RequirementRow, ScenarioOutcome, Traceability } from './traceability.ts';
import { VERDICT_LABELS, VERDICTS } from './verdicts.ts';

export interface MatrixLinks {
  allure?: string;
  cucumber?: string;
  summary?: string;
  /** The deviations register page (reports/deviations/index.html), for the DEV ids. */
  deviations?: string;
}

function scenarioItem(s: ScenarioOutcome): string {
  // A failure's cause and what a gated scenario needs are shown; the rest (not selected) is a tooltip.
  const shown = s.outcome === 'failed' || (s.needs?.length ?? 0) > 0;
  const reason = s.reason && shown ? ` <span class="note">— ${esc(s.reason)}</span>` : '';
  const title = s.reason && !shown ? ` title="${esc(s.reason)}"` : '';
  // Which component logs a cause assertion read, and from where: on a target, a file or a command.
  const evidence = s.evidence?.length ? `<br><span class="muted evidence">logs read: ${s.evidence.map(esc).join('; ')}</span>` : '';
  const gap = s.knownGap ? `${badge('known-gap', 'known gap: not proof')} ` : '';
  return `<li${title}>${badge(s.outcome)} ${gap}${esc(s.name)} <span class="muted">(${esc(s.feature)}; <code>${esc(s.key)}</code>)</span>${reason}${evidence}</li>`;
}

const devLinks = (ids: readonly string[], href: string | undefined) =>
  ids.map((id) => (href ? `<a href="${esc(`${href}#${id}`)}">${esc(id)}</a>` : esc(id))).join(' ');

function row(r: RequirementRow, links: MatrixLinks): string {
  const scenarios = r.scenarios.length ? `<ul class="scenarios">${r.scenarios.map(scenarioItem).join('')}</ul>` : `<p class="note">No scenario names it. ${esc(r.reason ?? '')}</p>`;
  const partial = r.partial ? `<p class="note"><b>What its scenarios do not show:</b> ${esc(r.partial)}</p>` : '';
  const caveat = r.caveat ? `<p class="note">Caveat: ${esc(r.caveat)}</p>` : '';
  const devs = r.deviations.length ? `<br><span class="muted">deviation: ${devLinks(r.deviations, links.deviations)}</span>` : '';
  const quote = r.quote ? `<br><span class="muted">“${esc(r.quote)}”</span>` : '';
  return `<tr id="${esc(r.id)}"><td class="id">${esc(r.id)}</td><td>${esc(r.title)}<br><span class="muted">${esc(r.group)} · ${esc(r.source)}</span>${quote}</td><td>${verdictBadge(r.verdict)}${devs}<br><span class="note">${esc(r.why)}</span></td><td>${scenarios}${partial}${caveat}</td></tr>`;
}

function requirementsTable(t: Traceability, links: MatrixLinks): string {
  const sources = [...new Set(t.requirements.map((r) => r.source))];
  const body = sources.map((source) => {
    const rows = t.requirements.filter((r) => r.source === source);
    return `<tr class="seed"><th colspan="4">${esc(source)}: ${rows.length} requirements</th></tr>\n${rows.map((r) => row(r, links)).join('\n')}`;
  });
  return `<table><thead><tr><th>id</th><th>requirement</th><th>verdict</th><th>scenarios (last result)</th></tr></thead><tbody>
${body.join('\n')}
</tbody></table>`;
}

function knownGaps(t: Traceability): string {
  const gaps = new Map<string, { s: ScenarioOutcome; ids: string[] }>();
  for (const r of t.requirements) for (const s of r.scenarios) if (s.knownGap) gaps.set(s.key, { s, ids: [...(gaps.get(s.key)?.ids ?? []), r.id] });
  if (gaps.size === 0) return '<p>No scenario documents a known gap.</p>';
  return `<p class="note">These scenarios pass because the hole is there. They are listed here and beside each requirement they name, whose verdict is "known gap"; none of them counts as proof.</p>
<table><thead><tr><th>scenario</th><th>documents a hole in</th><th>last result</th></tr></thead><tbody>${[...gaps.values()].map(({ s, ids }) => `<tr><td>${esc(s.name)}${s.gapAttack ? ` ${badge('succeeds-by-design', 'attack that succeeds by design')}` : ''} <span class="muted"><code>${esc(s.key)}</code></span></td><td>${ids.map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`).join(' ')}</td><td>${badge(s.outcome)}</td></tr>`).join('')}</tbody></table>`;
}

function deviationsSection(t: Traceability, deviations: readonly Deviation[], links: MatrixLinks): string {
  if (deviations.length === 0) return '<p>The deviations register is empty.</p>';
  const register = links.deviations ? ` (<a href="${esc(links.deviations)}">the register, with what each seed says, what the lab does and why</a>)` : '';
  const items = deviations.map((d) => `<li>${links.deviations ? `<a href="${esc(`${links.deviations}#${d.id}`)}"><b>${esc(d.id)}</b></a>` : `<b>${esc(d.id)}</b>`} ${badge(d.kind)} ${esc(d.title)}: ${d.requirements.filter((id) => t.requirements.some((r) => r.id === id)).map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`).join(' ')}</li>`);
  return `<p>Where the lab departs from a seed's text or chose between two seeds${register}.</p><ul class="cols">${items.join('')}</ul>`;
}

export function renderTraceabilityHtml(t: Traceability, links: MatrixLinks = {}, deviations: readonly Deviation[] = []): string {
  const v = t.totals.byVerdict;
  const o = t.totals.byOutcome;
  const run = t.run
    ? `Run of ${esc(t.run.startedAt ?? '?')} to ${esc(t.run.finishedAt ?? '?')} (${t.run.success ? 'succeeded' : 'did not succeed'}), cucumber-js ${esc(t.run.cucumberVersion ?? '?')}, from <code>${esc(t.run.source)}</code>.`
    : 'No run: every scenario is listed as not run.';
  const notRun = t.requirements.flatMap((r) => r.scenarios).find((s) => s.outcome === 'not-run');
  const nav = [
    links.summary && `<a href="${esc(links.summary)}">run summary</a>`,
    links.deviations && `<a href="${esc(links.deviations)}">deviations register</a>`,
    links.allure && `<a href="${esc(links.allure)}">Allure report</a>`,
    links.cucumber && `<a href="${esc(links.cucumber)}">cucumber report</a>`,
  ].filter(Boolean).join(' · ');
  const notShown = t.requirements.filter((r) => r.verdict === 'not-shown');
  const gated = new Map<string, { s: ScenarioOutcome; ids: string[] }>();
  for (const r of t.requirements) for (const s of r.scenarios) if (s.needs?.length) gated.set(s.key, { s, ids: [...(gated.get(s.key)?.ids ?? []), r.id] });
  const notRunSection = gated.size === 0
    ? '<p>Every scenario could run here: the target grants all they need.</p>'
    : `<table><thead><tr><th>scenario</th><th>requirements</th><th>why not run</th></tr></thead><tbody>${[...gated.values()].map(({ s, ids }) => `<tr><td>${esc(s.name)} <span class="muted"><code>${esc(s.key)}</code></span></td><td>${ids.map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`).join(' ')}</td><td>${esc(s.reason ?? '')}</td></tr>`).join('')}</tbody></table>`;
  return page(
    'ecm-lab traceability matrix',
    `<h1>Traceability: requirements → scenarios → last result</h1>
<p>Target <b>${esc(t.target)}</b>, granting ${t.granted.length ? t.granted.map((g) => `<code>${esc(g)}</code>`).join(', ') : 'nothing beyond its endpoints'}. ${run} Generated ${esc(t.generatedAt)}. ${nav}</p>
<div class="kpis">${kpi('requirements', t.totals.requirements)}${VERDICTS.map((x) => kpi(VERDICT_LABELS[x], v[x])).join('')}${kpi('scenarios passed', `${o.passed} / ${t.totals.scenarios}`)}</div>
${notRun && !notRun.needs ? `<p class="note">Scenarios marked not-run: ${esc(notRun.reason ?? '')}.</p>` : ''}
<h2 id="verdicts">How a verdict is decided</h2>
<p class="note">The first rule that applies decides, in this order: not shown, failed, known gap, not run, partly shown, proven with deviation, proven. Ids and titles are the seeds' own, or, for a rule its seed does not number, the reviewed catalogue's (evidence/seed-rules.json, with the seed's words quoted); tags are read from features/; reasons and what scenarios do not show are reviewed in evidence/requirement-notes.json; deviations in evidence/deviations.json.</p>
${verdictLegend()}
<h2 id="requirements">Requirements</h2>
${requirementsTable(t, links)}
<h2 id="known-gaps">Known gaps: scenarios that are never proof</h2>
${knownGaps(t)}
<h2 id="deviations">Deviations</h2>
${deviationsSection(t, deviations, links)}
<h2 id="not-run">Not run on this target: what they need</h2>
${notRunSection}
<h2 id="not-shown">Not shown</h2>
${notShown.length === 0 ? '<p>Every requirement is named by at least one scenario.</p>' : `<table><thead><tr><th>id</th><th>why no scenario shows it</th></tr></thead><tbody>${notShown.map((g) => `<tr><td class="id"><a href="#${esc(g.id)}">${esc(g.id)}</a></td><td>${esc(g.reason ?? '')}</td></tr>`).join('')}</tbody></table>`}`,
  );
}
