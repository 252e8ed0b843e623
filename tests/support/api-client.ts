/** A tiny signed-in API client for end-to-end tests against a running lab. */
export interface ApiClient {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body?: unknown): Promise<Response>;
  /** Any other state-changing method (PATCH, DELETE), with the CSRF token. */
  send?(method: 'PATCH' | 'DELETE' | 'PUT', path: string, body?: unknown): Promise<Response>;
}

export async function signIn(baseUrl: string, username: string, password: string): Promise<ApiClient> {
  const res = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrfToken } = await res.json() as { csrfToken: string };
  return {
    get: (path, headers = {}) => fetch(`${baseUrl}${path}`, { headers: { cookie, ...headers } }),
    post: (path, body) => fetch(`${baseUrl}${path}`, {
      method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    send: (method, path, body) => fetch(`${baseUrl}${path}`, {
      method, headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  };
}

/** Polls a job until it leaves queued/running. */
export async function waitForJob(api: ApiClient, jobId: string, timeoutMs = 120_000): Promise<{ state: string; error: unknown }> {
  const start = Date.now();
  for (;;) {
    const job = await (await api.get(`/api/jobs/${jobId}`)).json() as { state: string; error: unknown };
    if (job.state !== 'queued' && job.state !== 'running') return job;
    if (Date.now() - start > timeoutMs) throw new Error(`job ${jobId} still ${job.state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
