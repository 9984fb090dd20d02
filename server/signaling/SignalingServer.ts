import type { Server as HttpsServer } from 'node:https';
import { Server, type Socket } from 'socket.io';
import {
  BadRequestError,
  parseRequest,
  wrongTokenMessage,
  type ClientToServerEvents,
  type ParsedRequest,
  type RequestMethod,
  type ResponseData,
  type Role,
  type ServerToClientEvents,
  type SignalingResult,
} from '../../shared/protocol.js';
import { MediaUnavailableError } from '../media/MediaCluster.js';
import { createLogger } from '../util/logger.js';
import { RequestError } from '../viewers/RequestError.js';
import { roleForToken, type AccessTokens } from '../viewers/roles.js';
import type { Viewer, ViewerConnection } from '../viewers/Viewer.js';
import { viewerMetrics } from '../viewers/viewerMetrics.js';

const log = createLogger('signaling');

type SignalingSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { role: Role }>;

export interface SignalingServerOptions {
  httpsServer: HttpsServer;
  tokens: AccessTokens;
  /** Where authenticated connections and their validated requests go. */
  onConnection: (connection: ViewerConnection, role: Role) => Viewer;
  onRequest: (viewer: Viewer, request: ParsedRequest) => Promise<ResponseData<RequestMethod>>;
  /** Fire-and-forget input events (validated by the receiver, which answers with `input.rejected`). */
  onInput: (viewer: Viewer, event: unknown) => void;
}

/**
 * The socket.io transport: authenticates each connection by its token (which gives it a
 * role), validates every request against the shared protocol and dispatches it. It holds no
 * media or viewer state of its own.
 */
export class SignalingServer {
  readonly #io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { role: Role }>;
  readonly #options: SignalingServerOptions;

  static create(options: SignalingServerOptions): SignalingServer {
    return new SignalingServer(options);
  }

  private constructor(options: SignalingServerOptions) {
    this.#options = options;
    this.#io = new Server(options.httpsServer, {
      serveClient: false,
      maxHttpBufferSize: 64 * 1024, // signaling payloads are a few kB; refuse floods
      pingInterval: 5000,
      pingTimeout: 5000,
    });
    this.#io.use((socket, next) => {
      const role = roleForToken((socket.handshake.auth as { token?: unknown } | undefined)?.token, options.tokens);
      if (role) {
        socket.data.role = role;
        return next();
      }
      viewerMetrics.refused.inc({ reason: 'token' });
      next(Object.assign(new Error(wrongTokenMessage), { data: { code: 'wrong-token' } }));
    });
    this.#io.on('connection', (socket) => this.#onConnection(socket));
  }

  close(): void {
    this.#io.close();
  }

  #onConnection(socket: SignalingSocket): void {
    const connection: ViewerConnection = {
      address: socket.handshake.address,
      notify: (name, data) => {
        (socket.emit as (n: string, d: unknown) => void)(name, data);
      },
      disconnect: () => socket.disconnect(true),
    };
    const viewer = this.#options.onConnection(connection, socket.data.role);
    socket.on('request', (method, data, ack) => {
      if (typeof ack !== 'function') return; // nothing to answer to; ignore
      void this.#dispatch(viewer, method, data).then(ack);
    });
    socket.on('input', (event) => {
      try {
        this.#options.onInput(viewer, event);
      } catch (err) {
        log.error(`viewer ${viewer.id}: input handling failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    });
    socket.on('disconnect', (reason) => {
      log.debug(`viewer ${viewer.id} disconnected (${reason})`);
      viewer.close();
    });
  }

  async #dispatch(viewer: Viewer, method: unknown, data: unknown): Promise<SignalingResult<RequestMethod>> {
    try {
      return { ok: true, data: await this.#options.onRequest(viewer, parseRequest(method, data)) };
    } catch (err) {
      if (err instanceof BadRequestError || (err instanceof RequestError && err.code === 'bad-request')) {
        viewerMetrics.badRequests.inc();
        log.warn(`viewer ${viewer.id}: bad request: ${err.message}`);
        return { ok: false, error: { code: 'bad-request', message: err.message } };
      }
      if (err instanceof RequestError) return { ok: false, error: { code: err.code, message: err.message } };
      if (err instanceof MediaUnavailableError) return { ok: false, error: { code: 'unavailable', message: err.message } };
      log.error(`viewer ${viewer.id}: ${String(method)} failed: ${(err as Error)?.stack ?? String(err)}`);
      return {
        ok: false,
        error: {
          code: 'internal',
          message: `The server could not complete "${String(method)}": ${(err as Error)?.message ?? err}. Reload the page; if it persists, check the server log.`,
        },
      };
    }
  }
}
