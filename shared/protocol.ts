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

  /** Ask for control of the desktop (granted at once under `free`, or for an admin; else the admin decides). */
  'control.request': s.object({}),
  /** Give control back (or withdraw a pending request). */
  'control.release': s.object({}),
  /** The controller puts text on the desktop's clipboard (then Ctrl+V pastes it there). */
  'clipboard.write': s.object({ text: s.string({ max: 16_384 }) }),
  /** The controller reads the desktop's clipboard; needs the admin's permission. */
  'clipboard.read': s.object({}),

  /** Admin only: the viewers, their roles, workers and control state (also pushed as `admin.viewers`). */
  'admin.listViewers': s.object({}),
  'admin.grantControl': s.object({ viewerId: id }),
  'admin.revokeControl': s.object({}),
  'admin.kick': s.object({ viewerId: id }),
  'admin.setControlPolicy': s.object({ policy: s.oneOf('off', 'request', 'free') }),
  'admin.setClipboardRead': s.object({ allowed: s.boolean() }),
  /** Changes --max-viewers at run time; viewers already watching stay even if now over it. */
  'admin.setMaxViewers': s.object({ maxViewers: s.number({ min: 1, max: 100_000, integer: true }) }),
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
  'control.request': ControlState;
  'control.release': ControlState;
  'clipboard.write': Record<string, never>;
  'clipboard.read': { text: string };
  'admin.listViewers': AdminViewers;
  'admin.grantControl': Record<string, never>;
  'admin.revokeControl': Record<string, never>;
  'admin.kick': Record<string, never>;
  'admin.setControlPolicy': Record<string, never>;
  'admin.setClipboardRead': Record<string, never>;
  'admin.setMaxViewers': CapacityStatus;
}

/** How many viewers the host serves and why (admin page, /healthz). */
export interface CapacityStatus {
  /** The cap in force: min(limits). */
  cap: number;
  /** Which limit sets it. */
  binding: 'max-viewers' | 'upstream' | 'cpu';
  watching: number;
  limits: { maxViewers: number; upstream: number; cpu: number };
  upstreamMbps: number;
  upstreamSource: 'flag' | 'measured' | 'skipped' | 'failed' | 'default';
  upstreamDetail: string;
  /** Upstream reserved per viewer, kb/s. */
  perViewerKbps: number;
  /** mediasoup worker CPU per viewer, fraction of one core. */
  cpuPerViewer: number;
  cpuMeasured: boolean;
  egressMbps: number;
  /** Non-empty while the live guard pauses admissions: why. */
  paused: string;
}

/** --control: nobody may control, control on request (the admin grants it), or anyone may take it. */
export type ControlPolicy = 'off' | 'request' | 'free';

/** What one connection knows about control of the desktop (pushed as `control.state`). */
export interface ControlState {
  policy: ControlPolicy;
  /** This connection holds control: its input reaches the desktop. */
  youHaveControl: boolean;
  /** This connection asked and waits for the admin. */
  youRequested: boolean;
  /** Somebody (maybe this connection) holds control. */
  held: boolean;
  /** The admin lets the controller read the desktop's clipboard. */
  clipboardRead: boolean;
}

export interface AdminViewers {
  viewers: {
    viewerId: string;
    role: Role;
    clientName: string;
    address: string;
    /** Worker the viewer watches through; null while connecting. */
    workerIndex: number | null;
    hasControl: boolean;
    requestedControl: boolean;
  }[];
  policy: ControlPolicy;
  clipboardRead: boolean;
  capacity: CapacityStatus;
}

const modifiers = s.object({
  shift: s.boolean(),
  ctrl: s.boolean(),
  alt: s.boolean(),
  meta: s.boolean(),
  altGraph: s.boolean(),
  capsLock: s.boolean(),
});

/**
 * Input from the controlling viewer: fire-and-forget (`input` event), validated like requests.
 * A rejected event is answered with an `input.rejected` notification carrying a code.
 */
export const inputEventSchema = s.variant('type', {
  /** Absolute pointer position in the coordinates of the video frame the viewer sees (width x height). */
  pointer: s.object({
    x: s.number({ min: 0, max: 16_384 }),
    y: s.number({ min: 0, max: 16_384 }),
    width: s.number({ min: 1, max: 16_384 }),
    height: s.number({ min: 1, max: 16_384 }),
  }),
  /** Relative motion in video pixels (pointer lock). */
  pointerRelative: s.object({ dx: s.number({ min: -4096, max: 4096 }), dy: s.number({ min: -4096, max: 4096 }) }),
  /** DOM button number: 0 main, 1 middle, 2 secondary, 3 back, 4 forward. */
  button: s.object({ button: s.number({ min: 0, max: 4, integer: true }), down: s.boolean() }),
  /** Whole wheel notches (the page normalises pixel, line and page deltas); positive = down / right. */
  wheel: s.object({ dx: s.number({ min: -50, max: 50, integer: true }), dy: s.number({ min: -50, max: 50, integer: true }) }),
  /**
   * A key: DOM `code` (the physical key) and `key` (what it types on the viewer's layout).
   * `text` mode types the character `key` names whatever the desktop's layout; `raw` mode
   * presses the physical key (games, apps that want keys, not characters).
   */
  key: s.object({
    code: s.string({ max: 32 }),
    key: s.string({ min: 1, max: 32 }),
    down: s.boolean(),
    repeat: s.boolean(),
    mode: s.oneOf('text', 'raw'),
    modifiers,
  }),
  /** Text committed by an input method (composition), typed as characters. */
  text: s.object({ text: s.string({ min: 1, max: 256 }) }),
  /** Release every key and button held on this viewer's behalf (the page lost focus). */
  releaseAll: s.object({}),
  /** "I am still here": control is released when these stop. */
  heartbeat: s.object({}),
});
export type InputEvent = s.Infer<typeof inputEventSchema>;

/** The page sends a heartbeat this often while it holds control; the server releases control after a few missed. */
export const CONTROL_HEARTBEAT_MS = 1000;

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
  'full', // no room for another viewer now (cap reached or uplink saturated); the page retries by itself
  'unsupported', // this browser cannot decode any stream the broadcast offers
  'unavailable', // media is restarting; retry shortly
  'forbidden', // an admin request from a connection without the admin token
  'no-control', // input or a controller request from a connection that does not hold control
  'control-off', // remote control is turned off (--control off)
  'rate-limited', // too many input events; some were dropped
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
  /** Control of the desktop changed (sent to every connection, each with its own view). */
  'control.state': ControlState;
  /** Input from this connection was dropped; `code` says why (e.g. `no-control`). */
  'input.rejected': SignalingError;
  /** The admin removed this connection; it is disconnected right after. */
  'session.kicked': { reason: string };
  /** Admin connections only: the viewer list changed. */
  'admin.viewers': AdminViewers;
}

export type ServerToClientEvents = {
  [N in keyof Notifications]: (data: Notifications[N]) => void;
};

export interface ClientToServerEvents {
  request: (method: string, data: unknown, ack: (result: SignalingResult<RequestMethod>) => void) => void;
  input: (event: InputEvent) => void;
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
/** The requests of one namespace, e.g. RequestIn<'admin'>. */
export type RequestIn<NS extends string> = Extract<ParsedRequest, { method: `${NS}.${string}` }>;

export function isRequestIn<NS extends string>(request: ParsedRequest, namespace: NS): request is RequestIn<NS> {
  return request.method.startsWith(`${namespace}.`);
}

/** Checks an input event; throws BadRequestError naming what is wrong. */
export function parseInputEvent(event: unknown): InputEvent {
  try {
    return inputEventSchema.parse(event, 'input');
  } catch (err) {
    if (err instanceof s.SchemaError) throw new BadRequestError(err.message);
    throw err;
  }
}

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

/** A recording file, as `GET /api/recordings` lists it (admin token). */
export interface RecordingInfo {
  /** File name in the recording folder; download it with `GET /api/recordings/<name>`. */
  name: string;
  bytes: number;
  /** Seconds; null for a file cut short (deskcast killed mid-recording: it plays, its length is not written). */
  durationSec: number | null;
  /** Being written now. */
  recording: boolean;
  /** Closed cleanly (size and duration written). */
  complete: boolean;
  modifiedAt: string;
}

/** `GET /api/recordings`. */
export interface RecordingList {
  recording: RecordingInfo | null;
  recordings: RecordingInfo[];
  dir: string;
}
