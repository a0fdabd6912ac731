// Shapes of step-ca's HTTP API answers shared by every client of it in the lab.
import { request, type HttpResponse } from './local/https-client.ts';

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

/** step-ca's current CRL as PEM (public: no credentials needed). */
export async function fetchCrlPem(caUrl: string, rootPem: string): Promise<string> {
  const res = await request(`${caUrl}/1.0/crl?pem`, { ca: rootPem });
  if (res.status !== 200) throw new Error(`step-ca CRL: HTTP ${res.status} ${stepCaErrorDetail(res.text())}`);
  return res.text();
}
