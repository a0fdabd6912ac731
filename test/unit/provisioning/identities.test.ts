import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Enrolments, IdentityRules, type IdentityRequest } from '../../../services/provisioning/identities.ts';

const rules = new IdentityRules({ applicationIdentity: 'lumia', reserved: ['historian'] });
const open = () => Enrolments.open(':memory:', rules);
const ask = (identity: string, serial: string, address: string | null, named: { identity?: string; address?: string } = {}): IdentityRequest => ({
  identity,
  credential: { serial, address },
  namedIdentity: named.identity,
  namedAddress: named.address,
});

test('reserved identities: the application and its derivatives, the servers, step-ca, the lab clients, configured extras', () => {
  for (const name of ['lumia', 'LUMIA', 'lumia-seg1of2', 'localhost', '127.0.0.1', 'Step Online CA', 'ecm-lab-broker-admin', 'historian']) assert.ok(rules.isReserved(name), name);
  for (const name of ['RVS-0001', 'lumiax', 'my-lumia']) assert.equal(rules.isReserved(name), false, name);
  assert.equal(rules.role('lumia-seg2of2'), 'application');
  assert.equal(rules.san('lumia'), 'urn:ecm-lab:app:lumia');
  assert.equal(rules.san('RVS-1'), 'urn:ecm-lab:device:RVS-1');
  assert.match(rules.syntaxProblem('RVS:1') ?? '', /not an identity/);
});

test('first use binds an identity to a credential; the same credential may ask again, never for another', () => {
  const enrolments = open();
  const first = enrolments.decide(ask('RVS-1', 'aa', '127.0.0.5'));
  assert.deepEqual(first.allow && [first.change, first.enrolment.source], ['enrol', 'first-use']);
  const again = enrolments.decide(ask('RVS-1', 'aa', '127.0.0.5'));
  assert.ok(again.allow && again.change === 'none');
  const other = enrolments.decide(ask('RVS-2', 'aa', '127.0.0.5'));
  assert.deepEqual(!other.allow && other.code, 'credential-bound');
});

test('no identity twice: another credential from another address is refused; from the same address it supersedes', () => {
  const enrolments = open();
  enrolments.decide(ask('RVS-1', 'aa', '127.0.0.5'));
  const thief = enrolments.decide(ask('RVS-1', 'bb', '127.0.0.6'));
  assert.deepEqual(!thief.allow && thief.code, 'identity-taken');
  const back = enrolments.decide(ask('RVS-1', 'cc', '127.0.0.5'));
  assert.deepEqual(back.allow && [back.change, back.superseded], ['supersede', 'aa']);
  assert.equal(enrolments.byIdentity('RVS-1')?.bootstrapSerial, 'cc');
  assert.equal(enrolments.bySerial('aa'), undefined, 'the old credential holds nothing any more');
  // A credential without an address can never take an identity over.
  assert.deepEqual(((d) => !d.allow && d.code)(enrolments.decide(ask('RVS-1', 'dd', null))), 'identity-taken');
});

test('reserved identities need the white list to name them for the credential’s address, and only application ones can be', () => {
  const enrolments = open();
  assert.deepEqual(((d) => !d.allow && d.code)(enrolments.decide(ask('lumia', 'aa', '127.0.0.2'))), 'identity-reserved');
  assert.deepEqual(((d) => !d.allow && d.code)(enrolments.decide(ask('localhost', 'aa', '127.0.0.2', { identity: 'localhost', address: '127.0.0.2' }))), 'identity-reserved');
  const app = enrolments.decide(ask('lumia', 'aa', '127.0.0.2', { identity: 'lumia', address: '127.0.0.2' }));
  assert.deepEqual(app.allow && [app.enrolment.role, app.enrolment.source], ['application', 'white-list']);
});

test('a named identity is refused to every other address, and a named address to every other identity', () => {
  const enrolments = open();
  const elsewhere = enrolments.decide(ask('RVS-7', 'bb', '127.0.0.9', { address: '127.0.0.7' }));
  assert.deepEqual(!elsewhere.allow && elsewhere.code, 'identity-not-named');
  const otherName = enrolments.decide(ask('RVS-8', 'cc', '127.0.0.7', { identity: 'RVS-7' }));
  assert.deepEqual(!otherName.allow && otherName.code, 'identity-not-named');
  const right = enrolments.decide(ask('RVS-7', 'dd', '127.0.0.7', { identity: 'RVS-7', address: '127.0.0.7' }));
  assert.ok(right.allow);
});

test('evaluate changes nothing; release frees an identity for any credential', () => {
  const enrolments = open();
  assert.ok(enrolments.evaluate(ask('RVS-1', 'aa', '127.0.0.5')).allow);
  assert.equal(enrolments.list().length, 0);
  enrolments.decide(ask('RVS-1', 'aa', '127.0.0.5'));
  assert.equal(enrolments.release('rvs-1'), true, 'identities compare case-insensitively');
  assert.equal(enrolments.release('RVS-1'), false);
  assert.ok(enrolments.decide(ask('RVS-1', 'bb', '127.0.0.6')).allow);
});
