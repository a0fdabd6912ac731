// The few calls of the Docker-compatible engine API the lab makes without testcontainers (podman's
// `system service` and Docker both serve it): ping, version, and listing and removing containers
// by label. Everything else (starting containers, inspecting them, signals, images) goes through
// testcontainers and its client (getContainerRuntimeClient). These cannot:
//  - finding the engine (engine.ts) pings candidate sockets before testcontainers is pointed at
//    one: its client reads DOCKER_HOST once, at first use, and keeps what it found for the process;
//  - the watchdog (keeper-main.ts) outlives the lab's process and starts and stops the podman
//    service it talks to, so it must not depend on a client resolved while the service was down;
//    and it removes containers whatever testcontainers knows of them (Ryuk, testcontainers' own
//    reaper, needs an image no registry serves here, so it is off).
import http from 'node:http';

/** API version both podman 4 and current Docker accept. */
const API = '/v1.41';

export interface EngineEndpoint {
  /** As in DOCKER_HOST: unix:///path/to.sock or tcp://127.0.0.1:2375. */
  dockerHost: string;
}

export class EngineApiError extends Error {
  override name = 'EngineApiError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

function target(dockerHost: string): { socketPath?: string; host?: string; port?: number } {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

export async function engineRequest<T = unknown>(
  endpoint: EngineEndpoint,
  method: string,
  path: string,
  options: { timeoutMs?: number; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...target(endpoint.dockerHost),
        method,
        path: `${API}${path}`,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: the caller reads the text
          }
          resolve({ status: res.statusCode ?? 0, body: body as T });
        });
      },
    );
    req.on('timeout', () => req.destroy(new EngineApiError(`${method} ${path}: no answer from ${endpoint.dockerHost} within ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', (err) => reject(err instanceof EngineApiError ? err : new EngineApiError(`${method} ${path} at ${endpoint.dockerHost}: ${err.message}`)));
    req.end(payload);
  });
}

export async function ping(endpoint: EngineEndpoint, timeoutMs = 2000): Promise<boolean> {
  try {
    return (await engineRequest(endpoint, 'GET', '/_ping', { timeoutMs })).status === 200;
  } catch {
    return false;
  }
}

export interface EngineVersion {
  /** 'podman' when the API is podman's, else 'docker'. */
  kind: 'podman' | 'docker';
  version: string;
  apiVersion: string;
}

export async function engineVersion(endpoint: EngineEndpoint): Promise<EngineVersion> {
  const { body } = await engineRequest<{ Version: string; ApiVersion: string; Components?: Array<{ Name: string }> }>(endpoint, 'GET', '/version');
  const podman = (body.Components ?? []).some((c) => /podman/i.test(c.Name));
  return { kind: podman ? 'podman' : 'docker', version: body.Version, apiVersion: body.ApiVersion };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  State: string;
}

export async function listContainers(endpoint: EngineEndpoint, label: string): Promise<ContainerSummary[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const { status, body } = await engineRequest<ContainerSummary[]>(endpoint, 'GET', `/containers/json?all=true&filters=${filters}`);
  if (status !== 200) throw new EngineApiError(`listing containers labelled ${label}: HTTP ${status}`, status);
  return body;
}

/** Kills and removes a container with its anonymous volumes; a container already gone is fine. */
export async function removeContainer(endpoint: EngineEndpoint, id: string): Promise<void> {
  const { status, body } = await engineRequest(endpoint, 'DELETE', `/containers/${id}?force=true&v=true`);
  if (status !== 204 && status !== 200 && status !== 404) throw new EngineApiError(`removing container ${id}: HTTP ${status} ${JSON.stringify(body)}`, status);
}
