// FR-PS-004's insecure channel: a bootstrap credential from the provisioning service's plain-HTTP
// endpoint instead of by ACME. Only a CSR travels (the key never leaves the client) and only a
// certificate chain comes back; the service serves a white-listed address while it is ON, and the
// credential names that address only.
import type { KeyAlgorithm } from '../../config/config.ts';
import { request } from '../../net/https-client.ts';
import { stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { ProvisioningRefusedError } from './acme-bootstrap.ts';
import type { StoredPair } from './certificate-store.ts';

export interface PlainHttpBootstrapRequest {
  /** The service's plain-HTTP listener. */
  insecureUrl: string;
  /** The client's own address, which the credential will name. */
  address: string;
  /** The identity the client claims (the CSR's CN), bound to the new credential. */
  commonName: string;
  keyAlgorithm: KeyAlgorithm;
}

export async function requestBootstrapOverPlainHttp(input: PlainHttpBootstrapRequest): Promise<StoredPair> {
  const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: input.commonName }, input.keyAlgorithm);
  const res = await request(`${input.insecureUrl}/api/v1/bootstrap`, { method: 'POST', headers: { 'content-type': 'application/pkcs10' }, body: csrPem, localAddress: input.address });
  if (res.status !== 200) throw new ProvisioningRefusedError(res.status, stepCaErrorDetail(res.text()));
  return { certificateChainPem: res.text(), privateKeyPem };
}
