import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

/** A fresh unguessable token (128 bits, URL-safe). */
export function generateAccessToken(): string {
  return randomBytes(16).toString('base64url');
}

/** Constant-time comparison, so the token cannot be guessed from response timings. */
export function tokenMatches(candidate: unknown, token: string): boolean {
  if (typeof candidate !== 'string' || candidate.length > 256) return false;
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
