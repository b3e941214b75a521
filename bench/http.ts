// A small HTTP client for the load: keep-alive sockets, a cookie jar per browser, and the
// time each request took. node:http directly, so the client costs little CPU next to the
// server it measures on the same machine.
import { Agent, request as httpRequest } from 'node:http';

export interface Answer {
  status: number;
  location: string | undefined;
  body: string;
  ms: number;
}

/** One keep-alive pool per target; its sockets are closed by `close`. */
export function clientFor(baseUrl: string) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  function send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
    form?: Record<string, string>,
  ): Promise<Answer & { setCookies: string[] }> {
    const body = form === undefined ? undefined : new URLSearchParams(form).toString();
    const allHeaders: Record<string, string> = { 'user-agent': 'twofold-bench', ...headers };
    if (body !== undefined) {
      allHeaders['content-type'] = 'application/x-www-form-urlencoded';
      allHeaders['content-length'] = String(Buffer.byteLength(body));
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, method, path, headers: allHeaders, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              location: res.headers.location,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
              setCookies: res.headers['set-cookie'] ?? [],
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    send,
    /** A browser: its own cookies, sent back and updated on every answer. */
    browser(): Browser {
      const jar = new Map<string, string>();
      const cookieHeader = (): Record<string, string> =>
        jar.size === 0 ? {} : { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') };
      async function go(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Answer> {
        const answer = await send(method, path, cookieHeader(), form);
        for (const line of answer.setCookies) keepCookie(jar, line);
        return answer;
      }
      return {
        get: (path) => go('GET', path),
        post: (path, form) => go('POST', path, form),
        cookies: jar,
      };
    },
    close(): void {
      agent.destroy();
    },
  };
}

export type Client = ReturnType<typeof clientFor>;

export interface Browser {
  get(path: string): Promise<Answer>;
  post(path: string, form: Record<string, string>): Promise<Answer>;
  cookies: Map<string, string>;
}

/** Stores a Set-Cookie line, or forgets the cookie when the line clears it. */
function keepCookie(jar: Map<string, string>, line: string): void {
  const [pair = '', ...attributes] = line.split(';');
  const at = pair.indexOf('=');
  if (at <= 0) return;
  const name = pair.slice(0, at).trim();
  const value = pair.slice(at + 1).trim();
  const cleared = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
  if (cleared || value === '') jar.delete(name);
  else jar.set(name, value);
}

/** The CSRF token of the form on a page. */
export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (match?.[1] === undefined) throw new Error('no CSRF token on the page');
  return match[1];
}
