// A certificate client's power-up (power-up.ts is the workflow): its operations wired to the
// client, the CRLs it validates with fetched first (and again after a new trust anchor), the real
// clock and sleeps, and every transition logged with its reason.
import { setTimeout as delay } from 'node:timers/promises';
import type { CertificateStore } from './certificate-store.ts';
import type { ValidationResult } from './certificate-validation.ts';
import type { ClientLog } from './client-log.ts';
import type { ClientTrust } from './client-trust.ts';
import { powerUp, type BackoffPolicy, type PowerUpOutcome, type TransitionEvent } from './power-up.ts';

export interface PowerUpSettings {
  /** False: firmware that does not provision itself (seed 000); it waits for the service team's certificate. */
  selfProvisioning?: boolean;
  backoff?: Partial<BackoffPolicy>;
  onTransition?: (event: TransitionEvent) => void;
  /** Lifetime requested for a newly obtained operational certificate. */
  lifetimeSeconds?: number;
}

/** What the power-up needs of a client. */
export interface PoweredClient {
  readonly store: CertificateStore;
  readonly log: ClientLog;
  readonly trust: ClientTrust;
  now(): Date;
  validateStore(crlPems: string[]): ValidationResult;
  hasValidBootstrap(crlPems: string[]): boolean;
  provision(): Promise<void>;
  getCertificate(options: { lifetimeSeconds?: number }): Promise<void>;
  connect(): Promise<unknown>;
  renewCertificate(): Promise<void>;
}

/**
 * The power-up workflow: validate the store, discard what is invalid, re-acquire (X5C with a
 * valid bootstrap certificate, else ACME), renew when due, connect; retries with backoff.
 */
export async function powerUpClient(client: PoweredClient, settings: PowerUpSettings = {}): Promise<PowerUpOutcome> {
  // Revocation data is best effort: a device that cannot fetch CRLs validates without them
  // and learns of a revocation from the broker's refusal instead.
  let crls: string[] = [];
  const refreshCrls = async () => {
    crls = await client.trust.fetchCrls().catch(() => crls);
  };
  // Only a stored certificate is checked against CRLs: a first boot, with nothing stored, stops
  // at "missing files" before any CRL would be read, and fetches none.
  if (client.store.loadOperational() || client.store.loadBootstrap()) await refreshCrls();
  return powerUp(
    {
      validate: () => client.validateStore(crls),
      discardOperational: () => client.store.discardOperational(),
      hasValidBootstrap: () => client.hasValidBootstrap(crls),
      provision: () => client.provision(),
      getCertificate: () => client.getCertificate({ lifetimeSeconds: settings.lifetimeSeconds }),
      connect: async () => {
        await client.connect();
      },
      renew: () => client.renewCertificate(),
      refreshTrustAnchor: async () => {
        const changed = await client.trust.refreshAnchor();
        if (changed) await refreshCrls();
        return changed;
      },
    },
    {
      sleep: (ms) => delay(ms),
      random: Math.random,
      now: () => client.now(),
      backoff: settings.backoff,
      selfProvisioning: settings.selfProvisioning,
      onTransition: (event) => {
        // Each step of the workflow with its reason code: why a certificate was discarded,
        // why a retry happened.
        client.log.write('power-up', { from: event.from, to: event.to, reason: event.reason });
        settings.onTransition?.(event);
      },
    },
  );
}
