import { describe, expect, it } from 'vitest';
import { BadRequestError, validateRequest } from '../../server/signaling/validateRequest.js';

describe('signaling request validation', () => {
  it('accepts well-formed requests', () => {
    expect(validateRequest('join', {})).toEqual({ method: 'join', data: {} });
    expect(validateRequest('join', undefined)).toEqual({ method: 'join', data: {} });
    expect(validateRequest('resumeConsumer', { consumerId: 'abc' })).toEqual({ method: 'resumeConsumer', data: { consumerId: 'abc' } });
    const dtls = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] };
    expect(validateRequest('connectTransport', { transportId: 't', dtlsParameters: dtls }).data).toEqual({ transportId: 't', dtlsParameters: dtls });
  });

  it.each([
    ['nope', {}, /Unknown method "nope"/],
    [42, {}, /Unknown method 42/],
    ['join', 'x', /payload of "join" must be an object/],
    ['join', [], /payload of "join" must be an object/],
    ['join', { clientName: 5 }, /clientName/],
    ['join', { extra: 1 }, /Unexpected field "extra"/],
    ['resumeConsumer', {}, /"consumerId" must be a non-empty string/],
    ['resumeConsumer', { consumerId: 'x'.repeat(65) }, /at most 64/],
    ['connectTransport', { transportId: 't' }, /"dtlsParameters" must be an object/],
    ['connectTransport', { transportId: 't', dtlsParameters: { fingerprints: [] } }, /fingerprints" must be a non-empty array/],
    ['consume', { transportId: 't', rtpCapabilities: { codecs: 'h264' } }, /codecs" must be an array/],
  ])('rejects %s %j', (method, data, message) => {
    expect(() => validateRequest(method, data)).toThrow(BadRequestError);
    expect(() => validateRequest(method, data)).toThrow(message);
  });
});
