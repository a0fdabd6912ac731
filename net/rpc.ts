// Typed request/response calls over a message channel (a child process's IPC channel, a worker
// thread's port): each side offers handlers, the other calls them by name and awaits the answer.
// Calls still pending when the channel closes are rejected, never left hanging.

/** Handlers one side offers: one argument in, a value (or a promise of one) out. */
export type Handlers = { [method: string]: (params: never) => unknown };

type Params<H extends Handlers, M extends keyof H> = Parameters<H[M]>[0];
type Result<H extends Handlers, M extends keyof H> = Awaited<ReturnType<H[M]>>;

/** What a channel must offer: child_process and worker_threads both fit with a small adapter. */
export interface Channel {
  send(message: unknown): boolean | void;
  onMessage(listener: (message: unknown) => void): void;
}

type Envelope =
  | { rpc: 'call'; id: number; method: string; params: unknown }
  | { rpc: 'result'; id: number; result: unknown }
  | { rpc: 'error'; id: number; message: string };

function isEnvelope(message: unknown): message is Envelope {
  return typeof message === 'object' && message !== null && 'rpc' in message && 'id' in message;
}

export class RpcClosedError extends Error {
  override name = 'RpcClosedError';
}

export class RpcPeer<Local extends Handlers, Remote extends Handlers> {
  readonly #channel: Channel;
  readonly #handlers: Local;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; method: string }>();
  #nextId = 0;
  #closed: string | undefined;

  constructor(channel: Channel, handlers: Local) {
    this.#channel = channel;
    this.#handlers = handlers;
    channel.onMessage((message) => {
      if (isEnvelope(message)) void this.#receive(message);
    });
  }

  call<M extends keyof Remote & string>(method: M, ...params: Params<Remote, M> extends undefined ? [] : [Params<Remote, M>]): Promise<Result<Remote, M>> {
    if (this.#closed) return Promise.reject(new RpcClosedError(`cannot call ${method}: ${this.#closed}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, method });
      if (this.#channel.send({ rpc: 'call', id, method, params: params[0] } satisfies Envelope) === false) {
        this.#pending.delete(id);
        reject(new RpcClosedError(`cannot call ${method}: the channel is closed`));
      }
    });
  }

  /** Rejects every pending call (the other side went away) and refuses new ones. */
  close(reason: string): void {
    this.#closed ??= reason;
    for (const [id, call] of this.#pending) {
      this.#pending.delete(id);
      call.reject(new RpcClosedError(`${call.method} did not complete: ${reason}`));
    }
  }

  async #receive(message: Envelope): Promise<void> {
    if (message.rpc !== 'call') {
      const call = this.#pending.get(message.id);
      if (!call) return;
      this.#pending.delete(message.id);
      if (message.rpc === 'result') call.resolve(message.result);
      else call.reject(new Error(message.message));
      return;
    }
    const handler = this.#handlers[message.method] as ((params: unknown) => unknown) | undefined;
    try {
      if (!handler) throw new Error(`no handler for ${message.method}`);
      const result = await handler(message.params);
      this.#channel.send({ rpc: 'result', id: message.id, result } satisfies Envelope);
    } catch (err) {
      this.#channel.send({ rpc: 'error', id: message.id, message: err instanceof Error ? err.message : String(err) } satisfies Envelope);
    }
  }
}
