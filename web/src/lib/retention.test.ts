import { describe, expect, it } from 'vitest';
import { describeRetention, formatBytes, removedNotice } from './retention';

const none = { max_age_days: null, max_age_action: 'delete_logs' as const, max_lines_per_run: null, max_bytes_per_run: null, max_bytes_per_project: null };

describe('retention in words', () => {
  it('says nothing when everything is kept', () => {
    expect(describeRetention({ project: 'p', policy: {}, defaults: none, effective: none, updated_at: null })).toEqual([]);
  });
  it('names each limit and where it comes from', () => {
    const rules = describeRetention({
      project: 'p',
      policy: { max_lines_per_run: 1000000, max_age_days: 30, max_age_action: 'delete_run' },
      defaults: { ...none, max_bytes_per_project: 2 * 1024 ** 3 },
      effective: { ...none, max_age_days: 30, max_age_action: 'delete_run', max_lines_per_run: 1000000, max_bytes_per_project: 2 * 1024 ** 3 },
      updated_at: null,
    });
    expect(rules.map((r) => [r.key, r.from])).toEqual([
      ['max_age_days', 'project'],
      ['max_lines_per_run', 'project'],
      ['max_bytes_per_project', 'default'],
    ]);
    expect(rules[0]?.text).toBe('Runs finished more than 30 days ago are deleted');
    expect(rules[1]?.text).toBe('Each run keeps its newest 1,000,000 lines');
    expect(rules[2]?.text).toContain('2 GiB');
  });
  it('formats sizes and short ages', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    const r = describeRetention({ project: 'p', policy: {}, defaults: none, effective: { ...none, max_age_days: 0.5 }, updated_at: null });
    expect(r[0]?.text).toBe('Logs of runs finished more than 12 hours ago are deleted');
  });
});

describe('the removed-lines notice', () => {
  it('says which lines went and when', () => {
    expect(removedNotice({ from_line: 1, to_line: 1000000, by: 'retention', at: '2026-12-01T10:00:00Z' }, () => 'DATE')).toBe(
      'Lines 1–1,000,000 were removed by retention on DATE.',
    );
    expect(removedNotice({ from_line: 7, to_line: 7, by: 'retention', at: null })).toBe('Line 7 was removed by retention.');
    expect(removedNotice(null)).toBeNull();
  });
});
