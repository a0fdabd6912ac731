// What a simulated client needs to know about a started lab; built once from StartedLab.
import { readFileSync } from 'node:fs';
import type { StartedLab } from '../../environments/started-lab.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';

export interface LabEndpoints {
  /** The provisioning service's gated ACME directory: unlisted addresses never reach step-ca. */
  acmeDirectoryUrl: string;
  /** Where X5C sign requests go (the provisioning service forwards them and records the result). */
  signUrl: string;
  /** The provisioning service's plain-HTTP listener: trust anchor and CRLs (FR-PS-004). */
  insecureUrl: string;
  /** step-ca itself (renewal over mutual TLS). */
  caUrl: string;
  /** PEM of the root a client trusts out of the factory (its ca.crt replaces it once stored). */
  trustedRootPem: string;
  /** PEM of the bootstrap root: what a client checks its own bootstrap credential against. */
  bootstrapRootPem: string;
  x5c: { provisioner: string; audience: string };
  broker: { host: string; port: number };
  /** The broker's legacy listener: a password over server-authenticated TLS (firmware below "x"). */
  legacyBroker?: { host: string; port: number };
  responder: ChallengePublisher;
}

export function labEndpoints(lab: StartedLab, responder: ChallengePublisher): LabEndpoints {
  return {
    acmeDirectoryUrl: lab.provisioning.acmeDirectoryUrl,
    signUrl: lab.provisioning.url,
    insecureUrl: lab.provisioning.insecureUrl,
    caUrl: lab.ca.url,
    trustedRootPem: readFileSync(lab.ca.rootPem, 'utf8'),
    bootstrapRootPem: readFileSync(lab.bootstrapCa.rootPem, 'utf8'),
    x5c: lab.ca.x5c,
    broker: { host: lab.broker.host, port: lab.broker.port },
    ...(lab.broker.legacyPort ? { legacyBroker: { host: lab.broker.host, port: lab.broker.legacyPort } } : {}),
    responder,
  };
}
