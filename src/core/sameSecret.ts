// Comparing a presented secret (a bearer key, an admin token) with the
// configured one: both are hashed first, so neither the time taken nor a
// length check tells how close a guess was.
import { createHash, timingSafeEqual } from 'node:crypto';

export function sameSecret(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
