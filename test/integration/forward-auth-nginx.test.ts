// A site behind a real nginx (Debian's, with auth_request) that asks Twofold at every
// request, configured as the README says: refused and sent to Twofold's sign-in, served
// with who the person is after password and code, refused again after signing out. The
// browser keeps one cookie jar, as a real one does for 127.0.0.1 whatever the port, so the
// session reaches nginx with no cookie domain.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addSite } from '../../src/services/sites.js';
import { linkDevice, makeOrganisation, makeUser, serveWorld } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { reservePort } from '../helpers/ports.js';
import { flashOn, nextCode, tenantOf } from './support.js';

const NGINX = '/usr/sbin/nginx';
const skip = existsSync(NGINX)
  ? false
  : `SKIPPED: forward auth behind a real nginx: ${NGINX} is not installed (apt-get install nginx)`;
if (skip) console.log(skip);

/** The protected application: it answers with the path and the Remote-* headers it was given. */
async function upstream(t: TestContext): Promise<{ port: number; seen: IncomingHttpHeaders[] }> {
  const port = await reservePort();
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.headers);
    const remote = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.startsWith('remote-')));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ path: request.url, remote }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port, seen };
}

/** The nginx configuration of the README, with every path of nginx's own in `dir`. */
function configuration(dir: string, listen: number, twofold: string, app: number): string {
  return `
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  server {
    listen 127.0.0.1:${listen};
    server_name 127.0.0.1;

    location / {
      auth_request /twofold-check;
      auth_request_set $twofold_user $upstream_http_remote_user;
      auth_request_set $twofold_email $upstream_http_remote_email;
      auth_request_set $twofold_name $upstream_http_remote_name;
      auth_request_set $twofold_groups $upstream_http_remote_groups;
      auth_request_set $twofold_sign_in $upstream_http_location;
      error_page 401 =302 $twofold_sign_in;

      proxy_set_header Remote-User $twofold_user;
      proxy_set_header Remote-Email $twofold_email;
      proxy_set_header Remote-Name $twofold_name;
      proxy_set_header Remote-Groups $twofold_groups;
      proxy_pass http://127.0.0.1:${app};
    }

    location = /twofold-check {
      internal;
      proxy_pass ${twofold}/auth/nginx;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Method $request_method;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Uri $request_uri;
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    }
  }
}
`;
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** nginx in the foreground, as this test's child; stopped and its directory removed after the test. */
async function startNginx(t: TestContext, twofold: string, app: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-nginx-'));
  const port = await reservePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, configuration(dir, port, twofold, app));
  let output = '';
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const log = () => {
    const path = join(dir, 'error.log');
    return `${output}${existsSync(path) ? readFileSync(path, 'utf8') : ''}`;
  };
  for (let waited = 0; !(await accepting(port)); waited += 20) {
    if (child.exitCode !== null || waited > 5_000) throw new Error(`nginx did not start: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return port;
}

test(
  'a page behind nginx: refused, served after password and code with who is signed in, refused after signing out',
  { skip },
  async (t) => {
    const started = performance.now();
    const world = await serveWorld(t);
    const app = await upstream(t);
    const port = await startNginx(t, world.baseUrl, app.port);
    const site = `http://127.0.0.1:${port}`;
    const org = await makeOrganisation(world, 'Acme Rail');
    const ada = await makeUser(world, org, { email: 'ada@acme.test', name: 'Ada Lovelace' });
    const secret = await linkDevice(world, org, ada.id);
    const added = await addSite(
      world.deps,
      tenantOf(world, org),
      { actor: null, client: null },
      {
        host: `127.0.0.1:${port}`,
        requireTwoFactor: true,
      },
    );
    assert.ok(added.ok);
    const browser = new Browser(world.baseUrl);
    const page = `${site}/docs/Start?edit=1&section=2`;

    // Refused: nginx turns Twofold's 401 into the redirect to its sign-in, the return address intact.
    const refused = await browser.get(page);
    assert.equal(refused.status, 302, refused.body);
    assert.equal(refused.location, `${world.baseUrl}/auth/sign-in?${new URLSearchParams({ rd: page }).toString()}`);
    assert.equal(app.seen.length, 0, 'the application saw nothing');

    const toLogin = await browser.get(refused.location ?? '');
    assert.equal(toLogin.location, '/login');
    assert.equal(flashOn(await browser.get('/login')), `Sign in to continue to 127.0.0.1:${port}.`);
    const afterPassword = await browser.post('/login', { email: ada.email, password: ada.password });
    assert.equal(afterPassword.location, '/login/code');
    await browser.get('/login/code');
    const afterCode = await browser.post('/login/code', { code: nextCode(world, secret) });
    const back = await browser.get(afterCode.location ?? '');
    assert.equal(back.status, 303, textOf(back.body));
    assert.equal(back.location, page);

    // Served, with who is signed in; what the browser sends as Remote-User is replaced.
    const served = await browser.send('GET', page, { headers: { 'remote-user': 'forged' } });
    assert.equal(served.status, 200, served.body);
    assert.deepEqual(JSON.parse(served.body), {
      path: '/docs/Start?edit=1&section=2',
      remote: {
        'remote-user': ada.id,
        'remote-email': 'ada@acme.test',
        'remote-name': 'Ada Lovelace',
        'remote-groups': `user,${org}`,
      },
    });
    const posted = await browser.send('POST', `${site}/save`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'text=hello',
    });
    assert.equal(posted.status, 200, 'a form post to the site passes the check as well');

    // Signed out of Twofold, the site refuses again.
    await browser.get('/account');
    const out = await browser.post('/logout', {});
    assert.equal(out.location, '/login');
    const again = await browser.get(page);
    assert.equal(again.status, 302);
    assert.match(again.location ?? '', /\/auth\/sign-in\?rd=/);
    assert.equal(app.seen.length, 2, 'the application saw only the signed-in requests');
    t.diagnostic(`nginx forward auth: refused, served, refused again in ${Math.round(performance.now() - started)} ms`);
  },
);
