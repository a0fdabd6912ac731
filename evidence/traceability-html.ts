// reports/traceability/index.html: the traceability matrix for stakeholders and auditors. One
// row per requirement the seeds define (anchor = its id, which the Allure report links to), the
// scenarios that prove it with their last outcome, and the reviewed reason for every gap.
import { badge, esc, kpi, page } from './html.ts';
import type { RequirementRow, ScenarioOutcome, Traceability } from './traceability.ts';

function scenarioItem(s: ScenarioOutcome): string {
  // A failure's cause and what a gated scenario needs are shown; the rest (not selected) is a tooltip.
  const shown = s.outcome === 'failed' || (s.needs?.length ?? 0) > 0;
  const reason = s.reason && shown ? ` <span class="note">— ${esc(s.reason)}</span>` : '';
  const title = s.reason && !shown ? ` title="${esc(s.reason)}"` : '';
  // Which component logs a cause assertion read, and from where: on a target, a file or a command.
  const evidence = s.evidence?.length ? `<br><span class="muted evidence">logs read: ${s.evidence.map(esc).join('; ')}</span>` : '';
  return `<li${title}>${badge(s.outcome)} ${esc(s.name)} <span class="muted">(${esc(s.feature)}; <code>${esc(s.key)}</code>)</span>${reason}${evidence}</li>`;
}

function row(r: RequirementRow): string {
  const scenarios = r.scenarios.length ? `<ul class="scenarios">${r.scenarios.map(scenarioItem).join('')}</ul>` : `<p class="note">No scenario proves it. ${esc(r.reason ?? '')}</p>`;
  const caveat = r.caveat ? `<p class="note">Caveat: ${esc(r.caveat)}</p>` : '';
  return `<tr id="${esc(r.id)}"><td class="id">${esc(r.id)}</td><td>${esc(r.title)}<br><span class="muted">${esc(r.group)} · ${esc(r.source)}</span></td><td>${badge(r.verdict)}<br><span class="muted">${r.scenarios.length} scenario${r.scenarios.length === 1 ? '' : 's'}</span></td><td>${scenarios}${caveat}</td></tr>`;
}

export function renderTraceabilityHtml(t: Traceability, links: { allure?: string; cucumber?: string; summary?: string } = {}): string {
  const v = t.totals.byVerdict;
  const o = t.totals.byOutcome;
  const run = t.run
    ? `Run of ${esc(t.run.startedAt ?? '?')} to ${esc(t.run.finishedAt ?? '?')} (${t.run.success ? 'succeeded' : 'did not succeed'}), cucumber-js ${esc(t.run.cucumberVersion ?? '?')}, from <code>${esc(t.run.source)}</code>.`
    : 'No run: every scenario is listed as not run.';
  const notRun = t.requirements.flatMap((r) => r.scenarios).find((s) => s.outcome === 'not-run');
  const nav = [links.summary && `<a href="${esc(links.summary)}">run summary</a>`, links.allure && `<a href="${esc(links.allure)}">Allure report</a>`, links.cucumber && `<a href="${esc(links.cucumber)}">cucumber report</a>`].filter(Boolean).join(' · ');
  const gaps = t.requirements.filter((r) => r.verdict === 'gap');
  const gated = new Map<string, { s: ScenarioOutcome; ids: string[] }>();
  for (const r of t.requirements) for (const s of r.scenarios) if (s.needs?.length) gated.set(s.key, { s, ids: [...(gated.get(s.key)?.ids ?? []), r.id] });
  const notRunSection = gated.size === 0
    ? '<p>Every scenario could run here: the target grants all they need.</p>'
    : `<table><thead><tr><th>scenario</th><th>requirements</th><th>why not run</th></tr></thead><tbody>${[...gated.values()].map(({ s, ids }) => `<tr><td>${esc(s.name)} <span class="muted"><code>${esc(s.key)}</code></span></td><td>${ids.map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`).join(' ')}</td><td>${esc(s.reason ?? '')}</td></tr>`).join('')}</tbody></table>`;
  return page(
    'ecm-lab traceability matrix',
    `<h1>Traceability: requirements → scenarios → last result</h1>
<p>Target <b>${esc(t.target)}</b>, granting ${t.granted.length ? t.granted.map((g) => `<code>${esc(g)}</code>`).join(', ') : 'nothing beyond its endpoints'}. ${run} Generated ${esc(t.generatedAt)}. ${nav}</p>
<div class="kpis">${kpi('requirements', t.totals.requirements)}${kpi('proven', v.proven)}${kpi('failed', v.failed)}${kpi('partly run / not run', `${v['partly-run']} / ${v['not-run']}`)}${kpi('gaps (with reason)', v.gap)}${kpi('scenarios passed', `${o.passed} / ${t.totals.scenarios}`)}</div>
${notRun && !notRun.needs ? `<p class="note">Scenarios marked not-run: ${esc(notRun.reason ?? '')}.</p>` : ''}
<p class="note">A requirement is <b>proven</b> when every scenario tagged with its id passed in this run. Ids and titles are the seeds' own (evidence/requirements.json); tags are read from features/; reasons for gaps are reviewed in evidence/requirement-notes.json.</p>
<h2>Requirements</h2>
<table><thead><tr><th>id</th><th>requirement</th><th>verdict</th><th>scenarios (last result)</th></tr></thead><tbody>
${t.requirements.map(row).join('\n')}
</tbody></table>
<h2>Not run on this target: what they need</h2>
${notRunSection}
<h2>Gaps</h2>
${gaps.length === 0 ? '<p>Every requirement is named by at least one scenario.</p>' : `<table><thead><tr><th>id</th><th>why no scenario proves it</th></tr></thead><tbody>${gaps.map((g) => `<tr><td class="id"><a href="#${esc(g.id)}">${esc(g.id)}</a></td><td>${esc(g.reason ?? '')}</td></tr>`).join('')}</tbody></table>`}`,
  );
}
