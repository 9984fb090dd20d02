// A real WebRTC receiver without a browser: ICE + DTLS-SRTP through libdatachannel
// (node-datachannel's native API), set up through deskcast's own signaling (socket.io:
// media.join / createTransport / consume / connectTransport / resumeConsumer). It receives and
// decrypts RTP and counts it — sequence numbers for loss, marker bits for frames — but decodes
// nothing, sends no NACKs (so a lost packet stays lost) and no transport-cc.
import { Agent } from 'node:https';
import nodeDataChannel from 'node-datachannel';
import { io, type Socket } from 'socket.io-client';
import type { ConsumerDescription, ResponseTypes, SignalingResult } from '../../shared/protocol.js';

const { PeerConnection, RtcpReceivingSession } = nodeDataChannel;

export interface ReceiverStats {
  /** Video RTP packets received (original stream, not retransmissions). */
  packets: number;
  /** Video packets missing from the sequence so far. */
  lost: number;
  /** Video frames completed (RTP marker bit). */
  frames: number;
  /** Audio RTP packets received. */
  audioPackets: number;
  bytes: number;
  /** libdatachannel's peer connection state ('connected', 'disconnected', 'failed'…). */
  state: string;
}

class SequenceCounter {
  packets = 0;
  #first: number | undefined;
  #highest = 0; // extended
  count(seq: number): void {
    if (this.#first === undefined) {
      this.#first = seq;
      this.#highest = seq;
    } else {
      const low = this.#highest & 0xffff;
      let delta = (seq - low) & 0xffff;
      if (delta >= 0x8000) delta -= 0x10000; // late / reordered
      if (delta > 0) this.#highest += delta;
    }
    this.packets++;
  }
  get lost(): number {
    return this.#first === undefined ? 0 : Math.max(0, this.#highest - this.#first + 1 - this.packets);
  }
}

function sdpOffer(transport: ResponseTypes['media.createTransport'], consumers: ConsumerDescription[]): string {
  const lines = ['v=0', `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', `a=group:BUNDLE ${consumers.map((c) => c.rtpParameters.mid).join(' ')}`, 'a=ice-lite', 'a=msid-semantic: WMS *'];
  const fp = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
  for (const c of consumers) {
    const p = c.rtpParameters;
    const pts = p.codecs.map((codec) => codec.payloadType);
    lines.push(`m=${c.kind} 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`, 'c=IN IP4 127.0.0.1', 'a=rtcp-mux', 'a=rtcp-rsize', `a=mid:${p.mid}`, 'a=sendonly');
    lines.push(`a=ice-ufrag:${transport.iceParameters.usernameFragment}`, `a=ice-pwd:${transport.iceParameters.password}`);
    lines.push(`a=fingerprint:${fp.algorithm} ${fp.value}`, 'a=setup:actpass');
    for (const cand of transport.iceCandidates) {
      if (cand.protocol !== 'udp') continue;
      lines.push(`a=candidate:${cand.foundation} 1 udp ${cand.priority} ${cand.address ?? (cand as unknown as { ip: string }).ip} ${cand.port} typ host`);
    }
    lines.push('a=end-of-candidates');
    for (const codec of p.codecs) {
      const [, name] = codec.mimeType.split('/');
      lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
      const fmtp = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`);
      if (fmtp.length) lines.push(`a=fmtp:${codec.payloadType} ${fmtp.join(';')}`);
      for (const fb of codec.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${codec.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
    }
    for (const ext of p.headerExtensions ?? []) lines.push(`a=extmap:${ext.id} ${ext.uri}`);
    const cname = p.rtcp?.cname ?? 'deskcast';
    const ssrcs = (p.encodings ?? []).flatMap((e) => [e.ssrc, e.rtx?.ssrc].filter((x): x is number => typeof x === 'number'));
    for (const ssrc of ssrcs) lines.push(`a=ssrc:${ssrc} cname:${cname}`);
    if (ssrcs.length === 2) lines.push(`a=ssrc-group:FID ${ssrcs[0]} ${ssrcs[1]}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface RtcReceiver {
  readonly viewerId: string;
  readonly workerIndex: number | undefined;
  stats(): ReceiverStats;
  close(): void;
}

/** Thrown when the server does not admit the receiver; `code` is the signaling error code ('full'…). */
export class ReceiverRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const insecureAgent = new Agent({ rejectUnauthorized: false });

/**
 * Joins `origin` (https://host:port) with `token` and receives the broadcast until close().
 * Resolves once ICE and DTLS are up and consumers are resumed; rejects with ReceiverRefused
 * when the host is full.
 */
export async function connectReceiver(origin: string, token: string, options: { name?: string; timeoutMs?: number; bindAddress?: string } = {}): Promise<RtcReceiver> {
  const socket: Socket = io(origin, { auth: { token }, transports: ['websocket'], reconnection: false, agent: insecureAgent as never, rejectUnauthorized: false } as never);
  const request = <M extends keyof ResponseTypes>(method: M, data: unknown): Promise<ResponseTypes[M]> =>
    new Promise((resolve, reject) =>
      socket.timeout(options.timeoutMs ?? 20_000).emit('request', method, data, (err: Error | null, result: SignalingResult<M>) => {
        if (err) reject(new Error(`${method}: no answer (${err.message})`));
        else if (!result.ok) reject(new ReceiverRefused(result.error.code, result.error.message));
        else resolve(result.data);
      }),
    );
  let pc: InstanceType<typeof PeerConnection> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    const joined = await request('media.join', { clientName: options.name ?? 'rtc-receiver' });
    const transport = await request('media.createTransport', {});
    const { consumers } = await request('media.consume', { transportId: transport.transportId, rtpCapabilities: joined.routerRtpCapabilities });
    const video = new SequenceCounter();
    const stats: ReceiverStats = { packets: 0, lost: 0, frames: 0, audioPackets: 0, bytes: 0, state: 'new' };
    const videoPts = new Set(consumers.filter((c) => c.kind === 'video').flatMap((c) => c.rtpParameters.codecs.filter((k) => !/rtx/i.test(k.mimeType)).map((k) => k.payloadType)));
    const audioPts = new Set(consumers.filter((c) => c.kind === 'audio').flatMap((c) => c.rtpParameters.codecs.map((k) => k.payloadType)));

    const peer = new PeerConnection(options.name ?? 'rtc-receiver', { iceServers: [], ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}) });
    pc = peer;
    const answer = new Promise<string>((resolve) => peer.onLocalDescription((sdp, type) => type === 'answer' && resolve(sdp)));
    const connected = new Promise<void>((resolve, reject) =>
      peer.onStateChange((state) => {
        stats.state = state;
        if (state === 'connected') resolve();
        if (state === 'failed') reject(new Error('ICE/DTLS failed'));
      }),
    );
    // Held for the receiver's lifetime: a track only JS-referenced from its own callback is
    // garbage-collected, and node-datachannel then stops delivering its packets (both
    // receivers went silent after about a second, at the first major GC).
    const tracks: unknown[] = [];
    peer.onTrack((track) => {
      tracks.push(track);
      track.setMediaHandler(new RtcpReceivingSession());
      track.onMessage((msg) => {
        if (msg.length < 12 || msg[1]! >= 200 && msg[1]! <= 206) return; // RTCP
        const pt = msg[1]! & 0x7f;
        stats.bytes += msg.length;
        if (videoPts.has(pt)) {
          video.count(msg.readUInt16BE(2));
          if (msg[1]! & 0x80) stats.frames++;
        } else if (audioPts.has(pt)) stats.audioPackets++;
      });
    });
    peer.setRemoteDescription(sdpOffer(transport, consumers), 'offer');
    const sdp = await answer;
    const setup = /a=setup:(\w+)/.exec(sdp)?.[1];
    const fpLine = /a=fingerprint:(\S+) (\S+)/.exec(sdp);
    if (!fpLine) throw new Error('libdatachannel answered without a DTLS fingerprint');
    await request('media.connectTransport', {
      transportId: transport.transportId,
      dtlsParameters: { role: setup === 'passive' ? 'server' : 'client', fingerprints: [{ algorithm: fpLine[1], value: fpLine[2] }] },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connected, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ICE/DTLS not connected in time')), options.timeoutMs ?? 20_000)))]);
    clearTimeout(timer);
    for (const c of consumers) await request('media.resumeConsumer', { consumerId: c.consumerId });
    return {
      viewerId: joined.viewerId,
      workerIndex: undefined,
      stats: () => ({ ...stats, packets: video.packets, lost: video.lost }),
      close: () => {
        tracks.length = 0;
        peer.close();
        socket.close();
      },
    };
  } catch (err) {
    pc?.close();
    socket.close();
    throw err;
  }
}
