// Recipes of the service team's manual intervention: certificates and legacy credentials.
import { createKeyAndCsr } from '../../../x509/csr.ts';
import type { ReplaySession } from '../session.ts';
import { recipe, type Recipe } from './recipe.ts';

const CERTIFICATES = '/api/v1/admin/certificates';
const LEGACY = '/api/v1/admin/legacy-credentials';

/** The first firmware version that must use a certificate, as the target says it. */
async function certificateRequiredFirmware(s: ReplaySession): Promise<string> {
  return (await s.admin<{ certificateRequiredFirmware: string }>('GET', LEGACY)).certificateRequiredFirmware;
}

async function createLegacy(s: ReplaySession, identity: string) {
  const answer = await s.send('https', 'POST', LEGACY, { admin: true, json: { identity, firmwareVersion: '0.1' } });
  if (answer.status === 201) s.createdLegacyCredential(identity);
  return answer;
}

export const serviceTeamRecipes: Recipe[] = [
  recipe('POST /api/v1/admin/certificates 201', 'a certificate from a CSR; one with a key the service makes', async (s) => {
    const identity = s.identity('st');
    s.createdEnrolment(identity);
    const { csrPem } = await createKeyAndCsr({ commonName: identity, uris: [`urn:ecm-lab:device:${identity}`] }, 'ecdsa-p256');
    const withCsr = await s.send('https', 'POST', CERTIFICATES, { admin: true, json: { identity, csr: csrPem } });
    const generated = s.identity('st');
    s.createdEnrolment(generated);
    return [withCsr, await s.send('https', 'POST', CERTIFICATES, { admin: true, json: { identity: generated, keyGeneration: 'server' } })];
  }),
  recipe('POST /api/v1/admin/certificates 400', 'neither csr nor keyGeneration; a CSR naming another identity', async (s) => {
    const identity = s.identity('st');
    const { csrPem } = await createKeyAndCsr({ commonName: s.identity('other') }, 'ecdsa-p256');
    return [await s.send('https', 'POST', CERTIFICATES, { admin: true, json: { identity } }), await s.send('https', 'POST', CERTIFICATES, { admin: true, json: { identity, csr: csrPem } })];
  }),
  recipe('POST /api/v1/admin/certificates 403', 'a certificate for "localhost"', (s) => s.send('https', 'POST', CERTIFICATES, { admin: true, json: { identity: 'localhost', keyGeneration: 'server' } })),
  recipe('POST /api/v1/admin/certificates 409', 'a certificate for an identity a device enrolled', async (s) => {
    const { identity } = await s.bootstrapCredential(s.identity('held'));
    return s.send('https', 'POST', CERTIFICATES, { admin: true, json: { identity, keyGeneration: 'server' } });
  }),

  recipe('GET /api/v1/admin/legacy-credentials 200', 'the legacy credentials', (s) => s.send('https', 'GET', LEGACY, { admin: true })),
  recipe('POST /api/v1/admin/legacy-credentials 201', 'a password for firmware 0.1', (s) => createLegacy(s, s.identity('leg'))),
  recipe('POST /api/v1/admin/legacy-credentials 400', 'no firmware version; a version that is not one', async (s) => [
    await s.send('https', 'POST', LEGACY, { admin: true, json: { identity: s.identity('leg') } }),
    await s.send('https', 'POST', LEGACY, { admin: true, json: { identity: s.identity('leg'), firmwareVersion: 'latest' } }),
  ]),
  recipe('POST /api/v1/admin/legacy-credentials 403', "a password for the application's identity", (s) =>
    s.send('https', 'POST', LEGACY, { admin: true, json: { identity: s.target.applicationIdentity, firmwareVersion: '0.1' } }),
  ),
  recipe('POST /api/v1/admin/legacy-credentials 409', 'firmware that must use a certificate; a second password for one identity; an identity a device enrolled', async (s) => {
    const required = await s.send('https', 'POST', LEGACY, { admin: true, json: { identity: s.identity('leg'), firmwareVersion: await certificateRequiredFirmware(s) } });
    const identity = s.identity('leg');
    const first = await createLegacy(s, identity);
    if (first.status !== 201) throw new Error(`the first legacy credential answered ${first.status}`);
    const twice = await s.send('https', 'POST', LEGACY, { admin: true, json: { identity, firmwareVersion: '0.1' } });
    const enrolled = await s.bootstrapCredential(s.identity('leg'));
    return [required, twice, await s.send('https', 'POST', LEGACY, { admin: true, json: { identity: enrolled.identity, firmwareVersion: '0.1' } })];
  }),
  recipe('DELETE /api/v1/admin/legacy-credentials/{identity} 204', 'delete a legacy credential the replay made', async (s) => {
    const identity = s.identity('leg');
    const created = await createLegacy(s, identity);
    if (created.status !== 201) throw new Error(`creating the legacy credential answered ${created.status}`);
    const answer = await s.send('https', 'DELETE', `${LEGACY}/${identity}`, { admin: true });
    if (answer.status === 204) s.forgetLegacyCredential(identity);
    return answer;
  }),
  recipe('DELETE /api/v1/admin/legacy-credentials/{identity} 404', 'delete a legacy credential nobody has', (s) => s.send('https', 'DELETE', `${LEGACY}/${s.identity('none')}`, { admin: true })),
];
