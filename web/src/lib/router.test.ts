import { describe, expect, it } from 'vitest';
import { matchRoute, paths } from './router';

describe('routes', () => {
  it('matches every route and round-trips names with special characters', () => {
    expect(matchRoute('/')).toEqual({ name: 'projects' });
    expect(matchRoute('/projects/')).toEqual({ name: 'projects' });
    expect(matchRoute(paths.project('my proj/x'))).toEqual({ name: 'project', project: 'my proj/x' });
    expect(matchRoute(paths.run('abc-123'))).toEqual({ name: 'run', runId: 'abc-123' });
    expect(matchRoute('/runs/abc/')).toEqual({ name: 'run', runId: 'abc' });
    expect(matchRoute('/nope/x')).toEqual({ name: 'not_found', path: '/nope/x' });
    expect(matchRoute('/projects/%E0%A4%A')).toEqual({ name: 'not_found', path: '/projects/%E0%A4%A' });
  });
});
