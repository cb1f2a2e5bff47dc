// Redis glob semantics for the in-process bus: every expectation here is what
// Redis 7's PSUBSCRIBE (stringmatchlen) answers for the same pattern and channel.
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../src/sources/globMatcher.js';

/** The strings, out of `candidates`, that the pattern matches. */
function matches(glob: string, candidates: string[]): string[] {
  const regexp = globMatcher(glob);
  return candidates.filter((s) => regexp.test(s));
}

describe('globMatcher', () => {
  it('matches a literal pattern only against the same whole string', () => {
    const re = globMatcher('stream.score_updates');
    expect(re.test('stream.score_updates')).toBe(true);
    expect(re.test('streamXscore_updates')).toBe(false);
    expect(re.test('stream.score_updates2')).toBe(false);
    expect(re.test('xstream.score_updates')).toBe(false);
    expect(re.test('stream.score')).toBe(false);
  });

  it('makes * match any run of characters, the empty one included', () => {
    const candidates = [
      'stream.tweet_updates.2665',
      'stream.tweet_updates.0031-20E3',
      'stream.tweet_updates.',
      'stream.tweet_updates.a.b',
      'stream.tweet_updates',
      'xstream.tweet_updates.2665',
      'stream.score_updates',
    ];
    expect(matches('stream.tweet_updates.*', candidates)).toEqual(candidates.slice(0, 4));
    expect(matches('*', ['', 'a', 'a\nb', 'stream.x'])).toEqual(['', 'a', 'a\nb', 'stream.x']);
    expect(matches('x*y*z', ['xyz', 'x_y_z', 'xy', 'xzy', 'xyzz'])).toEqual([
      'xyz',
      'x_y_z',
      'xyzz',
    ]);
    expect(matches('a**b', ['ab', 'axxb', 'ba'])).toEqual(['ab', 'axxb']);
  });

  it('makes ? match exactly one character', () => {
    expect(matches('a?c', ['abc', 'a?c', 'a\nc', 'ac', 'abbc'])).toEqual(['abc', 'a?c', 'a\nc']);
    expect(matches('??', ['', 'a', 'ab', 'abc'])).toEqual(['ab']);
  });

  it('matches one character of a class: [abc], [^a], [a-c]', () => {
    const candidates = ['aad', 'abd', 'acd', 'add', 'ad', 'abbd'];
    expect(matches('a[bc]d', candidates)).toEqual(['abd', 'acd']);
    expect(matches('a[^b]d', candidates)).toEqual(['aad', 'acd', 'add']);
    expect(matches('a[a-c]d', candidates)).toEqual(['aad', 'abd', 'acd']);
    expect(matches('[^a-c]x', ['ax', 'bx', 'dx', 'x', '-x'])).toEqual(['dx', '-x']);
    expect(matches('*[0-9]', ['a1', 'a', '9', 'room:918'])).toEqual(['a1', '9', 'room:918']);
  });

  it('reads a reversed range as the same range, as Redis does, instead of throwing', () => {
    expect(() => globMatcher('a[d-b]e')).not.toThrow();
    expect(matches('a[d-b]e', ['aae', 'abe', 'ace', 'ade', 'aee'])).toEqual(['abe', 'ace', 'ade']);
  });

  it('treats an escaped character literally', () => {
    expect(matches('a\\*b', ['a*b', 'axb', 'ab'])).toEqual(['a*b']);
    expect(matches('a\\?b', ['a?b', 'axb'])).toEqual(['a?b']);
    expect(matches('a\\[b', ['a[b', 'ab'])).toEqual(['a[b']);
    expect(matches('h\\ello', ['hello', 'h\\ello'])).toEqual(['hello']);
    expect(matches('\\\\', ['\\', '\\\\'])).toEqual(['\\']);
    // A trailing backslash has nothing to escape and stands for itself.
    expect(matches('a\\', ['a\\', 'a'])).toEqual(['a\\']);
  });

  it('escapes inside a class too', () => {
    expect(matches('[\\]]', [']', '\\', '\\]'])).toEqual([']']);
    expect(matches('[a\\-c]', ['a', '-', 'c', 'b'])).toEqual(['a', '-', 'c']);
    expect(matches('[\\\\]', ['\\', ']'])).toEqual(['\\']);
  });

  it('closes a class at its first ], as Redis does', () => {
    // "[]" is an empty class: it matches nothing, and "[^]" matches anything.
    expect(matches('[]', ['', ']', 'a', '[]'])).toEqual([]);
    expect(matches('[]a]', [']', 'a', ']a]', 'xa]'])).toEqual([]);
    expect(matches('[^]', ['a', ']', '', 'ab'])).toEqual(['a', ']']);
    // So "[^]]" is any one character followed by "]".
    expect(matches('[^]]', [']', 'a', 'a]', ']]'])).toEqual(['a]', ']]']);
    expect(matches('[[]', ['[', ']'])).toEqual(['[']);
  });

  it('lets a class left open run to the end of the pattern, as Redis does', () => {
    expect(matches('[abc', ['a', 'b', 'c', 'd', '[abc'])).toEqual(['a', 'b', 'c']);
    expect(matches('a[', ['a', 'a[', 'ab'])).toEqual([]);
    // "a-]" is a range from "]" to "a": "-" is not in it, "^", "_" and "`" are.
    expect(matches('[a-]', ['a', '-', ']', '^', '_', '`', 'b'])).toEqual(['a', ']', '^', '_', '`']);
  });

  it('takes regular-expression syntax literally', () => {
    expect(matches('a.b', ['a.b', 'axb'])).toEqual(['a.b']);
    expect(matches('a+b', ['a+b', 'aab', 'ab'])).toEqual(['a+b']);
    expect(matches('(a)', ['(a)', 'a'])).toEqual(['(a)']);
    expect(matches('a|b', ['a|b', 'a', 'b'])).toEqual(['a|b']);
    expect(matches('^a$', ['^a$', 'a'])).toEqual(['^a$']);
    expect(matches('x{2}/y', ['x{2}/y', 'xx/y'])).toEqual(['x{2}/y']);
    // Redis has no "!" negation: it is a literal inside a class.
    expect(matches('[!a]', ['!', 'a', 'b'])).toEqual(['!', 'a']);
  });

  it('never matches part of a channel', () => {
    expect(matches('tweet', ['stream.tweet_updates', 'tweet'])).toEqual(['tweet']);
    expect(matches('a*', ['a', 'ab', 'ba'])).toEqual(['a', 'ab']);
    expect(matches('*a', ['a', 'ba', 'ab'])).toEqual(['a', 'ba']);
    expect(matches('user:?', ['user:1', 'user:12', 'xuser:1'])).toEqual(['user:1']);
    expect(matches('room:*', ['room:918', 'room:', 'myroom:1', 'room'])).toEqual([
      'room:918',
      'room:',
    ]);
  });
});

describe('globMatcher on hostile patterns', () => {
  // A regular expression (`.*a.*a.*a.*a.*b`) takes seconds on a 199-character
  // channel and grows exponentially; these finish in a few million steps at most.
  it('answers *a*a*a*a*b against long runs of a without backtracking', () => {
    const m = globMatcher('*a*a*a*a*a*a*a*a*b');
    expect(m.test('a'.repeat(199))).toBe(false);
    expect(m.test('a'.repeat(20_000))).toBe(false);
    expect(m.test(`${'a'.repeat(20_000)}b`)).toBe(true);
  });

  it('answers *.*.*.*.x against long dotted channels', () => {
    const m = globMatcher('*.*.*.*.*.*.x');
    expect(m.test('.'.repeat(121))).toBe(false);
    expect(m.test(`${'a.'.repeat(10_000)}x`)).toBe(true);
  });
});
