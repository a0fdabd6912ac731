// The lab's administrator connection to Mosquitto's dynamic security plugin: it disconnects every
// connection of one identity, the moment its certificate is revoked (Mosquitto checks the CRL only
// in new handshakes). deleteClient kicks the clients of that username (plugins/dynamic-security/
// clients.c), so the identity is created for the moment it takes to delete it: no state remains.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../../net/mqtt-connection.ts';
import { BROKER_ADMIN_IDENTITY } from './mosquitto-config.ts';

const COMMANDS = '$CONTROL/dynamic-security/v1';
const RESPONSES = `${COMMANDS}/response`;

const legacyRole = (identity: string) => `legacy-${identity}`;

interface CommandResponse {
  command: string;
  error?: string;
  correlationData?: string;
}

export interface BrokerAdminOptions {
  host: string;
  port: number;
  trustedRootPem: string;
  /** A client certificate for BROKER_ADMIN_IDENTITY, with its chain. */
  credentials: { certificateChainPem: string; privateKeyPem: string };
  timeoutMs?: number;
}

export class BrokerAdmin {
  readonly #client: MqttClient;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, { resolve(responses: CommandResponse[]): void; reject(err: Error): void }>();

  private constructor(client: MqttClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    client.on('message', (_topic, payload) => {
      const responses = (JSON.parse(payload.toString('utf8')) as { responses?: CommandResponse[] }).responses ?? [];
      const id = responses.find((r) => r.correlationData)?.correlationData;
      const waiting = id === undefined ? undefined : this.#waiting.get(id);
      if (!waiting) return;
      this.#waiting.delete(id!);
      waiting.resolve(responses);
    });
  }

  static async connect(options: BrokerAdminOptions): Promise<BrokerAdmin> {
    const client = await connectMqtt({
      host: options.host,
      port: options.port,
      clientId: BROKER_ADMIN_IDENTITY,
      trustedRootPem: options.trustedRootPem,
      certificateChainPem: options.credentials.certificateChainPem,
      privateKeyPem: options.credentials.privateKeyPem,
      // A broker restart (fault injection, rotation) drops this connection: it comes back by itself.
      reconnectPeriodMs: 500,
    });
    await client.subscribeAsync(RESPONSES, { qos: 1 });
    return new BrokerAdmin(client, options.timeoutMs ?? 5000);
  }

  /** Sends dynamic security commands in one message; resolves with their answers once the broker gave them. */
  async #run(what: string, commands: Array<Record<string, unknown>>): Promise<CommandResponse[]> {
    const id = randomUUID();
    const answered = new Promise<CommandResponse[]>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.#waiting.delete(id)) reject(new Error(`the broker did not answer the dynamic security commands for ${what} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs).unref();
    });
    await this.#client.publishAsync(COMMANDS, JSON.stringify({ commands: commands.map((c) => ({ ...c, correlationData: id })) }), { qos: 1 });
    return answered;
  }

  /** Closes every connection whose certificate identity is `identity`; resolves once the broker confirmed. */
  async disconnect(identity: string): Promise<void> {
    const responses = await this.#run(identity, [
      { command: 'createClient', username: identity },
      { command: 'deleteClient', username: identity },
    ]);
    const failed = responses.find((r) => r.command === 'deleteClient' && r.error);
    if (failed) throw new Error(`the broker refused to disconnect ${identity}: ${failed.error}`);
  }

  /**
   * A legacy credential (seed 000 backwards compatibility): a password client of the dynamic
   * security plugin whose role reaches only its own topics under the legacy tree. The plugin
   * decides every request of a client it knows, so the ACL file's rules never apply to it.
   */
  async addLegacyClient(identity: string, password: string, legacyRoot: string): Promise<void> {
    const own = `${legacyRoot}/${identity}`;
    const rolename = legacyRole(identity);
    const responses = await this.#run(identity, [
      {
        command: 'createRole',
        rolename,
        acls: [
          { acltype: 'publishClientSend', topic: `${own}/telemetry/#`, allow: true },
          { acltype: 'publishClientSend', topic: `${own}/reply/#`, allow: true },
          { acltype: 'subscribePattern', topic: `${own}/cmd/#`, allow: true },
          { acltype: 'publishClientReceive', topic: `${own}/cmd/#`, allow: true },
        ],
      },
      { command: 'createClient', username: identity, password, roles: [{ rolename }] },
    ]);
    const failed = responses.find((r) => r.error);
    if (failed) throw new Error(`the broker refused the legacy credential of ${identity}: ${failed.command}: ${failed.error}`);
  }

  /** Deletes a legacy credential and closes its connections. */
  async removeLegacyClient(identity: string): Promise<void> {
    const responses = await this.#run(identity, [
      { command: 'deleteClient', username: identity },
      { command: 'deleteRole', rolename: legacyRole(identity) },
    ]);
    const failed = responses.find((r) => r.error);
    if (failed) throw new Error(`the broker refused to delete the legacy credential of ${identity}: ${failed.command}: ${failed.error}`);
  }

  async close(): Promise<void> {
    for (const [id, waiting] of this.#waiting) {
      this.#waiting.delete(id);
      waiting.reject(new Error('the broker admin connection closed'));
    }
    await this.#client.endAsync(true);
  }
}
