// The address the lab listens on (config lab.listenAddress): loopback by default, or an address of
// this host that other machines reach. Every listener binds it, and every server certificate names
// it (beside localhost and 127.0.0.1, which the lab's own clients on this host use); step-ca's
// first name becomes it too, so what step-ca writes into certificates for others to follow (its
// CRL distribution point) and the X5C audience name an address they can reach.
import type { LabConfig } from '../../config/config.ts';
import { LOOPBACK_SERVER_NAMES } from '../pki/lab-authority.ts';
import type { ServerNames } from './broker.ts';

const LOOPBACK = '127.0.0.1';

/** The configuration as the lab runs it: the components' hosts (and step-ca's names) on the listen address. */
export function placedConfig(config: LabConfig): LabConfig {
  const address = config.lab.listenAddress;
  if (address === LOOPBACK) return config;
  return {
    ...config,
    ca: { ...config.ca, host: address, dnsNames: [address, ...config.ca.dnsNames.filter((name) => name !== address)] },
    broker: { ...config.broker, host: address },
    provisioning: { ...config.provisioning, host: address },
  };
}

/** What the broker's and the service's certificates name. */
export function serverNamesOf(config: LabConfig): ServerNames {
  const address = config.lab.listenAddress;
  return address === LOOPBACK ? LOOPBACK_SERVER_NAMES : { dnsNames: LOOPBACK_SERVER_NAMES.dnsNames, ipAddresses: [...LOOPBACK_SERVER_NAMES.ipAddresses, address] };
}
