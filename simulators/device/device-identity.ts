// Who a device is, and how a certificate names it (seed 003: the device id in the SAN).
export interface DeviceIdentity {
  deviceId: string;
  serialNumber: string;
  model: string;
  firmwareVersion: string;
}

/** The SAN that binds a certificate to a device id. */
export function deviceSan(deviceId: string): string {
  return `urn:ecm-lab:device:${deviceId}`;
}
