import type { ErrorCode } from '../../shared/protocol.js';

/** A request that fails with a machine-readable code and a message for the viewer. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
