// Scenario bootstrap-endpoint: the plain-HTTP bootstrap endpoint (FR-PS-004) under a white list.
// Each device claims its own identity in its CSR's CN (unique: an identity another device holds
// is refused) and posts it from its own white-listed loopback address; the credential that comes
// back names that address. The key stays in this process and is never written.
import type { KeyAlgorithm } from '../x509/keys.ts';
import { request } from '../net/https-client.ts';
import { parseCertificate, splitPemChain } from '../x509/certificates.ts';
import { createKeyAndCsr } from '../x509/csr.ts';
import { HttpStatusError } from '../net/http-status-error.ts';
import { AddressPlan, loopbackAddress } from '../simulators/client/addresses.ts';
import type { RequestScenario } from './request-run.ts';

/** The scenario's device addresses: a block of their own, so it can share a lab with a fleet. */
export const BOOTSTRAP_ENDPOINT_BLOCK = 1;

export class BootstrapEndpointRefusal extends HttpStatusError {
  override name = 'BootstrapEndpointRefusal';
  constructor(status: number, detail: string) {
    super(status, detail, `the bootstrap endpoint refused (HTTP ${status}): ${detail}`);
  }
}

function refusalDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string; message?: string; detail?: string };
    return [parsed.error, parsed.message ?? parsed.detail].filter(Boolean).join(': ') || body;
  } catch {
    return body;
  }
}

export function bootstrapEndpointScenario(options: { insecureUrl: string; keyAlgorithm: KeyAlgorithm; devices: number; autoOffSeconds: number; clientAddresses?: string }): RequestScenario<{ address: string; identity: string; csrPem: string }> {
  // `--client-addresses`: the devices take that block instead of the scenario's own loopback block.
  const plan = options.clientAddresses === undefined ? undefined : AddressPlan.fromCidr(options.clientAddresses);
  const addressOf = (i: number) => (plan ? plan.address(i) : loopbackAddress(i, BOOTSTRAP_ENDPOINT_BLOCK));
  return {
    phase: 'bootstrapEndpoint',
    identityOffset: 20_000_000,
    async open(admin, shared) {
      await admin.turnOn(shared ? options.autoOffSeconds : undefined);
      await admin.setWhitelist([plan ? plan.workerRange() : `${addressOf(0)}-${addressOf(options.devices - 1)}`]);
    },
    async prepare({ identity, globalIndex }) {
      const { csrPem } = await createKeyAndCsr({ commonName: identity.deviceId }, options.keyAlgorithm);
      return { address: addressOf(globalIndex), identity: identity.deviceId, csrPem };
    },
    async request({ address, identity, csrPem }) {
      const res = await request(`${options.insecureUrl}/api/v1/bootstrap`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body: csrPem, localAddress: address });
      if (res.status !== 200) throw new BootstrapEndpointRefusal(res.status, refusalDetail(res.text()));
      const leaf = splitPemChain(res.text())[0];
      if (!leaf) throw new Error(`the bootstrap endpoint answered 200 without a certificate for ${identity}`);
      const cert = parseCertificate(leaf);
      if (!cert.subject.includes(`CN=${identity}`) || !cert.subjectAltName?.includes(`IP Address:${address}`)) {
        throw new Error(`the bootstrap credential for ${identity} names ${cert.subject.replace(/\n/g, ', ')} / ${cert.subjectAltName}, not ${identity} at ${address}`);
      }
    },
  };
}
