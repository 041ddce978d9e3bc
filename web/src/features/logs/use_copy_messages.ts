// Copying a selection that spans rows gives exactly the messages (lib/copy_lines.ts), never the
// gutter's line numbers, times, levels, sources or writers.
import { useEffect, type RefObject } from 'react';
import { selectionText } from '../../lib/copy_lines';

function rowOf(node: Node | null): HTMLElement | null {
  const el = node instanceof HTMLElement ? node : (node?.parentElement ?? null);
  return el?.closest<HTMLElement>('.row[data-line]') ?? null;
}

/** Offset of (node, offset) within the row's message text; null when outside the message. */
function offsetInMessage(row: HTMLElement, node: Node, offset: number): number | null {
  const msg = row.querySelector('.msg');
  if (!msg || !msg.contains(node)) return null;
  const r = document.createRange();
  r.setStart(msg, 0);
  r.setEnd(node, offset);
  return r.toString().length;
}

export function useCopyMessages(container: RefObject<HTMLElement>): void {
  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const onCopy = (e: ClipboardEvent) => {
      const sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
      const range = sel.getRangeAt(0);
      const startRow = rowOf(range.startContainer);
      const endRow = rowOf(range.endContainer);
      if (!startRow || !endRow) return;
      const rows = [...el.querySelectorAll<HTMLElement>('.row[data-line]')].filter((r) => range.intersectsNode(r));
      if (!rows.length) return;
      const messages = rows.map((r) => r.querySelector('.msg')?.textContent ?? '');
      const start = rows[0] === startRow ? (offsetInMessage(startRow, range.startContainer, range.startOffset) ?? 0) : 0;
      const endInMsg = rows[rows.length - 1] === endRow ? offsetInMessage(endRow, range.endContainer, range.endOffset) : null;
      // Selection ends in the next row's gutter: that row contributes nothing.
      if (rows.length > 1 && endInMsg === null && rows[rows.length - 1] === endRow && range.endOffset === 0) messages.pop();
      const text = selectionText(messages, start, endInMsg);
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
    };
    el.addEventListener('copy', onCopy);
    return () => el.removeEventListener('copy', onCopy);
  }, [container]);
}
