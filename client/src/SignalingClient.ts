import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  ErrorCode,
  InputEvent,
  RequestData,
  RequestMethod,
  ResponseData,
  ServerToClientEvents,
  SignalingResult,
} from '../../shared/protocol';

/** A request the server answered with an error; `code` says which kind. */
export class SignalingRequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'disconnected',
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

/** Typed request/response over socket.io, using the shared protocol types. */
export class SignalingClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;

  constructor(token: string) {
    this.socket = io({
      auth: { token },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
  }

  /**
   * Fire-and-forget input for the desktop, dropped while disconnected (a stale click must not land
   * later). `droppable` (pointer motion only): socket.io may also drop it while the socket is busy
   * sending — a volatile emit right after another is discarded, which lost every button and key
   * sent just after a pointer position; those are never droppable.
   */
  sendInput(event: InputEvent, droppable = false): void {
    if (!this.socket.connected) return;
    if (droppable) this.socket.volatile.emit('input', event);
    else this.socket.emit('input', event);
  }

  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseData<M>> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new SignalingRequestError('disconnected', 'Not connected to the server.'));
        return;
      }
      this.socket.timeout(REQUEST_TIMEOUT_MS).emit('request', method, data, (err: Error | null, result: SignalingResult<RequestMethod>) => {
        if (err) reject(new SignalingRequestError('timeout', `The server did not answer "${method}" within ${REQUEST_TIMEOUT_MS / 1000} s.`));
        else if (result.ok) resolve(result.data as ResponseData<M>);
        else reject(new SignalingRequestError(result.error.code, result.error.message));
      });
    });
  }
}
