// Recipes of the gated ACME directory and the CA URL (X5C sign, renewal, read-only routes).
import { createHash } from 'node:crypto';
import { certificateDer } from '../../../x509/certificates.ts';
import { createKeyAndCsr } from '../../../x509/csr.ts';
import { signX5cToken } from '../../../simulators/client/x5c-sign.ts';
import { renewalToken } from '../renewal-token.ts';
import type { ReplaySession } from '../session.ts';
import { notReproducible, recipe, type Recipe } from './recipe.ts';

/** The gate's path for one ACME resource of the target's directory. */
const acmePath = (s: ReplaySession, resource: string) => new URL(s.target.acmeDirectory).pathname.replace(/directory$/, resource);

/** An X5C sign request for `identity`, asking for `san` in both the token and the CSR (step-ca requires them equal). */
async function signRequest(s: ReplaySession, credential: { privateKeyPem: string; certificateChainPem: string }, identity: string, san: string) {
  const { csrPem } = await createKeyAndCsr({ commonName: identity, uris: [san] }, 'ecdsa-p256');
  const ott = await signX5cToken({ provisioner: s.target.x5c.provisioner, audience: s.target.x5c.audience, bootstrap: credential, commonName: identity, sans: [san] });
  return { csr: csrPem, ott };
}

export const caApiRecipes: Recipe[] = [
  recipe('GET /acme/{provisioner}/directory 200', 'the directory from a white-listed address while ON', async (s) => {
    await s.turnOn();
    return s.send('https', 'GET', acmePath(s, 'directory'), { from: s.listedAddress() });
  }),
  recipe('GET /acme/{provisioner}/directory 400', 'the directory with a Host header naming another server', async (s) => {
    await s.turnOn();
    return s.send('https', 'GET', acmePath(s, 'directory'), { from: s.listedAddress(), headers: { host: 'ca.attacker.example' }, servername: 'localhost' });
  }),
  recipe('GET /acme/{provisioner}/directory 403', 'the directory while OFF; from an address not on the white list', async (s) => {
    await s.turnOff();
    const off = await s.send('https', 'GET', acmePath(s, 'directory'), { from: s.listedAddress() });
    await s.turnOn();
    return [off, await s.send('https', 'GET', acmePath(s, 'directory'), { from: s.unlistedAddress() })];
  }),
  notReproducible('GET /acme/{provisioner}/directory 502', 'ca-down'),
  recipe('HEAD /acme/{provisioner}/new-nonce 200', 'HEAD new-nonce from a white-listed address while ON', async (s) => {
    await s.turnOn();
    const answer = await s.send('https', 'HEAD', acmePath(s, 'new-nonce'), { from: s.listedAddress() });
    if (answer.status === 200 && !answer.res.headers['replay-nonce']) throw new Error('200 without a Replay-Nonce header');
    return answer;
  }),
  recipe('HEAD /acme/{provisioner}/new-nonce 403', 'HEAD new-nonce while OFF', async (s) => {
    await s.turnOff();
    return s.send('https', 'HEAD', acmePath(s, 'new-nonce'), { from: s.listedAddress() });
  }),

  recipe('POST /1.0/sign 201', 'an X5C token signed with a bootstrap credential, for the identity it enrolled', async (s) => {
    const credential = await s.bootstrapCredential(s.identity('x5c'));
    return s.send('https', 'POST', '/1.0/sign', { from: credential.address, json: await signRequest(s, credential, credential.identity, `urn:ecm-lab:device:${credential.identity}`) });
  }),
  recipe('POST /1.0/sign 400', 'no body', (s) => s.send('https', 'POST', '/1.0/sign')),
  recipe('POST /1.0/sign 401', 'a token that is no JWT', async (s) => {
    const { csrPem } = await createKeyAndCsr({ commonName: s.identity('bad-ott') }, 'ecdsa-p256');
    return s.send('https', 'POST', '/1.0/sign', { json: { csr: csrPem, ott: 'not-a-token' } });
  }),
  recipe('POST /1.0/sign 403', "a valid X5C token asking for another identity's URN (the x5c-identity webhook refuses bad-san)", async (s) => {
    const credential = await s.bootstrapCredential(s.identity('x5c-san'));
    return s.send('https', 'POST', '/1.0/sign', { from: credential.address, json: await signRequest(s, credential, credential.identity, `urn:ecm-lab:device:${s.identity('other')}`) });
  }),
  notReproducible('POST /1.0/sign 502', 'ca-down'),
  recipe('POST /1.0/renew 201', 'a renewal token signed with the operational key (step ca renew --mtls=false)', async (s) => {
    const { operational, address } = await s.operationalCertificate();
    const token = await renewalToken(operational, new URL(s.target.x5c.audience).origin);
    return s.send('https', 'POST', '/1.0/renew', { from: address, headers: { authorization: `Bearer ${token}` } });
  }),
  recipe('POST /1.0/renew 401', 'a renewal token that is no JWT', (s) => s.send('https', 'POST', '/1.0/renew', { headers: { authorization: 'Bearer not-a-token' } })),
  notReproducible('POST /1.0/renew 502', 'ca-down'),

  recipe('GET /provisioners 200', 'the provisioner list', (s) => s.send('https', 'GET', '/provisioners')),
  recipe('GET /roots.pem 200', 'the roots as PEM', (s) => s.send('https', 'GET', '/roots.pem')),
  recipe('GET /root/{sha} 200', "the root by its fingerprint", (s) => {
    const sha = createHash('sha256').update(certificateDer(s.target.rootPem)).digest('hex');
    return s.send('https', 'GET', `/root/${sha}`);
  }),
  recipe('GET /root/{sha} 404', 'a fingerprint of no root', (s) => s.send('https', 'GET', `/root/${'0'.repeat(64)}`)),
];
