// Messages between the lab and the provisioning service's own process (IPC channel of fork()).
// The service makes its own keys (the TLS key, the JWK it signs step-ca tokens with) and they
// never leave its process: the lab gets the JWK's public half for ca.json and certifies the
// TLS key through a CSR.
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../../environments/config.ts';
import type { ProvisioningServiceOptions, StartedProvisioningService } from './server.ts';

/** What the lab decides; the keys are the service's own. */
export type ServiceProcessOptions = Omit<ProvisioningServiceOptions, 'extraCrls' | 'onCrlUpdated' | 'clock' | 'tls' | 'ca'> & {
  ca: Omit<ProvisioningServiceOptions['ca'], 'privateJwk'>;
};

/** Lab -> service process. */
export type ToServiceProcess =
  | { type: 'prepare'; dataDir: string; keyAlgorithm: KeyAlgorithm; provisioner: string }
  | { type: 'start'; options: ServiceProcessOptions; certificateChainPem: string; extraCrls: string[] }
  | { type: 'issued-serials'; id: number }
  | { type: 'crl-updated-done'; id: number }
  | { type: 'stop' };

export type ServiceEndpoints = Pick<StartedProvisioningService, 'url' | 'insecureUrl' | 'acmeDirectoryUrl' | 'adminToken' | 'auditLogFile'>;

/** Service process -> lab. */
export type FromServiceProcess =
  | { type: 'prepared'; publicJwk: JWK; csrPem: string }
  | { type: 'ready'; endpoints: ServiceEndpoints }
  | { type: 'failed'; message: string }
  | { type: 'issued-serials-result'; id: number; serials: string[] }
  | { type: 'crl-updated'; id: number; crlPem: string }
  | { type: 'stopped' };
