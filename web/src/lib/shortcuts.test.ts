import { describe, expect, it } from 'vitest';
import { SHORTCUTS, shortcutFor } from './shortcuts';

const k = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('shortcuts', () => {
  it('maps keys to actions', () => {
    expect(shortcutFor(k('j'))).toBe('cursorDown');
    expect(shortcutFor(k('k'))).toBe('cursorUp');
    expect(shortcutFor(k('?'))).toBe('help');
    expect(shortcutFor(k(' '))).toBe('pause');
    expect(shortcutFor(k('G'))).toBe('bottom');
    expect(shortcutFor(k('Escape'))).toBe('close');
    expect(shortcutFor(k('Enter'))).toBe('open');
  });
  it('ignores modified keys and unknown keys', () => {
    expect(shortcutFor(k('j', { ctrlKey: true }))).toBeNull();
    expect(shortcutFor(k('c', { metaKey: true }))).toBeNull();
    expect(shortcutFor(k('x'))).toBeNull();
  });
  it('every action has one entry', () => {
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
  });
});
