// The roles of compose.yaml (the seed's PoC topology, seed 001 §9: a container per component,
// named volumes for certificate storage). The lab's own backends wire the components from one
// process; a compose installation has no such process, so each container plays one role:
//   init          makes the CA material, both ca.json files, the broker's configuration and the
//                 provisioning service's keys into the named volumes, once (a second `up` finds
//                 them and changes nothing: certificates persist across down/up, NFR-REL-002);
//   provisioning  the provisioning service, turned ON for the devices' network;
//   responder     answers step-ca's http-01 requests from the shared webroot volume;
//   lumia         the managing application, subscribed to every device's telemetry;
//   device        one Reveos device: power-up validates its store and provisions only when the
//                 stored certificate is missing or invalid.
// step-ca and Mosquitto run their own images on the files init wrote. Everything runs on the
// host's network, on fixed loopback ports (COMPOSE_PORTS).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { describeLab, type StartedLab } from '../started-lab.ts';
import { renderBootstrapCaJson, renderOperationalCaJson, type CaJsonInput } from '../pki/ca-json.ts';
import { createCrl } from '../../x509/crl-signing.ts';
import { LabAuthority } from '../pki/lab-authority.ts';
import { renderAcl, renderDynamicSecurityConfig, renderMosquittoConf } from '../modules/mosquitto-config.ts';
import { createServiceSigningKey, type ServiceSigningKey } from '../../services/provisioning/signing-key.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';

/** Where the images mount the named volumes (environments/containers/images.ts makes these 0700). */
export const DATA = '/var/lib/ecm-lab';
export const COMPOSE_DIRS = {
  pki: `${DATA}/pki`,
  stepCa: `${DATA}/step-ca`,
  bootstrapCa: `${DATA}/bootstrap-ca`,
  mosquitto: `${DATA}/mosquitto`,
  provisioning: `${DATA}/provisioning`,
  public: `${DATA}/public`,
  webroot: `${DATA}/acme-webroot`,
  app: `${DATA}/app`,
  device: `${DATA}/devices`,
} as const;

/** Fixed loopback ports of a compose installation (the lab's backends pick free ones instead). */
export const COMPOSE_PORTS = { stepCa: 18443, bootstrapCa: 18444, acmeHttp: 18080, broker: 18883, brokerLegacy: 18884, serviceHttps: 18543, serviceHttp: 18580, serviceHooks: 18544 } as const;

const HOST = '127.0.0.1';
const DONE = path.join(COMPOSE_DIRS.public, 'lab.json');

export const composeConfig = () =>
  loadConfig({ env: {}, overrides: { ca: { port: COMPOSE_PORTS.stepCa, bootstrapPort: COMPOSE_PORTS.bootstrapCa, acmeHttpPort: COMPOSE_PORTS.acmeHttp }, broker: { port: COMPOSE_PORTS.broker } } });

/** What the provisioning role needs besides its keys (written by init). */
export interface ComposeServiceSettings {
  adminToken: string;
  tls: { certificateChainPem: string; privateKeyPem: string };
  jwk: ServiceSigningKey;
}

export async function composeInit(log: (line: string) => void): Promise<void> {
  if (existsSync(DONE)) {
    log(`${DONE} exists: the installation was initialised before; its certificates and keys are kept`);
    return;
  }
  const config = composeConfig();
  for (const dir of Object.values(COMPOSE_DIRS)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const authority = await LabAuthority.create(config.pki, COMPOSE_DIRS.pki);
  const { files } = authority;
  const jwk = await createServiceSigningKey('provisioning-service');
  const serviceJwk = { name: 'provisioning-service', publicKey: jwk.publicJwk as Record<string, unknown> };
  const webhookBaseUrl = `https://${HOST}:${COMPOSE_PORTS.serviceHooks}`;

  // Both authorities' ca.json, ahead of their containers' start: the operational one also takes
  // the bootstrap root (its X5C provisioner's roots) and the device-id OID.
  const authorities = [
    { dir: COMPOSE_DIRS.stepCa, port: COMPOSE_PORTS.stepCa, root: files.rootCert, cert: files.intermediateCert, key: files.intermediateKey, render: (input: CaJsonInput) => renderOperationalCaJson({ ...input, x5cRootsPem: authority.pki.bootstrapRoot.certificatePem, deviceIdOid: config.trust.deviceIdOid }) },
    { dir: COMPOSE_DIRS.bootstrapCa, port: COMPOSE_PORTS.bootstrapCa, root: files.bootstrapRootCert, cert: files.bootstrapIntermediateCert, key: files.bootstrapIntermediateKey, render: renderBootstrapCaJson },
  ];
  for (const { dir, port, root, cert, key, render } of authorities) {
    const caJson = render({ config: config.ca, port, files: { root, intermediateCert: cert, intermediateKey: key, database: `${dir}/db.bolt` }, serviceJwk, webhookBaseUrl });
    writeFileSync(`${dir}/ca.json`, JSON.stringify(caJson, null, 2), { mode: 0o600 });
  }

  // The broker: its server certificate, the CA bundle, and an empty CRL of the issuing CA until
  // the provisioning service writes step-ca's (after a revocation; Mosquitto reads it at start).
  const m = COMPOSE_DIRS.mosquitto;
  const server = await authority.serverCertificate();
  writeFileSync(`${m}/server.crt`, server.certificateChainPem);
  writeFileSync(`${m}/server.key`, server.privateKeyPem, { mode: 0o600 });
  copyFileSync(files.caBundle, `${m}/ca_bundle.crt`);
  writeFileSync(`${m}/crl.pem`, await createCrl(authority.pki.intermediate, []));
  writeFileSync(`${m}/acl`, renderAcl(config.broker), { mode: 0o600 });
  writeFileSync(`${m}/dynamic-security.json`, renderDynamicSecurityConfig(), { mode: 0o600 });
  writeFileSync(
    `${m}/mosquitto.conf`,
    renderMosquittoConf({
      broker: { ...config.broker, persistence: true },
      port: COMPOSE_PORTS.broker,
      legacyPort: COMPOSE_PORTS.brokerLegacy,
      files: {
        caBundle: `${m}/ca_bundle.crt`,
        serverCert: `${m}/server.crt`,
        serverKey: `${m}/server.key`,
        aclFile: `${m}/acl`,
        crlFile: `${m}/crl.pem`,
        dynamicSecurity: { plugin: `/usr/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/mosquitto_dynamic_security.so`, configFile: `${m}/dynamic-security.json` },
      },
      runAsUser: 'ecm',
      logFile: `${m}/mosquitto.log`,
      persistenceDir: m,
    }),
    { mode: 0o600 },
  );

  // The provisioning service's keys: its JWK (step-ca's ca.json names its public half) and its TLS pair.
  const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: [HOST] }, config.pki.keyAlgorithm);
  const settings: ComposeServiceSettings = {
    adminToken: (await import('node:crypto')).randomBytes(32).toString('base64url'),
    tls: { certificateChainPem: await authority.certifyServerCsr(csrPem), privateKeyPem },
    jwk,
  };
  writeFileSync(`${COMPOSE_DIRS.provisioning}/compose-service.json`, JSON.stringify(settings), { mode: 0o600 });

  // The trust anchors devices have from the factory, and the endpoints, in `ecm-lab up --json`'s shape.
  copyFileSync(files.rootCert, `${COMPOSE_DIRS.public}/root_ca.crt`);
  copyFileSync(files.bootstrapRootCert, `${COMPOSE_DIRS.public}/bootstrap_root_ca.crt`);
  const serviceUrl = `https://${HOST}:${COMPOSE_PORTS.serviceHttps}`;
  const description: StartedLab = {
    id: 'compose',
    backend: 'containers',
    workDir: DATA,
    ca: { url: `https://${HOST}:${COMPOSE_PORTS.stepCa}`, rootPem: `${COMPOSE_DIRS.public}/root_ca.crt`, caBundlePem: `${m}/ca_bundle.crt`, x5c: { provisioner: config.ca.x5cProvisioner, audience: `https://${config.ca.dnsNames[0]}/1.0/sign#x5c/${config.ca.x5cProvisioner}` }, jwkProvisioner: 'provisioning-service' },
    bootstrapCa: { url: `https://${HOST}:${COMPOSE_PORTS.bootstrapCa}`, rootPem: `${COMPOSE_DIRS.public}/bootstrap_root_ca.crt`, acmeDirectoryUrl: `https://${HOST}:${COMPOSE_PORTS.bootstrapCa}/acme/${config.ca.acmeProvisioner}/directory`, acmeHttpPort: COMPOSE_PORTS.acmeHttp, jwkProvisioner: 'provisioning-service' },
    broker: { host: HOST, port: COMPOSE_PORTS.broker, url: `mqtts://${HOST}:${COMPOSE_PORTS.broker}` },
    provisioning: { url: serviceUrl, insecureUrl: `http://${HOST}:${COMPOSE_PORTS.serviceHttp}`, acmeDirectoryUrl: `${serviceUrl}/acme/${config.ca.acmeProvisioner}/directory`, adminToken: '(in the provisioning volume)', auditLogFile: `${COMPOSE_DIRS.provisioning}/audit.log` },
    logs: { 'step-ca': `${COMPOSE_DIRS.stepCa}/step-ca.log` },
    processes: () => [],
    stop: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
  // Written last: its presence means the installation is complete.
  writeFileSync(DONE, JSON.stringify({ ...describeLab(description), acmeWebroot: COMPOSE_DIRS.webroot }));
  log(`initialised: CA material, ca.json of both authorities, the broker's configuration and the service's keys; endpoints in ${DONE}`);
}

export function readComposeService(): ComposeServiceSettings {
  return JSON.parse(readFileSync(`${COMPOSE_DIRS.provisioning}/compose-service.json`, 'utf8')) as ComposeServiceSettings;
}
