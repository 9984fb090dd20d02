/** A tap cannot do what was asked right now; the message says why (and what to do). */
export class TapError extends Error {
  override name = 'TapError';
  constructor(
    message: string,
    /** HTTP status the API answers with. */
    readonly status: number = 503,
  ) {
    super(message);
  }
}
