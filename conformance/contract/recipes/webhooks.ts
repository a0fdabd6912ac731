// Recipes of the webhooks step-ca calls. Only step-ca can get past their guard (its own TLS
// client certificate), so only the refusal of another client is reproducible, and only when the
// target names the webhook listener.
import { notReproducible, recipe, type Recipe } from './recipe.ts';

const noHooks = { notRun: 'needs hooks-listener (the target names no webhook listener)' };
const certificateBody = { x509Certificate: { subject: { commonName: 'CT' }, sans: [] } };

export const webhookRecipes: Recipe[] = [
  notReproducible('POST /webhooks/acme-window 200', 'step-ca-identity'),
  notReproducible('POST /webhooks/acme-window 400', 'step-ca-identity'),
  recipe('POST /webhooks/acme-window 403', 'a bootstrap credential as the TLS client certificate', async (s) => {
    if (!s.target.hooksUrl) return noHooks;
    const c = await s.bootstrapCredential(s.identity('hook'));
    return s.send('hooks', 'POST', '/webhooks/acme-window', { from: c.address, json: certificateBody, cert: c.certificateChainPem, key: c.privateKeyPem });
  }),
  notReproducible('POST /webhooks/x5c-identity 200', 'step-ca-identity'),
  notReproducible('POST /webhooks/x5c-identity 400', 'step-ca-identity'),
  recipe('POST /webhooks/x5c-identity 403', 'an operational certificate as the TLS client certificate', async (s) => {
    if (!s.target.hooksUrl) return noHooks;
    const { operational, address } = await s.operationalCertificate();
    return s.send('hooks', 'POST', '/webhooks/x5c-identity', { from: address, json: certificateBody, cert: operational.certificateChainPem, key: operational.privateKeyPem });
  }),
];
