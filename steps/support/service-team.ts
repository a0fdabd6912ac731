// The service team's manual intervention (seed 000) as scenarios perform it: certify a device
// that does not provision itself and install the certificate in its store, or give firmware below
// "x" a legacy credential. The engineer works through the admin API only.
import type { IssuedByServiceTeam } from '../../simulators/client/admin-client.ts';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import type { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import type { LabWorld } from './world.ts';

export const CERTIFICATION_METHODS = ["from the client's own CSR", 'with a key the service generates'] as const;
export type CertificationMethod = (typeof CERTIFICATION_METHODS)[number];

/** Issues a certificate for the client's identity and installs it; the CSR's key never left the client. */
export async function certifyByServiceTeam(world: LabWorld, client: CertificateClient, how: CertificationMethod, lifetimeSeconds?: number): Promise<IssuedByServiceTeam> {
  if (!CERTIFICATION_METHODS.includes(how)) throw new Error(`unknown certification method "${how}"; known: ${CERTIFICATION_METHODS.join(', ')}`);
  const identity = client.commonName;
  world.lifetime(lifetimeSeconds);
  const issued =
    how === "from the client's own CSR"
      ? await world.admin.issueCertificate({ identity, csr: await client.createCertificateRequest(), lifetimeSeconds })
      : await world.admin.issueCertificate({ identity, keyGeneration: 'server', lifetimeSeconds });
  await client.installCertificate({ certificateChainPem: issued.certificateChainPem, privateKeyPem: issued.privateKeyPem });
  return issued;
}

/** A legacy credential from the engineer, kept in the device's store (0600). */
export async function giveLegacyCredential(world: LabWorld, device: ReveosDevice): Promise<void> {
  const credential = await world.admin.createLegacyCredential(device.identity.deviceId, device.identity.firmwareVersion);
  // Refused above for firmware from "x" on; given, it is for the password listener.
  world.legacyBroker();
  device.installLegacyCredential({ username: credential.username, password: credential.password });
}
