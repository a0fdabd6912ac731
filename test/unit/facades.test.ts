// The two facade rules of the house that an import graph cannot see (.dependency-cruiser.cjs
// checks modules, and a module may import node:crypto for randomUUID and still build a
// certificate): only x509/ constructs certificate objects, only net/ builds TLS options. The
// adversary's tools build non-conforming TLS on purpose (old versions, no floor).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

interface FacadeRule {
  name: string;
  /** Folders (relative to the repository, trailing slash) where the construction belongs. */
  home: string[];
  patterns: RegExp[];
  /** Where code elsewhere asks instead. */
  instead: string;
}

const RULES: FacadeRule[] = [
  {
    name: 'only x509/ constructs certificates',
    home: ['x509/'],
    patterns: [
      /new\s+(?:X509Certificate|NodeX509|x509\.X509Certificate|crypto\.X509Certificate)\s*\(/,
      /import\s*(?:type\s*)?\{[^}]*\bX509Certificate\b[^}]*\}\s*from\s*'(?:node:)?crypto'/,
    ],
    instead: 'x509/certificates.ts (parseCertificate, certificateSerial, certificatePublicKey, certificateDer, pemOfDer) or x509/x509.ts (decodeCertificate)',
  },
  {
    name: 'only net/tls-policy builds TLS options',
    home: ['net/', 'simulators/adversary/'],
    patterns: [/\bcreateSecureContext\s*\(/, /\bminVersion\b/, /\brequestCert\b/, /\bsecureProtocol\b/],
    instead: 'net/tls-policy.ts (clientTlsOptions, serverTlsOptions, mutualServerTlsOptions, STEP_CA_TLS)',
  },
];

/** Every source folder tsconfig.json type-checks, except the tests (which may build anything). */
function sourceFiles(): string[] {
  const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
  return tsconfig.include
    .filter((folder) => folder !== 'test')
    .flatMap((folder) => readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' }).map((f) => `${folder}/${f}`))
    .filter((file) => /\.(?:ts|js|mjs|cjs)$/.test(file))
    .sort();
}

/** Lines that are code: a comment may name what it must not do. */
function codeLines(file: string): Array<[number, string]> {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  return lines.flatMap((line, i): Array<[number, string]> => (/^\s*(?:\/\/|\/\*|\*)/.test(line) ? [] : [[i + 1, line]]));
}

/** Each place a rule's pattern occurs, as `file:line` with the line. */
function findings(rule: FacadeRule, files: string[], where: 'outside' | 'inside'): string[] {
  const inHome = (file: string) => rule.home.some((folder) => file.startsWith(folder));
  return files
    .filter((file) => (where === 'inside' ? inHome(file) : !inHome(file)))
    .flatMap((file) => codeLines(file).filter(([, line]) => rule.patterns.some((p) => p.test(line))).map(([n, line]) => `${file}:${n}: ${line.trim()}`));
}

const files = sourceFiles();

for (const rule of RULES) {
  test(`${rule.name}: no source file outside ${rule.home.join(', ')} does it`, () => {
    const found = findings(rule, files, 'outside');
    assert.deepEqual(found, [], `${rule.name}; ask ${rule.instead} instead:\n  ${found.join('\n  ')}`);
  });

  test(`${rule.name}: the scan sees the constructions in ${rule.home[0]} (it is not blind)`, () => {
    assert.ok(findings(rule, files, 'inside').length > 0, `no pattern of "${rule.name}" matched inside ${rule.home.join(', ')}: the patterns no longer match the code`);
  });
}

test('the scan covers every source folder of tsconfig.json, x509/ and net/ among them', () => {
  for (const folder of ['x509/', 'net/', 'services/', 'simulators/', 'steps/', 'environments/']) {
    assert.ok(files.some((f) => f.startsWith(folder)), `no source file found under ${folder}`);
  }
});
