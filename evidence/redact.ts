// Evidence pages quote failing steps' messages; a message may carry what a step was handling.
// Whatever looks like key material or a credential is cut out before it reaches a page: PEM
// blocks (keys, and certificates too: a page is no place for either), JWTs (X5C and ACME tokens)
// and any secret the caller knows by value (the admin token).
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(PEM, '[PEM block removed]').replace(JWT, '[token removed]');
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[secret removed]');
  return out;
}
