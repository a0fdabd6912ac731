// The few calls of the Docker-compatible engine API the lab makes itself (podman's `system
// service` and Docker both serve it): ping, version, list and remove containers by label, look
// up and pull images. testcontainers does the rest; the lab's reaper and watchdog use only this
// file, so they work without testcontainers' Ryuk container (which no registry serves here).
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
            // A pull answers a stream of JSON lines; callers that want it read the text.
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

export async function imageExists(endpoint: EngineEndpoint, reference: string): Promise<boolean> {
  const { status } = await engineRequest(endpoint, 'GET', `/images/${encodeURIComponent(reference)}/json`);
  return status === 200;
}

/** Pulls an image; rejects with the engine's reason (no registry, unknown tag, digest mismatch). */
export async function pullImage(endpoint: EngineEndpoint, reference: string, timeoutMs: number): Promise<void> {
  const { status, body } = await engineRequest<unknown>(endpoint, 'POST', `/images/create?fromImage=${encodeURIComponent(reference)}`, { timeoutMs });
  // The answer is a stream of JSON lines; a failure is reported in one of them, even with 200.
  const lines = (typeof body === 'string' ? body.split('\n') : [JSON.stringify(body ?? {})]).flatMap((line) => {
    try {
      return [JSON.parse(line) as { error?: string; message?: string; errorDetail?: { message?: string } }];
    } catch {
      return [];
    }
  });
  const failure = lines.find((line) => line.error || line.errorDetail || (status !== 200 && line.message));
  if (status !== 200 || failure) {
    const reason = failure?.errorDetail?.message ?? failure?.error ?? failure?.message ?? `HTTP ${status}`;
    throw new EngineApiError(`cannot pull ${reference}: ${reason}`, status);
  }
  if (!(await imageExists(endpoint, reference))) throw new EngineApiError(`cannot pull ${reference}: the engine reported success but has no such image`);
}

export interface ContainerState {
  Running: boolean;
  Pid: number;
  ExitCode: number;
  OOMKilled?: boolean;
  Error?: string;
}

export async function inspectContainer(endpoint: EngineEndpoint, id: string): Promise<{ State: ContainerState } | undefined> {
  const { status, body } = await engineRequest<{ State: ContainerState }>(endpoint, 'GET', `/containers/${id}/json`);
  if (status === 404) return undefined;
  if (status !== 200) throw new EngineApiError(`inspecting container ${id}: HTTP ${status}`, status);
  return body;
}

/** Sends a signal to the container's main process (`kill --signal HUP`). */
export async function signalContainer(endpoint: EngineEndpoint, id: string, signal: string): Promise<void> {
  const { status, body } = await engineRequest(endpoint, 'POST', `/containers/${id}/kill?signal=${encodeURIComponent(signal)}`);
  if (status !== 204 && status !== 200) throw new EngineApiError(`signalling container ${id} with ${signal}: HTTP ${status} ${JSON.stringify(body)}`, status);
}
