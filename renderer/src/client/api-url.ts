// Where the web console's API is, seen from the page: /api on the page's own origin, ws: for http: and
// wss: for https:. A `?token=…` in the page's address (the console prints one when bound beyond loopback)
// goes on in the socket's query, which is where the console checks it.

/** The console's WebSocket address for a page address, or null when the page has no http(s) origin. */
export function apiUrl(page: string): string | null {
  const u = new URL(page);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const api = new URL('/api', u);
  api.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = u.searchParams.get('token');
  if (token) api.searchParams.set('token', token);
  return api.toString();
}
