// Redis glob patterns (PSUBSCRIBE) as regular expressions, so the in-process bus
// matches channels exactly as Redis would: *, ?, [abc], [^a-z] and \ escapes.

export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < glob.length) out += escape(glob[++i] as string);
    else if (c === '[') {
      // Read as Redis's stringmatchlen does: \ escapes, x-y is a range either way
      // round, the first ] closes the class ([] matches nothing), and a class
      // left open runs to the end of the pattern.
      let j = i + 1;
      const negate = glob[j] === '^';
      if (negate) j++;
      let body = '';
      for (; j < glob.length && glob[j] !== ']'; j++) {
        if (glob[j] === '\\' && j + 1 < glob.length) body += inClass(glob[++j] as string);
        else if (j + 2 < glob.length && glob[j + 1] === '-') {
          const [from, to] = [glob[j] as string, glob[j + 2] as string].sort();
          body += `${inClass(from as string)}-${inClass(to as string)}`;
          j += 2;
        } else body += inClass(glob[j] as string);
      }
      out += `[${negate ? '^' : ''}${body}]`;
      i = j;
    } else out += escape(c);
  }
  return new RegExp(`^${out}$`, 's');
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function inClass(c: string): string {
  return c.replace(/[\]\\^-]/g, '\\$&');
}
