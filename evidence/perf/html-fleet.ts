// Two sections of the load report's page: the renewals of a run whose certificates renewed
// (the renewal soak's figures against NFR-PERF-001), and the mixed fleet by class (seed 000:
// devices that provision themselves, those the service team certifies, legacy devices).
import { esc, table } from './html-table.ts';
import { DEVICE_CLASSES } from './fleet-classes.ts';
import type { PerfSummary } from './summary.ts';

const pcts = (l: { p50: number; p95: number; p99: number; max: number; count: number }) => (l.count === 0 ? 'no data' : `${l.p50} / ${l.p95} / ${l.p99} / ${l.max} ms`);

export function renewalSection(s: PerfSummary): string {
  const r = s.renewals;
  if (s.scenario.name !== 'renewal-soak' && r.count === 0 && (r.failed ?? 0) === 0) return '';
  const rows: Array<[string, string | number]> = [
    ['operational certificate lifetime asked for', s.config.certLifetimeSeconds ? `${s.config.certLifetimeSeconds} s (devices renew at 2/3 of it, by their own timer)` : 'the CA default'],
    ['renewals done', r.count],
    ['devices that renewed / provisioned', `${r.devicesRenewed ?? 0} / ${s.devices.provisioned}`],
    ['renewal attempts failed (each retried; must be 0)', r.failed ?? 0],
    ['renewal request p50 / p95 / p99 / max (NFR-PERF-001: 30 s)', pcts(r.latencyMs)],
    ['renewal with its handover (request start to the session on the new certificate) p50 / p95 / p99 / max', pcts(r.handoverMs ?? { count: 0, p50: 0, p95: 0, p99: 0, max: 0 })],
    ['MQTT sessions dropped (closed by the broker or the network, not by a handover)', s.mqtt.sessionsDropped ?? 0],
    [`QoS ${s.mqtt.qos} messages sent / received / lost`, `${s.mqtt.messages.sent} / ${s.mqtt.messages.received} / ${s.mqtt.messages.lost}`],
  ];
  return `<h2 id="renewals">Renewals</h2>${table(['figure', 'value'], rows)}`;
}

export function classesSection(s: PerfSummary): string {
  const classes = s.classes;
  if (!classes || Object.keys(classes).length === 0) return '';
  const rows = DEVICE_CLASSES.flatMap((name) => {
    const c = classes[name];
    if (!c) return [];
    const how = Object.entries(c.connectedWith).map(([a, n]) => `${n} ${a}`).join(', ') || 'none';
    return [[name, c.firmware.join(', '), c.requested, c.started, c.connected, c.failed, how, pcts(c.credentialLatencyMs), pcts(c.connectLatencyMs), `${c.messages.sent} / ${c.messages.received} / ${c.messages.lost}`]];
  });
  const notes = DEVICE_CLASSES.flatMap((name) => (classes[name] ? [`<li><b>${esc(name)}</b>: ${esc(classes[name]!.credential)}</li>`] : []));
  return `<h2 id="classes">Device classes (firmware tracks)</h2>${table(['class', 'firmware', 'requested', 'started', 'connected at the end', 'failed', 'came up with', 'credential p50 / p95 / p99 / max', 'power-up to CONNACK p50 / p95 / p99 / max', 'messages sent / received / lost'], rows)}<ul>${notes.join('')}</ul>`;
}
