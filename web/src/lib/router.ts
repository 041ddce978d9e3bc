// Client routes. Pure matching; components/router.tsx wires it to the History API.

export type Route =
  | { name: 'projects' }
  | { name: 'project'; project: string }
  | { name: 'run'; runId: string }
  | { name: 'not_found'; path: string };

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/projects') return { name: 'projects' };
  let m = /^\/projects\/([^/]+)$/.exec(path);
  if (m) {
    const project = decode(m[1]!);
    if (project) return { name: 'project', project };
  }
  m = /^\/runs\/([^/]+)$/.exec(path);
  if (m) {
    const runId = decode(m[1]!);
    if (runId) return { name: 'run', runId };
  }
  return { name: 'not_found', path: pathname };
}

export const paths = {
  projects: () => '/',
  project: (name: string) => `/projects/${encodeURIComponent(name)}`,
  run: (id: string) => `/runs/${encodeURIComponent(id)}`,
};
