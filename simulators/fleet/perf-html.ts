// index.html of a fleet run for stakeholders: one self-contained page (inline SVG, no scripts,
// no network) with latency per phase, percentile curves, the run over time, errors by cause,
// thresholds and the ratios against the baselines measured in the same run.
import type { PerfSummary } from './perf-summary.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLORS = ['#0969da', '#1a7f37', '#bf3989', '#9a6700', '#8250df', '#cf222e'];
const W = 600;
const H = 260;
const M = { l: 56, r: 12, t: 16, b: 40 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

function axes(yMax: number, yLabel: string, xLabels: Array<[number, string]>): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = M.t + (H - M.t - M.b) * (1 - f);
    return `<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#eaeef2"/><text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${esc(+(yMax * f).toPrecision(3))}</text>`;
  });
  const xs = xLabels.map(([x, label]) => `<text x="${x}" y="${H - M.b + 16}" text-anchor="middle">${esc(label)}</text>`);
  return `${ticks.join('')}${xs.join('')}<text x="14" y="${M.t + (H - M.t - M.b) / 2}" transform="rotate(-90 14 ${M.t + (H - M.t - M.b) / 2})" text-anchor="middle">${esc(yLabel)}</text>`;
}

function legend(names: string[]): string {
  return names.map((n, i) => `<tspan fill="${COLORS[i % COLORS.length]}">■ ${esc(n)}</tspan>`).join(' ');
}

/** Lines sharing an x axis; each series is [x, y] points. */
export function lineChart(title: string, series: Array<{ name: string; points: Array<[number, number]> }>, opts: { xLabel: string; yLabel: string; xTicks?: Array<[number, string]> }): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p class="empty">no data</p></figure>`;
  const xMin = Math.min(...all.map((p) => p[0]));
  const xMax = Math.max(...all.map((p) => p[0]), xMin + 1e-9);
  const yMax = niceMax(Math.max(...all.map((p) => p[1])));
  const sx = (x: number) => M.l + ((x - xMin) / (xMax - xMin || 1)) * (W - M.l - M.r);
  const sy = (y: number) => M.t + (H - M.t - M.b) * (1 - y / yMax);
  const paths = series.map((s, i) => `<polyline fill="none" stroke-width="2" stroke="${COLORS[i % COLORS.length]}" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`);
  const xTicks = (opts.xTicks ?? [xMin, (xMin + xMax) / 2, xMax].map((x) => [x, String(+x.toPrecision(3))] as [number, string])).map(([x, l]) => [sx(x), l] as [number, string]);
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${axes(yMax, opts.yLabel, xTicks)}${paths.join('')}<text x="${(W + M.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(opts.xLabel)}</text></svg><p class="legend">${legend(series.map((s) => s.name))}</p></figure>`;
}

/** Grouped bars: one group per category, one bar per series. */
export function barChart(title: string, categories: string[], series: Array<{ name: string; values: number[] }>, yLabel: string): string {
  const values = series.flatMap((s) => s.values);
  if (categories.length === 0 || values.length === 0) return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p class="empty">no data</p></figure>`;
  const yMax = niceMax(Math.max(...values, 0));
  const groupW = (W - M.l - M.r) / categories.length;
  const barW = (groupW * 0.8) / series.length;
  const bars = categories.flatMap((_, c) =>
    series.map((s, i) => {
      const v = s.values[c] ?? 0;
      const h = ((H - M.t - M.b) * v) / yMax;
      const x = M.l + c * groupW + groupW * 0.1 + i * barW;
      return `<rect class="bar" x="${x.toFixed(1)}" y="${(H - M.b - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(`${categories[c]} ${s.name}: ${v}`)}</title></rect>`;
    }),
  );
  const xLabels = categories.map((c, i) => [M.l + i * groupW + groupW / 2, c] as [number, string]);
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${axes(yMax, yLabel, xLabels)}${bars.join('')}</svg><p class="legend">${legend(series.map((s) => s.name))}</p></figure>`;
}

function table(headers: string[], rows: Array<Array<string | number | null>>): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c ?? '—')}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const PERCENTILE_TICKS: Array<[number, string]> = [[0, 'p0'], [50, 'p50'], [90, 'p90'], [99, 'p99'], [100, 'max']];

export function renderPerfHtml(s: PerfSummary): string {
  const phases = ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign', 'firstConnack', 'provisioningTotal', 'renewal'] as const;
  const shown = phases.filter((p) => s.provisioning.phases[p].count > 0);
  const timeline = s.timeline;
  const rate = timeline.slice(1).map((p, i) => [p.t, Math.max(0, (p.received - timeline[i]!.received) / Math.max(0.001, p.t - timeline[i]!.t))] as [number, number]);
  const errors = Object.entries(s.errors.byCause).sort((a, b) => b[1] - a[1]);
  const ok = s.thresholds.every((t) => t.ok);
  const deliveryPhase = s.mqtt.qos === 1 ? 'deliveryQos1' : 'deliveryQos0';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecm-lab fleet run ${esc(s.runId)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem auto;max-width:1340px;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem}.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.kpi b{display:block;font-size:1.3rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure.chart{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.5rem;width:${W}px}
figure svg{width:100%;height:auto;font-size:11px;fill:#57606a}figcaption{font-weight:600;margin-bottom:.3rem}
.legend{margin:.2rem 0 0;font-size:12px}table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #eaeef2;padding:3px 8px;text-align:left}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.empty{color:#8c959f}
</style></head><body>
<h1>ecm-lab fleet run <code>${esc(s.runId)}</code>${s.partial ? ' <span class="fail">(partial: interrupted)</span>' : ''}</h1>
<p>${esc(s.devices.requested)} devices (segment ${s.segment.index}/${s.segment.count}), arrival ${esc(s.config.ratePerSecond)}/s, ${esc(s.config.durationMs / 1000)} s, QoS ${s.mqtt.qos}, telemetry every ${esc(s.config.telemetryIntervalMs)} ms${s.config.certLifetimeSeconds ? `, certificates of ${esc(s.config.certLifetimeSeconds)} s` : ''}. ${esc(s.machine.cpus)} × ${esc(s.machine.cpuModel)}, Node ${esc(s.machine.node)}; ${Object.entries(s.tools).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ')}. Started ${esc(s.startedAt)}.</p>
<p>Thresholds: <span class="${ok ? 'pass' : 'fail'}">${ok ? 'all met' : 'NOT met'}</span></p>
<div class="kpis">
<div class="kpi">provisioned<b>${s.devices.provisioned} / ${s.devices.requested - s.devices.legacy}</b></div>
<div class="kpi">failed<b>${s.devices.failed}</b></div>
<div class="kpi">legacy firmware<b>${s.devices.legacy}</b></div>
<div class="kpi">provisioning p99<b>${s.provisioning.latencyMs.p99} ms</b></div>
<div class="kpi">delivery p99<b>${s.mqtt.deliveryLatencyMs.p99} ms</b></div>
<div class="kpi">messages lost<b>${s.mqtt.messages.lost} / ${s.mqtt.messages.sent}</b></div>
<div class="kpi">throughput<b>${s.mqtt.throughputMsgsPerSec} msg/s</b></div>
<div class="kpi">renewals<b>${s.renewals.count}</b></div>
</div>
<h2>Latency</h2>
<div class="charts">
${barChart('Provisioning latency per phase (ms)', shown, [
    { name: 'p50', values: shown.map((p) => s.provisioning.phases[p].p50) },
    { name: 'p95', values: shown.map((p) => s.provisioning.phases[p].p95) },
    { name: 'p99', values: shown.map((p) => s.provisioning.phases[p].p99) },
  ], 'ms')}
${lineChart('Percentile curves (ms)', [
    { name: 'provisioning total', points: s.curves.provisioningTotal ?? [] },
    { name: `delivery QoS ${s.mqtt.qos}`, points: s.curves[deliveryPhase] ?? [] },
    { name: 'first CONNACK', points: s.curves.firstConnack ?? [] },
  ], { xLabel: 'percentile', yLabel: 'ms', xTicks: PERCENTILE_TICKS })}
</div>
<h2>The run over time</h2>
<div class="charts">
${lineChart('Devices over time', [
    { name: 'provisioned', points: timeline.map((p) => [p.t, p.provisioned]) },
    { name: 'connected', points: timeline.map((p) => [p.t, p.connected]) },
    { name: 'failed', points: timeline.map((p) => [p.t, p.failed]) },
  ], { xLabel: 'seconds', yLabel: 'devices' })}
${lineChart('Messages received per second', [{ name: 'msg/s', points: rate }], { xLabel: 'seconds', yLabel: 'msg/s' })}
</div>
${s.faults.length > 0 ? `<h2>Faults injected</h2>${table(['fault', 'at (s)', 'restart (ms)', 'devices affected', 'recovery p50 / p99 / max (ms)'], s.faults.map((f) => [f.kind, f.atS, f.restartMs, f.devicesAffected, `${f.recoveryMs.p50} / ${f.recoveryMs.p99} / ${f.recoveryMs.max}`]))}` : ''}
<h2>Errors by cause</h2>
${errors.length === 0 ? '<p class="pass">No errors.</p>' : table(['cause', 'count'], errors)}
<h2>Thresholds</h2>
${table(['threshold', 'requirement', 'limit', 'measured', 'result'], s.thresholds.map((t) => [t.name, t.requirement, t.limit, t.value, t.ok ? 'met' : 'BROKEN']))}
<h2>Baselines measured in this run, and ratios</h2>
${table(['baseline', 'figure'], [
    ['step-ca signing alone', s.baselines.caSigning ? `${s.baselines.caSigning.perSec}/s, p50 ${s.baselines.caSigning.latencyMs.p50} ms, p99 ${s.baselines.caSigning.latencyMs.p99} ms, step-ca CPU ${s.baselines.caSigning.stepCaCpuMsPerCert} ms/cert` : null],
    ['Mosquitto clients (mosquitto_pub → mosquitto_sub, QoS 0)', s.baselines.mosquittoClients ? `${s.baselines.mosquittoClients.perSec} msg/s` : null],
    ['lab clients (mqtt.js, QoS 0, same messages)', s.baselines.labClients ? `${s.baselines.labClients.perSec} msg/s` : null],
  ])}
${table(['ratio', 'value'], Object.entries(s.ratios))}
${barChart('Ratios against the baselines', Object.keys(s.ratios), [{ name: 'ratio', values: Object.values(s.ratios).map((v) => v ?? 0) }], 'ratio')}
<h2>CPU</h2>
${table(['process', 'CPU ms', 'per provisioned device'], [
    ['lab (devices and application)', s.cpu.labMs, s.cpu.labMsPerDevice],
    ['step-ca', s.cpu.stepCaMs, s.cpu.stepCaMsPerDevice],
    ...(s.cpu.provisioningServiceMs === undefined ? [] : [['provisioning service', s.cpu.provisioningServiceMs, s.cpu.provisioningServiceMsPerDevice ?? null]]),
    ['mosquitto', s.cpu.mosquittoMs, null],
  ])}
<p>Figures in <code>summary.json</code> next to this page (schema ${esc(s.schema)}).</p>
</body></html>
`;
}
