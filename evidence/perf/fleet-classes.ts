// The mixed fleet's figures by class (seed 000): devices that provision themselves (2.1), those
// the service team certifies through the admin API (2.0, certificate authentication required),
// and legacy devices on the broker's legacy listener (below "x"). What a run measured per class,
// what the report derives from it (latencies from the run's HDR histograms), and how segments add up.
import type { CertificateTrack } from '../../config/firmware-policy.ts';
import type { LatencyHistograms, LatencySummaryMs, Phase } from './latency-histograms.ts';

export type DeviceClass = CertificateTrack;
export const DEVICE_CLASSES: readonly DeviceClass[] = ['self-provisioning', 'manual-certificate', 'legacy'];

/** What one class of a run measured: counts only, so segments add up exactly. */
export interface ClassMeasured {
  /** Firmware versions of the mix in this class. */
  firmware: string[];
  /** Devices of this class in the run's (segment's) share of the mix. */
  requested: number;
  started: number;
  /** Connected at the end of the steady state (the pool's own sessions). */
  connected: number;
  /** Devices that failed, each once, whatever failed (the admin API, the power-up, the connection). */
  failed: number;
  /** How the devices that came up authenticated to the broker: certificate or legacy-credential. */
  connectedWith: Record<string, number>;
  /** Their telemetry, by sequence numbers at the application (as the whole fleet's). */
  messages: { sent: number; received: number; lost: number };
  /** Messages the application received, by the authentication of the topic tree they came on. */
  receivedBy: Record<string, number>;
}

export interface ClassSummary extends ClassMeasured {
  /** How a device of this class gets its credential, and so what `credentialLatencyMs` times. */
  credential: string;
  credentialLatencyMs: LatencySummaryMs;
  connectLatencyMs: LatencySummaryMs;
}

export type ClassFigures = Partial<Record<DeviceClass, ClassMeasured>>;

/** Which histograms time a class: obtaining its credential, and power-up to CONNACK. */
export const CLASS_PHASES: Record<DeviceClass, { credential: Phase; connect: Phase; label: string }> = {
  'self-provisioning': { credential: 'provisioningTotal', connect: 'firstConnack', label: 'the device itself: ACME http-01 through the provisioning service, then X5C (timed: ACME to first CONNACK)' },
  'manual-certificate': { credential: 'manualIssuance', connect: 'manualConnect', label: "the service team: a certificate issued through the admin API from the device's own CSR, installed into its store (timed: the admin request)" },
  legacy: { credential: 'legacyCredential', connect: 'legacyConnect', label: "the service team: a legacy credential through the admin API, for the broker's legacy listener (timed: the admin request)" },
};

export function emptyClass(firmware: string[] = []): ClassMeasured {
  return { firmware, requested: 0, started: 0, connected: 0, failed: 0, connectedWith: {}, messages: { sent: 0, received: 0, lost: 0 }, receivedBy: {} };
}

export function deriveClasses(classes: ClassFigures | undefined, histograms: LatencyHistograms): Partial<Record<DeviceClass, ClassSummary>> | undefined {
  if (!classes) return undefined;
  const out: Partial<Record<DeviceClass, ClassSummary>> = {};
  for (const c of DEVICE_CLASSES) {
    const measured = classes[c];
    if (!measured) continue;
    const phases = CLASS_PHASES[c];
    out[c] = { ...measured, credential: phases.label, credentialLatencyMs: histograms.summary(phases.credential), connectLatencyMs: histograms.summary(phases.connect) };
  }
  return out;
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Segments hold disjoint devices: every count adds up, the firmware lists unite. */
export function mergeClasses(parts: Array<ClassFigures | undefined>): ClassFigures | undefined {
  const present = parts.filter((p): p is ClassFigures => p !== undefined);
  if (present.length === 0) return undefined;
  const out: ClassFigures = {};
  for (const part of present) {
    for (const c of DEVICE_CLASSES) {
      const m = part[c];
      if (!m) continue;
      const acc = out[c] ?? emptyClass();
      out[c] = {
        firmware: [...new Set([...acc.firmware, ...m.firmware])].sort(),
        requested: acc.requested + m.requested,
        started: acc.started + m.started,
        connected: acc.connected + m.connected,
        failed: acc.failed + m.failed,
        connectedWith: addCounts(acc.connectedWith, m.connectedWith),
        messages: { sent: acc.messages.sent + m.messages.sent, received: acc.messages.received + m.messages.received, lost: acc.messages.lost + m.messages.lost },
        receivedBy: addCounts(acc.receivedBy, m.receivedBy),
      };
    }
  }
  return out;
}

/** Only the measured counts of a derived class summary (what a merge reads back from summary.json). */
export function measuredOf(classes: Partial<Record<DeviceClass, ClassSummary>> | undefined): ClassFigures | undefined {
  if (!classes) return undefined;
  const out: ClassFigures = {};
  for (const c of DEVICE_CLASSES) {
    const s = classes[c];
    if (s) out[c] = { firmware: s.firmware, requested: s.requested, started: s.started, connected: s.connected, failed: s.failed, connectedWith: s.connectedWith, messages: s.messages, receivedBy: s.receivedBy };
  }
  return out;
}
