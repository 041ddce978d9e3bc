import { describe, expect, it } from 'vitest';
import type { Webhook } from '../api/types';
import { deliveryStatus, newWebhook, triggers, urlProblem } from './webhooks';

const d: Webhook['deliveries'] = {
  delivered: 0,
  failed_attempts: 0,
  gave_up: 0,
  pending: 0,
  last_status: 0,
  last_error: '',
  last_attempt_at: null,
  last_success_at: null,
  recent: [],
};

describe('webhooks', () => {
  it('sums up deliveries', () => {
    expect(deliveryStatus({ deliveries: d })).toEqual({ tone: 'idle', text: 'nothing sent yet' });
    expect(deliveryStatus({ deliveries: { ...d, delivered: 3, last_status: 200 } }).tone).toBe('ok');
    expect(deliveryStatus({ deliveries: { ...d, pending: 1, last_error: 'HTTP 500: x' } }).text).toMatch(/retrying/);
    expect(deliveryStatus({ deliveries: { ...d, last_error: 'refused' } }).tone).toBe('err');
  });
  it('says what fires', () => {
    expect(triggers({ problem_kinds: ['cuda_oom', 'nccl_timeout'], on_run_end: true, on_stall: false })).toBe(
      'first cuda_oom, nccl_timeout · failed/crashed runs',
    );
    expect(triggers({ problem_kinds: ['*'], on_run_end: false, on_stall: true })).toBe('any first problem · stalls');
    expect(triggers({ problem_kinds: [], on_run_end: false, on_stall: false })).toBe('nothing');
  });
  it('checks URLs as the server does', () => {
    expect(urlProblem('https://hooks.slack.com/services/T/B/X')).toBeNull();
    expect(urlProblem('ftp://x')).toMatch(/http/);
    expect(urlProblem('http://u:p@x.org/')).toMatch(/user/);
    expect(urlProblem('http://a b/')).toMatch(/spaces/);
    expect(urlProblem('http://')).toMatch(/host/);
    expect(urlProblem('')).toMatch(/required/);
  });
  it('builds the request body', () => {
    expect(newWebhook(' https://x.org/h ', 'slack', 'cuda_oom, nccl_timeout', true, false)).toEqual({
      hook: { url: 'https://x.org/h', format: 'slack', problem_kinds: ['cuda_oom', 'nccl_timeout'], on_run_end: true, on_stall: false },
    });
    expect(newWebhook('https://x.org/h', 'json', 'oom', true, true)).toEqual({ error: 'unknown kind oom' });
  });
});
