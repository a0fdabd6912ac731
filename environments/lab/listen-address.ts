// The address the lab listens on (config lab.listenAddress): loopback by default, or an address of
// this host that other machines reach. Every listener binds it, and every server certificate names
// it (beside localhost and 127.0.0.1, which the lab's own clients on this host use); step-ca's
// first name becomes it too, so what step-ca writes into certificates for others to follow (its
// CRL distribution point) and the X5C audience name an address they can reach.
import os from 'node:os';
import { ConfigError, type LabConfig } from '../../config/config.ts';
import { isLoopbackAddress } from '../../config/schema.ts';
import { LOOPBACK_SERVER_NAMES } from '../pki/lab-authority.ts';
import type { ServerNames } from './broker.ts';

const LOOPBACK = '127.0.0.1';

/**
 * The addresses this host has: Linux routes all of 127.0.0.0/8 to lo, beyond it an interface
 * must carry the address. Checked before anything starts, so a mistyped address is named in one
 * line instead of four components failing to bind.
 */
export function hostHasAddress(address: string, interfaces = os.networkInterfaces()): boolean {
  if (isLoopbackAddress(address)) return true;
  return Object.values(interfaces).some((list) => (list ?? []).some((i) => i.family === 'IPv4' && i.address === address));
}

/** The configuration as the lab runs it: the components' hosts (and step-ca's names) on the listen address. */
export function placedConfig(config: LabConfig, interfaces = os.networkInterfaces()): LabConfig {
  const address = config.lab.listenAddress;
  if (address === LOOPBACK) return config;
  if (!hostHasAddress(address, interfaces)) {
    const own = Object.values(interfaces).flatMap((list) => (list ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address));
    throw new ConfigError(`lab.listenAddress ${address} is not an address of this host (its IPv4 addresses: ${own.join(', ')}; any of 127.0.0.0/8)`);
  }
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
