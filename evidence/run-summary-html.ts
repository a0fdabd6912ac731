// reports/summary/index.html: the run on one page (and one A4 sheet when printed to PDF), for
// a demo: environment and tool versions, scenarios by requirement, attacks tried and refused,
// and the performance headline of the latest load run.
import { badge, esc, kpi, page } from './html.ts';
import type { RunSummary } from './run-summary.ts';

function environment(s: RunSummary): string {
  const e = s.environment;
  const tools = e.tools.map((t) => `${esc(t.name)} ${t.version ? esc(t.version) : `<span class="failed badge">${esc(t.problem ?? 'missing')}</span>`}`).join(', ');
  const libs = Object.entries(e.libraries).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ');
  return `<p>${esc(e.machine.cpus)} × ${esc(e.machine.cpuModel)}, ${esc(e.machine.memoryGiB)} GiB, ${esc(e.machine.os)}, Node ${esc(e.node)}.<br>Tools: ${tools}.<br>Libraries: ${libs}.</p>`;
}

// Lists in two columns rather than tables: the page stays one screen, and close to one sheet printed.
function requirements(s: RunSummary): string {
  const items = s.requirements.map(
    (r) => `<li>${badge(r.verdict)} <a href="../traceability/index.html#${esc(r.id)}"><b>${esc(r.id)}</b></a> ${esc(r.title)} <span class="muted">${r.total ? `${r.passed} / ${r.total} passed` : ''}</span>${r.reason ? `<br><span class="note">${esc(r.reason)}</span>` : ''}</li>`,
  );
  return `<ul class="cols">${items.join('')}</ul>`;
}

function attacks(s: RunSummary): string {
  if (s.attacks.length === 0) return '<p class="note">No @attack scenario in this run.</p>';
  const refused = s.attacks.filter((a) => a.refused === true).length;
  const result = (a: RunSummary['attacks'][number]) => (a.refused === true ? badge('passed', 'refused') : a.refused === false ? badge('failed', 'NOT refused (scenario failed)') : badge('not-run', 'not run'));
  const features = [...new Set(s.attacks.map((a) => a.feature))];
  const groups = features.map((f) => `<li class="group"><b>${esc(f)}</b><ul>${s.attacks.filter((a) => a.feature === f).map((a) => `<li>${result(a)} ${esc(a.name)}</li>`).join('')}</ul></li>`);
  return `<p>${refused} of ${s.attacks.length} attacks tried were refused, each by the component that must refuse it, with the cause in its log.</p><ul class="cols">${groups.join('')}</ul>`;
}

function perf(s: RunSummary): string {
  const p = s.perf;
  if (!p) return '<p>No perf run: <code>reports/perf/</code> holds no summary. Run <code>ecm-lab load</code> (or <code>npm run bench</code>) for one.</p>';
  const thresholds = p.thresholds.map((t) => `<tr><td>${esc(t.name)}</td><td>${esc(t.requirement)}</td><td>${esc(t.value ?? 'no data')} (limit ${esc(t.limit)})</td><td>${badge(t.ok ? 'passed' : 'failed', t.ok ? 'met' : 'broken')}</td></tr>`);
  const ratios = p.ratios.map((r) => `<tr><td>${esc(r.label)}</td><td>${r.value === null ? 'not measured' : esc(r.value)}</td><td>${esc(r.target ?? '—')}${r.met === undefined ? '' : ` ${badge(r.met ? 'passed' : 'failed', r.met ? 'met' : 'not met')}`}</td></tr>`);
  return `<p>Latest load run <code>${esc(p.runId)}</code> (scenario ${esc(p.scenario)}, ${esc(p.devices)} devices, started ${esc(p.startedAt)}${p.partial ? ', <b>partial</b>' : ''}): <a href="../${esc(p.dir)}/index.html">its report</a>.</p>
<table><thead><tr><th>threshold</th><th>requirement</th><th>measured</th><th>result</th></tr></thead><tbody>${thresholds.join('')}</tbody></table>
<table><thead><tr><th>ratio against a same-run baseline</th><th>value</th><th>target</th></tr></thead><tbody>${ratios.join('') || '<tr><td colspan="3">no ratio applies to this scenario</td></tr>'}</tbody></table>`;
}

export function renderRunSummaryHtml(s: RunSummary): string {
  const sc = s.scenarios;
  const r = s.run;
  const v = s.requirements.reduce<Record<string, number>>((acc, x) => ((acc[x.verdict] = (acc[x.verdict] ?? 0) + 1), acc), {});
  return page(
    'ecm-lab run summary',
    `<h1>ecm-lab run summary</h1>
<p>Target <b>${esc(s.target)}</b>. ${r ? `Run of ${esc(r.startedAt ?? '?')} to ${esc(r.finishedAt ?? '?')}: ${r.success ? badge('passed', 'succeeded') : badge('failed', 'did not succeed')}` : badge('not-run', 'no run')} · <a href="../traceability/index.html">traceability matrix</a> · <a href="../allure-report/index.html">Allure report</a></p>
<div class="kpis">${kpi('scenarios passed', `${sc.passed} / ${sc.total}`)}${kpi('failed', sc.failed)}${kpi('not run', sc['not-run'])}${kpi('requirements proven', `${v.proven ?? 0} / ${s.requirements.length}`)}${kpi('gaps (with reason)', v.gap ?? 0)}${kpi('attacks refused', `${s.attacks.filter((a) => a.refused).length} / ${s.attacks.length}`)}</div>
<h2>Environment</h2>${environment(s)}
<h2>Attacks tried and refused</h2>${attacks(s)}
<h2>Performance</h2>${perf(s)}
<h2>Scenarios by requirement</h2>${requirements(s)}
<p class="note">Generated ${esc(s.generatedAt)} from the run's cucumber messages; figures in summary.json beside this page.</p>`,
  );
}
