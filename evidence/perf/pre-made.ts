// Which figures of a summary were measured with keys made before the clock started: a key pair,
// a CSR or a certificate made beforehand takes its CPU out of the figure, so a reader must see
// which figures leave that work out (issue 21). The baselines always do (they time a component
// alone); the request and MQTT scenarios prepare each device's credential before the run; the
// full flow does only with `--pre-made-keys`.

/** The parts of a summary this reads (a type of its own: summary.ts imports this module). */
interface SummaryFacts {
  scenario: { family: 'fleet' | 'requests' };
  config: { certificates: 'provisioned' | 'issued'; preMadeKeys?: boolean };
  baselines: Partial<Record<(typeof BASELINES)[number], unknown>>;
  ratios: Record<string, number | null>;
}

const BASELINES = ['caSigning', 'caFlow', 'mosquittoClients', 'labClients', 'handshakes', 'handshakesNative'] as const;

/** The ratio keys that take one side from a baseline (pre-made) whatever the run did. */
const BASELINE_RATIOS = new Set(['fractionOfCaLimit', 'labMqttThroughputOverMosquittoClients', 'labCpuPerHandshakeOverBroker', 'nativeCpuPerHandshakeOverBroker', 'provisioningP50OverCaSignP50', 'devicesPerSecOverCaSignsPerSec', 'signsPerSecOverCaSigning']);

/** Whether the run's own iterations used keys made before the clock. */
export function runUsesPreMadeKeys(s: Pick<SummaryFacts, 'scenario' | 'config'>): boolean {
  return s.scenario.family === 'requests' || s.config.certificates === 'issued' || s.config.preMadeKeys === true;
}

/** The dotted names of the figures measured with pre-made keys, in the summary's order (ratios not measured are no figure). */
export function preMadeFigures(s: SummaryFacts): string[] {
  const out: string[] = BASELINES.filter((b) => s.baselines[b] !== undefined).map((b) => `baselines.${b}`);
  const run = runUsesPreMadeKeys(s);
  if (run) out.push('iterations', 'provisioning', 'mqtt.connectLatencyMs', 'cpu');
  for (const [key, value] of Object.entries(s.ratios)) if (value !== null && (run || BASELINE_RATIOS.has(key))) out.push(`ratios.${key}`);
  return out;
}
