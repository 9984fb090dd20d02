// Signaling messages, typed once and shared by the server and the viewer page.
// Transport: socket.io. The client sends `request` events (method + data + ack);
// the server pushes `notify` events. Everything here must stay free of Node imports:
// the client bundle includes this file.

/** Opaque JSON blobs produced and consumed by mediasoup / mediasoup-client. */
export type Json = unknown;

export interface ConsumerDescription {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: Json;
}

/** method → request payload and successful response. */
export interface SignalingRequests {
  /** Admission: the server counts the viewer and returns the router's capabilities. */
  join: {
    request: { clientName?: string };
    response: { viewerId: string; routerRtpCapabilities: Json };
  };
  createTransport: {
    request: Record<string, never>;
    response: { transportId: string; iceParameters: Json; iceCandidates: Json; dtlsParameters: Json };
  };
  connectTransport: {
    request: { transportId: string; dtlsParameters: Json };
    response: Record<string, never>;
  };
  /** Creates paused consumers for every broadcast stream the client can receive. */
  consume: {
    request: { transportId: string; rtpCapabilities: Json };
    response: { consumers: ConsumerDescription[] };
  };
  /** The client has attached the track: start sending (and request a keyframe). */
  resumeConsumer: {
    request: { consumerId: string };
    response: Record<string, never>;
  };
}

export type SignalingMethod = keyof SignalingRequests;

export const signalingMethods: readonly SignalingMethod[] = [
  'join',
  'createTransport',
  'connectTransport',
  'consume',
  'resumeConsumer',
];

/** Machine-readable error codes a request may fail with. */
export type SignalingErrorCode =
  | 'bad-request' // the payload is malformed; the message names the field
  | 'not-joined' // a media request before `join`
  | 'full' // the broadcast has no room for another viewer
  | 'unavailable' // media is restarting; retry shortly
  | 'internal';

export type SignalingResult<M extends SignalingMethod> =
  | { ok: true; data: SignalingRequests[M]['response'] }
  | { ok: false; error: { code: SignalingErrorCode; message: string } };

/** Server → client pushes. */
export interface SignalingNotifications {
  /** The media path behind this viewer was rebuilt (e.g. a worker restarted): join again. */
  mediaReset: { reason: string };
  /** Broadcast status for the page (encoder, resolution); sent on join and when it changes. */
  status: { encoder: string; width: number; height: number; fps: number };
}

export type ServerToClientEvents = {
  [N in keyof SignalingNotifications]: (data: SignalingNotifications[N]) => void;
};

export interface ClientToServerEvents {
  request: (method: string, data: unknown, ack: (result: SignalingResult<SignalingMethod>) => void) => void;
}

/** Text shown by the page and the socket.io handshake when the token is missing or wrong. */
export const wrongTokenMessage =
  'This link is missing its access token or the token is wrong. Ask the presenter for the link the deskcast server printed ("Viewer link: ...").';
