// Checks one answer against its documented response: the status, the media type, the body
// against the schema (JSON Schema 2020-12, as OpenAPI 3.1 uses it) and the error code against
// x-codes. Every problem is named, so a failing line says exactly what the service got wrong.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ContractDocument, DocumentedResponse } from './document.ts';

/** What came back over the wire, as much of it as the contract speaks of. */
export interface Answer {
  status: number;
  contentType?: string;
  body: Buffer;
}

const DOCUMENT_ID = 'https://ecm-lab.invalid/provisioning/openapi.yaml';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

const isJson = (media: string) => media === 'application/json' || media.endsWith('+json');

/** The code a body carries: the service's `error`, or an RFC 8555 problem's `type`. */
export function codeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, type } = body as { error?: unknown; type?: unknown };
  if (typeof error === 'string') return error;
  return typeof type === 'string' ? type : undefined;
}

export class ContractValidator {
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(document: ContractDocument) {
    // strict off: an OpenAPI document carries keywords JSON Schema does not know (x-*, paths, ...).
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    this.#ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) });
    this.#ajv.addSchema(document.raw, DOCUMENT_ID);
  }

  /** Compiles every schema the document points at, so a broken one fails before any request. */
  compileAll(responses: DocumentedResponse[]): void {
    for (const r of responses) for (const pointer of Object.values(r.schemaPointers)) this.#validator(pointer);
  }

  #validator(pointer: string): ValidateFunction {
    let validate = this.#compiled.get(pointer);
    if (!validate) {
      validate = this.#ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
      if (!validate) throw new Error(`the document has no schema at ${pointer}`);
      this.#compiled.set(pointer, validate);
    }
    return validate;
  }

  /** Problems of a body against the schema at `pointer` (empty: it conforms). */
  schemaProblems(pointer: string, body: unknown): string[] {
    const validate = this.#validator(pointer);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`);
  }

  /** Every way the answer departs from the documented response. */
  check(documented: DocumentedResponse, answer: Answer): string[] {
    if (answer.status !== documented.status) {
      const code = this.#codeIfJson(answer);
      return [`expected status ${documented.status}, got ${answer.status}${code ? ` (${code})` : ''}`];
    }
    if (documented.mediaTypes.length === 0) return [];
    const media = (answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!documented.mediaTypes.includes(media)) return [`content type "${media || '(none)'}" is not one of ${documented.mediaTypes.join(', ')}`];
    const pointer = documented.schemaPointers[media];
    if (!pointer) return [];
    let body: unknown = answer.body.toString('utf8');
    if (isJson(media)) {
      try {
        body = JSON.parse(body as string);
      } catch {
        return [`the body is not JSON: ${JSON.stringify((body as string).slice(0, 80))}`];
      }
    }
    const problems = this.schemaProblems(pointer, body);
    if (documented.codes) {
      const code = codeOf(body);
      if (!code || !documented.codes.includes(code)) problems.push(`error code ${JSON.stringify(code ?? null)} is not one the document lists (${documented.codes.join(', ')})`);
    }
    return problems;
  }

  #codeIfJson(answer: Answer): string | undefined {
    try {
      return codeOf(JSON.parse(answer.body.toString('utf8')));
    } catch {
      return undefined;
    }
  }
}
