// The provisioning service's contract as the replay reads it: services/provisioning/openapi.yaml,
// flattened to one entry per (path, method, status) with what the replay checks (media types,
// body schema, error codes) and what it needs to produce the status (x-needs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const DOCUMENT_FILE = fileURLToPath(new URL('../../services/provisioning/openapi.yaml', import.meta.url));

export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
export type Method = (typeof METHODS)[number];
export type Listener = 'https' | 'http' | 'hooks';

/** One documented (path, method, status). */
export interface DocumentedResponse {
  key: string;
  path: string;
  method: Method;
  status: number;
  listeners: Listener[];
  /** Media types the body may have; empty when the response documents no body. */
  mediaTypes: string[];
  /** JSON pointer (into the document) of the body schema of each media type. */
  schemaPointers: Record<string, string>;
  /** The `error` codes (or ACME `type` URNs) the body may carry; undefined when the response has none. */
  codes?: string[];
  needs: string[];
  forwarded: boolean;
}

export interface ContractDocument {
  raw: Record<string, unknown>;
  file: string;
  responses: DocumentedResponse[];
  /** x-needs-catalogue: every need a response may name, with what it means. */
  needs: Record<string, string>;
}

/** The key recipes and reports use: "POST /api/v1/bootstrap 403". */
export const responseKey = (method: string, path: string, status: number | string): string => `${method.toUpperCase()} ${path} ${status}`;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 6901: "/" and "~" inside a segment. */
const pointerSegment = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function resolveRef(doc: Obj, ref: string): { value: Obj; pointer: string } {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, not ${ref}`);
  let value: unknown = doc;
  for (const segment of ref.slice(2).split('/')) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    value = isObj(value) ? value[key] : undefined;
  }
  if (!isObj(value)) throw new Error(`$ref ${ref} points at nothing`);
  return { value, pointer: ref.slice(1) };
}

const stringList = (v: unknown, where: string): string[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Error(`${where} must be a list of strings`);
  return v;
};

export function parseContract(text: string, file = DOCUMENT_FILE): ContractDocument {
  const raw = parse(text) as unknown;
  if (!isObj(raw) || typeof raw.openapi !== 'string' || !raw.openapi.startsWith('3.1')) throw new Error(`${file}: not an OpenAPI 3.1 document`);
  const info = isObj(raw.info) ? raw.info : {};
  const needs = isObj(info['x-needs-catalogue']) ? (info['x-needs-catalogue'] as Record<string, string>) : {};
  const paths = isObj(raw.paths) ? raw.paths : {};
  const responses: DocumentedResponse[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isObj(item)) continue;
    const listeners = stringList(item['x-listeners'], `${path} x-listeners`) as Listener[];
    if (listeners.length === 0) throw new Error(`${file}: ${path} names no x-listeners`);
    for (const method of METHODS) {
      const operation = item[method];
      if (!isObj(operation)) continue;
      if (!isObj(operation.responses)) throw new Error(`${file}: ${method.toUpperCase()} ${path} documents no responses`);
      for (const [status, declared] of Object.entries(operation.responses)) {
        const where = responseKey(method, path, status);
        if (!/^[1-5]\d\d$/.test(status)) throw new Error(`${file}: ${where}: a status must be a number (no ranges, no "default")`);
        if (!isObj(declared)) throw new Error(`${file}: ${where} is not an object`);
        const ref = typeof declared.$ref === 'string' ? resolveRef(raw, declared.$ref) : undefined;
        const response = ref?.value ?? declared;
        const pointer = ref?.pointer ?? `/paths/${pointerSegment(path)}/${method}/responses/${status}`;
        const content = isObj(response.content) ? response.content : {};
        const schemaPointers: Record<string, string> = {};
        for (const [media, body] of Object.entries(content)) {
          if (isObj(body) && isObj(body.schema)) schemaPointers[media] = `${pointer}/content/${pointerSegment(media)}/schema`;
        }
        const codes = response['x-codes'] === undefined ? undefined : stringList(response['x-codes'], `${where} x-codes`);
        responses.push({
          key: where,
          path,
          method,
          status: Number(status),
          listeners,
          mediaTypes: Object.keys(content),
          schemaPointers,
          codes,
          needs: stringList(response['x-needs'], `${where} x-needs`),
          forwarded: response['x-forwarded'] === true,
        });
      }
    }
  }
  return { raw, file, responses, needs };
}

export function loadContract(file = DOCUMENT_FILE): ContractDocument {
  return parseContract(readFileSync(file, 'utf8'), file);
}
