// A simulated Reveos device: its own loopback address and certificate store, the certificate
// workflow of seed 000, periodic telemetry with timestamps and sequence numbers (FR-DS-003),
// and answers to the application's commands.
import { setTimeout as delay } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { CertificateClient, type BrokerTarget, type CertificateClientOptions, type PowerUpSettings } from '../client/certificate-client.ts';
import type { LegacyCredential } from '../client/certificate-store.ts';
import type { PowerUpOutcome } from '../client/power-up.ts';
import { certificateTrack, DEFAULT_FIRMWARE_POLICY, legacyTopicRoot, type CertificateTrack, type FirmwarePolicy } from '../../config/firmware-policy.ts';
import { deviceSan, type DeviceIdentity } from './device-identity.ts';
import { requestBootstrapOverPlainHttp } from '../client/plain-http-bootstrap.ts';
import { inspectCertificate } from '../../x509/certificates.ts';

export { deviceSan, type DeviceIdentity };

export interface TelemetryMessage {
  deviceId: string;
  seq: number;
  /** Milliseconds since the epoch when sent; receivers compute delivery latency from it. */
  sentAt: number;
  firmwareVersion: string;
  readings: Record<string, number>;
}

export interface CommandMessage {
  commandId: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface CommandReply {
  commandId: string;
  deviceId: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export const topics = {
  telemetry: (root: string, deviceId: string) => `${root}/${deviceId}/telemetry`,
  commands: (root: string, deviceId: string) => `${root}/${deviceId}/cmd`,
  replies: (root: string, deviceId: string) => `${root}/${deviceId}/reply`,
};

export interface DevicePowerUpSettings extends PowerUpSettings {
  /** seed 000's mixed fleet: which firmware provisions itself, which must use a certificate. */
  firmware?: FirmwarePolicy;
}

/** The certificate workflow's outcome, with the device's firmware track and how it authenticated. */
export type DevicePowerUpOutcome = PowerUpOutcome & { track: CertificateTrack; authentication?: 'certificate' | 'legacy-credential' };

export class ReveosDevice extends CertificateClient {
  readonly identity: DeviceIdentity;
  readonly topicRoot: string;
  /** Commands answered, in order, for scenarios that check the application reached the device. */
  readonly commandsHandled: CommandMessage[] = [];
  private seq = 0;
  private acked = 0;
  private telemetryLoop: { stop: AbortController; done: Promise<void> } | undefined;

  constructor(
    identity: DeviceIdentity,
    options: Omit<CertificateClientOptions, 'commonName' | 'sans'> & {
      topicRoot?: string;
      /** The last sequence number sent before a restart: a device persists its counter. */
      lastSeq?: number;
    },
  ) {
    super({ ...options, commonName: identity.deviceId, sans: [deviceSan(identity.deviceId)] });
    this.identity = identity;
    this.topicRoot = options.topicRoot ?? 'reveos';
    this.activeTopicRoot = this.topicRoot;
    this.seq = options.lastSeq ?? 0;
    // A restarted device's counter was acknowledged before it went down (it stopped cleanly).
    this.acked = this.seq;
  }

  /**
   * seed 000's mixed fleet: 2.1 runs the whole certificate workflow; 2.0 connects only with the
   * certificate the service team installed; below "x" a device without such a certificate may
   * use its legacy credential on the broker's legacy listener.
   */
  override async powerUp(settings: DevicePowerUpSettings = {}): Promise<DevicePowerUpOutcome> {
    const track = certificateTrack(this.identity.firmwareVersion, settings.firmware ?? DEFAULT_FIRMWARE_POLICY);
    this.activeTopicRoot = this.topicRoot;
    const outcome = await super.powerUp({ ...settings, selfProvisioning: track === 'self-provisioning' });
    if (outcome.state === 'connected') return { ...outcome, track, authentication: 'certificate' };
    if (outcome.state !== 'awaiting-certificate' || track !== 'legacy') return { ...outcome, track };
    const credential = this.store.loadLegacyCredential();
    if (!credential) {
      this.log.write('legacy-credential-missing', { firmware: this.identity.firmwareVersion });
      return { ...outcome, track };
    }
    await this.connectLegacy(credential);
    return { ...outcome, state: 'connected', track, authentication: 'legacy-credential' };
  }

  /** A certificate session publishes under the certificate tree, whatever the last session was. */
  override async connect(target?: BrokerTarget): Promise<MqttClient> {
    this.activeTopicRoot = this.topicRoot;
    return super.connect(target);
  }

  /**
   * FR-PS-004: the bootstrap credential over the service's plain-HTTP endpoint instead of ACME,
   * for this device's identity; the key stays in the store (0600), the trust anchor is kept.
   */
  async provisionOverPlainHttp(): Promise<void> {
    const trusted = this.trustedRootPem;
    const pair = await requestBootstrapOverPlainHttp({ insecureUrl: this.endpoints.insecureUrl, address: this.address, commonName: this.identity.deviceId, keyAlgorithm: this.keyAlgorithm });
    this.store.saveBootstrap(pair);
    this.store.saveCaCertificate(trusted);
    this.log.write('bootstrap-obtained', { serial: inspectCertificate(pair.certificateChainPem).serialNumber, channel: 'plain-http' });
  }

  /** The service team's legacy credential, kept 0600 in the device's store. */
  installLegacyCredential(credential: LegacyCredential): void {
    this.store.saveLegacyCredential(credential);
    this.log.write('legacy-credential-installed', { username: credential.username });
  }

  /** The legacy listener, with a password: its own topics under the legacy tree only. */
  async connectLegacy(credential: LegacyCredential): Promise<MqttClient> {
    const target = this.endpoints.legacyBroker;
    if (!target) throw new Error('this lab has no legacy listener');
    this.activeTopicRoot = legacyTopicRoot(this.topicRoot);
    return this.openSession(target, credential);
  }

  /** The topic tree the current session publishes under (the legacy tree on a legacy credential). */
  private activeTopicRoot: string;

  get telemetryTopic(): string {
    return topics.telemetry(this.activeTopicRoot, this.identity.deviceId);
  }

  /** The last sequence number sent; the application checks it received 1..lastSeq. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The highest sequence number the broker acknowledged (QoS 1) or took (QoS 0). */
  get acknowledgedSeq(): number {
    return this.acked;
  }

  protected override async onConnected(client: MqttClient): Promise<void> {
    const commandTopic = topics.commands(this.activeTopicRoot, this.identity.deviceId);
    client.removeAllListeners('message');
    client.on('message', (topic, payload) => {
      if (topic !== commandTopic) return;
      void this.answer(client, payload);
    });
    await client.subscribeAsync(commandTopic, { qos: 1 });
  }

  private async answer(client: MqttClient, payload: Buffer): Promise<void> {
    let command: CommandMessage;
    try {
      command = JSON.parse(payload.toString('utf8')) as CommandMessage;
    } catch {
      return; // a device ignores what it cannot parse; the application times out and reports it
    }
    this.commandsHandled.push(command);
    const reply: CommandReply = { commandId: command.commandId, deviceId: this.identity.deviceId, ok: true };
    if (command.name === 'identify') reply.result = { ...this.identity };
    else Object.assign(reply, { ok: false, error: `unknown command ${command.name}` });
    await client.publishAsync(topics.replies(this.activeTopicRoot, this.identity.deviceId), JSON.stringify(reply), { qos: 1 });
  }

  /** Publishes one telemetry message; at QoS 1 it resolves once the broker acknowledged it. */
  async publishTelemetry(readings: Record<string, number> = { temperatureC: 36.6 }, qos: 0 | 1 = 1): Promise<TelemetryMessage> {
    const client = await this.client();
    const message: TelemetryMessage = {
      deviceId: this.identity.deviceId,
      seq: ++this.seq,
      // Monotonic within the process (timeOrigin + now), comparable across worker threads.
      sentAt: performance.timeOrigin + performance.now(),
      firmwareVersion: this.identity.firmwareVersion,
      readings,
    };
    await client.publishAsync(this.telemetryTopic, JSON.stringify(message), { qos });
    this.acked = Math.max(this.acked, message.seq);
    return message;
  }

  /** Periodic telemetry (FR-DS-003) until stopTelemetry(); at QoS 1 each message waits for its PUBACK. */
  startTelemetry(intervalMs: number, qos: 0 | 1 = 1): void {
    if (this.telemetryLoop) return;
    const stop = new AbortController();
    const done = (async () => {
      while (!stop.signal.aborted) {
        await this.publishTelemetry({ heartRate: 60 + (this.seq % 40) }, qos);
        await delay(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    })();
    this.telemetryLoop = { stop, done };
  }

  async stopTelemetry(): Promise<void> {
    const loop = this.telemetryLoop;
    this.telemetryLoop = undefined;
    if (!loop) return;
    loop.stop.abort();
    await loop.done;
  }

  /**
   * Its certificate was revoked: no more telemetry and no session. A message in flight can never
   * be acknowledged (mqtt.js keeps it for a reconnect that will not come), so the telemetry loop
   * is abandoned, not awaited. Returns the last sequence number the broker acknowledged.
   */
  retire(): number {
    const loop = this.telemetryLoop;
    loop?.stop.abort();
    this.telemetryLoop = undefined;
    // Should mqtt.js fail the abandoned message after all, that is logged, never unhandled.
    loop?.done.catch((err: unknown) => this.log.write('telemetry-abandoned', { cause: err instanceof Error ? err.message : String(err) }));
    this.dropSession();
    return this.acked;
  }

  override async disconnect(): Promise<void> {
    await this.stopTelemetry();
    await super.disconnect();
  }
}
