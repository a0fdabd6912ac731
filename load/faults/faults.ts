// Fault injection for fleet runs (`ecm-lab load --faults ...`): restart a component while the
// fleet is provisioning or publishing, or revoke devices' certificates, then measure who was
// affected and how long recovery (or the disconnect) took.
import { FAULT_KINDS, type FaultKind } from '../../evidence/perf/summary-schema.ts';

export { FAULT_KINDS, type FaultKind };

/** The faults that restart a lab component (the others act on devices). */
export type RestartKind = Exclude<FaultKind, 'device-restart' | 'revocation'>;

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

export function parseFaults(text: string | undefined): FaultKind[] {
  if (!text) return [];
  const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new FaultSpecError(`unknown fault(s) ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  return [...new Set(kinds)] as FaultKind[];
}

/**
 * When each fault strikes: the CA and the provisioning service while devices are still being
 * provisioned (a fraction into the arrival window), the broker and devices during the steady state.
 */
export function faultPhase(kind: FaultKind): { phase: 'arrivals' | 'steady'; fraction: number } {
  switch (kind) {
    case 'ca-restart':
      return { phase: 'arrivals', fraction: 0.3 };
    case 'provisioning-restart':
      return { phase: 'arrivals', fraction: 0.6 };
    case 'broker-restart':
      return { phase: 'steady', fraction: 1 / 3 };
    case 'revocation':
      return { phase: 'steady', fraction: 1 / 2 };
    case 'device-restart':
      return { phase: 'steady', fraction: 2 / 3 };
  }
}

