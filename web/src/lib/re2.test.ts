import { describe, expect, it } from 'vitest';
import { re2ToJs } from './re2';

const ranges = (p: string, text: string) => [...text.matchAll(re2ToJs(p).re!)].map((m) => [m.index, m.index! + m[0].length]);

describe('RE2 -> JS for highlighting', () => {
  it('passes ordinary patterns through', () => {
    expect(ranges('needle \\d+', 'a needle 12 b needle 3')).toEqual([
      [2, 11],
      [14, 22],
    ]);
  });

  it('honours leading flag groups, several of them', () => {
    expect(re2ToJs('(?i)(?s)abc').re!.flags).toBe('gis');
    expect(ranges('(?i)LOSS', 'loss Loss')).toEqual([
      [0, 4],
      [5, 9],
    ]);
  });

  it('rejects what RE2 rejects: lookaround and backreferences', () => {
    for (const p of ['a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b', '(a)\\1', '(?P<x>a)(?P=x)', '(?<n>a)\\k<n>']) {
      expect(re2ToJs(p).re, p).toBeNull();
      expect(re2ToJs(p).error, p).toMatch(/not supported/);
    }
  });

  it('a digit escape inside a class is not a backreference', () => {
    expect(re2ToJs('[\\1-\\9]').re).not.toBeNull();
  });

  it('translates named groups and \\A / \\z', () => {
    expect(ranges('(?P<w>wor)ld', 'hello world')).toEqual([[6, 11]]);
    expect(ranges('\\Aab', 'abab')).toEqual([[0, 2]]);
    expect(ranges('ab\\z', 'abab')).toEqual([[2, 4]]);
  });

  it('reports a broken pattern instead of throwing', () => {
    expect(re2ToJs('(abc').re).toBeNull();
    expect(re2ToJs('(abc').error).toBeTruthy();
    expect(re2ToJs('abc\\').error).toMatch(/trailing/);
  });

  it('unicode classes switch on the u flag', () => {
    expect(ranges('\\p{Greek}+', 'abc αβγ')).toEqual([[4, 7]]);
    expect(ranges('\\pL+', '12ab3')).toEqual([[2, 4]]);
    expect(ranges('\\p{^Greek}+', 'αβab')).toEqual([[2, 4]]);
  });
});
