// Window-level keys of the viewer (lib/shortcuts.ts is the table), off while typing or in a dialog.
import { useEffect, useRef } from 'react';
import { shortcutFor, type ShortcutAction } from '../../lib/shortcuts';

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

export type ShortcutHandlers = Partial<Record<ShortcutAction, () => void>>;

export function useShortcuts(handlers: ShortcutHandlers): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      if (document.querySelector('[data-testid="confirm-dialog"]')) return;
      const action = shortcutFor(e);
      // Enter on a focused button or link is that control's own.
      if (action === 'open' && (e.target as HTMLElement | null)?.closest?.('button, a')) return;
      const fn = action ? ref.current[action] : undefined;
      if (!fn) return;
      e.preventDefault();
      fn();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
