// Every simulated client gets its own loopback address (Linux routes all of 127.0.0.0/8 to lo),
// so servers see distinct, real source addresses. 127.0.0.x stays free for the lab's services.
const FIRST_OCTET = 10;
const PER_WORKER = 1 << 16;

/** The address of client number `index` (0-based) of cucumber worker / segment `worker`. */
export function loopbackAddress(index: number, worker = 0): string {
  if (!Number.isInteger(index) || index < 0 || index >= PER_WORKER) throw new RangeError(`client index ${index} is outside 0..${PER_WORKER - 1}`);
  // 254 hosts per /24 keeps .0 and .255 out of use, which some tools treat specially.
  const second = Math.floor(index / (254 * 256));
  const rest = index % (254 * 256);
  const third = Math.floor(rest / 254);
  const fourth = (rest % 254) + 1;
  const octet = FIRST_OCTET + worker * 2 + second;
  if (octet > 254) throw new RangeError(`worker ${worker} is beyond the loopback range`);
  return `127.${octet}.${third}.${fourth}`;
}

/** The CIDR block holding every address loopbackAddress() gives a worker: a white list entry. */
export function workerAddressRange(worker = 0): string {
  return `127.${FIRST_OCTET + worker * 2}.0.0/15`;
}

/**
 * The managing application's own address in a worker's block: always the same one, so that a
 * re-provisioned application is recognised as the same host (its white-list entry names it).
 */
export function applicationAddress(worker = 0): string {
  return loopbackAddress(PER_WORKER - 1, worker);
}
