// The calls between the lab and the provisioning service's own process (net/rpc.ts over the IPC
// channel of fork()). The service makes its own keys (the TLS key, the JWK it signs step-ca
// tokens with) and they never leave its process: the lab gets the JWK's public half for ca.json
// and certifies the TLS key through a CSR.
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import type { OrderedIntermediate } from '../../net/external-ca-api.ts';
import type { AuthorityOptions, ExternalCaOptions, IntermediateRevocation, LegacyCredentialChange, ProvisioningServiceOptions, RevocationEvent } from './context.ts';
import type { StartedProvisioningService } from './server.ts';

/** The service's credential at the external CA (ca.issuer 'external'): a key file (0600) in its data directory. */
export const EXTERNAL_CA_CLIENT_KEY_FILE = 'external-ca-client.json';

type WithoutKey<T extends AuthorityOptions> = Omit<T, 'privateJwk'>;

/** What the lab decides; the keys are the service's own, the hooks are calls back to the lab. */
export type ServiceProcessOptions = Omit<ProvisioningServiceOptions, 'extraCrls' | 'onRevoked' | 'onApplicationEnrolled' | 'onLegacyCredential' | 'clock' | 'tls' | 'ca' | 'bootstrapCa' | 'externalCa' | 'issuingCa' | 'hooksSocket'> & {
  ca: WithoutKey<ProvisioningServiceOptions['ca']>;
  bootstrapCa: WithoutKey<ProvisioningServiceOptions['bootstrapCa']>;
  /** The external CA (ca.issuer 'external'); the service's credential there is its own. */
  externalCa?: Omit<ExternalCaOptions, 'privateJwk'>;
};

/** Where an intermediate is ordered (the lab's first, before the service listens; later ones by the service itself). */
export interface IntermediateOrder {
  apiUrl: string;
  rootPem: string;
  client: string;
  csrPem: string;
}

export type ServiceEndpoints = Pick<StartedProvisioningService, 'url' | 'insecureUrl' | 'hooksUrl' | 'acmeDirectoryUrl' | 'adminToken' | 'auditLogFile'>;

/** Handlers of the service process, called by the lab. */
export interface ServiceProcessApi {
  [method: string]: (params: never) => unknown;
  /**
   * Its keys; with `externalCaClient`, also its credential at the external CA (the public half
   * comes back). It binds its webhook listener's socket now (on `hooks.port`, 0 = any), so the
   * port step-ca's ca.json names is held by the service from here on; the TLS key's CSR names
   * `serverNames` (the addresses and names its clients reach it by).
   */
  prepare(params: {
    dataDir: string;
    keyAlgorithm: KeyAlgorithm;
    provisioner: string;
    externalCaClient?: string;
    hooks: { host: string; port: number };
    serverNames: { dnsNames: string[]; ipAddresses: string[] };
  }): Promise<{ publicJwk: JWK; csrPem: string; externalCaClientJwk?: JWK; hooksPort: number }>;
  /** Orders an intermediate at the external CA with the service's credential (the lab's first one). */
  orderIntermediate(params: IntermediateOrder): Promise<OrderedIntermediate>;
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
  /** UC-04: a new key for step-ca, kept by the lab; its CSR comes back. */
  intermediateCsr(): Promise<{ csrPem: string }>;
  /** UC-04: the external CA's certificate for that key; the lab installs it and restarts step-ca (and the service) on it. */
  installIntermediate(params: { certificatePem: string; chainPem: string; cause: IntermediateRevocation }): Promise<void>;
}
