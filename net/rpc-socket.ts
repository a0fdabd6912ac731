// A net/rpc.ts channel over a stream socket (a unix socket), for a peer that cannot share an IPC
// channel with the lab: the provisioning service in a container. Messages are framed as a 4-byte
// big-endian length and a V8 serialization, the same structured-clone encoding fork()'s
// 'advanced' IPC serialization uses, so both transports carry exactly the same values.
import type net from 'node:net';
import v8 from 'node:v8';
import type { Channel } from './rpc.ts';

export interface SocketChannel extends Channel {
  /** Called once, when the other side has gone (end, error or close). */
  onClose(listener: () => void): void;
  /** Ends the connection after what was sent has been written. */
  end(): void;
}

const HEADER = 4;

export function socketChannel(socket: net.Socket): SocketChannel {
  const listeners: Array<(message: unknown) => void> = [];
  const closeListeners: Array<() => void> = [];
  let buffered: Buffer = Buffer.alloc(0);
  let closed = false;
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= HEADER) {
      const length = buffered.readUInt32BE(0);
      if (buffered.length < HEADER + length) break;
      const message: unknown = v8.deserialize(buffered.subarray(HEADER, HEADER + length));
      buffered = buffered.subarray(HEADER + length);
      for (const listener of listeners) listener(message);
    }
  });
  const close = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };
  socket.on('close', close);
  socket.on('end', () => socket.end());
  // An error is followed by 'close'; handled here so it is not an uncaught exception.
  socket.on('error', () => socket.destroy());
  return {
    send(message) {
      if (closed || socket.destroyed || !socket.writable) return false;
      const body = v8.serialize(message);
      const header = Buffer.alloc(HEADER);
      header.writeUInt32BE(body.length, 0);
      socket.write(Buffer.concat([header, body]));
      return true;
    },
    onMessage: (listener) => void listeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    end: () => socket.end(),
  };
}
