// What the lab tells the provisioning service (its options, read at every start: a rotation
// replaces the operational hierarchy first) and what it does when the service calls back: a
// revocation goes to the broker's CRL and disconnects the identity, an enrolled application gets
// the application's topics, a legacy credential becomes a client of the legacy listener, the
// service's TLS certificate comes from the current intermediate, and a new intermediate from the
// external CA is installed (UC-04).
import { firmwarePolicy, type LabConfig } from '../../config/config.ts';
import { legacyTopicRoot } from '../../config/firmware-policy.ts';
import type { LegacyCredentialChange, RevocationEvent } from '../../services/provisioning/context.ts';
import type { ServiceProcessOptions } from '../../services/provisioning/process-protocol.ts';
import type { ProvisioningServiceHooks } from '../modules/provisioning-service.ts';
import type { CaCertificate } from '../../x509/certificate-authority.ts';
import type { LabAuthority } from '../pki/lab-authority.ts';
import type { StartedExternalCa } from '../local/external-ca.ts';
import type { LabStepCa } from './authority.ts';
import type { LabBroker, ServerNames } from './broker.ts';
import type { PkiRotations } from './pki-rotation.ts';

/** The service's name at the external CA. */
export const EXTERNAL_CA_CLIENT = 'provisioning-service';

export interface ServiceWiring {
  config: LabConfig;
  authority: LabAuthority;
  stepCa: LabStepCa;
  bootstrapStepCa: LabStepCa;
  broker: LabBroker;
  externalCa: StartedExternalCa | undefined;
  serverNames: ServerNames;
  dataDir: string;
  /** The service's JWK provisioner at both authorities. */
  provisioner: string;
  disconnects: Array<{ identity: string; serial: string; ms: number }>;
  rotations: PkiRotations;
}

export function serviceOptions(w: ServiceWiring): ServiceProcessOptions {
  const { config } = w;
  const { pki } = w.authority;
  const authorityOf = (step: LabStepCa, hierarchy: { root: CaCertificate; intermediate: CaCertificate }) => ({
    url: step.url,
    rootPem: hierarchy.root.certificatePem,
    intermediatePem: hierarchy.intermediate.certificatePem,
    audienceHost: config.ca.dnsNames[0]!,
    jwkProvisioner: w.provisioner,
    logFile: step.logFile,
  });
  // The listen address names the lab's servers in their certificates: no device may hold it.
  const reservedIdentities = [...config.trust.reservedIdentities, ...(config.lab.listenAddress === '127.0.0.1' ? [] : [config.lab.listenAddress])];
  return {
    host: config.provisioning.host,
    httpsPort: config.provisioning.port,
    httpPort: config.provisioning.insecurePort,
    ca: { ...authorityOf(w.stepCa, pki), x5cProvisioner: config.ca.x5cProvisioner },
    bootstrapCa: { ...authorityOf(w.bootstrapStepCa, { root: pki.bootstrapRoot, intermediate: pki.bootstrapIntermediate }), acmeProvisioner: config.ca.acmeProvisioner },
    trust: { applicationIdentity: config.broker.applicationIdentity, reservedIdentities, deviceNetwork: config.trust.deviceNetwork, deviceIdOid: config.trust.deviceIdOid },
    dataDir: w.dataDir,
    adminToken: config.provisioning.adminToken || undefined,
    serverKeyGen: config.provisioning.serverKeyGen,
    keyAlgorithm: config.pki.keyAlgorithm,
    expiringWithinSeconds: config.provisioning.expiringWithinSeconds,
    supersededGraceMs: config.provisioning.supersededGraceDays * config.clock.dayMs,
    firmware: firmwarePolicy(config.devices),
    externalCa: w.externalCa && {
      apiUrl: w.externalCa.apiUrl,
      crlUrl: w.externalCa.crlUrl,
      rootPem: w.externalCa.rootPem,
      checkIntervalMs: config.provisioning.externalCrlCheckIntervalMs,
      client: EXTERNAL_CA_CLIENT,
    },
  };
}

export function serviceHooks(w: ServiceWiring): ProvisioningServiceHooks {
  const applicationIdentities = new Set<string>();
  const { broker, authority } = w;
  return {
    extraCrls: () => authority.chainCrls(),
    // A revoked operational certificate: the broker gets the CRL for new handshakes, and every
    // connection of that identity is closed now (only the revoked identity's, nobody else's).
    // A superseded one only goes onto the CRL: the plugin disconnects by name, and the name's
    // session runs on the successor.
    async revoked(event: RevocationEvent) {
      if (event.kind === 'bootstrap' || !event.crlPem) return;
      const started = performance.now();
      await broker.crlPublisher.publish(event.crlPem);
      if (event.reason === 'superseded') return;
      await broker.admin.disconnect(event.identity);
      w.disconnects.push({ identity: event.identity, serial: event.serial, ms: performance.now() - started });
    },
    async applicationEnrolled({ identity }: { identity: string }) {
      applicationIdentities.add(identity);
      await broker.setApplicationIdentities([...applicationIdentities]);
    },
    // The plugin keeps its clients in its own file, so a legacy credential survives broker restarts.
    async legacyCredential(change: LegacyCredentialChange) {
      if (change.action === 'create') await broker.admin.addLegacyClient(change.identity, change.password, legacyTopicRoot(w.config.broker.topicRoot));
      else await broker.admin.removeLegacyClient(change.identity);
    },
    // Its HTTPS certificate, from whichever intermediate issues now (UC-04 replaces it).
    certify: (csrPem: string) => authority.certifyServerCsr(csrPem, w.serverNames),
    // UC-04 with an external CA: the service asks for a new key's CSR, then hands back its certificate.
    intermediateCsr: async () => ({ csrPem: await authority.intermediateCsr() }),
    installIntermediate: (order) => w.rotations.installFromService(order),
  };
}
