// A browser-like client over app.inject: keeps cookies, follows nothing by itself, and
// sends the CSRF token of the last page it read with every form.
import type { FastifyInstance } from 'fastify';

export interface Page {
  status: number;
  location: string | undefined;
  body: string;
  headers: Record<string, unknown>;
}

export class Client {
  private cookies = new Map<string, string>();
  private csrf: string | null = null;

  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private read(response: { statusCode: number; headers: Record<string, unknown>; body: string }): Page {
    this.remember(response.headers['set-cookie'] as string | string[] | undefined);
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body);
    if (token?.[1]) this.csrf = token[1];
    return {
      status: response.statusCode,
      location: response.headers.location as string | undefined,
      body: response.body,
      headers: response.headers,
    };
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async get(url: string): Promise<Page> {
    return this.read(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader() } }));
  }

  /** Posts a form; fetches `csrfFrom` first when no token has been seen yet. */
  async post(url: string, form: Record<string, string>, options: { csrf?: string | null } = {}): Promise<Page> {
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    const body = new URLSearchParams(token === null ? form : { _csrf: token, ...form }).toString();
    return this.read(
      await this.app.inject({
        method: 'POST',
        url,
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }),
    );
  }

  /** GET the page, then post its form: how a person submits. */
  async submit(pageUrl: string, action: string, form: Record<string, string>): Promise<Page> {
    await this.get(pageUrl);
    return this.post(action, form);
  }

  async signIn(email: string, password: string): Promise<Page> {
    return this.submit('/login', '/login', { email, password });
  }
}

/** Text of the page without tags, with whitespace folded, for asserting what a person reads. */
export function textOf(body: string): string {
  return body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}
