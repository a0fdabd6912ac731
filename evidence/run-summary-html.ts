// reports/summary/index.html: the run on one page (and as a PDF), for a demo and for an auditor:
// environment and tool versions, attacks tried and what became of each (refused, or a known gap
// that succeeds by design), the performance headline of the latest load run, every requirement
// with its verdict, its deviations and what its scenarios do not show, and the deviations
// register itself, so the PDF carries every caveat the matrix does.
import { badge, esc, kpi, page, verdictBadge, verdictLegend } from './html.ts';
import type { AttackResult, RunSummary } from './run-summary.ts';
import { VERDICT_LABELS, VERDICTS } from './verdicts.ts';

const MATRIX = '../traceability/index.html';
const REGISTER = '../deviations/index.html';

function environment(s: RunSummary): string {
  const e = s.environment;
  const tools = e.tools.map((t) => `${esc(t.name)} ${t.version ? esc(t.version) : `<span class="failed badge">${esc(t.problem ?? 'missing')}</span>`}`).join(', ');
  const libs = Object.entries(e.libraries).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ');
  return `<p>${esc(e.machine.cpus)} × ${esc(e.machine.cpuModel)}, ${esc(e.machine.memoryGiB)} GiB, ${esc(e.machine.os)}, Node ${esc(e.node)}.<br>Tools: ${tools}.<br>Libraries: ${libs}.</p>`;
}

const devLinks = (ids: readonly string[]) => ids.map((id) => `<a href="${REGISTER}#${esc(id)}">${esc(id)}</a>`).join(' ');

// Lists in two columns rather than tables: the page stays compact on screen and printed.
function requirements(s: RunSummary): string {
  const sources = [...new Set(s.requirements.map((r) => r.source))];
  return sources
    .map((source) => {
      const items = s.requirements.filter((r) => r.source === source).map((r) => {
        const notes = [
          r.deviations.length ? `deviation ${devLinks(r.deviations)}` : '',
          r.partial ? `what its scenarios do not show: ${esc(r.partial)}` : '',
          r.reason ? esc(r.reason) : '',
          r.caveat ? `caveat: ${esc(r.caveat)}` : '',
        ].filter(Boolean);
        return `<li>${verdictBadge(r.verdict)} <a href="${MATRIX}#${esc(r.id)}"><b>${esc(r.id)}</b></a> ${esc(r.title)} <span class="muted">${r.total ? `${r.passed} / ${r.total} passed` : ''}</span>${notes.map((n) => `<br><span class="note">${n}</span>`).join('')}</li>`;
      });
      return `<h3>${esc(source)}</h3><ul class="cols">${items.join('')}</ul>`;
    })
    .join('\n');
}

const RESULT_BADGE: Record<AttackResult, [string, string]> = {
  refused: ['passed', 'refused'],
  'not-refused': ['failed', 'NOT refused (scenario failed)'],
  'succeeds-by-design': ['succeeds-by-design', 'succeeds by design: known gap'],
  'gap-changed': ['failed', 'known gap scenario failed: the gap may have closed'],
  'not-run': ['not-run', 'not run'],
};

function attacks(s: RunSummary): string {
  if (s.attacks.length === 0) return '<p class="note">No attack scenario in this run.</p>';
  const by = (r: AttackResult) => s.attacks.filter((a) => a.result === r).length;
  const must = s.attacks.filter((a) => !a.knownGap).length;
  const gaps = s.attacks.length - must;
  const features = [...new Set(s.attacks.map((a) => a.feature))];
  const groups = features.map((f) => `<li class="group"><b>${esc(f)}</b><ul>${s.attacks.filter((a) => a.feature === f).map((a) => `<li>${badge(...RESULT_BADGE[a.result])} ${esc(a.name)}</li>`).join('')}</ul></li>`);
  const notRun = s.attacks.filter((a) => !a.knownGap && a.result === 'not-run').length;
  return `<p>${by('refused')} of ${must} attacks that must be refused were refused in this run, each by the component that must refuse it, with the cause in its log${by('not-refused') ? `; <b>${by('not-refused')} were NOT refused</b>` : ''}${notRun ? ` (${notRun} did not run)` : ''}. ${gaps} ${gaps === 1 ? 'attack succeeds' : 'attacks succeed'} by design: known gaps, shown as they are (${by('succeeds-by-design')} confirmed in this run), never counted as refused.</p><ul class="cols">${groups.join('')}</ul>`;
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

function register(s: RunSummary): string {
  if (s.deviations.length === 0) return '<p>The deviations register is empty.</p>';
  const items = s.deviations.map((d) => `<li id="${esc(d.id)}"><a href="${REGISTER}#${esc(d.id)}"><b>${esc(d.id)}</b></a> ${badge(d.kind)} <b>${esc(d.title)}</b> <span class="muted">(${d.requirements.map(esc).join(', ')})</span><br><span class="note">${esc(d.lab)} Why: ${esc(d.why)}</span></li>`);
  return `<p>Where the lab departs from a seed's text, or chose between two seeds that disagree (the full register, with the seeds' words: <a href="${REGISTER}">deviations register</a>, also <code>docs/deviations.md</code>). A requirement it names reads at best "proven with deviation".</p><ul class="cols">${items.join('')}</ul>`;
}

export function renderRunSummaryHtml(s: RunSummary): string {
  const sc = s.scenarios;
  const r = s.run;
  const v = s.byVerdict;
  return page(
    'ecm-lab run summary',
    `<h1>ecm-lab run summary</h1>
<p>Target <b>${esc(s.target)}</b>. ${r ? `Run of ${esc(r.startedAt ?? '?')} to ${esc(r.finishedAt ?? '?')}: ${r.success ? badge('passed', 'succeeded') : badge('failed', 'did not succeed')}` : badge('not-run', 'no run')} · <a href="${MATRIX}">traceability matrix</a> · <a href="${REGISTER}">deviations register</a> · <a href="../allure-report/index.html">Allure report</a></p>
<div class="kpis">${kpi('scenarios passed', `${sc.passed} / ${sc.total}`)}${kpi('scenarios failed', sc.failed)}${kpi('scenarios not run', sc['not-run'])}</div>
<div class="kpis">${kpi('requirements', s.requirements.length)}${VERDICTS.map((x) => kpi(`requirements ${VERDICT_LABELS[x]}`, v[x])).join('')}</div>
<div class="kpis">${kpi('attacks refused', `${s.attacks.filter((a) => a.result === 'refused').length} / ${s.attacks.filter((a) => !a.knownGap).length}`)}${kpi('attacks that succeed by design', s.attacks.filter((a) => a.result === 'succeeds-by-design').length)}${kpi('deviations', s.deviations.length)}</div>
<h2>Environment</h2>${environment(s)}
<h2>Attacks tried</h2>${attacks(s)}
<h2>Performance</h2>${perf(s)}
<h2>Verdicts</h2>
<p class="note">The first rule that applies decides, in this order: not shown, failed, known gap, not run, partly shown, proven with deviation, proven. A known gap's scenario is never proof.</p>${verdictLegend()}
<h2>Scenarios by requirement</h2>${requirements(s)}
<h2>Deviations register</h2>${register(s)}
<p class="note">Generated ${esc(s.generatedAt)} from the run's cucumber messages; figures in summary.json beside this page.</p>`,
  );
}
