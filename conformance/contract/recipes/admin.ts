// Recipes of the admin API and page: every admin operation refuses a missing or wrong token,
// and answers what the document says with the right one.
import { randomBytes } from 'node:crypto';
import type { ContractDocument } from '../document.ts';
import { notReproducible, recipe, type Recipe } from './recipe.ts';

/** 401 for every admin operation the document lists: no token, then a wrong one. */
export function unauthorizedRecipes(document: ContractDocument): Recipe[] {
  return document.responses
    .filter((r) => r.status === 401 && r.path.startsWith('/api/v1/admin/'))
    .map((r) =>
      recipe(r.key, 'no token, then a wrong token', async (s) => {
        const path = r.path.replace(/\{[^}]+\}/g, () => s.identity('x'));
        const json = r.method === 'put' || r.method === 'post' ? {} : undefined;
        return [await s.send('https', r.method.toUpperCase(), path, { json }), await s.send('https', r.method.toUpperCase(), path, { json, admin: randomBytes(24).toString('base64url') })];
      }),
    );
}

export const adminRecipes: Recipe[] = [
  recipe('GET /admin 200', 'the page', (s) => s.send('https', 'GET', '/admin')),
  recipe('GET /api/v1/admin/state 200', 'the state', (s) => s.send('https', 'GET', '/api/v1/admin/state', { admin: true })),
  recipe('PUT /api/v1/admin/state 200', 'turn ON, then OFF', async (s) => [
    await s.send('https', 'PUT', '/api/v1/admin/state', { admin: true, json: { enabled: true } }),
    await s.send('https', 'PUT', '/api/v1/admin/state', { admin: true, json: { enabled: false } }),
  ]),
  recipe('PUT /api/v1/admin/state 400', '"enabled": "yes"; a negative auto-off', async (s) => [
    await s.send('https', 'PUT', '/api/v1/admin/state', { admin: true, json: { enabled: 'yes' } }),
    await s.send('https', 'PUT', '/api/v1/admin/state', { admin: true, json: { enabled: true, autoOffSeconds: -1 } }),
  ]),
  recipe('GET /api/v1/admin/whitelist 200', 'the white list', (s) => s.send('https', 'GET', '/api/v1/admin/whitelist', { admin: true })),
  recipe('PUT /api/v1/admin/whitelist 200', 'a range and an address naming its identity, while ON', async (s) => {
    await s.turnOn();
    return s.send('https', 'PUT', '/api/v1/admin/whitelist', { admin: true, json: { entries: [s.listedRange, `${s.listedAddress()}=${s.identity('named')}`] } });
  }),
  recipe('PUT /api/v1/admin/whitelist 400', 'an entry that is no address; entries that are not a list', async (s) => {
    await s.turnOn();
    return [
      await s.send('https', 'PUT', '/api/v1/admin/whitelist', { admin: true, json: { entries: ['not-an-address', '10.0.0.300'] } }),
      await s.send('https', 'PUT', '/api/v1/admin/whitelist', { admin: true, json: { entries: '127.0.0.1' } }),
    ];
  }),
  recipe('PUT /api/v1/admin/whitelist 409', 'a white list while OFF', async (s) => {
    await s.turnOff();
    return s.send('https', 'PUT', '/api/v1/admin/whitelist', { admin: true, json: { entries: [s.listedRange] } });
  }),
  recipe('GET /api/v1/admin/inventory 200', 'the inventory, then one device', async (s) => [
    await s.send('https', 'GET', '/api/v1/admin/inventory', { admin: true }),
    await s.send('https', 'GET', `/api/v1/admin/inventory?deviceId=${s.identity('none')}`, { admin: true }),
  ]),
  recipe('GET /api/v1/admin/enrolments 200', 'the enrolments', (s) => s.send('https', 'GET', '/api/v1/admin/enrolments', { admin: true })),
  recipe('DELETE /api/v1/admin/enrolments/{identity} 204', 'release an identity the replay enrolled', async (s) => {
    const { identity } = await s.bootstrapCredential(s.identity('release'));
    return s.send('https', 'DELETE', `/api/v1/admin/enrolments/${identity}`, { admin: true });
  }),
  recipe('DELETE /api/v1/admin/enrolments/{identity} 404', 'release an identity nobody enrolled', (s) => s.send('https', 'DELETE', `/api/v1/admin/enrolments/${s.identity('never')}`, { admin: true })),
  recipe('POST /api/v1/admin/revocations 200', "revoke the replay's own bootstrap credential", async (s) => {
    const { serial } = await s.bootstrapCredential(s.identity('revoke'));
    return s.send('https', 'POST', '/api/v1/admin/revocations', { admin: true, json: { serial, reason: 'cessationOfOperation' } });
  }),
  recipe('POST /api/v1/admin/revocations 400', 'a serial that is not hexadecimal', (s) => s.send('https', 'POST', '/api/v1/admin/revocations', { admin: true, json: { serial: 'not-hex' } })),
  recipe('POST /api/v1/admin/revocations 404', 'a serial of no certificate', (s) => s.send('https', 'POST', '/api/v1/admin/revocations', { admin: true, json: { serial: `7${randomBytes(16).toString('hex')}` } })),
  recipe('POST /api/v1/admin/revocations 409', 'revoke the same credential twice', async (s) => {
    const { serial } = await s.bootstrapCredential(s.identity('revoke2'));
    const first = await s.send('https', 'POST', '/api/v1/admin/revocations', { admin: true, json: { serial } });
    if (first.status !== 200) throw new Error(`the first revocation answered ${first.status}`);
    return s.send('https', 'POST', '/api/v1/admin/revocations', { admin: true, json: { serial } });
  }),
  notReproducible('POST /api/v1/admin/revocations 502', 'ca-down'),
  recipe('GET /api/v1/admin/audit 200', 'the last 10 records', (s) => s.send('https', 'GET', '/api/v1/admin/audit?limit=10', { admin: true })),
];
