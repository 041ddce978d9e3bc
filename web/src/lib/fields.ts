// Structured lines in the viewer: the chips a line's fields show as, the filter a chip click
// adds, and the field-filter box's text parsed into the expressions the server takes
// (doc/api.md "Field filters"). Pure functions, tested in fields.test.ts.

export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };
export type Fields = { [key: string]: FieldValue };

export interface FieldChip {
  key: string;
  /** The value as shown (strings bare, objects and arrays as compact JSON, cut to `maxValue`). */
  text: string;
  /** The filter expression that keeps lines with this value, or null (objects, arrays). */
  filter: string | null;
}

/** The server's limit on field filters per request. */
export const MAX_FIELD_FILTERS = 8;

const MAX_VALUE = 40;

function shown(v: FieldValue): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The chips of a line's fields, in their order, at most `max` (the rest are counted by the
 * caller: `fields` has them all). */
export function fieldChips(fields: Fields | undefined, max = 6, maxValue = MAX_VALUE): FieldChip[] {
  if (!fields) return [];
  return Object.entries(fields)
    .slice(0, max)
    .map(([key, value]) => ({
      key,
      text: cut(shown(value), maxValue),
      filter: chipFilter(key, value),
    }));
}

/** `key=value` for scalars (the server's equality: numbers as numbers, strings by content).
 * Values with a comma cannot be written in the comma-separated box: null then. */
export function chipFilter(key: string, value: FieldValue): string | null {
  if (value !== null && typeof value === 'object') return null;
  const text = value === null ? 'null' : String(value);
  if (text.includes(',') || /[=!<>]/.test(key) || key.includes(',')) return null;
  return `${key}=${text}`;
}

/** The fields as indented JSON for the expanded view. */
export function fieldsJson(fields: Fields): string {
  return JSON.stringify(fields, null, 2);
}

const EXPR = /^(!?)([^=!<>]+?)\s*(?:(==|=|!=|>=|<=|>|<)\s*(.*))?$/;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

export type ParsedFieldFilters = { ok: true; exprs: string[] } | { ok: false; error: string };

/** What was typed in the field-filter box (`loss>1.5, rank=3`; a leading `field.` is allowed, as
 * in the search syntax of the docs) as the server's expressions, or the first problem. */
export function parseFieldFilters(text: string): ParsedFieldFilters {
  const exprs: string[] = [];
  for (const raw of text.split(',')) {
    let item = raw.trim();
    if (!item) continue;
    if (item.startsWith('field.')) item = item.slice(6);
    const m = EXPR.exec(item);
    if (!m) return { ok: false, error: `'${raw.trim()}': want name, !name, or name = != > >= < <= value` };
    const [, neg, name, op, value] = m;
    const path = name!.trim();
    if (!path || path.split('.').some((p) => !p)) return { ok: false, error: `'${raw.trim()}': no field name` };
    if (neg && op) return { ok: false, error: `'${raw.trim()}': !name takes no value` };
    if (op && (op === '>' || op === '<' || op === '>=' || op === '<=') && !NUMBER.test((value ?? '').trim())) {
      return { ok: false, error: `'${raw.trim()}': ${op} needs a number` };
    }
    exprs.push(`${neg}${path}${op ? `${op}${(value ?? '').trim()}` : ''}`);
  }
  if (exprs.length > MAX_FIELD_FILTERS) return { ok: false, error: `at most ${MAX_FIELD_FILTERS} field filters` };
  return { ok: true, exprs };
}

/** The box's text for a list of expressions (the inverse of parseFieldFilters). */
export function fieldFiltersText(exprs: readonly string[]): string {
  return exprs.join(', ');
}

/** Adds an expression unless it is there already. */
export function withFieldFilter(exprs: readonly string[], expr: string): string[] {
  return exprs.includes(expr) ? [...exprs] : [...exprs, expr];
}
