// A small runtime schema: one description gives both the TypeScript type (Infer<>) and the
// validator, so what the server accepts and what the client sends cannot drift apart.
// Used for signaling payloads (shared/protocol.ts) and for the native addon's events.
// Free of Node imports: the viewer page bundles it.

/** A value did not match its schema; `path` says where (e.g. `data.pointer.x`). */
export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`"${path}" must be ${expected}.`);
  }
}

export interface Schema<T> {
  /** Human description used in error messages ("a string of at most 64 characters"). */
  readonly expected: string;
  /** Returns the value (narrowed, possibly normalised) or throws SchemaError. */
  parse(value: unknown, path?: string): T;
  /** Field names, for object schemas (used to check declarations against real payloads). */
  readonly fields?: Readonly<Record<string, Schema<unknown>>>;
  readonly optional?: boolean;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function schema<T>(expected: string, parse: (value: unknown, path: string) => T, extra: Partial<Schema<T>> = {}): Schema<T> {
  return { expected, parse: (value, path = 'value') => parse(value, path), ...extra };
}

export function string(opts: { min?: number; max: number; pattern?: RegExp }): Schema<string> {
  const min = opts.min ?? 0;
  const expected = `a string of ${min > 0 ? `${min} to ${opts.max}` : `at most ${opts.max}`} characters${opts.pattern ? ` matching ${opts.pattern}` : ''}`;
  return schema(expected, (v, path) => {
    if (typeof v !== 'string' || v.length < min || v.length > opts.max || (opts.pattern && !opts.pattern.test(v))) {
      throw new SchemaError(path, expected);
    }
    return v;
  });
}

export function number(opts: { min: number; max: number; integer?: boolean }): Schema<number> {
  const expected = `${opts.integer ? 'a whole number' : 'a number'} from ${opts.min} to ${opts.max}`;
  return schema(expected, (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < opts.min || v > opts.max || (opts.integer && !Number.isInteger(v))) {
      throw new SchemaError(path, expected);
    }
    return v;
  });
}

export function boolean(): Schema<boolean> {
  return schema('true or false', (v, path) => {
    if (typeof v !== 'boolean') throw new SchemaError(path, 'true or false');
    return v;
  });
}

export function oneOf<const V extends readonly (string | number)[]>(...values: V): Schema<V[number]> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return schema(expected, (v, path) => {
    if (!values.includes(v as V[number])) throw new SchemaError(path, expected);
    return v as V[number];
  });
}

export function array<T>(item: Schema<T>, opts: { min?: number; max: number }): Schema<T[]> {
  const min = opts.min ?? 0;
  const expected = `an array of ${min > 0 ? `${min} to ${opts.max}` : `at most ${opts.max}`} items, each ${item.expected}`;
  return schema(expected, (v, path) => {
    if (!Array.isArray(v) || v.length < min || v.length > opts.max) throw new SchemaError(path, expected);
    return v.map((x, i) => item.parse(x, `${path}[${i}]`));
  });
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return { ...schema(`${inner.expected} (optional)`, (v, path) => (v === undefined ? undefined : inner.parse(v, path))), optional: true };
}

type Fields = Record<string, Schema<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: undefined extends Infer<F[K]> ? K : never }[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<F extends Fields> = Simplify<{ [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }>;

/**
 * An object with exactly these fields. `unknownFields: 'keep'` passes other fields through
 * untouched (for mediasoup's own structures, whose inner detail mediasoup validates itself).
 */
export function object<F extends Fields>(fields: F, opts: { unknownFields?: 'reject' | 'keep' } = {}): Schema<ObjectOf<F>> {
  const names = Object.keys(fields);
  const expected = names.length === 0 ? 'an empty object' : `an object with ${names.join(', ')}`;
  return schema(
    expected,
    (v, path) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, expected);
      const input = v as Record<string, unknown>;
      const out: Record<string, unknown> = opts.unknownFields === 'keep' ? { ...input } : {};
      if (opts.unknownFields !== 'keep') {
        for (const key of Object.keys(input)) {
          if (!(key in fields)) throw new SchemaError(`${path}.${key}`, `absent (unexpected field; allowed: ${names.join(', ') || 'none'})`);
        }
      }
      for (const [key, field] of Object.entries(fields)) {
        const value = field.parse(input[key], `${path}.${key}`);
        if (value !== undefined) out[key] = value;
      }
      return out as ObjectOf<F>;
    },
    { fields },
  );
}

/** A union of objects told apart by their `type` field. */
export function variant<const Tag extends string, const S extends Record<string, Schema<Record<string, unknown>>>>(
  tag: Tag,
  cases: S,
): Schema<{ [K in keyof S & string]: Simplify<{ [T in Tag]: K } & Infer<S[K]>> }[keyof S & string]> {
  const names = Object.keys(cases);
  return schema(`an object whose "${tag}" is one of ${names.join(', ')}`, (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, 'an object');
    const { [tag]: which, ...rest } = v as Record<string, unknown>;
    const c = typeof which === 'string' ? cases[which] : undefined;
    if (!c) throw new SchemaError(`${path}.${tag}`, `one of ${names.map((n) => JSON.stringify(n)).join(', ')}`);
    return { [tag]: which, ...c.parse(rest, path) } as never;
  });
}

/**
 * A shape checked here, typed as the library's own type T (e.g. mediasoup's DtlsParameters):
 * the checks catch malformed input early with a clear message; the library checks the rest.
 */
export function shaped<T>(inner: Schema<unknown>): Schema<T> {
  return schema(inner.expected, (v, path) => inner.parse(v, path) as T, inner.fields ? { fields: inner.fields } : {});
}
