// What a scenario may need of the installation beyond its endpoints, as tags (@needs:<name>). A
// target grants some; the lab the suite starts itself grants all. A scenario whose needs are not
// granted does not run, and the conformance report lists it as "not run: needs <name>".
export const CAPABILITY_DESCRIPTIONS = {
  'broker-log': "read the broker's log (cause assertions on refusals)",
  'ca-log': "read both step-ca authorities' logs (cause assertions on refused issuance)",
  'ca-keys': "issue certificates with the installation's own CA keys (forged and defective certificates under the real issuing CA)",
  'restart-ca': 'restart step-ca (fault scenarios)',
  'restart-service': 'stop and restart the provisioning service (fail-closed scenarios)',
  'broker-control': "reconfigure the broker and its CRL publication (debug logging, a paused CRL), and time its disconnects",
  'rotate-intermediate': 'replace the issuing intermediate (UC-04)',
  'rotate-root': 'replace the root (UC-05)',
  clock: 'certificates that live seconds (expiry and renewal on a short clock)',
  'own-lab': 'start a lab of its own with other settings beside the target',
  'legacy-listener': 'a broker listener for legacy credentials (firmware below "x")',
} as const;

export type Capability = keyof typeof CAPABILITY_DESCRIPTIONS;

export const CAPABILITIES = Object.keys(CAPABILITY_DESCRIPTIONS) as [Capability, ...Capability[]];

/** The names of a list (e.g. --withhold) that are no capability. */
export function unknownCapabilities(names: readonly string[]): string[] {
  return names.filter((n) => !(n in CAPABILITY_DESCRIPTIONS));
}

/** A cucumber tag expression that leaves out every scenario needing something not granted. */
export function grantedTagExpression(granted: ReadonlySet<Capability>): string | undefined {
  const withheld = CAPABILITIES.filter((c) => !granted.has(c));
  return withheld.length === 0 ? undefined : withheld.map((c) => `not @needs:${c}`).join(' and ');
}

/** Thrown when a step reaches for something its scenario did not declare: the tag is missing, or the target withholds it. */
export class CapabilityError extends Error {
  override name = 'CapabilityError';
  constructor(readonly capability: Capability) {
    super(`this step needs "${capability}" (${CAPABILITY_DESCRIPTIONS[capability]}), which the target does not grant; tag the scenario @needs:${capability}`);
  }
}
