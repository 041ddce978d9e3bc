import { describe, expect, it } from 'vitest';
import { color256, parseAnsi, PLAIN, stripAnsi } from './ansi';

describe('parseAnsi', () => {
  it('returns one plain span for text without escapes', () => {
    expect(parseAnsi('hello  world')).toEqual([{ text: 'hello  world', style: PLAIN }]);
    expect(parseAnsi('')).toEqual([]);
  });

  it('applies basic colours and resets', () => {
    const spans = parseAnsi('a\u001b[31mred\u001b[0mb');
    expect(spans.map((s) => s.text)).toEqual(['a', 'red', 'b']);
    expect(spans[1]!.style.fg).toBe('#e06c75');
    expect(spans[2]!.style).toEqual(PLAIN);
  });

  it('handles bold, bright, background and combined params', () => {
    const [s] = parseAnsi('\u001b[1;92;44mok');
    expect(s!.style.bold).toBe(true);
    expect(s!.style.fg).toBe('#b5e890');
    expect(s!.style.bg).toBe('#61afef');
  });

  it('handles 256-colour and truecolour', () => {
    expect(parseAnsi('\u001b[38;5;196mx')[0]!.style.fg).toBe(color256(196));
    expect(parseAnsi('\u001b[48;2;1;2;3mx')[0]!.style.bg).toBe('rgb(1,2,3)');
    expect(color256(16)).toBe('rgb(0,0,0)');
    expect(color256(231)).toBe('rgb(255,255,255)');
    expect(color256(232)).toBe('rgb(8,8,8)');
  });

  it('treats ESC[m as reset and 39/49 as default colours', () => {
    const spans = parseAnsi('\u001b[31;41ma\u001b[39mb\u001b[mc');
    expect(spans[1]!.style.fg).toBeNull();
    expect(spans[1]!.style.bg).not.toBeNull();
    expect(spans[2]!.style).toEqual(PLAIN);
  });

  it('drops non-SGR CSI, OSC and truncated sequences', () => {
    expect(stripAnsi('\u001b[2K\u001b[1Gprogress 50%')).toBe('progress 50%');
    expect(stripAnsi('\u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe('link');
    expect(stripAnsi('\u001b]0;title\u001b\\text')).toBe('text');
    expect(stripAnsi('abc\u001b[31')).toBe('abc');
    expect(stripAnsi('abc\u001b')).toBe('abc');
    expect(stripAnsi('\u001b(Bplain')).toBe('plain');
  });

  it('merges adjacent spans of equal style and keeps whitespace', () => {
    const spans = parseAnsi('\u001b[31m  a\u001b[31m\tb');
    expect(spans).toHaveLength(1);
    expect(spans[0]!.text).toBe('  a\tb');
  });

  it('ignores malformed extended colours without throwing', () => {
    expect(stripAnsi('\u001b[38;9mX')).toBe('X');
    expect(stripAnsi('\u001b[38;5mX')).toBe('X');
  });
});
