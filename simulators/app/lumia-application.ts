// The simulated managing application "Lumia" (seed 000, FR-LA-*): provisions itself like a
// device, subscribes to every device's telemetry and replies over mutual TLS (the legacy tree
// too), sends commands, refuses telemetry that does not match the identity it arrived under, and
// keeps what it received so scenarios can check that nothing was lost.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { CertificateClient, type CertificateClientOptions } from '../client/certificate-client.ts';
import type { InventoryEntry } from '../client/admin-client.ts';
import { certificateStates, type CertificateStateReport } from './certificate-states.ts';
import { topics, type CommandReply, type TelemetryMessage } from '../device/reveos-device.ts';
import { certificateRequired, DEFAULT_FIRMWARE_POLICY, legacyTopicRoot, type FirmwarePolicy } from '../../config/firmware-policy.ts';

export interface ReceivedTelemetry {
  topic: string;
  message: TelemetryMessage;
  receivedAt: number;
  /** How the sender was authenticated, as the topic tree says (the broker's ACL ties each tree to one kind of credential). */
  authentication: 'certificate' | 'legacy-credential';
}

/** A message the application would not take, and why (seed 000: terminate what cannot be authenticated). */
export interface RefusedMessage {
  topic: string;
  cause: 'identity-mismatch' | 'certificate-required';
  detail: string;
}

export class LumiaApplication extends CertificateClient {
  readonly received: ReceivedTelemetry[] = [];
  /** Every command reply received, for replies awaited after they arrived. */
  readonly replies: CommandReply[] = [];
  /** Payloads that were not telemetry: counted, never silently dropped. */
  malformedMessages = 0;
  /** Telemetry refused because it did not match the identity it arrived under. */
  readonly refused: RefusedMessage[] = [];
  private readonly legacyRoot: string;
  private readonly firmware: FirmwarePolicy;
  private readonly events = new EventEmitter();
  private readonly topicRoot: string;

  /** Fleet runs count and time every message here instead of keeping them all. */
  private readonly onTelemetry: ((entry: ReceivedTelemetry) => void) | undefined;
  private readonly keepReceived: boolean;
  private readonly qos: 0 | 1;

  constructor(
    options: Omit<CertificateClientOptions, 'sans' | 'commonName'> & {
      commonName?: string;
      topicRoot?: string;
      onTelemetry?: (entry: ReceivedTelemetry) => void;
      keepReceived?: boolean;
      qos?: 0 | 1;
      /** Which firmware must authenticate with a certificate: its messages are refused from the legacy tree. */
      firmware?: FirmwarePolicy;
    },
  ) {
    const commonName = options.commonName ?? 'lumia';
    super({ ...options, commonName, sans: [`urn:ecm-lab:app:${commonName}`] });
    this.topicRoot = options.topicRoot ?? 'reveos';
    this.legacyRoot = legacyTopicRoot(this.topicRoot);
    this.firmware = options.firmware ?? DEFAULT_FIRMWARE_POLICY;
    this.onTelemetry = options.onTelemetry;
    this.keepReceived = options.keepReceived ?? true;
    this.qos = options.qos ?? 1;
    this.events.setMaxListeners(0);
  }

  protected override async onConnected(client: MqttClient): Promise<void> {
    client.removeAllListeners('message');
    client.on('message', (topic, payload) => this.dispatch(topic, payload));
    const trees = [this.topicRoot, this.legacyRoot];
    const granted = await client.subscribeAsync(trees.flatMap((root) => [`${root}/+/telemetry/#`, `${root}/+/reply/#`]), { qos: this.qos });
    if (granted.some((g) => g.qos === 128)) throw new Error('the broker refused the application\'s subscriptions');
  }

  private dispatch(topic: string, payload: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.malformedMessages++;
      return;
    }
    if (topic.endsWith('/reply')) {
      this.replies.push(body as CommandReply);
      this.events.emit('reply', body as CommandReply);
      return;
    }
    const message = body as TelemetryMessage;
    const [root, sender] = topic.split('/');
    const authentication = root === this.legacyRoot ? 'legacy-credential' : 'certificate';
    // The broker lets an identity publish only under its own name, so the topic is the sender's
    // authenticated identity; the payload's claim is only a claim.
    if (message.deviceId !== sender) return this.refuse({ topic, cause: 'identity-mismatch', detail: `the payload claims ${String(message.deviceId)}, the message arrived under ${sender}` });
    if (authentication === 'legacy-credential' && typeof message.firmwareVersion === 'string' && certificateRequired(message.firmwareVersion, this.firmware)) {
      return this.refuse({ topic, cause: 'certificate-required', detail: `${sender} reports firmware ${message.firmwareVersion}, which must authenticate with a certificate (from ${this.firmware.certificateRequiredFrom}), but arrived on a legacy credential` });
    }
    const entry: ReceivedTelemetry = { topic, message, receivedAt: performance.timeOrigin + performance.now(), authentication };
    this.onTelemetry?.(entry);
    if (!this.keepReceived) return;
    this.received.push(entry);
    this.events.emit('telemetry', entry);
  }

  private refuse(refusal: RefusedMessage): void {
    this.refused.push(refusal);
    this.log.write('message-refused', { ...refusal });
    this.events.emit('refused', refusal);
  }

  /** The refusal of a message matching `predicate`, already made or made within the timeout. */
  waitForRefusal(predicate: (r: RefusedMessage) => boolean, timeoutMs = 10_000): Promise<RefusedMessage> {
    return this.waitForEvent('refused', this.refused.find(predicate), predicate, timeoutMs, 'a refused message');
  }

  /** Resolves with the first event matching `predicate`, already seen or arriving within the timeout. */
  private waitForEvent<T>(event: string, seen: T | undefined, predicate: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const listener = (value: T) => {
        if (!predicate(value)) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.events.off(event, listener);
      };
      this.events.on(event, listener);
    });
  }

  waitForTelemetry(predicate: (t: ReceivedTelemetry) => boolean, timeoutMs = 10_000): Promise<ReceivedTelemetry> {
    return this.waitForEvent('telemetry', this.received.find(predicate), predicate, timeoutMs, `matching telemetry (received ${this.received.length} messages)`);
  }

  /** Sends a command to a device and waits for its reply. */
  async sendCommand(deviceId: string, name: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<CommandReply> {
    return (await this.queueCommand(deviceId, name, args, timeoutMs)).reply;
  }

  /** The reply to a command sent earlier (queueCommand), already seen or arriving within the timeout. */
  waitForReply(commandId: string, timeoutMs = 10_000): Promise<CommandReply> {
    return this.waitForEvent<CommandReply>('reply', this.replies.find((r) => r.commandId === commandId), (r) => r.commandId === commandId, timeoutMs, `reply to command ${commandId}`);
  }

  /** Publishes a command (QoS 1: the broker queues it for an offline device) and resolves once the broker has it. */
  async queueCommand(deviceId: string, name: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<{ commandId: string; reply: Promise<CommandReply> }> {
    const commandId = randomUUID();
    const reply = this.waitForEvent<CommandReply>('reply', undefined, (r) => r.commandId === commandId, timeoutMs, `reply from ${deviceId} to ${name}`);
    reply.catch(() => undefined); // awaited by the caller, or deliberately not (a queued command)
    const client = await this.client();
    await client.publishAsync(topics.commands(this.topicRoot, deviceId), JSON.stringify({ commandId, name, args }), { qos: 1 });
    return { commandId, reply };
  }

  /**
   * Certificate states of the application itself and of every device, from the inventory of the
   * certificate management service (the provisioning web app is part of the application: it has
   * the admin API), judged at this application's clock: what it shows its operators (seed 000).
   */
  async certificateStates(inventory: () => Promise<InventoryEntry[]>, expiringWithinMs: number): Promise<CertificateStateReport[]> {
    const reports = certificateStates(await inventory(), this.now(), expiringWithinMs);
    this.log.write('certificate-states', { counts: Object.fromEntries(['active', 'expiring', 'expired', 'revoked'].map((s) => [s, reports.filter((r) => r.state === s).length])) });
    return reports;
  }

  /**
   * Sequence numbers 1..upTo that never arrived from a device. QoS1 is at-least-once, so
   * duplicates are expected and ignored; a gap is a lost message.
   */
  missingSequenceNumbers(deviceId: string, upTo: number): number[] {
    const seen = new Set(this.received.filter((r) => r.message.deviceId === deviceId).map((r) => r.message.seq));
    const missing: number[] = [];
    for (let seq = 1; seq <= upTo; seq++) if (!seen.has(seq)) missing.push(seq);
    return missing;
  }
}
