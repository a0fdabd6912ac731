// The one contract every environment backend (local processes, containers) fulfils:
// start(config) -> StartedLab with endpoints, trust material and stop().
import { readFileSync } from 'node:fs';

/** The operational authority (the seed's "Certificate Manager"): what devices and the broker trust. */
export interface StartedCa {
  url: string;
  /** Path of the root certificate (PEM) clients must trust: broker, service, step-ca. */
  rootPem: string;
  /** Path of root + intermediate (PEM). */
  caBundlePem: string;
  x5c: { provisioner: string; audience: string };
  jwkProvisioner: string;
}

/** The bootstrap authority (the seed's "Provisioning Server"): bootstrap credentials only. */
export interface StartedBootstrapCa {
  url: string;
  /** Path of the bootstrap root (PEM): it signs nothing the broker or a device trusts for TLS. */
  rootPem: string;
  /** step-ca's own ACME directory (devices use the provisioning service's gate instead). */
  acmeDirectoryUrl: string;
  /** Port step-ca connects to on each identifier's address for http-01 validation. */
  acmeHttpPort: number;
  jwkProvisioner: string;
}

export interface StartedBroker {
  host: string;
  /** The mutual-TLS listener. */
  port: number;
  /** The legacy listener: passwords over server-authenticated TLS, for firmware below devices.certificateRequiredFirmware. */
  legacyPort?: number;
  url: string;
  /** The CRLs it checks client certificates against, kept current by the lab (a broker of a team's beside the lab reads it too). */
  crlFile?: string;
}

export interface StartedProvisioning {
  /**
   * HTTPS: gated ACME directory, the CA API devices and the step CLI use for X5C and renewal
   * (the "CA URL"), bootstrap endpoint, admin API (/api/v1/admin/...) and page (/admin).
   */
  url: string;
  /** Plain HTTP: the bootstrap endpoint only (FR-PS-004). */
  insecureUrl: string;
  acmeDirectoryUrl: string;
  /** The webhooks step-ca calls (mutual TLS: only step-ca's client certificate gets past its guard). */
  hooksUrl?: string;
  adminToken: string;
  auditLogFile: string;
}

/** The external CA of ca.issuer 'external' (a simulated third party holding the operational root). */
export interface ExternalCaEndpoints {
  /** Plain HTTP: root certificate and CRL. */
  publicUrl: string;
  crlUrl: string;
  /** HTTPS: intermediate orders (the service) and revocations (its operator). */
  apiUrl: string;
  /** Path of its root certificate (PEM). */
  rootPem: string;
}

export interface ComponentProcess {
  name: string;
  pid: number;
  logFile: string;
}

export interface StartedLab {
  id: string;
  backend: 'local' | 'containers' | 'target';
  workDir: string;
  ca: StartedCa;
  bootstrapCa: StartedBootstrapCa;
  broker: StartedBroker;
  provisioning: StartedProvisioning;
  /** Present when the operational root is an external CA's (ca.issuer 'external'). */
  externalCaEndpoints?: ExternalCaEndpoints;
  logs: Record<string, string>;
  processes(): ComponentProcess[];
  /** Stops every component; safe to call more than once, and called on SIGINT/SIGTERM. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * JSON shape printed by `ecm-lab up --json`. Stable keys: scripts depend on them. The trust
 * anchors are in it as PEM text too (`trustAnchors`): a segment on another machine has no access
 * to the files the paths name.
 */
export function describeLab(lab: StartedLab): Record<string, unknown> {
  return {
    id: lab.id,
    backend: lab.backend,
    workDir: lab.workDir,
    listenAddress: new URL(lab.ca.url).hostname,
    trustAnchors: { root: readFileSync(lab.ca.rootPem, 'utf8'), bootstrapRoot: readFileSync(lab.bootstrapCa.rootPem, 'utf8') },
    ca: {
      url: lab.ca.url,
      rootPem: lab.ca.rootPem,
      caBundlePem: lab.ca.caBundlePem,
      provisioners: { x5c: lab.ca.x5c.provisioner, jwk: lab.ca.jwkProvisioner },
      x5cAudience: lab.ca.x5c.audience,
    },
    bootstrapCa: {
      url: lab.bootstrapCa.url,
      rootPem: lab.bootstrapCa.rootPem,
      acmeDirectory: lab.bootstrapCa.acmeDirectoryUrl,
      acmeHttpPort: lab.bootstrapCa.acmeHttpPort,
      provisioners: { acme: lab.bootstrapCa.acmeDirectoryUrl.split('/').at(-2), jwk: lab.bootstrapCa.jwkProvisioner },
    },
    broker: { host: lab.broker.host, port: lab.broker.port, url: lab.broker.url, legacyPort: lab.broker.legacyPort, ...(lab.broker.crlFile ? { crlFile: lab.broker.crlFile } : {}) },
    provisioning: {
      url: lab.provisioning.url,
      caUrl: lab.provisioning.url,
      insecureUrl: lab.provisioning.insecureUrl,
      acmeDirectory: lab.provisioning.acmeDirectoryUrl,
      ...(lab.provisioning.hooksUrl ? { hooksUrl: lab.provisioning.hooksUrl } : {}),
      adminToken: lab.provisioning.adminToken,
      admin: `${lab.provisioning.url}/admin`,
    },
    ...(lab.externalCaEndpoints ? { externalCa: lab.externalCaEndpoints } : {}),
    logs: lab.logs,
    processes: lab.processes().map(({ name, pid }) => ({ name, pid })),
  };
}
