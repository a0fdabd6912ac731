import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BrokerUntrustedError,
  CertificateRefusedByBrokerError,
  ClockSkewError,
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

test("the broker's own certificate: expired, invalid (not for servers, bad signature, not yet valid), and a clock skew apart", () => {
  const cases: Array<[Error, string]> = [
    [Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), 'broker-certificate-expired'],
    [Object.assign(new Error('unsupported certificate purpose'), { code: 'INVALID_PURPOSE' }), 'broker-certificate-invalid'],
    [Object.assign(new Error('certificate signature failure'), { code: 'CERT_SIGNATURE_FAILURE' }), 'broker-certificate-invalid'],
    [Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' }), 'broker-certificate-invalid'],
    [new ClockSkewError(400 * 86_400_000, 'certificate has expired'), 'clock-skew'],
  ];
  for (const [error, cause] of cases) assert.equal(classifyConnectionFailure(error), cause, error.message);
  assert.match(new ClockSkewError(-2 * 86_400_000, 'certificate is not yet valid').message, /2\.0 days behind the server's time, so the broker's certificate looks not yet valid/);
});
