import { describe, expect, it } from 'vitest';
import { writerColor } from './writers';

describe('writer colours', () => {
  it('differ per writer and do not depend on the list order', () => {
    const ws = ['rank-2', 'rank-0', 'rank-1'];
    const cs = ws.map((w) => writerColor(w, ws));
    expect(new Set(cs).size).toBe(3);
    expect(writerColor('rank-1', ['rank-1', 'rank-0'])).toBe(writerColor('rank-1', ['rank-0', 'rank-1']));
  });
  it('falls back to a hashed hue beyond the palette', () => {
    const many = Array.from({ length: 20 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    expect(writerColor('w19', many)).toMatch(/^hsl\(/);
    expect(writerColor('w19', many)).toBe(writerColor('w19', many));
  });
});
