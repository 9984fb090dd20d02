import { describe, expect, it } from 'vitest';
import { BadRequestError, parseRequest, requestMethods } from '../../shared/protocol.js';

describe('signaling protocol: requests validated from the same schemas as their types', () => {
  it('accepts well-formed requests', () => {
    expect(parseRequest('media.join', {})).toEqual({ method: 'media.join', data: {} });
    expect(parseRequest('media.join', undefined)).toEqual({ method: 'media.join', data: {} });
    expect(parseRequest('media.join', { clientName: 'Ann' })).toEqual({ method: 'media.join', data: { clientName: 'Ann' } });
    expect(parseRequest('media.resumeConsumer', { consumerId: 'abc' })).toEqual({ method: 'media.resumeConsumer', data: { consumerId: 'abc' } });
    const dtls = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] };
    expect(parseRequest('media.connectTransport', { transportId: 't', dtlsParameters: dtls }).data).toEqual({ transportId: 't', dtlsParameters: dtls });
    // mediasoup's own structures keep the fields this layer does not check.
    const caps = { codecs: [{ kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1 } }], headerExtensions: [] };
    expect(parseRequest('media.consume', { transportId: 't', rtpCapabilities: caps }).data).toEqual({ transportId: 't', rtpCapabilities: caps });
  });

  it('names every method with its namespace', () => {
    for (const method of requestMethods) expect(method).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
  });

  it.each([
    ['nope', {}, /Unknown method "nope"/],
    ['join', {}, /Unknown method "join"/],
    [42, {}, /Unknown method 42/],
    ['toString', {}, /Unknown method "toString"/],
    ['media.join', 'x', /"data" must be an object/],
    ['media.join', [], /"data" must be an object/],
    ['media.join', { clientName: 5 }, /"data.clientName" must be a string of at most 100 characters/],
    ['media.join', { extra: 1 }, /"data.extra" must be absent \(unexpected field/],
    ['media.resumeConsumer', {}, /"data.consumerId" must be a string of 1 to 64 characters/],
    ['media.resumeConsumer', { consumerId: 'x'.repeat(65) }, /1 to 64/],
    ['media.connectTransport', { transportId: 't' }, /"data.dtlsParameters" must be an object/],
    ['media.connectTransport', { transportId: 't', dtlsParameters: { fingerprints: [] } }, /"data.dtlsParameters.fingerprints" must be an array of 1 to 8 items/],
    ['media.connectTransport', { transportId: 't', dtlsParameters: { fingerprints: [{}] } }, /"data.dtlsParameters.fingerprints\[0\].algorithm"/],
    ['media.consume', { transportId: 't', rtpCapabilities: { codecs: 'h264' } }, /"data.rtpCapabilities.codecs" must be an array/],
    ['media.consume', { transportId: 't', rtpCapabilities: { codecs: [{ kind: 'text', mimeType: 'x' }] } }, /codecs\[0\].kind" must be one of "audio", "video"/],
  ])('rejects %s %j with a message naming the field', (method, data, message) => {
    expect(() => parseRequest(method, data)).toThrow(BadRequestError);
    expect(() => parseRequest(method, data)).toThrow(message);
  });
});
