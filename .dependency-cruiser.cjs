// The layers of the house, top to bottom; an arrow may only point down (or stay in its folder):
//
//   bin/                                     the CLI: wires everything
//   steps/  load/                            what drives the lab: the scenarios, the load engine
//   evidence/                                what turns a run into pages (reads results, never runs anything)
//   conformance/                             a team's installation as the target, the contract replay
//   simulators/                              the clients: device, application, adversary, fleet, responder
//   environments/                            where components run: local processes, containers, compose
//   services/                                the servers the lab starts: provisioning service, external CA
//   config/                                  the one typed configuration and the firmware policy
//   net/                                     the wire facade: TLS policy, HTTPS, MQTT, RPC clients
//   x509/                                    the certificate facade: parsing, CAs, CRLs, keys, CSRs
//
// net/ sits above x509/ (it was once its peer): a TLS client hands on the certificates a handshake
// carried as PEM, which only the certificate facade makes; x509/ knows nothing of the wire.
// Tests (test/) may import any layer. `npm run lint:layers` runs this check.
//
// The two facade rules below see modules only. Node's own X509Certificate and TLS options come from
// node:crypto and node:tls/node:https, which most modules import for other things (randomUUID, an
// https.Agent), so forbidding the module would be too coarse: test/unit/facades.test.ts checks the
// statements (`new X509Certificate(`, `createSecureContext(`, `minVersion` ...) outside x509/ and
// net/ and names the file and line.
const LAYERS = [
  ['bin'],
  ['steps', 'load'],
  ['evidence'],
  ['conformance'],
  ['simulators'],
  ['environments'],
  ['services'],
  ['config'],
  ['net'],
  ['x509'],
];

const folders = (list) => `^(${list.join('|')})/`;
const forbidden = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(0, i).flat();
  const peers = layer.filter((f) => layer.length > 1).map((f) => ({ from: f, to: layer.filter((g) => g !== f) }));
  return [
    ...(above.length === 0 ? [] : [{
      name: `no-up-from-${layer.join('-')}`,
      comment: `${layer.join(', ')} sit below ${above.join(', ')}: an import of those runs back up`,
      severity: 'error',
      from: { path: folders(layer) },
      to: { path: folders(above) },
    }]),
    ...peers.map(({ from, to }) => ({
      name: `no-sideways-from-${from}`,
      comment: `${from} and ${to.join(', ')} are peers of one layer and do not import each other`,
      severity: 'error',
      from: { path: `^${from}/` },
      to: { path: folders(to) },
    })),
  ];
});

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'no-circular',
      comment: 'a cycle between modules makes neither of them understandable alone',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { circular: true },
    },
    {
      name: 'x509-facade',
      comment: 'only x509/ parses or builds certificates with the X.509 libraries (the one certificate facade)',
      severity: 'error',
      from: { path: '^(?!x509/|test/)' },
      to: { path: '(^|/)node_modules/(@peculiar/x509|@peculiar/asn1-x509|@peculiar/asn1-schema|asn1js)/' },
    },
    {
      name: 'tls-policy',
      comment: 'only net/ builds TLS options and sockets (net/tls-policy.ts holds the policy: TLS 1.2 minimum, the lab trust)',
      severity: 'error',
      // The adversary's tools build non-conforming TLS on purpose (old versions, foreign roots).
      from: { path: '^(?!net/|test/|simulators/adversary/)' },
      to: { dependencyTypes: ['core'], dependencyTypesNot: ['type-only'], path: '^(node:)?tls$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|reports|\\.tools)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
