// A colour per writer (rank) in the gutter: stable for a writer name within a run's writer list.
const PALETTE = ['#61afef', '#e5c07b', '#98c379', '#c678dd', '#56b6c2', '#d19a66', '#e06c75', '#abb2bf', '#7aa6da', '#b9ca4a'];

/** The colour of `writer` among `writers` (sorted, so every viewer of a run agrees). */
export function writerColor(writer: string, writers: readonly string[]): string {
  const i = [...writers].sort().indexOf(writer);
  if (i >= 0 && i < PALETTE.length) return PALETTE[i]!;
  let h = 0;
  for (let k = 0; k < writer.length; k++) h = (h * 31 + writer.charCodeAt(k)) >>> 0;
  return `hsl(${h % 360} 55% 65%)`;
}
