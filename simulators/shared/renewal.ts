// Renewal of an operational certificate over mutual TLS (step-ca POST /1.0/renew): the current
// certificate authenticates the request, and the new one keeps the same key.
import { performance } from 'node:perf_hooks';
import { request } from '../../environments/local/https-client.ts';
import { CaRefusalError } from './x5c-sign.ts';

export interface RenewalRequest {
  caUrl: string;
  trustedCaPem: string;
  current: { certificateChainPem: string; privateKeyPem: string };
  localAddress?: string;
}

export async function renewOperationalCertificate(input: RenewalRequest): Promise<{ certificateChainPem: string; durationMs: number }> {
  const start = performance.now();
  const res = await request(`${input.caUrl}/1.0/renew`, {
    method: 'POST',
    ca: input.trustedCaPem,
    cert: input.current.certificateChainPem,
    key: input.current.privateKeyPem,
    localAddress: input.localAddress,
  });
  if (res.status !== 201 && res.status !== 200) {
    let detail = res.text();
    try {
      detail = res.json<{ message?: string }>().message ?? detail;
    } catch {
      // not JSON: keep the raw text
    }
    throw new CaRefusalError(res.status, detail);
  }
  const renewed = res.json<{ crt: string; ca: string; certChain?: string[] }>();
  const certificateChainPem = (renewed.certChain ?? [renewed.crt, renewed.ca]).map((pem) => pem.trim()).join('\n') + '\n';
  return { certificateChainPem, durationMs: performance.now() - start };
}
