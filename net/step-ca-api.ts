// Shapes of step-ca's HTTP API answers shared by every client of it in the lab.
import https from 'node:https';
import { request, type HttpResponse } from './https-client.ts';
import { HttpStatusError } from './http-status-error.ts';
import { clientTlsOptions } from './tls-policy.ts';

/** The reason step-ca gives, from its JSON error body ({"message": ...}) or the raw text. */
export function stepCaErrorDetail(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}

/** The PEM chain, leaf first, of a /1.0/sign or /1.0/renew answer. */
export function chainFromSignResponse(res: HttpResponse): string {
  const signed = res.json<{ crt: string; ca: string; certChain?: string[] }>();
  return (signed.certChain ?? [signed.crt, signed.ca]).map((pem) => pem.trim()).join('\n') + '\n';
}

/**
 * A keep-alive agent for talking to step-ca: a fresh TLS handshake for each request cost the
 * provisioning service more CPU than everything else its ACME gate does (measured with ecm-lab
 * load). Each user holds its own: the gate forwards whatever clients send, and its connections
 * are not shared with the service's own requests.
 */
export function stepCaAgent(rootPem: string): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets: 32, ...clientTlsOptions({ ca: rootPem, servername: 'localhost' }) } as https.AgentOptions);
}

/** step-ca answered with an error status; `detail` is its reason. */
export class StepCaError extends HttpStatusError {
  override name = 'StepCaError';
  constructor(status: number, detail: string) {
    super(status, detail, `step-ca answered HTTP ${status}: ${detail}`);
  }
}

/** step-ca's current CRL as PEM (public: no credentials needed). */
export async function fetchCrlPem(caUrl: string, rootPem: string, agent?: https.Agent): Promise<string> {
  const res = await request(`${caUrl}/1.0/crl?pem`, { ca: rootPem, agent });
  if (res.status !== 200) throw new StepCaError(res.status, stepCaErrorDetail(res.text()));
  return res.text();
}
