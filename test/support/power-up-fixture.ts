// Scripted operations, a clock that moves only when the machine sleeps, and the checks every
// outcome of the power-up state machine must pass: what the power-up unit tests share.
import assert from 'node:assert/strict';
import type { ValidationResult } from '../../simulators/client/certificate-validation.ts';
import { POWER_UP_TRANSITIONS, type PowerUpOperations, type PowerUpOptions, type PowerUpOutcome, type TransitionEvent } from '../../simulators/client/power-up.ts';
import { ProvisioningRefusedError } from '../../simulators/client/acme-bootstrap.ts';
import { CaRefusalError } from '../../simulators/client/x5c-sign.ts';

export const HOUR = 3600_000;
export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

type Step = 'ok' | Error;

/** Scripted operations: each async operation plays its steps in order, then succeeds. */
export class FakeDevice implements PowerUpOperations {
  readonly calls: string[] = [];
  bootstrapValid = false;
  validation: ValidationResult = validFor(T0 - HOUR, T0 + 23 * HOUR);
  script: Record<'provision' | 'getCertificate' | 'connect' | 'renew', Step[]> = { provision: [], getCertificate: [], connect: [], renew: [] };

  constructor(init: Partial<Pick<FakeDevice, 'bootstrapValid' | 'validation'>> & { script?: Partial<FakeDevice['script']> } = {}) {
    if (init.bootstrapValid !== undefined) this.bootstrapValid = init.bootstrapValid;
    if (init.validation) this.validation = init.validation;
    Object.assign(this.script, init.script);
  }

  validate(): ValidationResult {
    this.calls.push('validate');
    return this.validation;
  }
  discardOperational(): void {
    this.calls.push('discardOperational');
  }
  hasValidBootstrap(): boolean {
    this.calls.push('hasValidBootstrap');
    return this.bootstrapValid;
  }
  private async play(op: keyof FakeDevice['script']): Promise<void> {
    this.calls.push(op);
    const step = this.script[op].shift() ?? 'ok';
    if (step !== 'ok') throw step;
    if (op === 'provision') this.bootstrapValid = true;
  }
  provision = () => this.play('provision');
  getCertificate = () => this.play('getCertificate');
  connect = () => this.play('connect');
  renew = () => this.play('renew');
}

export function validFor(notBefore: number, notAfter: number): ValidationResult {
  return {
    valid: true,
    facts: {
      serial: '0a',
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      subjectCommonName: 'RVS-TEST0001',
      issuerCommonName: 'Intermediate',
      deviceSan: 'urn:ecm-lab:device:RVS-TEST0001',
      extendedKeyUsages: ['clientAuth'],
      sha256Fingerprint: '00',
      chainLength: 2,
      crlsApplied: 0,
      crlsIgnored: 0,
    },
  };
}

export const invalid = (reason: 'expired' | 'revoked' | 'missing-files' = 'expired'): ValidationResult => ({ valid: false, reason, message: `${reason} for the test` });

/** A clock that only moves when the machine sleeps; sleep() records the requested delays. */
export function harness(overrides: Partial<PowerUpOptions> = {}) {
  let now = T0;
  const slept: number[] = [];
  const events: TransitionEvent[] = [];
  const options: PowerUpOptions = {
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0,
    now: () => new Date(now),
    onTransition: (e) => events.push(e),
    ...overrides,
  };
  return { options, slept, events };
}

export function assertWellFormed(outcome: PowerUpOutcome, events: TransitionEvent[]): void {
  assert.deepEqual(events, outcome.transitions, 'onTransition saw every transition');
  assert.equal(outcome.path[0], 'validating');
  assert.equal(outcome.path.at(-1), outcome.state);
  outcome.transitions.forEach((t, i) => {
    assert.equal(t.from, outcome.path[i]);
    assert.equal(t.to, outcome.path[i + 1]);
    assert.ok(POWER_UP_TRANSITIONS[t.from].includes(t.to), `${t.from} -> ${t.to} is a declared edge`);
    assert.ok(t.reason.length > 0);
  });
}

export const refused = () => new ProvisioningRefusedError(403, 'provisioning service is OFF');
export const bootstrapRefused = () => new CaRefusalError(401, 'x5c: certificate has expired');
