// Renders step-ca's ca.json: the lab's root and intermediate, an ACME provisioner for long-lived
// bootstrap certificates, an X5C provisioner that trades a bootstrap certificate for a short-lived
// operational one, and a JWK provisioner the provisioning service signs and revokes with.
import type { LabConfig } from '../config.ts';

/** Certificates for devices and the application are client-only (seed 000: "labelled client only"). */
export const CLIENT_ONLY_TEMPLATE = `{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
  "keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
  "keyUsage": ["digitalSignature"],
{{- end }}
  "extKeyUsage": ["clientAuth"]
}`;

export interface CaJsonInput {
  config: LabConfig['ca'];
  port: number;
  files: { root: string; intermediateCert: string; intermediateKey: string; database: string };
  /** PEM bundle of the CAs an X5C token's chain must lead to (those that issue bootstrap certs). */
  x5cRootsPem: string;
  /** Public JWK of the provisioning service's own provisioner. */
  serviceJwk: { name: string; publicKey: Record<string, unknown> };
}

export function renderCaJson(input: CaJsonInput): Record<string, unknown> {
  const { config } = input;
  return {
    root: input.files.root,
    crt: input.files.intermediateCert,
    key: input.files.intermediateKey,
    address: `${config.host}:${input.port}`,
    dnsNames: config.dnsNames,
    // Text logs show refusal reasons ("provisioner not found or invalid audience") in plain words.
    logger: { format: 'text' },
    db: { type: 'bbolt', dataSource: input.files.database },
    crl: { enabled: true, generateOnRevoke: true, cacheDuration: '24h' },
    tls: { minVersion: 1.2, maxVersion: 1.3, renegotiation: false },
    authority: {
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
          options: { x509: { template: CLIENT_ONLY_TEMPLATE } },
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
          options: { x509: { template: CLIENT_ONLY_TEMPLATE } },
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
          options: { x509: { template: CLIENT_ONLY_TEMPLATE } },
        },
      ],
    },
  };
}
