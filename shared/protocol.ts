// The signaling protocol, typed once and shared by the server and the viewer page.
//
// Transport: socket.io. The client sends `request` events (method + data + ack) and gets a
// SignalingResult back; the server pushes notifications by name. Method and notification
// names are namespaced (`media.*`, later `control.*`, `input.*`, `admin.*`). Request payloads
// are described by schemas (shared/schema.ts): the same description gives the TypeScript
// type the client sends and the validator the server runs. Must stay free of Node imports:
// the client bundle includes this file.
import type { types as msc } from 'mediasoup-client';
import * as s from './schema.js';

const id = s.string({ min: 1, max: 64 });

/** mediasoup's DTLS parameters; the shape is checked here, the detail by mediasoup. */
const dtlsParameters = s.shaped<msc.DtlsParameters>(
  s.object(
    {
      role: s.optional(s.oneOf('auto', 'client', 'server')),
      fingerprints: s.array(s.object({ algorithm: s.string({ min: 1, max: 32 }), value: s.string({ min: 1, max: 256 }) }), { min: 1, max: 8 }),
    },
    { unknownFields: 'keep' },
  ),
);

/** mediasoup-client's receive capabilities; codecs and header extensions are checked by mediasoup. */
const rtpCapabilities = s.shaped<msc.RtpCapabilities>(
  s.object(
    {
      codecs: s.array(s.object({ mimeType: s.string({ min: 1, max: 64 }), kind: s.oneOf('audio', 'video') }, { unknownFields: 'keep' }), { max: 256 }),
      headerExtensions: s.optional(s.array(s.object({ uri: s.string({ min: 1, max: 256 }) }, { unknownFields: 'keep' }), { max: 64 })),
    },
    { unknownFields: 'keep' },
  ),
);

/** Request payloads, by method. The server validates every request against these. */
export const requestSchemas = {
  /** Admission: the server admits the viewer (or refuses with `full`) and returns the router's capabilities. */
  'media.join': s.object({ clientName: s.optional(s.string({ max: 100 })) }),
  'media.createTransport': s.object({}),
  'media.connectTransport': s.object({ transportId: id, dtlsParameters }),
  /** Creates paused consumers for every broadcast stream the client can receive. */
  'media.consume': s.object({ transportId: id, rtpCapabilities }),
  /** The client has attached the track: start sending (and request a keyframe). */
  'media.resumeConsumer': s.object({ consumerId: id }),
} as const;

export interface ConsumerDescription {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: msc.RtpParameters;
}

/** Successful responses, by method (produced by the server, so typed, not validated). */
export interface ResponseTypes {
  'media.join': { viewerId: string; role: Role; routerRtpCapabilities: msc.RtpCapabilities };
  'media.createTransport': {
    transportId: string;
    iceParameters: msc.IceParameters;
    iceCandidates: msc.IceCandidate[];
    dtlsParameters: msc.DtlsParameters;
  };
  'media.connectTransport': Record<string, never>;
  'media.consume': { consumers: ConsumerDescription[] };
  'media.resumeConsumer': Record<string, never>;
}

export type RequestMethod = keyof typeof requestSchemas;
export type RequestData<M extends RequestMethod> = s.Infer<(typeof requestSchemas)[M]>;
export type ResponseData<M extends RequestMethod> = ResponseTypes[M];
export const requestMethods = Object.keys(requestSchemas) as RequestMethod[];

/** What a connection may do, derived from the token it presented. */
export type Role = 'viewer' | 'admin';

/** Machine-readable error codes; the client acts on the code, the message is for people. */
export const errorCodes = [
  'bad-request', // the payload is malformed; the message names the field
  'wrong-token', // the link's token is missing or wrong (socket.io connect error)
  'not-joined', // a media request before `media.join`
  'full', // the broadcast has no room for another viewer
  'unsupported', // this browser cannot decode any stream the broadcast offers
  'unavailable', // media is restarting; retry shortly
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface SignalingError {
  code: ErrorCode;
  message: string;
}

export type SignalingResult<M extends RequestMethod> = { ok: true; data: ResponseData<M> } | { ok: false; error: SignalingError };

/** Server → client pushes, by name. */
export interface Notifications {
  /** The media path behind this viewer was rebuilt (e.g. a worker restarted): join again. */
  'media.reset': { reason: string };
  /** Broadcast status for the page (encoder, resolution); sent on join and when it changes. */
  'broadcast.status': { encoder: string; width: number; height: number; fps: number };
}

export type ServerToClientEvents = {
  [N in keyof Notifications]: (data: Notifications[N]) => void;
};

export interface ClientToServerEvents {
  request: (method: string, data: unknown, ack: (result: SignalingResult<RequestMethod>) => void) => void;
}

/** Text shown by the page and the socket.io handshake when the token is missing or wrong. */
export const wrongTokenMessage =
  'This link is missing its access token or the token is wrong. Ask the presenter for the link the deskcast server printed ("Viewer link: ...").';

/** Thrown by parseRequest; `code` is always `bad-request`. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
  readonly code = 'bad-request' as const;
}

export type ParsedRequest = { [M in RequestMethod]: { method: M; data: RequestData<M> } }[RequestMethod];

/** Checks method and payload against the schemas; throws BadRequestError naming what is wrong. */
export function parseRequest(method: unknown, data: unknown): ParsedRequest {
  if (typeof method !== 'string' || !Object.hasOwn(requestSchemas, method)) {
    throw new BadRequestError(`Unknown method ${JSON.stringify(method)}; expected one of ${requestMethods.join(', ')}.`);
  }
  const m = method as RequestMethod;
  try {
    return { method: m, data: requestSchemas[m].parse(data === undefined ? {} : data, 'data') } as ParsedRequest;
  } catch (err) {
    if (err instanceof s.SchemaError) throw new BadRequestError(`${m}: ${err.message}`);
    throw err;
  }
}
