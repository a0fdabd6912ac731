// What the replay needs of a target: the provisioning service's endpoints and admin token, the
// root its HTTPS listener chains to, and what X5C tokens must say. From a target file
// (conformance/target/target.ts) or from a lab this process started.
import { readFileSync } from 'node:fs';
import type { StartedLab } from '../../environments/started-lab.ts';
import type { Target } from '../target/target.ts';

export interface ContractTarget {
  name: string;
  /** HTTPS listener. */
  url: string;
  /** Plain-HTTP listener. */
  insecureUrl: string;
  /** The webhook listener, when the target names it. */
  hooksUrl?: string;
  acmeDirectory: string;
  adminToken: string;
  /** PEM text of the root the HTTPS listener's certificate chains to (the operational root). */
  rootPem: string;
  x5c: { provisioner: string; audience: string };
  applicationIdentity: string;
  /** The target's clients.addresses: the block the replay's requests come from (a remote installation). */
  clientAddresses?: string;
}

/** step-ca's default audience of an X5C token, when the target does not say it. */
const defaultAudience = (caUrl: string, provisioner: string) => `https://${new URL(caUrl).hostname}/1.0/sign#x5c/${provisioner}`;

export function contractTargetFromFile(target: Target): ContractTarget {
  const { provisioning, ca } = target;
  return {
    name: target.name,
    url: provisioning.url,
    insecureUrl: provisioning.insecureUrl,
    acmeDirectory: provisioning.acmeDirectory,
    adminToken: provisioning.adminToken,
    hooksUrl: provisioning.hooksUrl,
    rootPem: readFileSync(ca.rootPem, 'utf8'),
    x5c: { provisioner: ca.provisioners.x5c, audience: ca.x5cAudience ?? defaultAudience(ca.url, ca.provisioners.x5c) },
    applicationIdentity: target.applicationIdentity ?? 'lumia',
    clientAddresses: target.clients.addresses,
  };
}

export function contractTargetFromLab(lab: StartedLab, applicationIdentity: string): ContractTarget {
  return {
    name: 'reference-lab',
    url: lab.provisioning.url,
    insecureUrl: lab.provisioning.insecureUrl,
    acmeDirectory: lab.provisioning.acmeDirectoryUrl,
    adminToken: lab.provisioning.adminToken,
    hooksUrl: lab.provisioning.hooksUrl,
    rootPem: readFileSync(lab.ca.rootPem, 'utf8'),
    x5c: lab.ca.x5c,
    applicationIdentity,
  };
}
