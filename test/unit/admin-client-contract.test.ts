// The admin client follows the contract, not the reference service: for every operation it calls,
// the keys of its request and answer types (and which of them are required) are those of the
// operation's schemas in services/provisioning/openapi.yaml. The compiler holds each key list
// below to its type (a key missing, extra or of the wrong kind does not compile); this test holds
// the lists to the document.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import type {
  AuditLog,
  AuditRecordFields,
  CertificateRequest,
  Enrolment,
  Enrolments,
  InventoryEntry,
  InventoryPage,
  IssuedByServiceTeam,
  LegacyCredentialIssued,
  LegacyCredentialRequest,
  RevocationRequest,
  ServiceState,
  StateChange,
  Whitelist,
} from '../../simulators/client/admin-client.ts';

const DOCUMENT = new URL('../../services/provisioning/openapi.yaml', import.meta.url);
const CLIENT = new URL('../../simulators/client/admin-client.ts', import.meta.url);

type Kind = 'required' | 'optional';
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
/** Every key of T, each marked as T has it: the literal must match T exactly to compile. */
type KeyList<T> = { [K in keyof T]-?: K extends RequiredKeys<T> ? 'required' : 'optional' };
const keysOf = <T>(list: KeyList<T>): Record<string, Kind> => list as Record<string, Kind>;

const STATE = keysOf<ServiceState>({ enabled: 'required', enabledAt: 'required', autoOffAt: 'required', remainingSeconds: 'required', whitelist: 'required' });
const WHITELIST = keysOf<Whitelist>({ entries: 'required' });
const CERTIFICATE = keysOf<InventoryEntry>({
  serial: 'required',
  deviceId: 'required',
  subject: 'required',
  issuer: 'required',
  notBefore: 'required',
  notAfter: 'required',
  sha256: 'required',
  kind: 'required',
  via: 'optional',
  status: 'required',
  state: 'required',
  revokedAt: 'optional',
  revocationReason: 'optional',
  recordedAt: 'optional',
});
const ISSUED = keysOf<IssuedByServiceTeam>({ ...(CERTIFICATE as KeyList<InventoryEntry>), certificateChainPem: 'required', caPem: 'required', privateKeyPem: 'optional' });

interface Check {
  /** "METHOD /path" as the document names it. */
  operation: string;
  /** The request body, or the answer with this status. */
  body: 'request' | '200' | '201' | '204';
  /** Down from the body's schema to a nested one: property names, and `items` for an array's element. */
  at?: string[];
  /** undefined: the status documents no body. */
  keys?: Record<string, Kind>;
}

const CHECKS: Check[] = [
  { operation: 'GET /api/v1/admin/state', body: '200', keys: STATE },
  { operation: 'PUT /api/v1/admin/state', body: 'request', keys: keysOf<StateChange>({ enabled: 'required', autoOffSeconds: 'optional' }) },
  { operation: 'PUT /api/v1/admin/state', body: '200', keys: STATE },
  { operation: 'GET /api/v1/admin/whitelist', body: '200', keys: WHITELIST },
  { operation: 'PUT /api/v1/admin/whitelist', body: 'request', keys: WHITELIST },
  { operation: 'PUT /api/v1/admin/whitelist', body: '200', keys: WHITELIST },
  { operation: 'GET /api/v1/admin/enrolments', body: '200', keys: keysOf<Enrolments>({ enrolments: 'required' }) },
  {
    operation: 'GET /api/v1/admin/enrolments',
    body: '200',
    at: ['enrolments', 'items'],
    keys: keysOf<Enrolment>({ identity: 'required', role: 'required', bootstrapSerial: 'required', address: 'required', source: 'required', enrolledAt: 'required' }),
  },
  { operation: 'DELETE /api/v1/admin/enrolments/{identity}', body: '204' },
  { operation: 'GET /api/v1/admin/inventory', body: '200', keys: keysOf<InventoryPage>({ expiringWithinSeconds: 'required', certificates: 'required' }) },
  { operation: 'GET /api/v1/admin/inventory', body: '200', at: ['certificates', 'items'], keys: CERTIFICATE },
  { operation: 'POST /api/v1/admin/revocations', body: 'request', keys: keysOf<RevocationRequest>({ serial: 'required', reason: 'optional' }) },
  { operation: 'POST /api/v1/admin/revocations', body: '200', keys: CERTIFICATE },
  {
    operation: 'POST /api/v1/admin/certificates',
    body: 'request',
    keys: keysOf<CertificateRequest>({ identity: 'required', csr: 'optional', keyGeneration: 'optional', lifetimeSeconds: 'optional' }),
  },
  { operation: 'POST /api/v1/admin/certificates', body: '201', keys: ISSUED },
  { operation: 'POST /api/v1/admin/legacy-credentials', body: 'request', keys: keysOf<LegacyCredentialRequest>({ identity: 'required', firmwareVersion: 'required' }) },
  {
    operation: 'POST /api/v1/admin/legacy-credentials',
    body: '201',
    keys: keysOf<LegacyCredentialIssued>({ identity: 'required', username: 'required', password: 'required', firmwareVersion: 'required' }),
  },
  { operation: 'DELETE /api/v1/admin/legacy-credentials/{identity}', body: '204' },
  { operation: 'GET /api/v1/admin/audit', body: '200', keys: keysOf<AuditLog>({ records: 'required' }) },
  { operation: 'GET /api/v1/admin/audit', body: '200', at: ['records', 'items'], keys: keysOf<AuditRecordFields>({ time: 'required', event: 'required', decision: 'required' }) },
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const doc = parse(readFileSync(DOCUMENT, 'utf8')) as Obj;

function deref(schema: unknown, where: string): Obj {
  if (!isObj(schema)) throw new Error(`${where}: no schema`);
  if (typeof schema.$ref !== 'string') return schema;
  let value: unknown = doc;
  for (const segment of schema.$ref.replace(/^#\//, '').split('/')) value = isObj(value) ? value[segment] : undefined;
  return deref(value, `${where} -> ${schema.$ref}`);
}

/** An object schema's keys, each required or optional, with allOf's parts merged. */
function schemaKeys(schema: Obj, where: string): { keys: Record<string, Kind>; properties: Obj } {
  const parts = Array.isArray(schema.allOf) ? schema.allOf.map((part, i) => deref(part, `${where} allOf[${i}]`)) : [schema];
  const properties: Obj = {};
  const required = new Set<string>();
  for (const part of parts) {
    if (Array.isArray(part.allOf)) {
      const nested = schemaKeys(part, where);
      Object.assign(properties, nested.properties);
      for (const [k, kind] of Object.entries(nested.keys)) if (kind === 'required') required.add(k);
      continue;
    }
    Object.assign(properties, isObj(part.properties) ? part.properties : {});
    for (const k of Array.isArray(part.required) ? part.required : []) required.add(String(k));
  }
  return { keys: Object.fromEntries(Object.keys(properties).map((k) => [k, required.has(k) ? 'required' : 'optional'])), properties };
}

function operationOf(operation: string): Obj {
  const [method, path] = operation.split(' ') as [string, string];
  const item = (doc.paths as Obj)[path];
  const found = isObj(item) ? item[method.toLowerCase()] : undefined;
  assert.ok(isObj(found), `openapi.yaml documents no ${operation}`);
  return found;
}

/** The JSON body schema of a check: the request body, or the answer of its status. */
function bodySchema(check: Check): Obj | undefined {
  const operation = operationOf(check.operation);
  const holder = check.body === 'request' ? deref(operation.requestBody, `${check.operation} requestBody`) : deref((operation.responses as Obj)[check.body], `${check.operation} ${check.body}`);
  const content = holder.content;
  if (!isObj(content)) return undefined;
  return deref((content['application/json'] as Obj | undefined)?.schema, `${check.operation} ${check.body} application/json`);
}

function nestedSchema(schema: Obj, at: string[], where: string): Obj {
  let current = schema;
  for (const step of at) {
    current = step === 'items' ? deref(current.items, `${where} items`) : deref(schemaKeys(current, where).properties[step], `${where}.${step}`);
  }
  return current;
}

/** The operations the client calls, read from its source: `this.call(METHOD, path)`. */
function clientOperations(): string[] {
  const source = readFileSync(CLIENT, 'utf8');
  const calls = [...source.matchAll(/this\.call(?:<[^>]*>)?\(\s*'([A-Z]+)',\s*['`]([^'`]+)['`]/g)];
  return [...new Set(calls.map(([, method, path]) => `${method} ${path!.replace(/\$\{encodeURIComponent\((\w+)\)\}/g, '{$1}').replace(/\$\{\w+\}$/, '').replace(/\?.*$/, '')}`))].sort();
}

for (const check of CHECKS) {
  const name = `${check.operation} ${check.body}${check.at ? ` ${check.at.join('.')}` : ''}`;
  test(`admin client type of ${name} has the keys of openapi.yaml`, () => {
    const schema = bodySchema(check);
    if (!check.keys) {
      assert.equal(schema, undefined, `${name}: the document gives this answer a body; the client ignores it`);
      return;
    }
    assert.ok(schema, `${name}: the document gives no JSON body`);
    const expected = schemaKeys(check.at ? nestedSchema(schema, check.at, name) : schema, name).keys;
    assert.deepEqual(sorted(check.keys), sorted(expected), `${name}: the client's type (actual) differs from the schema (expected)`);
  });
}

test('every operation the admin client calls is checked above, with every success status the document gives it', () => {
  const used = clientOperations();
  assert.ok(used.length >= 10, `found only ${used.length} operations in the client: the pattern no longer matches its calls`);
  assert.deepEqual(used, [...new Set(CHECKS.map((c) => c.operation))].sort(), 'the client calls (actual) and the checked operations (expected) differ');
  for (const operation of used) {
    const documented = Object.keys(operationOf(operation).responses as Obj).filter((s) => s.startsWith('2'));
    const checked = CHECKS.filter((c) => c.operation === operation && c.body !== 'request').map((c) => c.body);
    assert.deepEqual([...new Set(checked)].sort(), documented.sort(), `${operation}: success statuses checked (actual) and documented (expected)`);
  }
});

function sorted(keys: Record<string, Kind>): Record<string, Kind> {
  return Object.fromEntries(Object.entries(keys).sort(([a], [b]) => a.localeCompare(b)));
}
