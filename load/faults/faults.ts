// Fault injection for fleet runs (`ecm-lab load --faults ...`): restart a component while the
// fleet is provisioning or publishing, or revoke devices' certificates, then measure who was
// affected and how long recovery (or the disconnect) took.
export const FAULT_KINDS = ['ca-restart', 'broker-restart', 'provisioning-restart', 'device-restart', 'revocation'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
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

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds since the run started. */
  atS: number;
  /** How long the component took to come back. */
  restartMs: number;
  devicesAffected: number;
  /**
   * Per affected device: from the fault to its first delivered message or completed
   * provisioning; for a revocation, from the revocation request to the broker closing that
   * device's connection.
   */
  recoveryMs: { p50: number; p99: number; max: number };
  /** Why recovery was not seen in full: the timeout that ended the wait, with what it waited for. */
  timeout?: string;
}

/** What a revocation fault did: a tenth of the connected devices revoked mid steady state. */
export interface RevocationRecord {
  /** Operational certificates revoked through the admin API. */
  revoked: number;
  /** Of those devices, the ones the broker disconnected. */
  disconnected: number;
  revocationToDisconnectMs: { p50: number; p99: number; max: number };
  /** Unexpected disconnects of every other device from the first revocation to the next fault or the end: must be 0. */
  otherDevicesDisconnected: number;
  /** Messages of revoked devices not counted after their revocation (neither sent nor lost). */
  excludedMessages: number;
}
