// The device's power-up workflow (seed 000 "Certificate Use Workflow", UC-02/UC-03; NFR-REL-001
// renewal fallback, NFR-REL-002 recovery) as an explicit state machine. Every effect is injected
// (operations, sleep, clock, randomness), so a unit test drives each path without a network or a
// timer, and a scenario can assert the exact path a real device took from its transition events.
// Every state and transition in one file, so the machine can be read whole: hence its length.
import type { ValidationResult } from './certificate-validation.ts';
import { DEFAULT_RENEWAL_POLICY, renewalStatus, type RenewalPolicy } from './renewal-policy.ts';
import { ProvisioningRefusedError } from './acme-bootstrap.ts';
import { BrokerUntrustedError, CertificateRefusedByBrokerError } from './connection-errors.ts';
import { CaRefusalError } from './x5c-sign.ts';

export type PowerUpState =
  | 'validating'
  | 'renewing'
  | 'discarding'
  | 'provisioning'
  | 'obtaining-operational'
  | 'connecting'
  | 'backing-off'
  | 'connected'
  | 'awaiting-certificate'
  | 'failed';

/** Every edge the machine can take; tests check emitted transitions against it. */
export const POWER_UP_TRANSITIONS: Readonly<Record<PowerUpState, readonly PowerUpState[]>> = {
  validating: ['connecting', 'renewing', 'discarding', 'failed'],
  renewing: ['connecting', 'obtaining-operational', 'provisioning', 'failed'],
  // Firmware that does not provision itself waits for the service team instead (seed 000).
  discarding: ['obtaining-operational', 'provisioning', 'awaiting-certificate', 'failed'],
  provisioning: ['obtaining-operational', 'backing-off', 'failed'],
  'obtaining-operational': ['connecting', 'provisioning', 'backing-off', 'failed'],
  // The broker refused our certificate -> discard and re-acquire; the broker is no longer trusted
  // and a new trust anchor was fetched -> validate the store again against it (UC-05).
  connecting: ['connected', 'backing-off', 'failed', 'discarding', 'validating'],
  'backing-off': ['provisioning', 'obtaining-operational', 'connecting', 'failed'],
  connected: [],
  'awaiting-certificate': [],
  failed: [],
};

export interface TransitionEvent {
  from: PowerUpState;
  to: PowerUpState;
  reason: string;
  /** Injected clock, ms since the epoch. */
  at: number;
  /** Set on transitions into 'backing-off'. */
  delayMs?: number;
}

export interface PowerUpOperations {
  validate(): ValidationResult;
  discardOperational(): void;
  hasValidBootstrap(): boolean;
  provision(): Promise<void>;
  getCertificate(): Promise<void>;
  connect(): Promise<void>;
  renew(): Promise<void>;
  /** Fetches the trust anchor again (insecure channel, FR-PS-004); true when it changed. */
  refreshTrustAnchor?(): Promise<boolean>;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Attempts per operation, the first one included. */
  maxAttempts: number;
  /** 0..1: each delay is shortened by up to this fraction, so a fleet does not retry in lockstep. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, factor: 2, maxAttempts: 8, jitter: 0.2 };

export interface PowerUpOptions {
  backoff?: Partial<BackoffPolicy>;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), like Math.random. */
  random: () => number;
  now: () => Date;
  /** A valid certificate that is due is renewed before connecting; false: never at power-up. */
  renewalPolicy?: RenewalPolicy | false;
  /**
   * False for firmware that does not run the certificate workflow itself (seed 000: Reveos 2.0 and
   * 1.x): it connects with a certificate the service team installed, never renews or re-acquires
   * one, and ends in 'awaiting-certificate' when it has none that is valid.
   */
  selfProvisioning?: boolean;
  /** Whether a getCertificate() failure means the bootstrap certificate itself was refused. */
  isBootstrapRefusal?: (error: unknown) => boolean;
  onTransition?: (event: TransitionEvent) => void;
}

type Operation = 'provision' | 'getCertificate' | 'connect' | 'renew';

export interface AttemptCounts {
  attempts: number;
  /** Provision: ProvisioningRefusedError. getCertificate: the bootstrap certificate was refused. */
  refusals: number;
  /** Every other failure. */
  errors: number;
}

export interface PowerUpOutcome {
  state: 'connected' | 'awaiting-certificate' | 'failed';
  path: PowerUpState[];
  transitions: TransitionEvent[];
  /** The first validation's result: why the stored certificate was (not) used. */
  validation: ValidationResult | undefined;
  attempts: Record<Operation, AttemptCounts>;
  delaysMs: number[];
  /** Why the machine ended in 'failed'. */
  error?: string;
}

export class BackoffPolicyError extends Error {
  override name = 'BackoffPolicyError';
}

export function resolveBackoff(partial: Partial<BackoffPolicy> = {}): BackoffPolicy {
  const p = { ...DEFAULT_BACKOFF, ...partial };
  const problems = [
    !(Number.isFinite(p.initialMs) && p.initialMs >= 0) && `initialMs must be >= 0 (got ${p.initialMs})`,
    !(Number.isFinite(p.maxMs) && p.maxMs >= p.initialMs) && `maxMs must be >= initialMs (got ${p.maxMs} < ${p.initialMs})`,
    !(Number.isFinite(p.factor) && p.factor >= 1) && `factor must be >= 1 (got ${p.factor})`,
    !(Number.isInteger(p.maxAttempts) && p.maxAttempts >= 1) && `maxAttempts must be an integer >= 1 (got ${p.maxAttempts})`,
    !(p.jitter >= 0 && p.jitter <= 1) && `jitter must be within [0, 1] (got ${p.jitter})`,
  ].filter((x): x is string => typeof x === 'string');
  if (problems.length > 0) throw new BackoffPolicyError(`invalid backoff policy: ${problems.join('; ')}`);
  return p;
}

/** Delay before retry number `failures` (1 = after the first failure): exponential, capped, jittered down. */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failures - 1));
  return Math.round(base * (1 - policy.jitter * random()));
}

/** step-ca answers an X5C token made with an expired, revoked or unknown bootstrap certificate with 401/403. */
export function defaultIsBootstrapRefusal(error: unknown): boolean {
  return error instanceof CaRefusalError && (error.status === 401 || error.status === 403);
}

/** A failed refresh (service OFF, not white-listed) is not fatal: the connect attempt is retried. */
async function refreshed(refresh: () => Promise<boolean>): Promise<boolean> {
  try {
    return await refresh();
  } catch {
    return false;
  }
}

function explain(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function powerUp(ops: PowerUpOperations, options: PowerUpOptions): Promise<PowerUpOutcome> {
  const backoff = resolveBackoff(options.backoff);
  const isBootstrapRefusal = options.isBootstrapRefusal ?? defaultIsBootstrapRefusal;
  const renewalPolicy = options.renewalPolicy === undefined ? DEFAULT_RENEWAL_POLICY : options.renewalPolicy;
  const counts = (): AttemptCounts => ({ attempts: 0, refusals: 0, errors: 0 });
  const outcome: PowerUpOutcome = {
    state: 'failed',
    path: ['validating'],
    transitions: [],
    validation: undefined,
    attempts: { provision: counts(), getCertificate: counts(), connect: counts(), renew: counts() },
    delaysMs: [],
  };

  // Widened on purpose: go() changes it behind the compiler's back.
  let state = 'validating' as PowerUpState;
  const go = (to: PowerUpState, reason: string, delayMs?: number): void => {
    if (!POWER_UP_TRANSITIONS[state].includes(to)) throw new Error(`power-up: illegal transition ${state} -> ${to}`);
    const event: TransitionEvent = { from: state, to, reason, at: options.now().getTime(), ...(delayMs === undefined ? {} : { delayMs }) };
    outcome.transitions.push(event);
    outcome.path.push(to);
    state = to;
    options.onTransition?.(event);
  };

  /** With a valid bootstrap certificate only the operational one is re-acquired (no ACME, no white list). */
  const selfProvisioning = options.selfProvisioning ?? true;
  const acquire = (why: string): void => {
    if (!selfProvisioning) go('awaiting-certificate', `${why}; this firmware does not provision itself: the service team installs its certificate`);
    else if (ops.hasValidBootstrap()) go('obtaining-operational', `${why}; bootstrap certificate still valid`);
    else go('provisioning', `${why}; no valid bootstrap certificate`);
  };

  /** Counts a failure of `op` and either backs off and returns to `retry`, or gives up. */
  const retryOrFail = async (op: Operation, error: unknown, refusal: boolean, retry: PowerUpState): Promise<void> => {
    const c = outcome.attempts[op];
    if (refusal) c.refusals += 1;
    else c.errors += 1;
    const what = `${op} ${refusal ? 'refused' : 'failed'} (attempt ${c.attempts}/${backoff.maxAttempts}): ${explain(error)}`;
    if (c.attempts >= backoff.maxAttempts) {
      outcome.error = `${op} gave up after ${c.attempts} attempts (${c.refusals} refusals, ${c.errors} other errors); last: ${explain(error)}`;
      go('failed', what);
      return;
    }
    const delayMs = backoffDelay(backoff, c.attempts, options.random);
    outcome.delaysMs.push(delayMs);
    go('backing-off', `${what}; retrying in ${delayMs} ms`, delayMs);
    await options.sleep(delayMs);
    go(retry, `retry ${c.attempts + 1}/${backoff.maxAttempts} of ${op}`);
  };

  let provisionedThisRun = false;
  try {
    while (state !== 'connected' && state !== 'failed' && state !== 'awaiting-certificate') {
      switch (state) {
        case 'validating': {
          const result = ops.validate();
          outcome.validation = result;
          if (!result.valid) {
            go('discarding', `${result.reason}: ${result.message}`);
          } else {
            const { notBefore, notAfter } = result.facts;
            const renewal = renewalPolicy ? renewalStatus(notBefore, notAfter, options.now(), renewalPolicy) : undefined;
            if (renewal?.due && selfProvisioning) go('renewing', `operational certificate valid, renewal due since ${renewal.dueAt.toISOString()}`);
            else if (renewal?.due) go('connecting', `operational certificate valid until ${notAfter.toISOString()}, renewal due since ${renewal.dueAt.toISOString()}: the service team must install a new one`);
            else go('connecting', `operational certificate valid until ${notAfter.toISOString()}`);
          }
          break;
        }
        case 'discarding':
          ops.discardOperational();
          acquire('operational certificate discarded');
          break;
        case 'renewing': {
          const c = outcome.attempts.renew;
          c.attempts += 1;
          try {
            await ops.renew();
            go('connecting', 'operational certificate renewed');
          } catch (error) {
            c.errors += 1;
            // NFR-REL-001: the still-valid certificate is kept until a new one replaces it.
            acquire(`renewal failed (${explain(error)}), falling back to re-acquisition`);
          }
          break;
        }
        case 'provisioning': {
          outcome.attempts.provision.attempts += 1;
          try {
            await ops.provision();
            provisionedThisRun = true;
            go('obtaining-operational', 'bootstrap certificate obtained');
          } catch (error) {
            await retryOrFail('provision', error, error instanceof ProvisioningRefusedError, 'provisioning');
          }
          break;
        }
        case 'obtaining-operational': {
          const c = outcome.attempts.getCertificate;
          c.attempts += 1;
          try {
            await ops.getCertificate();
            go('connecting', 'operational certificate obtained');
          } catch (error) {
            if (!isBootstrapRefusal(error)) {
              await retryOrFail('getCertificate', error, false, 'obtaining-operational');
            } else if (!provisionedThisRun) {
              c.refusals += 1;
              go('provisioning', `bootstrap certificate refused (${explain(error)}), re-provisioning`);
            } else {
              // A bootstrap certificate obtained moments ago was refused: retrying cannot help.
              c.refusals += 1;
              outcome.error = `the CA refused a freshly provisioned bootstrap certificate: ${explain(error)}`;
              go('failed', outcome.error);
            }
          }
          break;
        }
        case 'connecting': {
          const c = outcome.attempts.connect;
          c.attempts += 1;
          try {
            await ops.connect();
            go('connected', 'connected with the operational certificate');
          } catch (error) {
            if (error instanceof CertificateRefusedByBrokerError && c.attempts < backoff.maxAttempts) {
              // Revoked or unknown to the broker although it looked valid here (no CRL yet, new CA).
              c.refusals += 1;
              go('discarding', `the broker refused the certificate (${explain(error)})`);
            } else if (error instanceof BrokerUntrustedError && ops.refreshTrustAnchor && c.attempts < backoff.maxAttempts && (await refreshed(ops.refreshTrustAnchor))) {
              c.refusals += 1;
              go('validating', `the broker is not trusted (${explain(error)}); a new trust anchor was installed`);
            } else {
              await retryOrFail('connect', error, error instanceof CertificateRefusedByBrokerError, 'connecting');
            }
          }
          break;
        }
        case 'backing-off':
          throw new Error('power-up: backing-off is left by retryOrFail only');
      }
    }
  } catch (error) {
    // validate(), discardOperational(), hasValidBootstrap() or sleep() threw: a bug or a broken
    // store, not a refusal worth retrying.
    outcome.error = `${state}: ${explain(error)}`;
    if (state !== 'failed') go('failed', outcome.error);
  }
  outcome.state = state as PowerUpOutcome['state'];
  return outcome;
}
