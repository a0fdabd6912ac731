// Latency distributions in HDR histograms (hdr-histogram-js), recorded in microseconds so
// sub-millisecond MQTT deliveries keep their resolution. Histograms travel between segments
// and runs as compressed base64 and merge exactly.
import * as hdr from 'hdr-histogram-js';

export const PHASES = [
  'acmeOrder',
  'challengeValidation',
  'finalize',
  'x5cSign',
  'firstConnack',
  'provisioningTotal',
  'renewal',
  'mqttConnect',
  'deliveryQos0',
  'deliveryQos1',
  /** Fault injection: from a fault to an affected device's recovery. */
  'recovery',
  /** From the admin API's revocation request to the broker closing that device's connection. */
  'revocationToDisconnect',
  /** The bootstrap-endpoint scenario: one CSR to one bootstrap credential over plain HTTP. */
  'bootstrapEndpoint',
  /** The CA's own limit: one device's whole ACME + X5C flow served by step-ca alone. */
  'caFlow',
  /** From a renewal's start to the MQTT session on the renewed certificate (the request is 'renewal'). */
  'renewalHandover',
  /** The mixed fleet, 2.0: the service team's certificate through the admin API, from the device's CSR. */
  'manualIssuance',
  /** The mixed fleet, 2.0: power-up with the installed certificate to CONNACK. */
  'manualConnect',
  /** The mixed fleet, below "x": the legacy credential through the admin API. */
  'legacyCredential',
  /** The mixed fleet, below "x": power-up on the legacy listener to CONNACK. */
  'legacyConnect',
] as const;
export type Phase = (typeof PHASES)[number];

export interface LatencySummaryMs {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export class LatencyHistograms {
  private readonly histograms = new Map<Phase, hdr.Histogram>();

  private get(phase: Phase): hdr.Histogram {
    let h = this.histograms.get(phase);
    if (!h) {
      h = newHistogram();
      this.histograms.set(phase, h);
    }
    return h;
  }

  record(phase: Phase, milliseconds: number): void {
    this.get(phase).recordValue(Math.max(1, Math.round(milliseconds * 1000)));
  }

  summary(phase: Phase): LatencySummaryMs {
    const h = this.histograms.get(phase);
    if (!h || h.totalCount === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const ms = (us: number) => round(us / 1000);
    return {
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      // The bucket's value, like the percentiles: identical before and after encoding.
      max: ms(h.getValueAtPercentile(100)),
      mean: ms(h.mean),
    };
  }

  /** Percentile curve (percentile -> ms) for charts. */
  curve(phase: Phase, percentiles = [0, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]): Array<[number, number]> {
    const h = this.histograms.get(phase);
    if (!h || h.totalCount === 0) return [];
    return percentiles.map((p) => [p, round(h.getValueAtPercentile(p) / 1000)]);
  }

  summaries(): Record<Phase, LatencySummaryMs> {
    return Object.fromEntries(PHASES.map((p) => [p, this.summary(p)])) as Record<Phase, LatencySummaryMs>;
  }

  encode(): Partial<Record<Phase, string>> {
    const out: Partial<Record<Phase, string>> = {};
    for (const [phase, h] of this.histograms) if (h.totalCount > 0) out[phase] = hdr.encodeIntoCompressedBase64(h);
    return out;
  }

  /** Adds encoded histograms (another segment's or run's): the merge is exact. */
  addEncoded(encoded: Partial<Record<string, string>>): void {
    for (const [phase, data] of Object.entries(encoded)) {
      if (!(PHASES as readonly string[]).includes(phase) || !data) continue;
      const other = hdr.decodeFromCompressedBase64(data);
      this.get(phase as Phase).add(other);
      other.destroy();
    }
  }

  static decode(encoded: Partial<Record<string, string>>): LatencyHistograms {
    const histograms = new LatencyHistograms();
    histograms.addEncoded(encoded);
    return histograms;
  }
}
