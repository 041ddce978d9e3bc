// A small ANSI (ECMA-48) parser for log lines: SGR colour/attribute codes become styled spans;
// every other escape sequence (cursor movement, OSC titles/hyperlinks, …) is dropped, so the
// text that remains is exactly what a terminal would show on one line.

export interface AnsiStyle {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

export interface AnsiSpan {
  text: string;
  style: AnsiStyle;
}

export const PLAIN: Readonly<AnsiStyle> = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
});

// xterm-like palette tuned for the dark theme.
const BASIC = ['#3b4048', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d7dae0'];
const BRIGHT = ['#5c6370', '#ff7b86', '#b5e890', '#ffd68a', '#82c4ff', '#e0a0ff', '#7fd8e3', '#ffffff'];

export function color256(n: number): string {
  if (n < 8) return BASIC[n]!;
  if (n < 16) return BRIGHT[n - 8]!;
  if (n < 232) {
    const i = n - 16;
    const steps = [0, 95, 135, 175, 215, 255];
    const r = steps[Math.floor(i / 36) % 6]!;
    const g = steps[Math.floor(i / 6) % 6]!;
    const b = steps[i % 6]!;
    return `rgb(${r},${g},${b})`;
  }
  const v = 8 + (n - 232) * 10;
  return `rgb(${v},${v},${v})`;
}

function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const s = { ...style };
  if (params.length === 0) params = [0];
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    if (p === 0) Object.assign(s, PLAIN);
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 7) s.inverse = true;
    else if (p === 22) s.bold = s.dim = false;
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p === 27) s.inverse = false;
    else if (p >= 30 && p <= 37) s.fg = BASIC[p - 30]!;
    else if (p === 39) s.fg = null;
    else if (p >= 40 && p <= 47) s.bg = BASIC[p - 40]!;
    else if (p === 49) s.bg = null;
    else if (p >= 90 && p <= 97) s.fg = BRIGHT[p - 90]!;
    else if (p >= 100 && p <= 107) s.bg = BRIGHT[p - 100]!;
    else if (p === 38 || p === 48) {
      const mode = params[i + 1];
      let c: string | null = null;
      if (mode === 5 && params[i + 2] !== undefined) {
        c = color256(Math.min(255, params[i + 2]!));
        i += 2;
      } else if (mode === 2 && params[i + 4] !== undefined) {
        const [r, g, b] = [params[i + 2]!, params[i + 3]!, params[i + 4]!].map((v) => Math.min(255, v));
        c = `rgb(${r},${g},${b})`;
        i += 4;
      } else {
        break; // malformed extended colour: ignore the rest, like terminals do
      }
      if (p === 38) s.fg = c;
      else s.bg = c;
    }
    // other codes (blink, fonts, …) are ignored
  }
  return s;
}

function sameStyle(a: AnsiStyle, b: AnsiStyle): boolean {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse
  );
}

const ESC = '\u001b';

/** Splits `input` into styled spans. Adjacent spans of equal style are merged; empty ones dropped. */
export function parseAnsi(input: string): AnsiSpan[] {
  if (!input.includes(ESC) && !input.includes('\u009b')) {
    return input ? [{ text: input, style: PLAIN }] : [];
  }
  const spans: AnsiSpan[] = [];
  let style: AnsiStyle = PLAIN;
  let buf = '';
  const flush = () => {
    if (!buf) return;
    const last = spans[spans.length - 1];
    if (last && sameStyle(last.style, style)) last.text += buf;
    else spans.push({ text: buf, style });
    buf = '';
  };
  let i = 0;
  const n = input.length;
  while (i < n) {
    const ch = input[i]!;
    const isCsi8 = ch === '\u009b';
    if (ch !== ESC && !isCsi8) {
      buf += ch;
      i++;
      continue;
    }
    const next = isCsi8 ? '[' : input[i + 1];
    if (next === '[') {
      // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E
      let j = i + (isCsi8 ? 1 : 2);
      const start = j;
      while (j < n && input.charCodeAt(j) >= 0x30 && input.charCodeAt(j) <= 0x3f) j++;
      const paramStr = input.slice(start, j);
      while (j < n && input.charCodeAt(j) >= 0x20 && input.charCodeAt(j) <= 0x2f) j++;
      if (j >= n) {
        i = n; // truncated sequence: drop it
        break;
      }
      const final = input[j]!;
      if (final === 'm' && !/[<=>?]/.test(paramStr)) {
        flush();
        const params = paramStr === '' ? [] : paramStr.split(/[;:]/).map((x) => (x === '' ? 0 : parseInt(x, 10) || 0));
        style = applySgr(style, params);
      }
      i = j + 1;
    } else if (next === ']' || next === 'P' || next === '_' || next === '^' || next === 'X') {
      // OSC / DCS / APC / PM / SOS: up to BEL or ST (ESC \)
      let j = i + 2;
      while (j < n && input[j] !== '\u0007' && !(input[j] === ESC && input[j + 1] === '\\')) j++;
      i = j >= n ? n : input[j] === '\u0007' ? j + 1 : j + 2;
    } else if (next === undefined) {
      i = n;
    } else {
      // two-character escape (ESC 7, ESC M, ESC ( B …): drop it and its designator byte
      i += next === '(' || next === ')' ? 3 : 2;
    }
  }
  flush();
  return spans;
}

/** The text a terminal would show, without escape sequences. */
export function stripAnsi(input: string): string {
  return parseAnsi(input)
    .map((s) => s.text)
    .join('');
}
