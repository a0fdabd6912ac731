// A simulated Reveos device: its own loopback address and certificate store, the certificate
// workflow of seed 000, and periodic telemetry with timestamps and sequence numbers (FR-DS-003).
import { CertificateClient, type CertificateClientOptions } from '../shared/certificate-client.ts';

export interface DeviceIdentity {
  deviceId: string;
  serialNumber: string;
  model: string;
  firmwareVersion: string;
}

export interface TelemetryMessage {
  deviceId: string;
  seq: number;
  /** Milliseconds since the epoch when sent; receivers compute delivery latency from it. */
  sentAt: number;
  firmwareVersion: string;
  readings: Record<string, number>;
}

/** The SAN that binds a certificate to a device id (seed 003). */
export function deviceSan(deviceId: string): string {
  return `urn:ecm-lab:device:${deviceId}`;
}

export function telemetryTopic(topicRoot: string, deviceId: string): string {
  return `${topicRoot}/${deviceId}/telemetry`;
}

export class ReveosDevice extends CertificateClient {
  readonly identity: DeviceIdentity;
  private readonly topicRoot: string;
  private seq = 0;

  constructor(
    identity: DeviceIdentity,
    options: Omit<CertificateClientOptions, 'commonName' | 'sans'> & { topicRoot?: string },
  ) {
    super({ ...options, commonName: identity.deviceId, sans: [deviceSan(identity.deviceId)] });
    this.identity = identity;
    this.topicRoot = options.topicRoot ?? 'reveos';
  }

  get telemetryTopic(): string {
    return telemetryTopic(this.topicRoot, this.identity.deviceId);
  }

  async publishTelemetry(readings: Record<string, number> = { temperatureC: 36.6 }): Promise<TelemetryMessage> {
    if (!this.mqtt) throw new Error(`device ${this.identity.deviceId} is not connected`);
    const message: TelemetryMessage = {
      deviceId: this.identity.deviceId,
      seq: ++this.seq,
      sentAt: Date.now(),
      firmwareVersion: this.identity.firmwareVersion,
      readings,
    };
    await this.mqtt.publishAsync(this.telemetryTopic, JSON.stringify(message), { qos: 1 });
    return message;
  }
}
