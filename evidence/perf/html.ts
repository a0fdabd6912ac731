// index.html of a load run for stakeholders: one self-contained page (inline SVG, no scripts,
// no network) with latency per phase, percentile curves, the run over time, the fraction of
// the CA's own limit reached, faults and revocations, the inventory check, errors by cause,
// thresholds and the ratios against the baselines measured in the same run (each on its own axis).
// One self-contained page, so every chart's SVG is drawn here (hence its length); the layout
// arithmetic is chart-layout.ts.
import { compactNumber, layoutTickLabels, ninesPosition, rowsOf } from './chart-layout.ts';
import type { PerfSummary } from './summary-schema.ts';
import { cpuSection } from './cpu-section.ts';
import { esc, table } from './html-table.ts';
import { classesSection, renewalSection } from './html-fleet.ts';
import { handshakeClientName, handshakeFigures } from './handshake-figures.ts';

const COLORS = ['#0969da', '#1a7f37', '#bf3989', '#9a6700', '#8250df', '#cf222e'];
const W = 600;
const H = 260;
const M = { l: 60, r: 12, t: 16, b: 40 };
/** The charts' text size (figure svg CSS below) and the height of one row of x tick labels. */
const FONT_PX = 11;
const ROW_PX = 13;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

/**
 * Grid, y ticks, x tick labels and the y title. X tick labels that would overlap go to further
 * rows (chart-layout.ts); `extra` is the height those rows add below the chart.
 */
function axes(yMax: number, yLabel: string, xLabels: Array<[number, string]>): { svg: string; extra: number } {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = M.t + (H - M.t - M.b) * (1 - f);
    return `<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#eaeef2"/><text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${esc(compactNumber(yMax * f))}</text>`;
  });
  const placed = layoutTickLabels(xLabels, { fontPx: FONT_PX, minX: M.l - 4, maxX: W - 2 });
  const xs = placed.map((p) => `<text class="x-tick" x="${p.x.toFixed(1)}" y="${H - M.b + 18 + p.row * ROW_PX}" text-anchor="middle">${esc(p.label)}</text>`);
  const mid = M.t + (H - M.t - M.b) / 2;
  return { svg: `${ticks.join('')}${xs.join('')}<text x="12" y="${mid}" transform="rotate(-90 12 ${mid})" text-anchor="middle">${esc(yLabel)}</text>`, extra: (rowsOf(placed) - 1) * ROW_PX };
}

function legend(names: string[]): string {
  return names.map((n, i) => `<tspan fill="${COLORS[i % COLORS.length]}">■ ${esc(n)}</tspan>`).join(' ');
}

/**
 * Lines sharing an x axis; each series is [x, y] points. `xPosition` maps x to the axis (the
 * percentile curves use the nines axis); ticks are given in x and mapped the same way.
 */
export function lineChart(
  title: string,
  series: Array<{ name: string; points: Array<[number, number]> }>,
  opts: { xLabel: string; yLabel: string; xTicks?: Array<[number, string]>; xPosition?: (x: number) => number },
): string {
  const pos = opts.xPosition ?? ((x: number) => x);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p class="empty">no data</p></figure>`;
  const xMin = Math.min(...all.map((p) => pos(p[0])));
  const xMax = Math.max(...all.map((p) => pos(p[0])), xMin + 1e-9);
  const yMax = niceMax(Math.max(...all.map((p) => p[1])));
  const sx = (x: number) => M.l + ((pos(x) - xMin) / (xMax - xMin || 1)) * (W - M.l - M.r);
  const sy = (y: number) => M.t + (H - M.t - M.b) * (1 - y / yMax);
  const paths = series.map((s, i) => `<polyline fill="none" stroke-width="2" stroke="${COLORS[i % COLORS.length]}" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`);
  const inverse = opts.xPosition ? undefined : (f: number) => xMin + f * (xMax - xMin);
  const defaultTicks = inverse ? [0, 0.5, 1].map((f) => [inverse(f), compactNumber(inverse(f))] as [number, string]) : [];
  const xTicks = (opts.xTicks ?? defaultTicks).map(([x, l]) => [sx(x), l] as [number, string]);
  const { svg, extra } = axes(yMax, opts.yLabel, xTicks);
  const h = H + extra;
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(title)}">${svg}${paths.join('')}<text x="${(W + M.l) / 2}" y="${h - 4}" text-anchor="middle">${esc(opts.xLabel)}</text></svg><p class="legend">${legend(series.map((s) => s.name))}</p></figure>`;
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
  const { svg, extra } = axes(yMax, yLabel, xLabels);
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H + extra}" role="img" aria-label="${esc(title)}">${svg}${bars.join('')}</svg><p class="legend">${legend(series.map((s) => s.name))}</p></figure>`;
}


/** The percentile curves' ticks, on the nines axis (chart-layout.ts): p99, p99.9 and max a decade apart. */
export const PERCENTILE_TICKS: Array<[number, string]> = [[0, 'p0'], [50, 'p50'], [90, 'p90'], [99, 'p99'], [99.9, 'p99.9'], [100, 'max']];
const PERCENTILE_AXIS = { xLabel: 'percentile (nines scale: p90, p99, p99.9 a step apart)', yLabel: 'ms', xTicks: PERCENTILE_TICKS, xPosition: ninesPosition };

/** What each ratio means and the target the issue sets for it, if any. */
export const RATIO_INFO: Record<string, { label: string; target?: { op: '≤' | '≥'; value: number } }> = {
  labCpuPerDeviceOverStepCa: { label: 'lab CPU per device / step-ca CPU per device', target: { op: '≤', value: 0.5 } },
  provisioningWindowLabCpuPerDeviceOverStepCa: { label: 'lab CPU per device / step-ca CPU per device, provisioning window (first arrival to last device up)', target: { op: '≤', value: 0.5 } },
  provisioningWindowDeviceClientCpuPerDeviceOverStepCa: { label: "the device clients' own CPU per device (their worker threads or the native device process; not the fleet runner, the responder or the application) / step-ca CPU per device, provisioning window" },
  provisioningServiceCpuPerDeviceOverStepCa: { label: 'provisioning-service CPU per device / step-ca CPU per device', target: { op: '≤', value: 1 } },
  fractionOfCaLimit: { label: "devices per second / the CA's own limit (ACME + X5C at step-ca alone)" },
  labMqttThroughputOverMosquittoClients: { label: "lab clients' msg/s / Mosquitto clients' msg/s (QoS 0, same broker)", target: { op: '≥', value: 0.5 } },
  labCpuPerHandshakeOverBroker: { label: "client CPU per mutual-TLS connection / broker CPU per connection (baseline; the client is the baseline's, mqtt.js unless --handshake-client native)", target: { op: '≤', value: 1.5 } },
  nativeCpuPerHandshakeOverBroker: { label: 'native client (ecm-connect) CPU per mutual-TLS connection / broker CPU per connection (baseline, same run)', target: { op: '≤', value: 1.5 } },
  labCpuPerConnectOverBroker: { label: 'lab CPU per connection / broker CPU per connection (this run)', target: { op: '≤', value: 1.5 } },
  provisioningP50OverCaSignP50: { label: 'provisioning p50 / step-ca X5C sign p50' },
  devicesPerSecOverCaSignsPerSec: { label: 'devices per second / step-ca X5C signs per second' },
  signsPerSecOverCaSigning: { label: 'signs per second / step-ca signing baseline per second' },
};

/**
 * One ratio on an axis of its own (ratios of different scales never share one), with its
 * target drawn as a line: a ratio of 129 no longer flattens a ratio of 0.5.
 */
export function ratioPanel(key: string, value: number | null): string {
  const info = RATIO_INFO[key] ?? { label: key };
  const w = 280;
  const h = 64;
  const left = 8;
  const right = w - 8;
  const top = 14;
  const barH = 18;
  if (value === null) return `<figure class="ratio"><figcaption>${esc(key)}</figcaption><svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(key)}"><text x="${left}" y="${top + 14}">not measured in this run</text></svg><p class="legend">${esc(info.label)}</p></figure>`;
  const max = niceMax(Math.max(value, info.target?.value ?? 0) * 1.1);
  const x = (v: number) => left + ((right - left) * v) / max;
  const met = info.target ? (info.target.op === '≤' ? value <= info.target.value : value >= info.target.value) : undefined;
  const color = met === undefined ? COLORS[0] : met ? COLORS[1] : COLORS[5];
  const target = info.target
    ? `<line class="target" x1="${x(info.target.value).toFixed(1)}" x2="${x(info.target.value).toFixed(1)}" y1="${top - 4}" y2="${top + barH + 4}" stroke="#1f2328" stroke-dasharray="3 2"/><text x="${x(info.target.value).toFixed(1)}" y="${top - 6}" text-anchor="middle">target ${info.target.op} ${info.target.value}</text>`
    : '';
  const ticks = [0, max / 2, max].map((t) => `<text x="${x(t).toFixed(1)}" y="${h - 4}" text-anchor="middle">${esc(+t.toPrecision(3))}</text>`).join('');
  return `<figure class="ratio"><figcaption>${esc(key)}: <b>${esc(value)}</b>${met === undefined ? '' : met ? ' <span class="target-met">target met</span>' : ' <span class="target-missed">target not met</span>'}</figcaption><svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(key)}"><rect class="bar" x="${left}" y="${top}" width="${(x(value) - left).toFixed(1)}" height="${barH}" fill="${color}"><title>${esc(`${key}: ${value}`)}</title></rect>${target}${ticks}</svg><p class="legend">${esc(info.label)}</p></figure>`;
}

/** The fleet's devices per second against the CA's own limit, on one axis: the fraction reached. */
export function caLimitFigure(s: PerfSummary): string {
  const limit = s.baselines.caFlow;
  if (!limit || s.scenario.name !== 'full-flow') return '';
  const reached = s.provisioning.devicesPerSec;
  const fraction = s.ratios.fractionOfCaLimit ?? 0;
  const bars = [
    { name: 'this run', value: reached },
    { name: "CA's own limit (measured)", value: limit.perSec },
    { name: "step-ca's CPU alone would allow", value: limit.cpuBoundPerSec },
  ];
  const w = W;
  const rowH = 30;
  const left = 210;
  const h = bars.length * rowH + 30;
  const max = niceMax(Math.max(...bars.map((b) => b.value)));
  const x = (v: number) => left + ((w - left - 40) * v) / max;
  const rows = bars.map((b, i) => {
    const y = 10 + i * rowH;
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.name)}</text><rect class="bar" x="${left}" y="${y}" width="${(x(b.value) - left).toFixed(1)}" height="20" fill="${COLORS[i]}"><title>${esc(`${b.name}: ${b.value} devices/s`)}</title></rect><text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 15}">${esc(b.value)}</text>`;
  });
  const ticks = [0, max / 2, max].map((t) => `<text x="${x(t).toFixed(1)}" y="${h - 4}" text-anchor="middle">${esc(+t.toPrecision(3))}</text>`).join('');
  return `<figure class="chart" id="ca-limit"><figcaption>Fraction of the CA's own limit reached: <b>${esc(Math.round(fraction * 1000) / 10)} %</b> (devices per second)</figcaption><svg viewBox="0 0 ${w} ${h}" role="img" aria-label="fraction of the CA's own limit">${rows.join('')}${ticks}</svg><p class="legend">The CA's own limit: step-ca alone serving each device's whole ACME + X5C flow from pre-made requests, ${esc(limit.devices)} devices at concurrency ${esc(limit.concurrency)}, measured before this run on the same lab; step-ca's CPU per device there ${esc(limit.stepCaCpuMsPerDevice)} ms (both authorities).</p></figure>`;
}

function kpi(label: string, value: string | number): string {
  return `<div class="kpi">${esc(label)}<b>${esc(value)}</b></div>`;
}

function kpis(s: PerfSummary): string {
  const it = s.iterations;
  const items: Array<[string, string | number]> = [];
  if (s.scenario.family === 'fleet') {
    // Of the devices that provision themselves; the others are in the classes' table.
    const selfRequested = s.classes ? (s.classes['self-provisioning']?.requested ?? 0) : s.devices.requested - s.devices.legacy;
    items.push(['provisioned', `${s.devices.provisioned} / ${selfRequested}`], ['connected at the end', s.devices.connected], ['failed', s.devices.failed], ['legacy firmware', s.devices.legacy]);
    if (s.scenario.name === 'full-flow' || s.scenario.name === 'renewal-soak') items.push(['provisioning p99', `${s.provisioning.latencyMs.p99} ms`], ['devices / s', s.provisioning.devicesPerSec]);
    else items.push(['connect p99', `${s.mqtt.connectLatencyMs.p99} ms`]);
    if (s.config.durationMs > 0 && s.scenario.name !== 'mqtt-connect-storm') {
      items.push(['delivery p99', `${s.mqtt.deliveryLatencyMs.p99} ms`], ['messages lost', `${s.mqtt.messages.lost} / ${s.mqtt.messages.sent}`], ['throughput', `${s.mqtt.throughputMsgsPerSec} msg/s`], ['renewals', s.renewals.count]);
    }
    if (s.ratios.fractionOfCaLimit !== undefined && s.ratios.fractionOfCaLimit !== null) items.push(["fraction of the CA's limit", `${Math.round(s.ratios.fractionOfCaLimit * 1000) / 10} %`]);
  } else {
    items.push(['completed', `${it.completed} / ${it.started}`], ['failed', it.failed], ['interrupted', it.interrupted], [`${s.scenario.phase} p50`, `${it.latencyMs.p50} ms`], [`${s.scenario.phase} p99`, `${it.latencyMs.p99} ms`], ['per second', it.perSec]);
  }
  return `<div class="kpis">${items.map(([l, v]) => kpi(l, v)).join('')}</div>`;
}

function latencySection(s: PerfSummary): string {
  const deliveryPhase = s.mqtt.qos === 1 ? 'deliveryQos1' : 'deliveryQos0';
  if (s.scenario.family === 'requests') {
    const phase = s.scenario.phase;
    return `<h2>Latency</h2><div class="charts">${barChart(`${phase} latency (ms)`, ['p50', 'p95', 'p99', 'max'], [{ name: phase, values: [s.iterations.latencyMs.p50, s.iterations.latencyMs.p95, s.iterations.latencyMs.p99, s.iterations.latencyMs.max] }], 'ms')}${lineChart('Percentile curve (ms)', [{ name: phase, points: s.curves[phase] ?? [] }], PERCENTILE_AXIS)}</div>`;
  }
  const phases = ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign', 'firstConnack', 'provisioningTotal', 'renewal', 'renewalHandover', 'manualIssuance', 'manualConnect', 'legacyCredential', 'legacyConnect'] as const;
  const shown = phases.filter((p) => s.provisioning.phases[p].count > 0);
  return `<h2>Latency</h2><div class="charts">
${barChart(s.scenario.name === 'full-flow' || s.scenario.name === 'renewal-soak' ? 'Provisioning latency per phase (ms)' : 'Connect latency (ms)', shown, [
    { name: 'p50', values: shown.map((p) => s.provisioning.phases[p].p50) },
    { name: 'p95', values: shown.map((p) => s.provisioning.phases[p].p95) },
    { name: 'p99', values: shown.map((p) => s.provisioning.phases[p].p99) },
  ], 'ms')}
${lineChart('Percentile curves (ms)', [
    { name: 'provisioning total', points: s.curves.provisioningTotal ?? [] },
    { name: `delivery QoS ${s.mqtt.qos}`, points: s.curves[deliveryPhase] ?? [] },
    { name: 'first CONNACK', points: s.curves.firstConnack ?? [] },
    ...(s.curves.renewal ? [{ name: 'renewal request', points: s.curves.renewal }] : []),
  ], PERCENTILE_AXIS)}
</div>`;
}

function timelineSection(s: PerfSummary): string {
  const timeline = s.timeline;
  const perSecond = (pick: (p: (typeof timeline)[number]) => number) =>
    timeline.slice(1).map((p, i) => [p.t, Math.max(0, (pick(p) - pick(timeline[i]!)) / Math.max(0.001, p.t - timeline[i]!.t))] as [number, number]);
  if (s.scenario.family === 'requests') {
    return `<h2>The run over time</h2><div class="charts">${lineChart('Requests over time', [
      { name: 'completed', points: timeline.map((p) => [p.t, p.provisioned]) },
      { name: 'failed', points: timeline.map((p) => [p.t, p.failed]) },
    ], { xLabel: 'seconds', yLabel: 'requests' })}${lineChart('Requests completed per second', [{ name: 'per second', points: perSecond((p) => p.provisioned) }], { xLabel: 'seconds', yLabel: 'requests/s' })}</div>`;
  }
  return `<h2>The run over time</h2><div class="charts">
${lineChart('Devices over time', [
    { name: 'provisioned', points: timeline.map((p) => [p.t, p.provisioned]) },
    { name: 'connected', points: timeline.map((p) => [p.t, p.connected]) },
    { name: 'failed', points: timeline.map((p) => [p.t, p.failed]) },
  ], { xLabel: 'seconds', yLabel: 'devices' })}
${lineChart('Messages received per second', [{ name: 'msg/s', points: perSecond((p) => p.received) }], { xLabel: 'seconds', yLabel: 'msg/s' })}
${lineChart('Delivery p99 of each second', [{ name: 'p99', points: timeline.flatMap((p) => (p.deliveryP99Ms === undefined ? [] : [[p.t, p.deliveryP99Ms] as [number, number]])) }], { xLabel: 'seconds', yLabel: 'ms' })}
</div>`;
}

function faultSection(s: PerfSummary): string {
  if (s.faults.length === 0 && !s.revocation) return '';
  const faults = table(['fault', 'at (s)', 'took (ms)', 'devices affected', 'recovery (revocation: to disconnect) p50 / p99 / max (ms)', 'timed out'], s.faults.map((f) => [f.kind, f.atS, f.restartMs, f.devicesAffected, `${f.recoveryMs.p50} / ${f.recoveryMs.p99} / ${f.recoveryMs.max}`, f.timeout ?? 'no']));
  const r = s.revocation;
  const revocation = r
    ? `<h3>Revocation</h3>${table(['figure', 'value'], [
        ['operational certificates revoked (admin API)', r.revoked],
        ['of those devices, disconnected by the broker', r.disconnected],
        ['revocation to disconnect p50 / p99 / max', `${r.revocationToDisconnectMs.p50} / ${r.revocationToDisconnectMs.p99} / ${r.revocationToDisconnectMs.max} ms`],
        ['other devices disconnected meanwhile (must be 0)', r.otherDevicesDisconnected],
        ['messages excluded after revocation', r.excludedMessages],
      ])}<p>Revoked devices are excluded from the lost-message accounting after their revocation: only the messages the broker acknowledged before it closed their session count as sent; the ${esc(r.excludedMessages)} they sent after are neither sent nor lost.</p>`
    : '';
  return `<h2>Faults injected</h2>${faults}${revocation}`;
}

function inventorySection(s: PerfSummary): string {
  const i = s.inventory;
  if (!i) return '';
  return `<h2>Inventory against step-ca's issuance logs</h2>${table(['figure', 'value'], [
    ['certificates in the inventory', i.inventory],
    ['certificates the two step-ca authorities logged as issued', i.issuedOnLogs],
    ['logged as issued but missing from the inventory (must be 0)', i.notInInventory],
    ['in the inventory with no step-ca log line (bootstrap credentials the lab signed itself: baselines, x5c-sign)', i.notOnLogs],
  ])}${i.timeout ? `<p class="fail">${esc(i.timeout)}</p>` : ''}`;
}

function baselineRows(s: PerfSummary): Array<[string, string | null]> {
  const b = s.baselines;
  return [
    ['step-ca X5C signing alone', b.caSigning ? `${b.caSigning.perSec}/s, p50 ${b.caSigning.latencyMs.p50} ms, p99 ${b.caSigning.latencyMs.p99} ms, step-ca CPU ${b.caSigning.stepCaCpuMsPerCert} ms/cert` : null],
    ["the CA's own limit (ACME + X5C at step-ca alone)", b.caFlow ? `${b.caFlow.perSec} devices/s, p50 ${b.caFlow.latencyMs.p50} ms, CPU per device: step-ca ${b.caFlow.stepCaCpuMsPerDevice} ms, service ${b.caFlow.provisioningServiceCpuMsPerDevice} ms, lab ${b.caFlow.labCpuMsPerDevice} ms` : null],
    ['Mosquitto clients (mosquitto_pub → mosquitto_sub, QoS 0)', b.mosquittoClients ? `${b.mosquittoClients.perSec} msg/s` : null],
    ['lab clients (mqtt.js, QoS 0, same messages)', b.labClients ? `${b.labClients.perSec} msg/s` : null],
    ...[b.handshakes, b.handshakesNative].filter((h) => h !== undefined).map((h): [string, string] => [`CPU per mutual-TLS connection, ${handshakeClientName(h)} / broker`, handshakeFigures(h)]),
  ];
}

export function renderPerfHtml(s: PerfSummary): string {
  const errors = Object.entries(s.errors.byCause).sort((a, b) => b[1] - a[1]);
  const ok = s.thresholds.every((t) => t.ok);
  const ex = s.config.executor;
  const executor = ex.kind === 'arrival-rate' ? `arrival-rate ${esc(ex.ratePerSecond)}/s, at most ${esc(ex.maxConcurrent)} at once` : ex.kind === 'constant-vus' ? `constant-vus: ${esc(ex.vus)} VUs for ${esc(ex.vusDurationMs / 1000)} s` : `iterations shared by ${esc(ex.vus)} VUs`;
  const fleet = s.scenario.family === 'fleet';
  const ratios = Object.entries(s.ratios);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecm-lab ${esc(s.scenario.name)} run ${esc(s.runId)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem auto;max-width:1340px;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}h3{font-size:1rem}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem}.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.kpi b{display:block;font-size:1.3rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure.chart{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.5rem;width:${W}px}
figure.ratio{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.5rem;width:300px}figure.ratio figcaption{overflow-wrap:anywhere}
figure svg{width:100%;height:auto;font-size:11px;fill:#57606a}figcaption{font-weight:600;margin-bottom:.3rem}
.legend{margin:.2rem 0 0;font-size:12px}table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #eaeef2;padding:3px 8px;text-align:left}
.pass,.target-met{color:#1a7f37;font-weight:600}.fail,.target-missed{color:#cf222e;font-weight:600}.empty{color:#8c959f}
</style></head><body>
<h1>ecm-lab ${esc(fleet ? 'fleet' : 'load')} run <code>${esc(s.runId)}</code>: scenario ${esc(s.scenario.name)}${s.partial ? ' <span class="fail">(partial: interrupted)</span>' : ''}</h1>
<p>${esc(s.scenario.measures)}.</p>
<p>${esc(s.devices.requested)} devices (segment ${s.segment.index}/${s.segment.count}), ${executor}${fleet ? `, steady state ${esc(s.config.durationMs / 1000)} s${s.scenario.name !== 'mqtt-connect-storm' ? `, QoS ${s.mqtt.qos}, telemetry every ${esc(s.config.telemetryIntervalMs)} ms` : ''}` : ''}${s.config.certLifetimeSeconds ? `, certificates of ${esc(s.config.certLifetimeSeconds)} s` : ''}. ${esc(s.machine.cpus)} × ${esc(s.machine.cpuModel)}, Node ${esc(s.machine.node)}; ${Object.entries(s.tools).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ')}. Started ${esc(s.startedAt)}.</p>
<p>Thresholds: <span class="${ok ? 'pass' : 'fail'}">${ok ? 'all met' : 'NOT met'}</span></p>
${kpis(s)}
${caLimitFigure(s)}
${renewalSection(s)}
${classesSection(s)}
${latencySection(s)}
${timelineSection(s)}
${faultSection(s)}
${inventorySection(s)}
<h2>Errors by cause</h2>
${errors.length === 0 ? '<p class="pass">No errors.</p>' : `${table(['cause', 'count'], errors)}<p>${esc(s.errors.timeouts)} of them timeouts.</p>`}
<h2>Iterations</h2>
${table(['started', 'completed', 'failed', 'interrupted', 'not started', 'delayed by the concurrency cap', 'longest start delay (ms)', 'per second'], [[s.iterations.started, s.iterations.completed, s.iterations.failed, s.iterations.interrupted, s.iterations.notStarted, s.iterations.delayed, s.iterations.maxStartDelayMs, s.iterations.perSec]])}
<h2>Thresholds</h2>
${table(['threshold', 'requirement', 'limit', 'measured', 'result'], s.thresholds.map((t) => [t.name, t.requirement, t.limit, t.value ?? 'no data', t.ok ? 'met' : 'BROKEN']))}
<h2>Baselines measured in this run, and ratios</h2>
${table(['baseline', 'figure'], baselineRows(s))}
${ratios.length === 0 ? '<p class="empty">No ratio applies to this scenario.</p>' : `<p>Each ratio on an axis of its own, with its target where the performance issue sets one.</p><div class="charts">${ratios.map(([k, v]) => ratioPanel(k, v)).join('')}</div>`}
${cpuSection(s)}
<p>Figures in <code>summary.json</code> next to this page (schema ${esc(s.schema)}).</p>
</body></html>
`;
}
