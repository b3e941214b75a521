// A reverse proxy's side of forward auth, as the tests play it: the check it makes before
// each request to a protected site, with the browser's cookies and X-Forwarded-* headers
// naming the address asked for, and the identity it reads from the answer.
import type { Browser, Page } from './browser.js';

/** nginx's auth_request asks at /auth/nginx; Traefik and Caddy at /auth/forward. */
export type CheckEndpoint = 'nginx' | 'forward';

/**
 * The proxy's check of a request for `address`, carrying the browser's cookies: at the
 * browser's own server, or at `at` (another instance's URL). `headers` win over the
 * proxy's and the browser's (a cookie of the test's choosing).
 */
export function proxyCheck(
  browser: Browser,
  endpoint: CheckEndpoint,
  address: string,
  options: { at?: string; headers?: Record<string, string> } = {},
): Promise<Page> {
  const url = new URL(address);
  return browser.send('GET', `${options.at ?? ''}/auth/${endpoint}`, {
    headers: {
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': url.protocol.replace(':', ''),
      'x-forwarded-host': url.host,
      'x-forwarded-uri': `${url.pathname}${url.search}`,
      ...options.headers,
    },
  });
}

/** The Remote-* headers of a check's answer, by lower-case name, read as the UTF-8 they are sent as. */
export function remoteHeadersOf(page: Page): Record<string, string> {
  return Object.fromEntries(
    Object.entries(page.headers)
      .filter(([name]) => name.startsWith('remote-'))
      .map(([name, value]) => [name, Buffer.from(String(value), 'latin1').toString('utf8')]),
  );
}
