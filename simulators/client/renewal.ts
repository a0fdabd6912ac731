// Renewal of an operational certificate over mutual TLS (step-ca POST /1.0/renew): the current
// certificate authenticates the request, and the new one keeps the same key.
import { performance } from 'node:perf_hooks';
import { request } from '../../net/https-client.ts';
import { chainFromSignResponse, stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { CaRefusalError } from './x5c-sign.ts';

export interface RenewalRequest {
  caUrl: string;
  trustedCaPem: string;
  current: { certificateChainPem: string; privateKeyPem: string };
  localAddress?: string;
  signal?: AbortSignal;
}

export async function renewOperationalCertificate(input: RenewalRequest): Promise<{ certificateChainPem: string; durationMs: number }> {
  const start = performance.now();
  const res = await request(`${input.caUrl}/1.0/renew`, {
    method: 'POST',
    ca: input.trustedCaPem,
    cert: input.current.certificateChainPem,
    key: input.current.privateKeyPem,
    localAddress: input.localAddress,
    signal: input.signal,
  });
  if (res.status !== 201 && res.status !== 200) throw new CaRefusalError(res.status, stepCaErrorDetail(res.text()));
  const certificateChainPem = chainFromSignResponse(res);
  return { certificateChainPem, durationMs: performance.now() - start };
}
