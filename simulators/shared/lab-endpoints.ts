// What a simulated client needs to know about a started lab; built once from StartedLab.
import { readFileSync } from 'node:fs';
import type { StartedLab } from '../../environments/contract.ts';
import type { StartedChallengeResponder } from '../acme/http01-responder.ts';

export interface LabEndpoints {
  acmeDirectoryUrl: string;
  caUrl: string;
  /** PEM of the root every client trusts (step-ca's HTTPS, the broker, peers). */
  trustedRootPem: string;
  x5c: { provisioner: string; audience: string };
  broker: { host: string; port: number };
  responder: StartedChallengeResponder;
}

export function labEndpoints(lab: StartedLab, responder: StartedChallengeResponder): LabEndpoints {
  return {
    acmeDirectoryUrl: lab.ca.acmeDirectoryUrl,
    caUrl: lab.ca.url,
    trustedRootPem: readFileSync(lab.ca.rootPem, 'utf8'),
    x5c: lab.ca.x5c,
    broker: { host: lab.broker.host, port: lab.broker.port },
    responder,
  };
}
