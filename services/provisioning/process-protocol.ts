// The calls between the lab and the provisioning service's own process (net/rpc.ts over the IPC
// channel of fork()). The service makes its own keys (the TLS key, the JWK it signs step-ca
// tokens with) and they never leave its process: the lab gets the JWK's public half for ca.json
// and certifies the TLS key through a CSR.
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import type { AuthorityOptions, LegacyCredentialChange, ProvisioningServiceOptions, RevocationEvent } from './context.ts';
import type { StartedProvisioningService } from './server.ts';

type WithoutKey<T extends AuthorityOptions> = Omit<T, 'privateJwk'>;

/** What the lab decides; the keys are the service's own, the hooks are calls back to the lab. */
export type ServiceProcessOptions = Omit<ProvisioningServiceOptions, 'extraCrls' | 'onRevoked' | 'onApplicationEnrolled' | 'onLegacyCredential' | 'clock' | 'tls' | 'ca' | 'bootstrapCa'> & {
  ca: WithoutKey<ProvisioningServiceOptions['ca']>;
  bootstrapCa: WithoutKey<ProvisioningServiceOptions['bootstrapCa']>;
};

export type ServiceEndpoints = Pick<StartedProvisioningService, 'url' | 'insecureUrl' | 'hooksUrl' | 'acmeDirectoryUrl' | 'adminToken' | 'auditLogFile'>;

/** Handlers of the service process, called by the lab. */
export interface ServiceProcessApi {
  [method: string]: (params: never) => unknown;
  prepare(params: { dataDir: string; keyAlgorithm: KeyAlgorithm; provisioner: string }): Promise<{ publicJwk: JWK; csrPem: string }>;
  start(params: { options: ServiceProcessOptions; certificateChainPem: string; extraCrls: string[] }): Promise<ServiceEndpoints>;
  issuedSerials(params: { issuer?: string }): Promise<string[]>;
  stop(): Promise<void>;
}

/** Handlers of the lab, called by the service process. */
export interface LabHooksApi {
  [method: string]: (params: never) => unknown;
  /** After a revocation: the lab hands the CRL to the broker and disconnects the identity. */
  revoked(event: RevocationEvent): Promise<void>;
  /** A new application identity: the lab gives it the broker's application role. */
  applicationEnrolled(params: { identity: string }): Promise<void>;
  /** A legacy credential created or deleted: the lab gives the broker's legacy listener the password client, or takes it away. */
  legacyCredential(change: LegacyCredentialChange): Promise<void>;
}
