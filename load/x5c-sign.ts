// Scenario x5c-sign: X5C signing, one bootstrap credential per identity. The X5C provisioner
// accepts only credentials under the bootstrap root, and the service's webhook binds one
// identity to each credential, so every device gets a credential of its own, signed by the
// lab from the bootstrap intermediate before its request (as the X5C baseline does). The request
// goes to the service's CA URL (what devices and the step CLI use) or to step-ca itself.
import { issueLeaf, type Issuer } from '../x509/certificate-authority.ts';
import { createKeyAndCsr } from '../x509/csr.ts';
import { request } from '../net/https-client.ts';
import { stepCaErrorDetail } from '../net/step-ca-api.ts';
import type { KeyAlgorithm } from '../x509/keys.ts';
import { AddressPlan, loopbackAddress } from '../simulators/client/addresses.ts';
import { CaRefusalError, signX5cToken } from '../simulators/client/x5c-sign.ts';
import { deviceSan } from '../simulators/device/device-identity.ts';
import type { RequestScenario } from './request-run.ts';

/** Addresses the credentials name, apart from the fleet's and the X5C baseline's. */
export const X5C_SIGN_BLOCK = 118;

export function x5cSignScenario(options: {
  caUrl: string;
  trustedRootPem: string;
  bootstrapIssuer: Issuer;
  x5c: { provisioner: string; audience: string };
  keyAlgorithm: KeyAlgorithm;
  clientAddresses?: string;
}): RequestScenario<{ address: string; body: string }> {
  // `--client-addresses`: the credentials name (and the requests come from) that block instead.
  const plan = options.clientAddresses === undefined ? undefined : AddressPlan.fromCidr(options.clientAddresses);
  return {
    phase: 'x5cSign',
    identityOffset: 30_000_000,
    async prepare({ identity, globalIndex }) {
      const address = plan ? plan.address(globalIndex) : loopbackAddress(globalIndex, X5C_SIGN_BLOCK);
      const credential = await issueLeaf(options.bootstrapIssuer, { commonName: address, ipAddresses: [address], extendedKeyUsages: ['clientAuth'] });
      const bootstrap = { privateKeyPem: credential.privateKeyPem, certificateChainPem: `${credential.certificatePem}\n${options.bootstrapIssuer.certificate.toString('pem')}\n` };
      const cn = identity.deviceId;
      const sans = [deviceSan(cn)];
      const { csrPem } = await createKeyAndCsr({ commonName: cn, uris: sans }, options.keyAlgorithm);
      const ott = await signX5cToken({ provisioner: options.x5c.provisioner, audience: options.x5c.audience, bootstrap, commonName: cn, sans, ttlSeconds: 3600 }); // made before the run, which may last an hour
      return { address, body: JSON.stringify({ csr: csrPem, ott }) };
    },
    async request({ address, body }) {
      const res = await request(`${options.caUrl}/1.0/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ca: options.trustedRootPem, localAddress: address });
      if (res.status !== 201 && res.status !== 200) throw new CaRefusalError(res.status, stepCaErrorDetail(res.text()));
    },
  };
}
