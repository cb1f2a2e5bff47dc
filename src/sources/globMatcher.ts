// Redis glob patterns (PSUBSCRIBE), matched exactly as Redis matches them — *,
// ?, [abc], [^a-z] and \ escapes — but without a regular expression: a pattern
// is read into single-character steps and stars, and matched with one
// remembered star, so `*a*a*a*a*b` against a long channel takes time in
// proportion to the two lengths, never the exponential backtracking `.*` can.

type Step =
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'char'; readonly c: string }
  | { readonly kind: 'class'; readonly negate: boolean; readonly test: (c: string) => boolean };

export interface GlobMatcher {
  /** Whether the whole string matches the pattern. */
  test(s: string): boolean;
}

export function globMatcher(glob: string): GlobMatcher {
  const steps = parse(glob);
  return { test: (s) => matches(steps, s) };
}

function parse(glob: string): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      // A run of stars is one star.
      if (steps.at(-1)?.kind !== 'star') steps.push({ kind: 'star' });
    } else if (c === '?') steps.push({ kind: 'any' });
    else if (c === '\\' && i + 1 < glob.length)
      steps.push({ kind: 'char', c: glob[++i] as string });
    else if (c === '[') {
      // Read as Redis's stringmatchlen does: \ escapes, x-y is a range either way
      // round, the first ] closes the class ([] matches nothing), and a class
      // left open runs to the end of the pattern.
      let j = i + 1;
      const negate = glob[j] === '^';
      if (negate) j++;
      const singles = new Set<string>();
      const ranges: [string, string][] = [];
      for (; j < glob.length && glob[j] !== ']'; j++) {
        if (glob[j] === '\\' && j + 1 < glob.length) singles.add(glob[++j] as string);
        else if (j + 2 < glob.length && glob[j + 1] === '-') {
          const [from, to] = [glob[j] as string, glob[j + 2] as string].sort() as [string, string];
          ranges.push([from, to]);
          j += 2;
        } else singles.add(glob[j] as string);
      }
      const inside = (ch: string) => singles.has(ch) || ranges.some(([a, b]) => ch >= a && ch <= b);
      steps.push({ kind: 'class', negate, test: inside });
      i = j;
    } else steps.push({ kind: 'char', c });
  }
  return steps;
}

function one(step: Step, c: string): boolean {
  switch (step.kind) {
    case 'any':
      return true;
    case 'char':
      return step.c === c;
    case 'class':
      return step.test(c) !== step.negate;
    case 'star':
      return false;
  }
}

/**
 * Greedy with one remembered star: on a mismatch, the last star takes one more
 * character and matching resumes after it. Stars before it never need to take
 * more, so each position of the string is retried at most once per step.
 */
function matches(steps: readonly Step[], s: string): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let starAt = 0;
  while (i < s.length) {
    const step = steps[p];
    if (step !== undefined && step.kind !== 'star' && one(step, s[i] as string)) {
      p++;
      i++;
    } else if (step?.kind === 'star') {
      star = p++;
      starAt = i;
    } else if (star !== -1) {
      p = star + 1;
      i = ++starAt;
    } else return false;
  }
  while (steps[p]?.kind === 'star') p++;
  return p === steps.length;
}
