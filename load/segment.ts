// A share of a fleet, as load engines define execution segments: instance i of n runs the
// devices [floor((i-1)·N/n), floor(i·N/n)) at R/n arrivals per second. Indexes are global,
// so identities and loopback addresses of different segments never overlap.
import type { Segment } from '../evidence/perf/summary-schema.ts';

export class SegmentError extends Error {
  override name = 'SegmentError';
}

/** Parses "i/n" (1-based), e.g. "2/4". */
export function parseSegment(text: string): Segment {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new SegmentError(`segment "${text}" must look like i/n, e.g. 1/2`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count) throw new SegmentError(`segment "${text}": need 1 <= i <= n`);
  return { index, count };
}

export interface SegmentShare {
  /** First global device index of this segment. */
  firstDevice: number;
  devices: number;
  ratePerSecond: number;
}

export function segmentShare(totalDevices: number, totalRate: number, segment: Segment): SegmentShare {
  const start = Math.floor(((segment.index - 1) * totalDevices) / segment.count);
  const end = Math.floor((segment.index * totalDevices) / segment.count);
  return { firstDevice: start, devices: end - start, ratePerSecond: totalRate / segment.count };
}
