import { describe, expect, it } from 'vitest';
import { chipFilter, fieldChips, fieldFiltersText, fieldsJson, parseFieldFilters, withFieldFilter } from './fields';

describe('fieldChips', () => {
  it('shows scalars bare and objects as JSON, with a filter per scalar', () => {
    const chips = fieldChips({ loss: 1.5, split: 'val', ok: true, none: null, data: { gpu: 0 }, tags: ['a'] });
    expect(chips.map((c) => [c.key, c.text, c.filter])).toEqual([
      ['loss', '1.5', 'loss=1.5'],
      ['split', 'val', 'split=val'],
      ['ok', 'true', 'ok=true'],
      ['none', 'null', 'none=null'],
      ['data', '{"gpu":0}', null],
      ['tags', '["a"]', null],
    ]);
  });
  it('keeps at most max chips and cuts long values', () => {
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(100)]));
    const chips = fieldChips(many, 3, 10);
    expect(chips).toHaveLength(3);
    expect(chips[0]!.text).toBe(`${'x'.repeat(9)}…`);
    expect(fieldChips(undefined)).toEqual([]);
  });
  it('gives no filter where the box could not say it', () => {
    expect(chipFilter('a', 'x,y')).toBeNull();
    expect(chipFilter('a>b', 1)).toBeNull();
  });
});

describe('parseFieldFilters', () => {
  it('takes the operators the server takes', () => {
    expect(parseFieldFilters('loss>1.5, rank=3, field.lr<=1e-3, !nan, split != val, data.gpu == 0')).toEqual({
      ok: true,
      exprs: ['loss>1.5', 'rank=3', 'lr<=1e-3', '!nan', 'split!=val', 'data.gpu==0'],
    });
    expect(parseFieldFilters('  ')).toEqual({ ok: true, exprs: [] });
    expect(parseFieldFilters('loss')).toEqual({ ok: true, exprs: ['loss'] });
  });
  it('says what is wrong', () => {
    expect(parseFieldFilters('loss>abc')).toMatchObject({ ok: false, error: expect.stringContaining('needs a number') });
    expect(parseFieldFilters('=3')).toMatchObject({ ok: false });
    expect(parseFieldFilters('a..b=1')).toMatchObject({ ok: false, error: expect.stringContaining('no field name') });
    expect(parseFieldFilters('!a=1')).toMatchObject({ ok: false, error: expect.stringContaining('takes no value') });
    expect(parseFieldFilters(Array.from({ length: 9 }, (_, i) => `k${i}`).join(','))).toMatchObject({ ok: false });
  });
  it('round-trips through the box text', () => {
    const exprs = ['loss>1.5', 'rank=3'];
    expect(parseFieldFilters(fieldFiltersText(exprs))).toEqual({ ok: true, exprs });
    expect(withFieldFilter(exprs, 'rank=3')).toEqual(exprs);
    expect(withFieldFilter(exprs, 'x=1')).toEqual([...exprs, 'x=1']);
  });
});

describe('fieldsJson', () => {
  it('indents', () => {
    expect(fieldsJson({ a: { b: 1 } })).toBe('{\n  "a": {\n    "b": 1\n  }\n}');
  });
});
