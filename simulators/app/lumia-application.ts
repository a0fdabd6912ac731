// The simulated managing application "Lumia" (seed 000, FR-LA-*): provisions itself like a
// device, subscribes to every device's telemetry over mutual TLS and keeps what it received.
import { EventEmitter } from 'node:events';
import { CertificateClient, type CertificateClientOptions } from '../shared/certificate-client.ts';
import type { TelemetryMessage } from '../device/reveos-device.ts';

export interface ReceivedTelemetry {
  topic: string;
  message: TelemetryMessage;
  receivedAt: number;
}

export class LumiaApplication extends CertificateClient {
  readonly received: ReceivedTelemetry[] = [];
  private readonly events = new EventEmitter();
  private readonly topicRoot: string;

  constructor(options: Omit<CertificateClientOptions, 'sans' | 'commonName'> & { commonName?: string; topicRoot?: string }) {
    const commonName = options.commonName ?? 'lumia';
    super({ ...options, commonName, sans: [`urn:ecm-lab:app:${commonName}`] });
    this.topicRoot = options.topicRoot ?? 'reveos';
  }

  async subscribeToTelemetry(): Promise<void> {
    if (!this.mqtt) throw new Error('the application is not connected');
    this.mqtt.on('message', (topic, payload) => {
      let message: TelemetryMessage;
      try {
        message = JSON.parse(payload.toString('utf8')) as TelemetryMessage;
      } catch {
        return; // not telemetry; a later issue counts these as errors
      }
      const entry = { topic, message, receivedAt: Date.now() };
      this.received.push(entry);
      this.events.emit('telemetry', entry);
    });
    const granted = await this.mqtt.subscribeAsync(`${this.topicRoot}/+/telemetry/#`, { qos: 1 });
    if (granted.some((g) => g.qos === 128)) throw new Error('the broker refused the telemetry subscription');
  }

  /** Resolves with the first telemetry matching `predicate`, already received or arriving within the timeout. */
  async waitForTelemetry(predicate: (t: ReceivedTelemetry) => boolean, timeoutMs = 10_000): Promise<ReceivedTelemetry> {
    const seen = this.received.find(predicate);
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const listener = (entry: ReceivedTelemetry) => {
        if (!predicate(entry)) return;
        done();
        resolve(entry);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching telemetry within ${timeoutMs} ms (received ${this.received.length} messages)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.events.off('telemetry', listener);
      };
      this.events.on('telemetry', listener);
    });
  }
}
