// The executor a run was asked for, and the share of it one segment runs (k6's execution
// segments): segment i of n runs the devices [floor((i-1)N/n), floor(iN/n)), at rate R/n, with
// floor(iV/n) - floor((i-1)V/n) of the V virtual users, so the segments add up to the whole.
import { segmentShare, SegmentError } from './segment.ts';
import type { ExecutorSpec } from './executors.ts';
import type { ExecutorPlan, Segment } from '../evidence/perf/summary-schema.ts';

/** Beyond the plain schedule, how long arrivals may wait for slots before they are given up. */
const DEFAULT_MAX_DURATION_MARGIN_MS = 600_000;

export function segmentVus(vus: number, segment: Segment): number {
  return Math.floor((segment.index * vus) / segment.count) - Math.floor(((segment.index - 1) * vus) / segment.count);
}

export function segmentExecutor(plan: ExecutorPlan, devices: number, segment: Segment): ExecutorSpec {
  const share = segmentShare(devices, plan.ratePerSecond, segment);
  if (plan.kind === 'arrival-rate') {
    const window = (share.devices * 1000) / share.ratePerSecond;
    return { kind: 'arrival-rate', iterations: share.devices, ratePerSecond: share.ratePerSecond, maxConcurrent: plan.maxConcurrent, maxDurationMs: plan.maxDurationMs ?? Math.ceil(window) + DEFAULT_MAX_DURATION_MARGIN_MS };
  }
  const vus = segmentVus(plan.vus, segment);
  if (vus < 1) throw new SegmentError(`segment ${segment.index}/${segment.count} of ${plan.vus} VUs holds none: use at least ${segment.count} VUs`);
  if (plan.kind === 'constant-vus') return { kind: 'constant-vus', vus, durationMs: plan.vusDurationMs, maxIterations: share.devices };
  return { kind: 'iterations', vus, iterations: share.devices, maxDurationMs: plan.maxDurationMs ?? DEFAULT_MAX_DURATION_MARGIN_MS };
}
