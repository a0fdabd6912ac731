// What every route of the provisioning service works with: its options, its stores, its two
// step-ca clients, and the helpers that keep answers and audit records consistent.
import type { Server } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import type { AuditEvent, AuditLog } from './audit-log.ts';
import type { CsrPolicy } from './csr-policy.ts';
import type { FirmwarePolicy } from '../../config/firmware-policy.ts';
import type { Enrolments } from './identities.ts';
import type { LegacyCredentials } from './legacy-credentials.ts';
import type { CertificateKind, CertificateRecord, Inventory } from './inventory.ts';
import type { Clock, ServiceState } from './service-state.ts';
import type { RevocationReason, StepCaClient } from './step-ca-client.ts';
import { sendProblem } from './problems.ts';

/** One step-ca authority as the service knows it. */
export interface AuthorityOptions {
  url: string;
  rootPem: string;
  /** The intermediate that signs its certificates, its TLS certificate included (which authenticates its webhook calls). */
  intermediatePem: string;
  /** First DNS name of step-ca: token audiences are https://<name>/1.0/<endpoint>. */
  audienceHost: string;
  jwkProvisioner: string;
  privateJwk: JWK;
  /** step-ca's request log: every certificate it issues, on any path, is recorded from it. */
  logFile?: string;
}

/**
 * What the service tells its host after a revocation: the lab hands the CRL to the broker and,
 * unless the certificate was superseded, disconnects the identity.
 */
export interface RevocationEvent {
  serial: string;
  identity: string;
  kind: CertificateKind;
  /**
   * The RFC 5280 reason. 'superseded' means the identity holds a successor with the same name and
   * its session already runs on it: the broker can only disconnect by name, which would end the
   * successor's session, so the CRL alone keeps the old certificate out of new handshakes.
   */
  reason: RevocationReason;
  /** The operational authority's fresh CRL (the only one the broker checks); absent for bootstrap credentials. */
  crlPem?: string;
}

export type LegacyCredentialChange = { action: 'create'; identity: string; password: string } | { action: 'delete'; identity: string };
/** Why the service replaces the issuing intermediate: the external CA's CRL lists it (UC-04). */
export interface IntermediateRevocation {
  /** The revoked intermediate's serial (hex). */
  serial: string;
  revokedAt?: string;
  /** RFC 5280 CRLReason name, as the CRL entry gives it. */
  crlReason?: string;
  crlNumber?: number;
  crlThisUpdate: string;
  crlUrl: string;
}

/** The external CA the issuing intermediate comes from (ca.issuer 'external'), as the service uses it. */
export interface ExternalCaOptions {
  /** HTTPS API: intermediate orders. */
  apiUrl: string;
  /** Plain-HTTP CRL the service watches. */
  crlUrl: string;
  /** The external root (the operational root then): its TLS and its CRLs are checked against it. */
  rootPem: string;
  checkIntervalMs: number;
  /** The service's name at the external CA, and its credential there: made in the service's process, never leaves it. */
  client: string;
  privateJwk: JWK;
}

/**
 * Who keeps step-ca's signing key (the lab): the service does not own step-ca, so it asks for a
 * new key's CSR and hands back the certificate the external CA signed; the keeper installs it and
 * restarts step-ca (and whatever else trusts the intermediate) on it.
 */
export interface IssuingCaKeeper {
  newCsr(): Promise<string>;
  install(input: { certificatePem: string; chainPem: string; cause: IntermediateRevocation }): Promise<void>;
}

export interface ProvisioningServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  httpsPort?: number;
  httpPort?: number;
  /** The webhook listener step-ca calls (mutual TLS: step-ca's own certificate authenticates it). */
  hooksPort?: number;
  /**
   * A socket bound for the webhook listener before step-ca was configured (its ca.json names the
   * webhooks' URL): the listener takes it over instead of binding hooksPort, so no other process
   * can take that port in between.
   */
  hooksSocket?: Server;
  tls: { certificateChainPem: string; privateKeyPem: string };
  /** The operational authority ("Certificate Manager"): X5C, renewal, revocation of operational certificates. */
  ca: AuthorityOptions & { x5cProvisioner: string };
  /** The bootstrap authority ("Provisioning Server"): ACME and the bootstrap endpoint. */
  bootstrapCa: AuthorityOptions & { acmeProvisioner: string };
  /** `deviceIdOid`: seed 003's device-id otherName, which operational certificates must carry equal to their CN (the default OID when absent). */
  trust: { applicationIdentity: string; reservedIdentities: string[]; deviceNetwork: string; deviceIdOid?: string };
  /** inventory.sqlite, enrolments.sqlite, state.json and audit.log live here and survive a restart. */
  dataDir: string;
  /** Generated when absent; printed once by `ecm-lab up`, never logged. */
  adminToken?: string;
  csrPolicy?: Partial<CsrPolicy>;
  /** seed 004 "serverkeygen": the service generates the key (over HTTPS only). Off by default. */
  serverKeyGen?: boolean;
  /** The algorithm of the keys serverkeygen makes (the lab's pki.keyAlgorithm; ECDSA P-256 by default). */
  keyAlgorithm?: KeyAlgorithm;
  /** Certificates expiring within this many seconds are reported as "expiring". */
  expiringWithinSeconds?: number;
  /** CRLs beyond the authorities' own that clients need to check whole chains (root CRL, retired intermediates). */
  extraCrls?: () => string[];
  /**
   * seed 002's grace period: an operational certificate a newer one of the same identity replaced
   * stays valid this long after the service saw the successor, then the service revokes it as
   * superseded. Absent: superseded certificates stay valid until they expire.
   */
  supersededGraceMs?: number;
  /** Called after every revocation, before the admin API answers. */
  onRevoked?: (event: RevocationEvent) => Promise<void>;
  /** Called when an application identity is enrolled, before step-ca is allowed to sign it (the lab grants it the broker's application role). */
  onApplicationEnrolled?: (identity: string) => Promise<void>;
  /** seed 000's mixed fleet: which firmware provisions itself and which must authenticate with a certificate. */
  firmware?: FirmwarePolicy;
  /** A legacy credential created or deleted: the lab gives the broker's legacy listener the password client, or takes it away. */
  onLegacyCredential?: (change: LegacyCredentialChange) => Promise<void>;
  /** With an external CA: the service watches its CRL and replaces a revoked intermediate by itself (UC-04). */
  externalCa?: ExternalCaOptions;
  /** Required with `externalCa`. */
  issuingCa?: IssuingCaKeeper;
  clock?: Clock;
}

export interface ServiceContext {
  options: ProvisioningServiceOptions;
  audit: AuditLog;
  inventory: Inventory;
  enrolments: Enrolments;
  legacy: LegacyCredentials;
  state: ServiceState;
  authorities: { operational: StepCaClient; bootstrap: StepCaClient };
  now(): number;
  expiringWithinMs: number;
}

export function sourceIp(req: FastifyRequest): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Every refusal answers the client and writes the same reason to the audit log. */
export function refuse(
  ctx: ServiceContext,
  reply: FastifyReply,
  req: FastifyRequest,
  event: string,
  decision: { reason: string; message: string },
  options: { status?: number; extra?: Partial<AuditEvent> } = {},
) {
  ctx.audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: decision.reason, message: decision.message, ...options.extra });
  return sendProblem(reply, options.status ?? 403, decision.reason, decision.message);
}

export function recordIssued(
  ctx: ServiceContext,
  chainPem: string,
  meta: { deviceId?: string; kind: CertificateKind; via: string },
  req: FastifyRequest,
  event: string,
): CertificateRecord {
  const record = ctx.inventory.record(chainPem, meta);
  ctx.audit.write({ event, decision: 'served', sourceIp: sourceIp(req), serial: record.serial, deviceId: record.deviceId, notAfter: record.notAfter.toISOString() });
  return record;
}
