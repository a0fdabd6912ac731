// Renders step-ca's ca.json: the lab's root and intermediate, an ACME provisioner for long-lived
// bootstrap certificates, an X5C provisioner that trades a bootstrap certificate for a short-lived
// operational one, and a JWK provisioner the provisioning service signs and revokes with.
import type { LabConfig } from '../config.ts';

/**
 * Certificates for devices and the application are client-only (seed 000: "labelled client
 * only"). They name the CRL's URL: step-ca's CRL carries a critical Issuing Distribution Point,
 * and OpenSSL (the broker) applies such a CRL only to certificates with a matching CDP.
 */
export function clientOnlyTemplate(crlUrl: string): string {
  return `{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "crlDistributionPoints": ${JSON.stringify([crlUrl])},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
  "keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
  "keyUsage": ["digitalSignature"],
{{- end }}
  "extKeyUsage": ["clientAuth"]
}`;
}

/** The URL step-ca publishes its CRL at, used both as the CRL's IDP and as every leaf's CDP. */
export function crlUrl(config: { dnsNames: string[] }, port: number): string {
  return `https://${config.dnsNames[0]}:${port}/1.0/crl`;
}

export interface CaJsonInput {
  config: LabConfig['ca'];
  port: number;
  files: { root: string; intermediateCert: string; intermediateKey: string; database: string };
  /** PEM of the CA(s) an X5C token's chain must lead to: the intermediate that issues bootstrap certificates. */
  x5cRootsPem: string;
  /** Public JWK of the provisioning service's own provisioner. */
  serviceJwk: { name: string; publicKey: Record<string, unknown> };
}

export function renderCaJson(input: CaJsonInput): Record<string, unknown> {
  const { config } = input;
  const crl = crlUrl(config, input.port);
  const template = clientOnlyTemplate(crl);
  return {
    root: input.files.root,
    crt: input.files.intermediateCert,
    key: input.files.intermediateKey,
    address: `${config.host}:${input.port}`,
    dnsNames: config.dnsNames,
    // Text logs show refusal reasons ("provisioner not found or invalid audience") in plain words.
    logger: { format: 'text' },
    db: { type: 'bbolt', dataSource: input.files.database },
    crl: { enabled: true, generateOnRevoke: true, cacheDuration: '24h', idpURL: crl },
    tls: { minVersion: 1.2, maxVersion: 1.3, renegotiation: false },
    authority: {
      // step-ca backdates by a minute by default; with lifetimes of seconds in renewal scenarios
      // that would dominate the validity window. One process tree on one clock needs little.
      backdate: '5s',
      provisioners: [
        {
          type: 'ACME',
          name: config.acmeProvisioner,
          challenges: ['http-01'],
          claims: {
            minTLSCertDuration: config.minCertDuration,
            defaultTLSCertDuration: config.bootstrapCertDuration,
            maxTLSCertDuration: config.bootstrapCertDuration,
          },
          options: { x509: { template } },
        },
        {
          type: 'X5C',
          name: config.x5cProvisioner,
          // step-ca decodes this []byte field from base64 (Go's encoding/json convention).
          roots: Buffer.from(input.x5cRootsPem).toString('base64'),
          claims: {
            minTLSCertDuration: config.minCertDuration,
            defaultTLSCertDuration: config.operationalCertDuration,
            maxTLSCertDuration: config.maxOperationalCertDuration,
          },
          options: { x509: { template } },
        },
        {
          type: 'JWK',
          name: input.serviceJwk.name,
          key: input.serviceJwk.publicKey,
          claims: {
            minTLSCertDuration: config.minCertDuration,
            defaultTLSCertDuration: config.bootstrapCertDuration,
            maxTLSCertDuration: config.bootstrapCertDuration,
          },
          options: { x509: { template } },
        },
      ],
    },
  };
}
