import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operationalNamesRefusal } from '../../../services/provisioning/device-id-san.ts';
import { createRootCa, issueLeaf } from '../../../x509/certificate-authority.ts';
import { DEVICE_ID_OID, deviceIdsOf, otherNames } from '../../../x509/device-id.ts';

const URI = 'urn:ecm-lab:device:RVS-1';
const uri = { type: 'uri', value: URI };
const id = (value: string) => ({ type: DEVICE_ID_OID, value });

test('the URI SAN and a device id equal to the CN pass, with or without its ASN.1 type prefix', () => {
  assert.equal(operationalNamesRefusal([uri, id('utf8:RVS-1')], 'RVS-1', URI, DEVICE_ID_OID), undefined);
  assert.equal(operationalNamesRefusal([id('RVS-1'), uri], 'RVS-1', URI, DEVICE_ID_OID), undefined);
});

test('a device id that disagrees with the CN is device-id-mismatch', () => {
  assert.equal(operationalNamesRefusal([uri, id('utf8:RVS-2')], 'RVS-1', URI, DEVICE_ID_OID)?.code, 'device-id-mismatch');
});

test('a missing or second device id, another name, or another URI is bad-san', () => {
  for (const names of [[uri], [uri, id('utf8:RVS-1'), id('utf8:RVS-1')], [uri, id('utf8:RVS-1'), { type: 'dns', value: 'x' }], [{ type: 'uri', value: 'urn:x' }, id('utf8:RVS-1')], [uri, { type: '1.2.3.4', value: 'utf8:RVS-1' }]]) {
    assert.equal(operationalNamesRefusal(names, 'RVS-1', URI, DEVICE_ID_OID)?.code, 'bad-san', JSON.stringify(names));
  }
});

test('an otherName written by the lab PKI reads back with its OID and text', async () => {
  const ca = await createRootCa({ commonName: 'Test Root', organization: 'test', algorithm: 'ecdsa-p256', validityDays: 1 });
  const leaf = await issueLeaf(ca, { commonName: 'RVS-1', uris: [URI], otherNames: [{ oid: DEVICE_ID_OID, utf8: 'RVS-ü' }, { oid: '1.2.3.4', utf8: 'x'.repeat(200) }], extendedKeyUsages: ['clientAuth'] });
  assert.deepEqual(otherNames(leaf.certificatePem), [{ oid: DEVICE_ID_OID, value: 'RVS-ü' }, { oid: '1.2.3.4', value: 'x'.repeat(200) }]);
  assert.deepEqual(deviceIdsOf(leaf.certificatePem), ['RVS-ü']);
  const plain = await issueLeaf(ca, { commonName: 'RVS-1', uris: [URI], extendedKeyUsages: ['clientAuth'] });
  assert.deepEqual(otherNames(plain.certificatePem), []);
});
