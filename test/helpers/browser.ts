// The one test client, browser-like: it keeps cookies, follows no redirect by itself, and
// sends the CSRF token of the last page it read with every form. It talks to the app in
// this process (app.inject, from any address) or over real HTTP to a running server.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { keyOptionsIn } from './soft-authenticator.js';

export type Headers = Record<string, string | string[] | number | undefined>;

export interface Page {
  status: number;
  location: string | undefined;
  body: string;
  /** By lower-case name. */
  headers: Headers;
  /** The Set-Cookie lines of this response. */
  setCookies: string[];
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** A raw body (then `headers` should say its content type). */
  payload?: string | Buffer;
  query?: Record<string, string | string[]>;
}

interface Request extends SendOptions {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
}

/** How a request reaches the app, and its answer comes back. */
type Transport = (request: Request) => Promise<{ status: number; headers: Headers; body: string }>;

/** app.inject, from `ip` (light-my-request's own 127.0.0.1 unless given). */
function inProcess(app: FastifyInstance, ip: string | undefined): Transport {
  return async ({ method, url, headers, payload, query }) => {
    const response = await app.inject({
      method,
      url,
      headers,
      ...(ip === undefined ? {} : { remoteAddress: ip }),
      ...(payload === undefined ? {} : { payload }),
      ...(query === undefined ? {} : { query }),
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  };
}

/** fetch, to the URL resolved against `base`: a path goes to `base`, an absolute URL where it says. */
function overHttp(base: string): Transport {
  return async ({ method, url, headers, payload, query }) => {
    const address = new URL(url, base);
    for (const [name, values] of Object.entries(query ?? {})) {
      for (const value of [values].flat()) address.searchParams.append(name, value);
    }
    const response = await fetch(address, {
      method,
      redirect: 'manual',
      headers,
      ...(payload === undefined ? {} : { body: typeof payload === 'string' ? payload : new Uint8Array(payload) }),
    });
    const answered: Headers = Object.fromEntries(response.headers);
    answered['set-cookie'] = response.headers.getSetCookie();
    return { status: response.status, headers: answered, body: await response.text() };
  };
}

export interface BrowserOptions {
  /** The address the app sees the requests come from (in this process only). */
  ip?: string;
  /** Sent as User-Agent; without it, app.inject's or fetch's own. */
  userAgent?: string;
}

export class Browser {
  readonly cookies = new Map<string, string>();
  /** The form token of the last page read, sent with every form. */
  csrf: string | null = null;
  private readonly transport: Transport;
  private readonly userAgent: string | undefined;

  /**
   * A browser on `app` in this process, through app.inject; or, given a URL such as
   * http://127.0.0.1:PORT, over real HTTP to the server there. Over HTTP a path goes to that
   * server and an absolute URL to its own: one cookie jar for several servers, as a browser
   * keeps for one site behind a load balancer. The address (`ip`) can be chosen in this
   * process only.
   */
  constructor(app: FastifyInstance, options?: BrowserOptions);
  constructor(baseUrl: string, options?: Omit<BrowserOptions, 'ip'>);
  constructor(to: FastifyInstance | string, options: BrowserOptions = {}) {
    this.transport = typeof to === 'string' ? overHttp(to) : inProcess(to, options.ip);
    this.userAgent = options.userAgent;
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0(;|$)/i.test(line)) {
        this.cookies.delete(name);
      } else this.cookies.set(name, value);
    }
  }

  /** Any request, with this browser's cookies and user agent; `options.headers` win. */
  async send(method: 'GET' | 'POST', url: string, options: SendOptions = {}): Promise<Page> {
    const cookie = this.cookieHeader();
    const headers: Record<string, string> = {
      ...(cookie === '' ? {} : { cookie }),
      ...(this.userAgent === undefined ? {} : { 'user-agent': this.userAgent }),
      ...options.headers,
    };
    const answer = await this.transport({ ...options, method, url, headers });
    const setCookies = [answer.headers['set-cookie'] ?? []].flat().map(String);
    this.remember(setCookies);
    const token = /name="_csrf" value="([^"]+)"/.exec(answer.body);
    if (token?.[1]) this.csrf = token[1];
    const location = answer.headers.location;
    return {
      status: answer.status,
      location: location === undefined ? undefined : String(location),
      body: answer.body,
      headers: answer.headers,
      setCookies,
    };
  }

  get(url: string): Promise<Page> {
    return this.send('GET', url);
  }

  /** Posts a form with the last CSRF token seen (or the one given; null sends none). */
  post(url: string, form: Record<string, string>, options: { csrf?: string | null } = {}): Promise<Page> {
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    return this.send('POST', url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(token === null ? form : { _csrf: token, ...form }).toString(),
    });
  }

  /** GET the page, then post its form: how a person submits. */
  async submit(pageUrl: string, action: string, form: Record<string, string>): Promise<Page> {
    await this.get(pageUrl);
    return this.post(action, form);
  }

  signIn(email: string, password: string): Promise<Page> {
    return this.submit('/login', '/login', { email, password });
  }
}

/**
 * Where a page sends the browser on by itself (`<meta http-equiv="refresh" content="0;url=…">`,
 * as Twofold's way back to an application does), or undefined.
 */
export function movesOnTo(page: Page): string | undefined {
  if (page.status !== 200) return undefined;
  const content = /<meta http-equiv="refresh" content="0;url=([^"]+)"/.exec(page.body)?.[1];
  return content?.replace(/&amp;/g, '&');
}

/** What a page of new recovery codes shows once: the codes, and where "continue" goes on to. */
export interface RecoveryCodesShown {
  codes: string[];
  continueTo: string;
}

/**
 * The recovery codes the page shows (the answer to a first device's confirmation, or to a
 * new set), and its link on; null when it shows none.
 */
export function recoveryCodesOn(page: Page): RecoveryCodesShown | null {
  if (page.status !== 200) return null;
  const list = /<ol class="recovery-codes">([\s\S]*?)<\/ol>/.exec(page.body)?.[1];
  const continueTo = /<a [^>]*href="([^"]+)"[^>]*>I have kept them, continue<\/a>/.exec(page.body)?.[1];
  if (list === undefined || continueTo === undefined) return null;
  const codes = [...list.matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((m) => m[1] ?? '');
  return { codes, continueTo: continueTo.replace(/&amp;/g, '&') };
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

/** The browser's options a page carries in its form's data-options attribute. */
export function keyOptionsOn<T>(page: Page): T {
  const options = keyOptionsIn<T>(page.body);
  assert.ok(options !== null, `no key options on the page: ${textOf(page.body).slice(0, 300)}`);
  return options;
}
