// The contract's pure parts: the document loads and compiles, every documented status has exactly
// one recipe (and no recipe stands for an undocumented one), and the validator names what is wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadContract, parseContract } from '../../../conformance/contract/document.ts';
import { allRecipes } from '../../../conformance/contract/recipes/index.ts';
import { recipe } from '../../../conformance/contract/recipes/recipe.ts';
import { coverageProblems } from '../../../conformance/contract/replay.ts';
import { scrub } from '../../../conformance/contract/report.ts';
import { ReplayAddresses } from '../../../conformance/contract/session.ts';
import { ContractValidator } from '../../../conformance/contract/validate.ts';

const document = loadContract();
const find = (key: string) => {
  const r = document.responses.find((x) => x.key === key);
  assert.ok(r, `the document lists ${key}`);
  return r;
};
const problem = (body: unknown, contentType = 'application/problem+json') => ({ status: 403, contentType, body: Buffer.from(JSON.stringify(body)) });

test('the document loads, names its listeners, and every schema it points at compiles', () => {
  assert.ok(document.responses.length > 60, `${document.responses.length} documented responses`);
  for (const r of document.responses) assert.ok(r.listeners.length > 0, `${r.key} has listeners`);
  new ContractValidator(document).compileAll(document.responses);
  // Every route the reference service registers is in the document (routes/*.ts).
  const paths = new Set(document.responses.map((r) => r.path));
  for (const p of ['/health', '/api/v1/bootstrap', '/api/v1/bootstrap/serverkeygen', '/api/v1/ca', '/api/v1/crl', '/1.0/sign', '/1.0/renew', '/webhooks/acme-window', '/webhooks/x5c-identity', '/api/v1/admin/certificates', '/api/v1/admin/legacy-credentials/{identity}', '/api/v1/admin/audit']) {
    assert.ok(paths.has(p), `${p} is documented`);
  }
});

test('every error response names its codes, and every admin operation documents its 401', () => {
  for (const r of document.responses.filter((x) => x.status >= 400 && x.mediaTypes.includes('application/problem+json'))) {
    assert.ok(r.codes && r.codes.length > 0, `${r.key} lists x-codes`);
  }
  const adminOperations = new Set(document.responses.filter((r) => r.path.startsWith('/api/v1/admin/')).map((r) => `${r.method} ${r.path}`));
  for (const op of adminOperations) assert.ok(document.responses.some((r) => `${r.method} ${r.path}` === op && r.status === 401), `${op} documents 401`);
});

test('every documented status has exactly one recipe, and every x-needs is known', () => {
  assert.deepEqual(coverageProblems(document, allRecipes(document)), []);
});

test('a documented status without a recipe, or a recipe for an undocumented one, fails the replay', () => {
  const recipes = allRecipes(document).filter((r) => r.key !== 'POST /api/v1/bootstrap 403');
  recipes.push(recipe('POST /api/v1/bootstrap 418', 'a teapot', async () => ({ notRun: 'never' })));
  const problems = coverageProblems(document, recipes);
  assert.deepEqual(problems.map((p) => [p.key, p.outcome, p.reason]).sort(), [
    ['POST /api/v1/bootstrap 403', 'failed', 'no recipe for POST /api/v1/bootstrap 403'],
    ['POST /api/v1/bootstrap 418', 'failed', 'a recipe for POST /api/v1/bootstrap 418, which the document does not list'],
  ]);
});

test('an x-needs outside the catalogue is a problem of the document', () => {
  const text = `openapi: 3.1.0
info: { title: t, version: '1', x-needs-catalogue: { service-on: on } }
paths:
  /x:
    x-listeners: [https]
    get: { responses: { '200': { description: ok, x-needs: [service-on, moon-phase] } } }
`;
  const small = parseContract(text, 'small.yaml');
  const problems = coverageProblems(small, [recipe('GET /x 200', 'get', async () => ({ notRun: 'no' }))]);
  assert.deepEqual(problems.map((p) => p.reason), ['x-needs "moon-phase" is not in the document\'s x-needs-catalogue']);
});

test('the validator accepts a conforming refusal and names every way a wrong one departs', () => {
  const validator = new ContractValidator(document);
  const refusal = find('POST /api/v1/bootstrap 403');
  assert.deepEqual(validator.check(refusal, problem({ error: 'service-off', message: 'the provisioning service is OFF' }, 'application/problem+json; charset=utf-8')), []);
  assert.deepEqual(validator.check(refusal, problem({ error: 'service-off' })), ["(body) must have required property 'message'"]);
  assert.deepEqual(validator.check(refusal, problem({ error: 'nope', message: 'x' })), ['error code "nope" is not one the document lists (service-off, not-whitelisted, identity-reserved, identity-taken, identity-not-named)']);
  assert.deepEqual(validator.check(refusal, problem({ error: 'service-off', message: 'x' }, 'text/html')), ['content type "text/html" is not one of application/problem+json']);
  assert.deepEqual(validator.check(refusal, { status: 500, contentType: 'application/json', body: Buffer.from('{"error":"internal","message":"boom"}') }), ['expected status 403, got 500 (internal)']);
  assert.deepEqual(validator.check(refusal, { status: 403, contentType: 'application/problem+json', body: Buffer.from('<html>') }), ['the body is not JSON: "<html>"']);
});

test('the validator checks bodies against referenced schemas (State, PEM, ACME problems)', () => {
  const validator = new ContractValidator(document);
  const json = (status: number, body: unknown, contentType = 'application/json') => ({ status, contentType, body: Buffer.from(JSON.stringify(body)) });
  const state = find('GET /api/v1/admin/state 200');
  assert.deepEqual(validator.check(state, json(200, { enabled: true, enabledAt: '2026-12-01T10:00:00.000Z', autoOffAt: null, remainingSeconds: null, whitelist: ['127.0.0.5'] })), []);
  assert.deepEqual(validator.check(state, json(200, { enabled: 'yes', enabledAt: 'yesterday', autoOffAt: null, remainingSeconds: null, whitelist: [] })), ['/enabled must be boolean', '/enabledAt must match format "date-time"']);
  const pem = find('GET /api/v1/ca 200');
  assert.deepEqual(validator.check(pem, { status: 200, contentType: 'application/x-pem-file', body: Buffer.from('hello') }), ['(body) must match pattern "-----BEGIN [A-Z0-9 ]+-----"']);
  const acme = find('GET /acme/{provisioner}/directory 403');
  assert.deepEqual(validator.check(acme, json(403, { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'off', status: 403 }, 'application/problem+json')), []);
  assert.equal(validator.check(acme, json(403, { error: 'service-off', message: 'off' }, 'application/problem+json')).length, 3, 'not an RFC 8555 problem: no type, no detail, a code not listed');
});

test('reasons written to the report carry no admin token, private key or token', () => {
  const token = 'S3cr3t-admin-token-value';
  const text = `got ${token} and -----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY----- and eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln`;
  assert.equal(scrub(text, [token]), 'got [admin token] and [private key] and [token]');
});

test("the replay's addresses: a loopback /24 of its own by default; with clients.addresses the block's lower half listed and its upper half not; a /32 is refused", () => {
  const own = new ReplayAddresses();
  const range = own.listedRange;
  assert.match(range, /^127\.\d+\.\d+\.0\/25$/);
  const prefix = range.slice(0, -'0/25'.length);
  assert.deepEqual([own.listed(), own.listed(), own.unlisted(), own.anySource], [`${prefix}1`, `${prefix}2`, `${prefix}128`, `${prefix}254`]);
  const block = new ReplayAddresses('10.20.30.0/24');
  assert.equal(block.listedRange, '10.20.30.0/25');
  assert.deepEqual([block.listed(), block.listed(), block.anySource, block.unlisted()], ['10.20.30.1', '10.20.30.2', '10.20.30.128', '10.20.30.129']);
  assert.throws(() => new ReplayAddresses('10.20.30.7/32'), /clients\.addresses: the contract replay needs white-listed and unlisted addresses apart/);
});
