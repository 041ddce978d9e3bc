// Copying a selection that spans rows gives exactly the messages (lib/copy_lines.ts), never the
// gutter's line numbers, times, levels, sources or writers; a closed fold's row gives the lines it
// hides too. Those are usually in the view's cache (the viewport pages in around what it shows);
// when some are not, they are fetched and written with the async clipboard API instead.
import { useEffect, useRef, type RefObject } from 'react';
import { stripAnsi } from '../../lib/ansi';
import { selectionTextWithFolds, type SelectedRow } from '../../lib/copy_lines';
import type { RowMap } from '../../lib/folds';
import type { LogView } from './log_view';

/** At most this many hidden lines of one fold are copied (what "copy lines" fetches at most). */
const MAX_HIDDEN = 10_000;

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

/** View indices of the lines a closed fold starting at `index` hides (not its holes), or null. */
function hiddenIndices(rows: RowMap, index: number): number[] | null {
  return rows.hiddenOf(index, MAX_HIDDEN);
}

export function useCopyMessages(container: RefObject<HTMLElement>, view: LogView, rows: RowMap): void {
  const latest = useRef({ view, rows });
  latest.current = { view, rows };
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
      const { view, rows: map } = latest.current;
      const picked = rows.map((r) => ({ message: r.querySelector('.msg')?.textContent ?? '', hidden: hiddenIndices(map, Number(r.dataset.index)) }));
      const start = rows[0] === startRow ? (offsetInMessage(startRow, range.startContainer, range.startOffset) ?? 0) : 0;
      const endInMsg = rows[rows.length - 1] === endRow ? offsetInMessage(endRow, range.endContainer, range.endOffset) : null;
      // Selection ends in the next row's gutter: that row contributes nothing.
      if (rows.length > 1 && endInMsg === null && rows[rows.length - 1] === endRow && range.endOffset === 0) picked.pop();
      e.preventDefault();
      const text = (got: SelectedRow[]) => selectionTextWithFolds(got, start, endInMsg);
      const cached = (i: number) => view.line(i);
      const sync = picked.map((p) => ({ message: p.message, hidden: p.hidden?.map((i) => cached(i)?.message ?? null) ?? null }));
      if (sync.every((p) => !p.hidden || p.hidden.every((m) => m !== null))) {
        e.clipboardData?.setData('text/plain', text(sync.map((p) => ({ message: p.message, hidden: p.hidden?.map((m) => stripAnsi(m!)) ?? null }))));
        return;
      }
      void Promise.all(
        picked.map(async (p) => {
          if (!p.hidden?.length) return { message: p.message, hidden: p.hidden && [] };
          view.ensure(p.hidden[0]!, p.hidden[p.hidden.length - 1]! + 1);
          const lines = await Promise.all(p.hidden.map((i) => view.whenLoaded(i)));
          return { message: p.message, hidden: lines.map((l) => stripAnsi(l?.message ?? '')) };
        }),
      ).then((got) => navigator.clipboard.writeText(text(got)));
    };
    el.addEventListener('copy', onCopy);
    return () => el.removeEventListener('copy', onCopy);
  }, [container]);
}
