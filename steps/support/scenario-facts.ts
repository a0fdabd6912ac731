// Facts a step records in the World for a later step, typed here so that the World and the
// helpers that make them import them from one place (the helpers import the World, not the other
// way round).
import type { LogMark } from '../../environments/log-watch.ts';

/** A renewal the device process died in: what the device held, what step-ca issued and logged. */
export interface InterruptedRenewal {
  /** The serial the device held before, and still holds after the restart. */
  heldSerial: string;
  /** The serial step-ca issued and logged, which the device never stored. */
  issuedSerial: string;
  /** step-ca's log line of that issuance. */
  stepCaLine: string;
}

/** A client's request that may be refused: when it began (the audit's clock) and how it ended. */
export interface AttemptedRequest {
  since: string;
  error: Error | undefined;
}

/** The application's damaged store before power-up: where the log stood, and the certificate it will refuse. */
export interface DamagedStore {
  mark: LogMark;
  certificatePem: string;
}
