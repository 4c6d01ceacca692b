// The console's client of the REST API: the bearer token kept for this
// browser tab (sessionStorage, gone when the tab closes), JSON in and out,
// errors carrying the server's own message.

const TOKEN_KEY = 'wharf.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  login: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  logout: () => sessionStorage.removeItem(TOKEN_KEY),
};

// A failed API call: the HTTP status and the server's "error" message.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Calls /api + `path`. `body` is sent as JSON; the answer is parsed JSON,
// or with `as: 'text'` or `as: 'blob'` the raw answer (exports, artifacts).
// A 401 ends the session.
export async function api(path, { method = 'GET', body, as = 'json', token = session.token() } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok && as === 'blob') return response.blob();
  const answer = await response.text();
  if (!response.ok) {
    let message = answer;
    try { message = JSON.parse(answer).error ?? answer; } catch { /* not JSON: keep the text */ }
    if (response.status === 401 && token === session.token()) {
      session.logout();
      location.hash = '#/login';
    }
    throw new ApiError(response.status, message);
  }
  if (as === 'text') return answer;
  return answer ? JSON.parse(answer) : {};
}

// Path segment or query value, encoded.
export const enc = encodeURIComponent;

// "?a=1&b=2" from the entries of `params` that are set.
export function query(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
