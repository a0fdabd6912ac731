// Shapes of step-ca's HTTP API answers shared by every client of it in the lab.
import https from 'node:https';
import { request, type HttpResponse } from './local/https-client.ts';
import { trustContext } from './tls-policy.ts';

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

const agents = new Map<string, https.Agent>();

/**
 * One keep-alive agent per step-ca (origin and trust anchor): a fresh TLS handshake for each
 * request to step-ca cost the provisioning service more CPU than everything else its ACME gate
 * does (measured with ecm-lab load).
 */
export function stepCaAgent(origin: string, rootPem: string): https.Agent {
  const key = `${origin}\n${rootPem}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, maxSockets: 32, secureContext: trustContext(rootPem), servername: 'localhost', minVersion: 'TLSv1.2' } as https.AgentOptions);
    agents.set(key, agent);
  }
  return agent;
}

/** step-ca's current CRL as PEM (public: no credentials needed). */
export async function fetchCrlPem(caUrl: string, rootPem: string, agent?: https.Agent): Promise<string> {
  const res = await request(`${caUrl}/1.0/crl?pem`, { ca: rootPem, agent });
  if (res.status !== 200) throw new Error(`step-ca CRL: HTTP ${res.status} ${stepCaErrorDetail(res.text())}`);
  return res.text();
}
