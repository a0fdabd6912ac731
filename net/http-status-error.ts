// A refusal that arrived as an HTTP status with a reason: the one shape behind the service's,
// step-ca's and the clients' own error classes, so callers test `instanceof`, never names.
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    message: string,
  ) {
    super(message);
  }
}
