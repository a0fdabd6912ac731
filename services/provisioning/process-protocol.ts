// Messages between the lab and the provisioning service's own process (IPC channel of fork()).
// Secrets (TLS key, the JWK provisioner key, the admin token) travel only here: never in argv,
// the environment or a file.
import type { ProvisioningServiceOptions, StartedProvisioningService } from './server.ts';

export type ServiceProcessOptions = Omit<ProvisioningServiceOptions, 'extraCrls' | 'onCrlUpdated' | 'clock'>;

/** Lab -> service process. */
export type ToServiceProcess =
  | { type: 'start'; options: ServiceProcessOptions; extraCrls: string[] }
  | { type: 'issued-serials'; id: number }
  | { type: 'crl-updated-done'; id: number }
  | { type: 'stop' };

export type ServiceEndpoints = Pick<StartedProvisioningService, 'url' | 'insecureUrl' | 'acmeDirectoryUrl' | 'adminToken' | 'auditLogFile'>;

/** Service process -> lab. */
export type FromServiceProcess =
  | { type: 'ready'; endpoints: ServiceEndpoints }
  | { type: 'failed'; message: string }
  | { type: 'issued-serials-result'; id: number; serials: string[] }
  | { type: 'crl-updated'; id: number; crlPem: string }
  | { type: 'stopped' };
