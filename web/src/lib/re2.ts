// The browser's highlighter speaks RE2, the server's dialect: a pattern is translated to a
// JavaScript RegExp only where both mean the same, and everything RE2 rejects (lookaround,
// backreferences) is rejected here too, so the page never marks what the server would not match.
// Validity itself is the server's call (see use_search.ts); this only decides how to highlight.

export interface Re2Translation {
  re: RegExp | null;
  /** Why the pattern cannot be highlighted (RE2 would reject it, or JS cannot express it). */
  error: string | null;
}

const FLAG_RE = /^\(\?([imsU]+)\)/;

/** Translates an RE2 pattern to a global JS RegExp. */
export function re2ToJs(pattern: string): Re2Translation {
  let flags = 'g';
  let body = pattern;
  // Leading flag groups, possibly several: (?i)(?s)...
  for (let m = FLAG_RE.exec(body); m; m = FLAG_RE.exec(body)) {
    if (m[1]!.includes('U')) return { re: null, error: 'the U (ungreedy) flag cannot be highlighted' };
    for (const f of m[1]!) if (!flags.includes(f)) flags += f;
    body = body.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const n = body[i + 1];
      if (n === undefined) return { re: null, error: 'trailing \\' };
      if (!inClass && /[1-9]/.test(n)) return { re: null, error: 'backreferences (\\1) are not supported (RE2)' };
      if (n === 'k' && body[i + 2] === '<') return { re: null, error: 'backreferences (\\k<name>) are not supported (RE2)' };
      if (n === 'A' && !inClass) out += '(?<![\\s\\S])';
      else if (n === 'z' && !inClass) out += '(?![\\s\\S])';
      else if (n === 'p' || n === 'P') {
        // RE2: \pL, \p{Lu} (general categories) and \p{Greek} (scripts); JS wants Script=.
        if (!flags.includes('u')) flags += 'u';
        const m = /^\{\^?([A-Za-z_]+)\}|^([A-Za-z])/.exec(body.slice(i + 2));
        if (!m) return { re: null, error: 'bad \\p class' };
        const neg = body[i + 2] === '{' && body[i + 3] === '^';
        const name = m[1] ?? m[2]!;
        const prop = name.length <= 2 ? name : `Script=${name}`;
        out += `\\${neg ? (n === 'p' ? 'P' : 'p') : n}{${prop}}`;
        i += 1 + m[0].length;
        continue;
      } else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (body[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (body[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && body[i + 1] === '?') {
      const rest = body.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) return { re: null, error: 'lookaround ((?=, (?!, (?<=, (?<!) is not supported (RE2)' };
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      if (rest.startsWith('P=')) return { re: null, error: 'backreferences are not supported (RE2)' };
      if (/^[imsU-]+[:)]/.test(rest)) return { re: null, error: 'inline flags inside the pattern cannot be highlighted' };
    }
    out += c;
  }
  try {
    return { re: new RegExp(out, flags), error: null };
  } catch (e) {
    return { re: null, error: (e as Error).message };
  }
}
