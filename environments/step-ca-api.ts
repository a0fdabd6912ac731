// Shapes of step-ca's HTTP API answers shared by every client of it in the lab.
import type { HttpResponse } from './local/https-client.ts';

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
