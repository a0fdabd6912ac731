// Seed 000's mixed fleet: which firmware provisions itself, which must authenticate with a
// certificate, and what the rest may do. Devices, the provisioning service and the managing
// application all apply these rules, so they live here rather than in any one of them.
//
// - From `selfProvisioningFrom` (2.1): the device runs the certificate workflow itself (ACME
//   bootstrap credential, X5C operational certificate, renewal).
// - From `certificateRequiredFrom` ("x", 2.0 by default) up to there: certificate
//   authentication is required, but the certificate is the service team's manual intervention
//   (issued through the admin API, installed into the device's store).
// - Below x (1.x): the legacy path. A certificate installed by the service team, or a legacy
//   credential: a password on the broker's legacy listener (server-authenticated TLS), limited to
//   the device's own topics under the legacy topic tree. Certificate authentication is not
//   required of these devices, and the application treats what they send as weaker evidence.

export class FirmwareVersionError extends Error {
  override name = 'FirmwareVersionError';
}

export interface FirmwarePolicy {
  /** First firmware that provisions itself (seed 000: Reveos 2.1). */
  selfProvisioningFrom: string;
  /** First firmware of which the installation requires certificate authentication (seed 000's "x"). */
  certificateRequiredFrom: string;
}

export const DEFAULT_FIRMWARE_POLICY: FirmwarePolicy = { selfProvisioningFrom: '2.1', certificateRequiredFrom: '2.0' };

export type CertificateTrack = 'self-provisioning' | 'manual-certificate' | 'legacy';

const VERSION = /^(\d+)\.(\d+)(?:\.\d+)?$/;

export function parseFirmwareVersion(version: string, what = 'firmware version'): [number, number] {
  const match = VERSION.exec(version.trim());
  if (!match) throw new FirmwareVersionError(`${what} "${version}" must look like N.N or N.N.N`);
  return [Number(match[1]), Number(match[2])];
}

/** Orders "major.minor" numerically ("2.10" after "2.9"); a patch level is ignored. */
export function compareFirmware(a: string, b: string): number {
  const [am, an] = parseFirmwareVersion(a);
  const [bm, bn] = parseFirmwareVersion(b);
  return am - bm || an - bn;
}

export function atLeast(firmwareVersion: string, minimumVersion: string): boolean {
  parseFirmwareVersion(minimumVersion, 'minimum firmware version');
  return compareFirmware(firmwareVersion, minimumVersion) >= 0;
}

/** A device that provisions itself always authenticates with its certificate: x cannot be above that. */
export function policyProblem(policy: FirmwarePolicy): string | undefined {
  if (compareFirmware(policy.certificateRequiredFrom, policy.selfProvisioningFrom) > 0) {
    return `certificateRequiredFirmware ${policy.certificateRequiredFrom} is above selfProvisioningFirmware ${policy.selfProvisioningFrom}: a device that provisions itself always authenticates with its certificate`;
  }
  return undefined;
}

export function certificateTrack(firmwareVersion: string, policy: FirmwarePolicy = DEFAULT_FIRMWARE_POLICY): CertificateTrack {
  if (atLeast(firmwareVersion, policy.selfProvisioningFrom)) return 'self-provisioning';
  if (atLeast(firmwareVersion, policy.certificateRequiredFrom)) return 'manual-certificate';
  return 'legacy';
}

/** Whether the installation requires certificate authentication of this firmware. */
export function certificateRequired(firmwareVersion: string, policy: FirmwarePolicy = DEFAULT_FIRMWARE_POLICY): boolean {
  return certificateTrack(firmwareVersion, policy) !== 'legacy';
}

/** Where devices on a legacy credential publish: apart from certificate identities, so the application can tell them apart. */
export function legacyTopicRoot(topicRoot: string): string {
  return `${topicRoot}-legacy`;
}
