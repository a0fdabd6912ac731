// Ports for components that cannot bind port 0 and say which port they got: step-ca and Mosquitto
// take their listen address from a configuration file the lab writes first (step-ca's also names
// its own URL in the CRL distribution points of its templates). A free port is chosen, and between
// the choice and the component's bind another process may take it; such a start is tried again
// on a newly chosen port. The lab's own processes (the provisioning service, the external CA) do
// not need this: they bind port 0 themselves and report the port.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { StartFailure } from './module.ts';

/**
 * The kernel's ephemeral range: the ports it hands out to outgoing connections and to port 0.
 * A port chosen there is soon some connection's local port (a load run opens hundreds), so a
 * port that must stay free until a component binds it is chosen below that range.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low > 11_000) return [low, high];
  } catch {
    // not Linux: the IANA dynamic range
  }
  return [49_152, 65_535];
}

function bindsNow(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port that is free on `host` now, outside the ephemeral range (it may still be taken
 * before it is bound: the modules start again on another port then).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + randomInt(ephemeralLow - low);
    if (await bindsNow(port, host)) return port;
  }
  throw new Error(`no free port on ${host} between ${low} and ${ephemeralLow - 1} after 50 tries`);
}

/** The ports of a module that binds what it is told (0: choose), and where free ones come from. */
export interface PortSettings {
  portSource(host: string): Promise<number>;
}

/** How each component says that its port is taken: step-ca (Go) and Mosquitto. */
const PORT_IN_USE = /address already in use/i;

export function portInUse(err: unknown): boolean {
  return err instanceof StartFailure && PORT_IN_USE.test(err.output);
}

export interface PortRetry<P, T> {
  /** For the message: 'step-ca', 'mosquitto'. */
  what: string;
  /** Ports as configured (0 = choose one); chosen anew for every attempt. */
  choose(): Promise<P>;
  start(ports: P): Promise<T>;
  /** False when every port was configured explicitly: another port is not what was asked for. */
  retry: boolean;
  attempts?: number;
  /** Where a retry is said (stderr by default). */
  say?(line: string): void;
}

/** Starts on chosen ports, and on others when a start failed because a port was taken meanwhile. */
export async function startOnFreePorts<P, T>(options: PortRetry<P, T>): Promise<T> {
  const attempts = options.retry ? (options.attempts ?? 5) : 1;
  const say = options.say ?? ((line: string) => console.error(`ecm-lab: ${line}`));
  for (let attempt = 1; ; attempt++) {
    const ports = await options.choose();
    try {
      return await options.start(ports);
    } catch (err) {
      if (!portInUse(err) || attempt >= attempts) throw err;
      say(`${options.what}: ${JSON.stringify(ports)} was taken by another process before it bound it; starting it on another port (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}
