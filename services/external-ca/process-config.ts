// The configuration file of the simulated external CA (written by the lab into the CA's own
// directory, as ca.json is for step-ca) and the names of the files it keeps there.
import { z } from 'zod';
import { keyAlgorithms } from '../../x509/keys.ts';

export const EXTERNAL_CA_FILES = {
  config: 'config.json',
  /** The root's private key: 0600, read by this process only; never copied anywhere else. */
  rootKey: 'root_ca.key',
  rootCert: 'root_ca.crt',
  /** What it issued and revoked, and its CRL number: survives a restart. */
  state: 'state.json',
  /** The operator's bearer token (0600): the operator's console reads it, nobody else needs it. */
  operatorToken: 'operator.token',
} as const;

/** 0 at the first start: the CA binds any port and writes the one it got back here, so a restart listens where its relying parties know it. */
const port = z.number().int().min(0).max(65535);

export const externalCaConfigSchema = z
  .object({
    host: z.literal('127.0.0.1'),
    /** Plain HTTP: root certificate and CRL. */
    publicPort: port,
    /** HTTPS: intermediate orders and revocations. */
    apiPort: port,
    keyAlgorithm: z.enum(keyAlgorithms),
    organization: z.string().min(1),
    rootValidityDays: z.number().int().positive(),
    intermediateValidityDays: z.number().int().positive(),
    crlValidityMs: z.number().int().min(1000),
    /** Who may order intermediates: each client's name and the public half of its ES256 key. */
    clients: z.array(z.object({ name: z.string().min(1), publicJwk: z.record(z.string(), z.unknown()) })).min(1),
  })
  .strict();

export type ExternalCaConfig = z.infer<typeof externalCaConfigSchema>;
