// The managing application's indication of certificate states (seed 000: "expiring within x time
// period", "expired/invalid"): worked out by the application from the certificate management
// service's inventory, with its own clock and window, not from what each device says of itself.
import type { InventoryEntry } from '../client/admin-client.ts';

export type ApplicationCertificateState = 'active' | 'expiring' | 'expired' | 'revoked';

export interface CertificateStateReport {
  holder: string;
  state: ApplicationCertificateState;
  serial: string;
  notAfter: string;
}

/**
 * One report per identity that holds an operational certificate: its newest one (a renewed or
 * re-issued certificate supersedes the older ones). Revoked wins over expired, as in the inventory.
 * notBefore has whole seconds: of two issued in the same second, the later one the inventory
 * lists wins (it lists certificates in the order it recorded them).
 */
export function certificateStates(entries: readonly InventoryEntry[], now: Date, expiringWithinMs: number): CertificateStateReport[] {
  const newest = new Map<string, InventoryEntry>();
  for (const entry of entries) {
    if (entry.kind !== 'operational') continue;
    const held = newest.get(entry.deviceId);
    if (!held || Date.parse(entry.notBefore) >= Date.parse(held.notBefore)) newest.set(entry.deviceId, entry);
  }
  return [...newest.values()].map((entry) => {
    const remainingMs = Date.parse(entry.notAfter) - now.getTime();
    const state: ApplicationCertificateState = entry.status === 'revoked' ? 'revoked' : remainingMs < 0 ? 'expired' : remainingMs <= expiringWithinMs ? 'expiring' : 'active';
    return { holder: entry.deviceId, state, serial: entry.serial, notAfter: entry.notAfter };
  });
}
