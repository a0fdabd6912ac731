// What the device-id steps do and check (seed 003: the device id in an otherName SAN): read it from
// the certificates step-ca issued, hand the service's webhook what a misconfigured step-ca would
// ask it to authorize, and make certificates of the real issuing CA that disagree on purpose.
import assert from 'node:assert/strict';
import { issueLeaf } from '../../x509/certificate-authority.ts';
import { crlUrl } from '../../environments/pki/ca-json.ts';
import { request } from '../../net/https-client.ts';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import { certificateDer, inspectCertificate, splitPemChain } from '../../x509/certificates.ts';
import { otherNames } from '../../x509/device-id.ts';
import { waitForConnectionLine } from './logs.ts';
import type { LabWorld } from './world.ts';

/** The client's operational certificate carries exactly one otherName under the lab's device-id OID, and it is its CN. */
export function assertCarriesDeviceId(world: LabWorld, client: CertificateClient): void {
  const { certificateChainPem } = client.store.loadOperational()!;
  const oid = world.session.config.trust.deviceIdOid;
  const names = otherNames(certificateChainPem);
  const facts = inspectCertificate(certificateChainPem);
  assert.deepEqual(names.filter((n) => n.oid === oid).map((n) => n.value), [facts.subjectCommonName], `otherName SANs: ${JSON.stringify(names)}`);
  world.attach(JSON.stringify({ serial: facts.serialNumber, subjectCommonName: facts.subjectCommonName, sans: facts.sans, otherNames: names }, null, 1), { mediaType: 'application/json', fileName: `device-id-${facts.serialNumber}.json` });
}

/**
 * Calls the service's x5c-identity webhook as step-ca does (its TLS client certificate, CN "Step
 * Online CA" under the issuing intermediate: needs the CA keys) for a certificate whose otherName
 * names `deviceId` while its CN and URI SAN are the device's; returns the webhook's answer.
 */
export async function askWebhookForDisagreeingDeviceId(world: LabWorld, device: CertificateClient, deviceId: string): Promise<{ allow: boolean; error?: { code: string; message: string } }> {
  const lab = world.owned('ca-keys');
  const stepCa = await issueLeaf(lab.pki.intermediate, { commonName: 'Step Online CA', dnsNames: ['localhost'], extendedKeyUsages: ['serverAuth', 'clientAuth'] });
  const bootstrap = device.store.loadBootstrap()!;
  const x5c = certificateDer(splitPemChain(bootstrap.certificateChainPem)[0]!).toString('base64');
  const body = {
    x509Certificate: {
      subject: { commonName: device.commonName },
      sans: [...inspectCertificate(device.store.loadOperational()!.certificateChainPem).sans.uri.map((value) => ({ type: 'uri', value })), { type: world.session.config.trust.deviceIdOid, value: `utf8:${deviceId}` }],
    },
    x5cCertificate: { raw: x5c },
    authorizationPrincipal: inspectCertificate(bootstrap.certificateChainPem).subjectCommonName,
  };
  await world.attack.begin();
  const res = await request(`${lab.provisioningService.hooksUrl}/webhooks/x5c-identity`, {
    method: 'POST',
    body: JSON.stringify(body),
    ca: lab.pki.root.certificatePem,
    cert: `${stepCa.certificatePem}\n${lab.pki.intermediate.certificatePem}\n`,
    key: stepCa.privateKeyPem,
  });
  assert.equal(res.status, 200, `the webhook answered HTTP ${res.status}: ${res.text()}`);
  return JSON.parse(res.text()) as { allow: boolean; error?: { code: string; message: string } };
}

/** A certificate of the installation's issuing CA for `identity` (with its URI SANs) whose device-id otherName names `deviceId`. */
export async function certificateNamingAnotherDevice(world: LabWorld, holder: { identity: string; uris: string[] }, deviceId: string): Promise<{ certificateChainPem: string; privateKeyPem: string }> {
  const lab = world.owned('ca-keys');
  const leaf = await issueLeaf(lab.pki.intermediate, {
    commonName: holder.identity,
    uris: holder.uris,
    otherNames: [{ oid: world.session.config.trust.deviceIdOid, utf8: deviceId }],
    extendedKeyUsages: ['clientAuth'],
    // The broker applies the issuing CA's CRL only to leaves naming it: without it the refusal would have another cause.
    crlDistributionPoints: [crlUrl(lab.config.ca, lab.stepCa.port)],
  });
  return { certificateChainPem: `${leaf.certificatePem}\n${lab.pki.intermediate.certificatePem}\n`, privateKeyPem: leaf.privateKeyPem };
}

/** The broker's session for a certificate from an address of its own: whether it let it in, and under which username its log names it. */
export async function brokerSessionWith(world: LabWorld, pair: { certificateChainPem: string; privateKeyPem: string }): Promise<{ connected: boolean; logLine?: string }> {
  const probe = await world.brokerProbe.connect({ credential: pair, clientId: 'device-id-probe', watchLog: true });
  if (!probe.outcome.connected) return { connected: false };
  return { connected: true, logLine: await waitForConnectionLine(probe.mark!, probe.address, /New client connected from .* as \S+/) };
}
