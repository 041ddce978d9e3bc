// Webhooks (doc/alerts.md): the pure part of the project page's Alerts panel.
import type { NewWebhook, Webhook } from '../api/types';
import { PROBLEM_KINDS } from '../api/types';

/** A one-line health of a webhook's deliveries. */
export function deliveryStatus(h: Pick<Webhook, 'deliveries'>): { tone: 'ok' | 'err' | 'idle' | 'pending'; text: string } {
  const d = h.deliveries;
  if (d.pending > 0 && d.last_error) return { tone: 'err', text: `retrying (${d.pending} pending): ${d.last_error}` };
  if (d.last_error) return { tone: 'err', text: `last attempt failed: ${d.last_error}` };
  if (d.pending > 0) return { tone: 'pending', text: `${d.pending} pending` };
  if (d.delivered === 0) return { tone: 'idle', text: 'nothing sent yet' };
  return { tone: 'ok', text: `${d.delivered} delivered, last HTTP ${d.last_status}` };
}

/** What the webhook fires on, in words. */
export function triggers(h: Pick<Webhook, 'problem_kinds' | 'on_run_end' | 'on_stall'>): string {
  const parts: string[] = [];
  if (h.problem_kinds.includes('*')) parts.push('any first problem');
  else if (h.problem_kinds.length) parts.push(`first ${h.problem_kinds.join(', ')}`);
  if (h.on_run_end) parts.push('failed/crashed runs');
  if (h.on_stall) parts.push('stalls');
  return parts.length ? parts.join(' · ') : 'nothing';
}

/** The server's URL rule, checked before sending (the server checks again): null when fine. */
export function urlProblem(url: string): string | null {
  if (!url) return 'a URL is required';
  if (url.length > 2048) return 'at most 2,048 characters';
  if (!/^https?:\/\//.test(url)) return 'http:// or https:// only';
  if (/[\s\u0000-\u001f\u007f-\uffff]/.test(url)) return 'no spaces or control characters';
  const authority = url.replace(/^https?:\/\//, '').split(/[/?#]/)[0] ?? '';
  if (authority.includes('@')) return 'no user or password in the URL';
  if (!authority || authority.startsWith(':')) return 'a host is required';
  return null;
}

/** The add form's fields as a request body: kinds split on commas/spaces, unknown ones reported. */
export function newWebhook(url: string, format: 'json' | 'slack', kinds: string, onRunEnd: boolean, onStall: boolean): { hook: NewWebhook } | { error: string } {
  const bad = urlProblem(url.trim());
  if (bad) return { error: bad };
  const list = kinds
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = list.filter((k) => k !== '*' && !(PROBLEM_KINDS as readonly string[]).includes(k));
  if (unknown.length) return { error: `unknown kind ${unknown[0]}` };
  return { hook: { url: url.trim(), format, problem_kinds: list, on_run_end: onRunEnd, on_stall: onStall } };
}
