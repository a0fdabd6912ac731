// Renders the ca.json of the lab's two step-ca authorities (docs/trust-model.md):
// - the bootstrap authority (the seed's "Provisioning Server"): its own root; an ACME provisioner
//   for long-lived bootstrap credentials and a JWK provisioner for the provisioning service's
//   bootstrap endpoint;
// - the operational authority (the seed's "Certificate Manager"): the root the broker and every
//   client trust; an X5C provisioner that accepts only bootstrap credentials (its roots are the
//   bootstrap root) and a JWK provisioner the provisioning service signs and revokes with.
// Both consult the provisioning service through AUTHORIZING webhooks before they sign, so a
// client that talks to step-ca directly meets the same rules as one that goes through the service.
import type { LabConfig } from '../../config/config.ts';
import { DEVICE_ID_OID } from '../../x509/device-id.ts';
import { STEP_CA_TLS } from '../../net/tls-policy.ts';

/** Key usages for a client-only leaf: RSA keys also encipher (TLS 1.2 RSA key exchange is not offered, but clients expect it). */
const keyUsage = `{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
  "keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
  "keyUsage": ["digitalSignature"],
{{- end }}`;

/**
 * Operational certificates for devices and the application are client-only (seed 000: "labelled
 * client only"). They name the CRL's URL: step-ca's CRL carries a critical Issuing Distribution
 * Point, and OpenSSL (the broker) applies such a CRL only to certificates with a matching CDP.
 */
export function clientOnlyTemplate(crlUrl: string): string {
  return `{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "crlDistributionPoints": ${JSON.stringify([crlUrl])},
${keyUsage}
  "extKeyUsage": ["clientAuth"]
}`;
}

/**
 * Operational certificates: client-only, and (seed 003) the device id in an otherName SAN under
 * `deviceIdOid`, from the CN (which the service's webhook has bound to the credential). step-ca
 * (go.step.sm/crypto x509util) encodes a SAN whose type is an OID as an otherName, its value
 * "utf8:<text>" as a UTF8String.
 */
export function operationalTemplate(crlUrl: string, deviceIdOid: string): string {
  return `{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson (append .SANs (dict "type" ${JSON.stringify(deviceIdOid)} "value" (printf "utf8:%s" .Subject.CommonName))) }},
  "crlDistributionPoints": ${JSON.stringify([crlUrl])},
${keyUsage}
  "extKeyUsage": ["clientAuth"]
}`;
}

/**
 * Bootstrap credentials from ACME name the address whose control http-01 proved, and nothing
 * else. clientAuth and digitalSignature are what step-ca's X5C provisioner demands of the
 * credential that signs its token; the broker never sees them, because it trusts only the
 * operational root.
 */
export function acmeBootstrapTemplate(crlUrl: string): string {
  return `{
  "subject": {"commonName": {{ toJson (index .SANs 0).Value }}},
  "sans": {{ toJson .SANs }},
  "crlDistributionPoints": ${JSON.stringify([crlUrl])},
${keyUsage}
  "extKeyUsage": ["clientAuth"]
}`;
}

/** The URL a step-ca publishes its CRL at, used both as the CRL's IDP and as every leaf's CDP. */
export function crlUrl(config: { dnsNames: string[] }, port: number): string {
  return `https://${config.dnsNames[0]}:${port}/1.0/crl`;
}

export interface AuthorityFiles {
  root: string;
  intermediateCert: string;
  intermediateKey: string;
  database: string;
}

export interface CaJsonInput {
  config: LabConfig['ca'];
  port: number;
  files: AuthorityFiles;
  /** Public JWK of the provisioning service's own provisioner. */
  serviceJwk: { name: string; publicKey: Record<string, unknown> };
  /** Base URL of the provisioning service's webhook listener, e.g. https://127.0.0.1:41234 */
  webhookBaseUrl: string;
  /** seed 003's device-id otherName in operational certificates (the lab's trust.deviceIdOid). */
  deviceIdOid?: string;
}

function authorityCommon(input: CaJsonInput, crl: string) {
  const { config } = input;
  return {
    root: input.files.root,
    crt: input.files.intermediateCert,
    key: input.files.intermediateKey,
    address: `${config.host}:${input.port}`,
    dnsNames: config.dnsNames,
    // Text logs show refusal reasons ("provisioner not found or invalid audience") in plain words,
    // and every issued certificate (certificate=<base64 DER>), which the service's inventory follows.
    logger: { format: 'text' },
    db: { type: 'bbolt', dataSource: input.files.database },
    crl: { enabled: true, generateOnRevoke: true, cacheDuration: config.crlValidity, idpURL: crl },
    tls: STEP_CA_TLS,
  };
}

function authorizingWebhook(input: CaJsonInput, name: string) {
  return { name, url: `${input.webhookBaseUrl}/webhooks/${name}`, kind: 'AUTHORIZING', certType: 'X509' };
}

/** step-ca backdates by a minute by default; with lifetimes of seconds in renewal scenarios that would dominate. */
const BACKDATE = '5s';

export function renderOperationalCaJson(input: CaJsonInput & { x5cRootsPem: string }): Record<string, unknown> {
  const { config } = input;
  const crl = crlUrl(config, input.port);
  const template = operationalTemplate(crl, input.deviceIdOid ?? DEVICE_ID_OID);
  return {
    ...authorityCommon(input, crl),
    authority: {
      backdate: BACKDATE,
      provisioners: [
        {
          type: 'X5C',
          name: config.x5cProvisioner,
          // Only bootstrap credentials mint operational certificates: the chain of an X5C token
          // must end at the bootstrap root, which signs nothing else. step-ca decodes this []byte
          // field from base64 (Go's encoding/json convention).
          roots: Buffer.from(input.x5cRootsPem).toString('base64'),
          claims: {
            minTLSCertDuration: config.minCertDuration,
            defaultTLSCertDuration: config.operationalCertDuration,
            maxTLSCertDuration: config.maxOperationalCertDuration,
          },
          options: { x509: { template }, webhooks: [authorizingWebhook(input, 'x5c-identity')] },
        },
        {
          type: 'JWK',
          name: input.serviceJwk.name,
          key: input.serviceJwk.publicKey,
          claims: {
            minTLSCertDuration: config.minCertDuration,
            defaultTLSCertDuration: config.operationalCertDuration,
            maxTLSCertDuration: config.maxOperationalCertDuration,
          },
          options: { x509: { template } },
        },
      ],
    },
  };
}

export function renderBootstrapCaJson(input: CaJsonInput): Record<string, unknown> {
  const { config } = input;
  const crl = crlUrl(config, input.port);
  // A bootstrap credential is re-acquired by ACME, never renewed: renewal would skip the
  // service's window and white list (step-ca calls no webhook on /1.0/renew).
  const claims = {
    minTLSCertDuration: config.minCertDuration,
    defaultTLSCertDuration: config.bootstrapCertDuration,
    maxTLSCertDuration: config.bootstrapCertDuration,
    disableRenewal: true,
  };
  return {
    ...authorityCommon(input, crl),
    authority: {
      backdate: BACKDATE,
      provisioners: [
        {
          type: 'ACME',
          name: config.acmeProvisioner,
          challenges: ['http-01'],
          claims,
          options: { x509: { template: acmeBootstrapTemplate(crl) }, webhooks: [authorizingWebhook(input, 'acme-window')] },
        },
        {
          type: 'JWK',
          name: input.serviceJwk.name,
          key: input.serviceJwk.publicKey,
          claims,
          options: { x509: { template: clientOnlyTemplate(crl) } },
        },
      ],
    },
  };
}
