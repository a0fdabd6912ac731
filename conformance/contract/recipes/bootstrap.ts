// Recipes of the bootstrap endpoint, server-side key generation, the trust anchor and the CRLs.
import { createKeyAndCsr } from '../../../x509/csr.ts';
import type { ReplaySession } from '../session.ts';
import { notReproducible, pkcs10, recipe, type Recipe } from './recipe.ts';

const csrFor = async (commonName: string) => (await createKeyAndCsr({ commonName }, 'ecdsa-p256')).csrPem;

/** Whether the target generates keys on the server: it says so before it looks at anything else. */
async function serverKeyGenOn(session: ReplaySession): Promise<boolean> {
  const probe = await session.send('https', 'POST', '/api/v1/bootstrap/serverkeygen', { json: {} });
  return !(probe.status === 403 && probe.body.toString('utf8').includes('serverkeygen-off'));
}

export const bootstrapRecipes: Recipe[] = [
  recipe('GET /health 200', 'GET over HTTPS', (s) => s.send('https', 'GET', '/health')),
  recipe('POST /api/v1/bootstrap 200', 'a CSR from a white-listed address while ON, over plain HTTP', async (s) => {
    await s.turnOn();
    const identity = s.identity('boot');
    s.createdEnrolment(identity);
    return s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress(), body: await csrFor(identity), headers: pkcs10 });
  }),
  recipe('POST /api/v1/bootstrap 400', 'text that is no CSR, and no body at all, from a white-listed address', async (s) => {
    await s.turnOn();
    return [
      await s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress(), body: 'not a csr at all', headers: pkcs10 }),
      await s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress() }),
    ];
  }),
  recipe('POST /api/v1/bootstrap 403', 'a CSR while OFF; a CSR from an address not on the white list; a CSR claiming a reserved identity', async (s) => {
    await s.turnOff();
    const off = await s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress(), body: await csrFor(s.identity('off')), headers: pkcs10 });
    await s.turnOn();
    const unlisted = await s.send('http', 'POST', '/api/v1/bootstrap', { from: s.unlistedAddress(), body: await csrFor(s.identity('unlisted')), headers: pkcs10 });
    const reserved = await s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress(), body: await csrFor('localhost'), headers: pkcs10 });
    return [off, unlisted, reserved];
  }),
  notReproducible('POST /api/v1/bootstrap 409', 'race'),
  recipe('POST /api/v1/bootstrap 413', 'a 70 KiB body', async (s) => {
    await s.turnOn();
    return s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress(), body: Buffer.alloc(70 * 1024, 0x41), headers: pkcs10 });
  }),
  recipe('POST /api/v1/bootstrap 415', 'a CSR sent as application/xml', async (s) => {
    await s.turnOn();
    return s.send('http', 'POST', '/api/v1/bootstrap', { from: s.listedAddress(), body: await csrFor(s.identity('text')), headers: { 'content-type': 'application/xml' } });
  }),

  recipe('POST /api/v1/bootstrap/serverkeygen 200', 'a name from a white-listed address while ON', async (s) => {
    if (!(await serverKeyGenOn(s))) return { notRun: 'needs serverkeygen-on (the target answers serverkeygen-off)' };
    await s.turnOn();
    const identity = s.identity('skg');
    s.createdEnrolment(identity);
    return s.send('https', 'POST', '/api/v1/bootstrap/serverkeygen', { from: s.listedAddress(), json: { commonName: identity } });
  }),
  recipe('POST /api/v1/bootstrap/serverkeygen 400', 'a name with spaces', async (s) => {
    if (!(await serverKeyGenOn(s))) return { notRun: 'needs serverkeygen-on (the target answers serverkeygen-off)' };
    await s.turnOn();
    return s.send('https', 'POST', '/api/v1/bootstrap/serverkeygen', { from: s.listedAddress(), json: { commonName: 'not a name' } });
  }),
  recipe('POST /api/v1/bootstrap/serverkeygen 403', 'a name while OFF (or to a target that generates no keys)', async (s) => {
    await s.turnOff();
    return s.send('https', 'POST', '/api/v1/bootstrap/serverkeygen', { from: s.listedAddress(), json: { commonName: s.identity('skg') } });
  }),
  notReproducible('POST /api/v1/bootstrap/serverkeygen 409', 'race'),

  recipe('GET /api/v1/ca 200', 'from a white-listed address while ON, over plain HTTP', async (s) => {
    await s.turnOn();
    return s.send('http', 'GET', '/api/v1/ca', { from: s.listedAddress() });
  }),
  recipe('GET /api/v1/ca 403', 'while OFF; from an address not on the white list', async (s) => {
    await s.turnOff();
    const off = await s.send('http', 'GET', '/api/v1/ca', { from: s.listedAddress() });
    await s.turnOn();
    return [off, await s.send('http', 'GET', '/api/v1/ca', { from: s.unlistedAddress() })];
  }),
  recipe('GET /api/v1/crl 200', 'from any address, over plain HTTP', (s) => s.send('http', 'GET', '/api/v1/crl')),
  notReproducible('GET /api/v1/crl 502', 'ca-down'),
];
