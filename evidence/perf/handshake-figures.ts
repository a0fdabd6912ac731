// A handshake baseline in words: which client made it and its figures in one line, the same in
// the HTML report and in `npm run bench`'s table.
import type { HandshakeBaseline } from './summary-schema.ts';

/** Who made the client side of a handshake baseline, as a table row names it. */
export function handshakeClientName(h: HandshakeBaseline): string {
  return h.client === 'native' ? 'native client (ecm-connect, Go crypto/tls)' : 'lab client (mqtt.js, Node TLS)';
}

/** A handshake baseline's figures in one line (the HTML report and BENCHMARKS' table). */
export function handshakeFigures(h: HandshakeBaseline): string {
  const tls = h.negotiated ? `; ${Object.entries(h.negotiated).map(([k, n]) => `${k} ×${n}`).join(', ')}` : '';
  const self = h.selfReportedCpuMsPerHandshake === undefined ? '' : `, its own getrusage ${h.selfReportedCpuMsPerHandshake} ms`;
  return `${h.labCpuMsPerHandshake} / ${h.brokerCpuMsPerHandshake} ms (${h.connections} distinct certificates, each loaded into its TLS context beforehand: ${h.labCpuMsPerContext ?? 'n/a'} ms a context${self}; ${h.perSec}/s, CONNACK p50 ${h.latencyMs.p50} ms${tls})`;
}
