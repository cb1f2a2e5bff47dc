// Bearer keys and admin tokens are compared through hashes: equal only when
// equal, whatever the lengths, and a length difference is no shortcut.
import { describe, expect, it } from 'vitest';
import { sameSecret } from '../../src/core/sameSecret.js';

describe('sameSecret', () => {
  it('is true for the same secret only', () => {
    expect(sameSecret('ingest-key-0123456789', 'ingest-key-0123456789')).toBe(true);
    expect(sameSecret('ingest-key-0123456788', 'ingest-key-0123456789')).toBe(false);
  });

  it('compares secrets of any lengths without throwing', () => {
    expect(sameSecret('', 'ingest-key-0123456789')).toBe(false);
    expect(sameSecret('ingest-key-0123456789-and-more', 'ingest-key-0123456789')).toBe(false);
    expect(sameSecret('ü'.repeat(1000), 'ingest-key-0123456789')).toBe(false);
  });
});
