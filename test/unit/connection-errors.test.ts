import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BrokerUntrustedError,
  CertificateRefusedByBrokerError,
  classifyConnectionFailure,
  explainConnectionFailure,
} from '../../simulators/client/connection-errors.ts';

test('TLS failures are classified by who refused what (texts as Node/OpenSSL report them)', () => {
  const cases: Array<[string, string]> = [
    ['unable to get local issuer certificate', 'broker-untrusted'],
    ['self-signed certificate in certificate chain', 'broker-untrusted'],
    ["Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list", 'host-name-mismatch'],
    ['error:0A000414:SSL routines:ssl3_read_bytes:sslv3 alert certificate revoked:... SSL alert number 44', 'own-certificate-revoked'],
    ['sslv3 alert certificate expired', 'own-certificate-expired'],
    ['tlsv1 alert unknown ca', 'own-certificate-refused'],
    ['tlsv13 alert certificate required', 'own-certificate-refused'],
    ['tlsv1 alert protocol version', 'tls-configuration'],
    ['connect ECONNREFUSED 127.0.0.1:8883', 'network'],
  ];
  for (const [message, cause] of cases) assert.equal(classifyConnectionFailure(new Error(message)), cause, message);
});

test('refusals of the own certificate and an untrusted broker become typed errors; others pass through', () => {
  assert.ok(explainConnectionFailure(new Error('alert certificate revoked')) instanceof CertificateRefusedByBrokerError);
  assert.ok(explainConnectionFailure(new Error('unable to get local issuer certificate')) instanceof BrokerUntrustedError);
  const network = new Error('connect ECONNREFUSED');
  assert.equal(explainConnectionFailure(network), network);
});
