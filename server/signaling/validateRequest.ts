import { signalingMethods, type SignalingMethod, type SignalingRequests } from '../../shared/protocol.js';

/** A request whose method or payload is malformed; the message names the problem. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

type Validator<M extends SignalingMethod> = (data: Record<string, unknown>) => SignalingRequests[M]['request'];

const MAX_ID_LENGTH = 64;

function requireId(data: Record<string, unknown>, field: string): string {
  const value = data[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw new BadRequestError(`"${field}" must be a non-empty string of at most ${MAX_ID_LENGTH} characters.`);
  }
  return value;
}

function requireObject(data: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = data[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError(`"${field}" must be an object.`);
  }
  return value as Record<string, unknown>;
}

function allowOnly(data: Record<string, unknown>, fields: readonly string[]): void {
  for (const key of Object.keys(data)) {
    if (!fields.includes(key)) throw new BadRequestError(`Unexpected field "${key}".`);
  }
}

const validators: { [M in SignalingMethod]: Validator<M> } = {
  join(data) {
    allowOnly(data, ['clientName']);
    const name = data['clientName'];
    if (name !== undefined && (typeof name !== 'string' || name.length > 100)) {
      throw new BadRequestError('"clientName" must be a string of at most 100 characters.');
    }
    return name === undefined ? {} : { clientName: name };
  },
  createTransport(data) {
    allowOnly(data, []);
    return {};
  },
  connectTransport(data) {
    allowOnly(data, ['transportId', 'dtlsParameters']);
    const dtlsParameters = requireObject(data, 'dtlsParameters');
    if (!Array.isArray(dtlsParameters['fingerprints']) || dtlsParameters['fingerprints'].length === 0) {
      throw new BadRequestError('"dtlsParameters.fingerprints" must be a non-empty array.');
    }
    return { transportId: requireId(data, 'transportId'), dtlsParameters };
  },
  consume(data) {
    allowOnly(data, ['transportId', 'rtpCapabilities']);
    const rtpCapabilities = requireObject(data, 'rtpCapabilities');
    if (!Array.isArray(rtpCapabilities['codecs'])) {
      throw new BadRequestError('"rtpCapabilities.codecs" must be an array.');
    }
    return { transportId: requireId(data, 'transportId'), rtpCapabilities };
  },
  resumeConsumer(data) {
    allowOnly(data, ['consumerId']);
    return { consumerId: requireId(data, 'consumerId') };
  },
};

/** Checks method and payload shape; throws BadRequestError naming what is wrong. */
export function validateRequest(
  method: unknown,
  data: unknown,
): { [M in SignalingMethod]: { method: M; data: SignalingRequests[M]['request'] } }[SignalingMethod] {
  if (typeof method !== 'string' || !(signalingMethods as readonly string[]).includes(method)) {
    throw new BadRequestError(`Unknown method ${JSON.stringify(method)}; expected one of ${signalingMethods.join(', ')}.`);
  }
  const payload = data === undefined ? {} : data;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new BadRequestError(`The payload of "${method}" must be an object.`);
  }
  const m = method as SignalingMethod;
  try {
    // The union return type is checked per method by the validators table.
    return { method: m, data: validators[m](payload as Record<string, unknown>) } as ReturnType<typeof validateRequest>;
  } catch (err) {
    if (err instanceof BadRequestError) throw new BadRequestError(`${method}: ${err.message}`);
    throw err;
  }
}
