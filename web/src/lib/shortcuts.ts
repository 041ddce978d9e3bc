// The log viewer's keyboard shortcuts: one table for the handler and for the `?` help.
export type ShortcutAction =
  | 'search'
  | 'top'
  | 'bottom'
  | 'pause'
  | 'nextMatch'
  | 'prevMatch'
  | 'cursorDown'
  | 'cursorUp'
  | 'open'
  | 'help'
  | 'close';

export interface Shortcut {
  keys: string[];
  action: ShortcutAction;
  what: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['/'], action: 'search', what: 'Search' },
  { keys: ['n'], action: 'nextMatch', what: 'Next match' },
  { keys: ['N'], action: 'prevMatch', what: 'Previous match' },
  { keys: ['j'], action: 'cursorDown', what: 'Move the line cursor down' },
  { keys: ['k'], action: 'cursorUp', what: 'Move the line cursor up' },
  { keys: ['Enter'], action: 'open', what: 'Open or close the folded entry at the cursor' },
  { keys: ['g'], action: 'top', what: 'Go to the first line' },
  { keys: ['G'], action: 'bottom', what: 'Go to the last line and follow' },
  { keys: ['Space'], action: 'pause', what: 'Pause / resume live updates' },
  { keys: ['?'], action: 'help', what: 'Show this list' },
  { keys: ['Esc'], action: 'close', what: 'Close this list' },
];

/** Search-box keys, listed in the help only. */
export const SEARCH_KEYS: readonly { keys: string[]; what: string }[] = [
  { keys: ['Enter'], what: 'Next match (in the search box)' },
  { keys: ['Shift', 'Enter'], what: 'Previous match (in the search box)' },
  { keys: ['Esc'], what: 'Clear the search' },
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** The action for a key press outside text fields, or null. */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const key = e.key === ' ' ? 'Space' : e.key === 'Escape' ? 'Esc' : e.key;
  return SHORTCUTS.find((s) => s.keys.includes(key))?.action ?? null;
}
