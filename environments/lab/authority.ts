// A step-ca authority as the lab holds it: the step-ca module started on the lab's CA files and
// ca.json (the provisioners of its role, pki/ca-json.ts), restartable on the same port, directory
// and database. The lab runs two (docs/trust-model.md): the bootstrap authority and the
// operational one.
import type { LabConfig } from '../../config/config.ts';
import type { RestartableComponent } from '../modules/module.ts';
import type { Placement } from '../modules/placement.ts';
import type { StartedStepCa, StepCaAddress, StepCaRoots } from '../modules/step-ca.ts';
import { ComponentSlot } from './component-slot.ts';

/** restart(): on the same port, database and configuration (fault injection, rotation): the files are read again. */
export interface LabStepCa extends RestartableComponent {
  /** Process and log name: 'step-ca' (operational) or 'bootstrap-ca'. */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly caJsonFile: string;
}

export interface AuthorityOptions {
  placement: Placement;
  name: 'step-ca' | 'bootstrap-ca';
  config: LabConfig;
  /** The address it listens on. */
  host: string;
  /** The PEM files of its hierarchy (re-read at every start: a rotation rewrites them first). */
  roots: StepCaRoots;
  provisioners(address: StepCaAddress): Array<Record<string, unknown>>;
  /** http-01 validation on this port (the bootstrap authority only). */
  acmeHttpPort?: number;
  /** Extra environment, e.g. SSL_CERT_FILE: the trust store of step-ca's webhook client. */
  env?: Record<string, string>;
  dir: string;
  logFile: string;
  /** The port it is configured with (0: chosen). */
  port: number;
}

export async function startAuthority(options: AuthorityOptions): Promise<LabStepCa> {
  const { config } = options;
  const slot = await ComponentSlot.start<StartedStepCa>((previous) => {
    const builder = options.placement
      .stepCa()
      .withComponentName(options.name)
      .withAddress(options.host, previous?.getPort() ?? options.port)
      .withDnsNames(config.ca.dnsNames)
      .withRoots(options.roots)
      .withProvisioners((address) => options.provisioners(address))
      .withCrlValidity(config.ca.crlValidity)
      .withCaEnvironment(options.env ?? {})
      .withDirectory(options.dir)
      .withLogFile(options.logFile)
      .withReadinessTimeout(config.readinessTimeoutMs);
    return (options.acmeHttpPort === undefined ? builder : builder.withAcmeHttpPort(options.acmeHttpPort)).start();
  });
  const first = slot.current;
  const stop = () => slot.stop();
  return {
    name: options.name,
    url: first.getCaUrl(),
    port: first.getPort(),
    caJsonFile: first.caJsonFile,
    get logFile() {
      return slot.logFile;
    },
    get pid() {
      return slot.pid;
    },
    get running() {
      return slot.running;
    },
    restart: () => slot.restart(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
