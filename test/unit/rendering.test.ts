import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { renderBootstrapCaJson, renderOperationalCaJson } from '../../environments/pki/ca-json.ts';
import { renderAcl, renderMosquittoConf } from '../../environments/modules/mosquitto-config.ts';

const config = loadConfig({ env: {} });
const files = { root: '/w/root.crt', intermediateCert: '/w/int.crt', intermediateKey: '/w/int.key', database: '/w/db' };

type Provisioner = { type: string; name: string; roots?: string; claims: Record<string, string>; options?: { x509: { template: string } } };

function provisioners(json: Record<string, unknown>): Provisioner[] {
  return (json.authority as { provisioners: Provisioner[] }).provisioners;
}

const common = {
  port: 9443,
  files,
  serviceJwk: { name: 'provisioning-service', publicKey: { kty: 'EC', kid: 'k1' } },
  webhookBaseUrl: 'https://127.0.0.1:7000',
};
type Webhook = { name: string; url: string; kind: string; certType: string };
const webhooksOf = (p: Provisioner) => (p.options as unknown as { webhooks?: Webhook[] }).webhooks ?? [];

test('operational ca.json: X5C rooted in the bootstrap root, asking the identity webhook; client-only templates', () => {
  const json = renderOperationalCaJson({
    ...common,
    config: { ...config.ca, operationalCertDuration: '48h' },
    x5cRootsPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  });
  assert.equal(json.address, '127.0.0.1:9443');
  assert.deepEqual(json.dnsNames, ['localhost', '127.0.0.1']);
  const [x5c, jwk, ...rest] = provisioners(json);
  assert.equal(rest.length, 0, 'no ACME provisioner on the operational authority');
  assert.equal(x5c!.type, 'X5C');
  assert.equal(x5c!.claims.defaultTLSCertDuration, '48h');
  assert.equal(Buffer.from(x5c!.roots!, 'base64').toString(), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  assert.deepEqual(webhooksOf(x5c!), [{ name: 'x5c-identity', url: 'https://127.0.0.1:7000/webhooks/x5c-identity', kind: 'AUTHORIZING', certType: 'X509' }]);
  assert.equal(jwk!.type, 'JWK');
  const template = x5c!.options!.x509.template;
  assert.equal(jwk!.options?.x509.template, template, 'one template for both provisioners');
  assert.match(template, /"extKeyUsage": \["clientAuth"\]/);
  assert.doesNotMatch(template, /serverAuth/);
  // The CRL's Issuing Distribution Point and every leaf's CDP must be the same URL.
  assert.equal((json.crl as { idpURL: string }).idpURL, 'https://localhost:9443/1.0/crl');
  assert.match(template, /"crlDistributionPoints": \["https:\/\/localhost:9443\/1.0\/crl"\]/);
});

test('bootstrap ca.json: ACME asking the window webhook, credentials named by their address, never renewed', () => {
  const json = renderBootstrapCaJson({ ...common, config: { ...config.ca, bootstrapCertDuration: '720h' } });
  const [acme, jwk, ...rest] = provisioners(json);
  assert.equal(rest.length, 0);
  assert.equal(acme!.type, 'ACME');
  assert.equal(acme!.name, 'bootstrap');
  assert.equal(acme!.claims.defaultTLSCertDuration, '720h');
  assert.deepEqual(webhooksOf(acme!).map((w) => w.url), ['https://127.0.0.1:7000/webhooks/acme-window']);
  assert.match(acme!.options!.x509.template, /"commonName": \{\{ toJson \(index \.SANs 0\)\.Value \}\}/);
  for (const p of [acme!, jwk!]) assert.equal((p.claims as unknown as { disableRenewal: boolean }).disableRenewal, true, `${p.name} certificates are never renewed`);
});

test('mosquitto.conf: a mutual-TLS listener and a legacy password listener, both on loopback, TLS 1.2 minimum, identities from certificates', () => {
  const conf = renderMosquittoConf({
    broker: config.broker,
    port: 8883,
    legacyPort: 8884,
    files: { caBundle: '/w/ca.crt', serverCert: '/w/s.crt', serverKey: '/w/s.key', aclFile: '/w/acl' },
    runAsUser: 'root',
    logFile: '/w/mosquitto.log',
  });
  const lines = conf.split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('listener')), ['listener 8883 127.0.0.1', 'listener 8884 127.0.0.1'], 'two listeners, loopback only');
  const mtls = lines.slice(0, lines.indexOf('listener 8884 127.0.0.1'));
  const legacy = lines.slice(lines.indexOf('listener 8884 127.0.0.1'));
  for (const expected of ['require_certificate true', 'use_identity_as_username true', 'use_username_as_clientid true', 'tls_version tlsv1.2', 'allow_anonymous false', 'acl_file /w/acl', 'max_queued_messages 0', 'set_tcp_nodelay true', 'user root']) {
    assert.ok(mtls.includes(expected), `missing "${expected}"`);
  }
  for (const expected of ['require_certificate false', 'use_username_as_clientid true', 'tls_version tlsv1.2', 'certfile /w/s.crt']) assert.ok(legacy.includes(expected), `legacy listener: missing "${expected}"`);
  assert.ok(!legacy.includes('use_identity_as_username true'), 'the legacy listener takes identities from passwords, not certificates');
  assert.ok(!lines.some((l) => l.startsWith('crlfile')), 'no CRL unless one is given');
  const withCrl = renderMosquittoConf({
    broker: config.broker,
    port: 8883,
    legacyPort: 8884,
    files: { caBundle: '/w/ca.crt', serverCert: '/w/s.crt', serverKey: '/w/s.key', aclFile: '/w/acl', crlFile: '/w/crl.pem' },
    runAsUser: 'root',
    logFile: '/w/mosquitto.log',
  });
  assert.ok(withCrl.split('\n').includes('crlfile /w/crl.pem'));
});

test('ACL: enrolled application identities get the application role; the lab admin only the control topic', () => {
  const acl = renderAcl(config.broker, ['lumia-seg1of2', 'lumia']);
  assert.deepEqual(acl.split('\n').filter((l) => l.startsWith('user ')), ['user lumia', 'user lumia-seg1of2', 'user ecm-lab-broker-admin']);
  const admin = acl.split('\n').slice(acl.split('\n').indexOf('user ecm-lab-broker-admin'));
  assert.deepEqual(admin.filter((l) => l.startsWith('topic')), ['topic readwrite $CONTROL/dynamic-security/#']);
});

test('mosquitto.conf: the dynamic security plugin beside the ACL file', () => {
  const conf = renderMosquittoConf({
    broker: config.broker,
    port: 8883,
    legacyPort: 8884,
    files: { caBundle: '/w/ca.crt', serverCert: '/w/s.crt', serverKey: '/w/s.key', aclFile: '/w/acl', dynamicSecurity: { plugin: '/usr/lib/x/dynsec.so', configFile: '/w/dynsec.json' } },
    runAsUser: 'root',
    logFile: '/w/mosquitto.log',
  }).split('\n');
  assert.ok(conf.includes('plugin /usr/lib/x/dynsec.so') && conf.includes('plugin_opt_config_file /w/dynsec.json') && conf.includes('acl_file /w/acl'));
  assert.ok(conf.indexOf('use_username_as_clientid true') > conf.findIndex((l) => l.startsWith('listener')), 'a listener setting');
});

test('ACL: devices write only their own tree, the application reads all and writes commands', () => {
  const acl = renderAcl(config.broker).split('\n');
  assert.ok(acl.includes('pattern write reveos/%u/telemetry/#'));
  assert.ok(acl.includes('pattern read reveos/%u/cmd/#'));
  assert.ok(!acl.some((l) => /^pattern (write|readwrite) reveos\/#/.test(l)), 'no device may write the whole tree');
  const appSection = acl.slice(acl.indexOf('user lumia'), acl.indexOf('user ecm-lab-broker-admin'));
  assert.deepEqual(appSection.filter((l) => l.startsWith('topic')), ['topic read reveos/#', 'topic write reveos/+/cmd/#', 'topic read reveos-legacy/#', 'topic write reveos-legacy/+/cmd/#']);
});
