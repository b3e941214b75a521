// The admins' users page on an organisation of 100,000 users: the first page, a search,
// and a late page, each asked one after another by a signed-in super admin.
import { clientFor, csrfTokenIn } from '../http.js';
import type { ServerProcess } from '../processes.js';
import { BENCH_PASSWORD } from '../seed.js';
import { latenciesOf, type Latencies } from '../stats.js';

export interface PageKind {
  name: string;
  path: string;
  /** The count the page must show, e.g. "100001 users". */
  shows: string;
}

export interface PageLatency extends Latencies {
  name: string;
  path: string;
}

export async function usersPageLatencies(
  server: ServerProcess,
  adminEmail: string,
  pages: PageKind[],
  bounds: { requests: number; seconds: number },
): Promise<PageLatency[]> {
  const client = clientFor(server.url);
  try {
    const browser = client.browser();
    const login = await browser.get('/login');
    const signedIn = await browser.post('/login', {
      _csrf: csrfTokenIn(login.body),
      email: adminEmail,
      password: BENCH_PASSWORD,
    });
    if (signedIn.location !== '/account') throw new Error(`the admin could not sign in: ${signedIn.status}`);
    const results: PageLatency[] = [];
    for (const page of pages) {
      const samples: number[] = [];
      const stopAt = performance.now() + bounds.seconds * 1000;
      for (let i = -3; i < bounds.requests && performance.now() < stopAt; i += 1) {
        const answer = await browser.get(page.path);
        if (answer.status !== 200 || !answer.body.includes(page.shows)) {
          throw new Error(`${page.path} answered ${answer.status} without "${page.shows}"`);
        }
        if (i >= 0) samples.push(answer.ms);
      }
      results.push({ name: page.name, path: page.path, ...latenciesOf(samples) });
    }
    return results;
  } finally {
    client.close();
  }
}
