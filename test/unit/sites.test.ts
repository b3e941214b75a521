import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  cookieReaches,
  originalAddressOf,
  remoteIdentityOf,
  requestedAddressOf,
  returnAddressOf,
  siteHostOf,
  SITE_ADDRESS_MAX_LENGTH,
} from '../../src/domain/sites.js';
import type { Organisation } from '../../src/domain/organisations.js';
import type { User } from '../../src/domain/users.js';

describe('siteHostOf', () => {
  test('a host name, with a port other than 80 or 443, is kept as the browser sends it', () => {
    const cases: [string, string][] = [
      ['wiki.example.com', 'wiki.example.com'],
      ['  Wiki.Example.COM ', 'wiki.example.com'],
      ['wiki.example.com:8443', 'wiki.example.com:8443'],
      ['localhost:8080', 'localhost:8080'],
      ['127.0.0.1:9000', '127.0.0.1:9000'],
      ['[::1]:8080', '[::1]:8080'],
      ['intranet', 'intranet'],
      ['bücher.example', 'xn--bcher-kva.example'],
      ['grafana_internal.example.com', 'grafana_internal.example.com'],
    ];
    for (const [typed, host] of cases) assert.deepEqual(siteHostOf(typed), { ok: true, host }, typed);
  });

  test('a scheme, path, user name, wildcard, default port or anything unreadable is refused with its reason', () => {
    const cases: [string, string][] = [
      ['', 'site_host_missing'],
      ['   ', 'site_host_missing'],
      [`${'a'.repeat(260)}.example`, 'site_host_too_long'],
      ['https://wiki.example.com', 'site_host_scheme'],
      ['HTTP://wiki.example.com/', 'site_host_scheme'],
      ['user@wiki.example.com', 'site_host_credentials'],
      ['user:pass@wiki.example.com', 'site_host_credentials'],
      ['wiki.example.com/', 'site_host_path'],
      ['wiki.example.com/admin', 'site_host_path'],
      ['wiki.example.com?x=1', 'site_host_path'],
      ['wiki.example.com#top', 'site_host_path'],
      ['wiki.example.com\\evil', 'site_host_path'],
      ['*.example.com', 'site_host_wildcard'],
      ['wiki.*.com', 'site_host_wildcard'],
      ['wiki.example.com:80', 'site_host_default_port'],
      ['wiki.example.com:443', 'site_host_default_port'],
      ['wiki.example.com:0', 'site_host_unreadable'],
      ['wiki.example.com:99999', 'site_host_unreadable'],
      ['wiki.example.com:', 'site_host_unreadable'],
      ['wiki .example.com', 'site_host_unreadable'],
      ['wiki.example.com.', 'site_host_unreadable'],
      ['-wiki.example.com', 'site_host_unreadable'],
      ['wiki..example.com', 'site_host_unreadable'],
      ['wiki!.example.com', 'site_host_unreadable'],
      ['1.2.3', 'site_host_unreadable'],
      ['0x7f.0.0.1', 'site_host_unreadable'],
      ['javascript:alert(1)', 'site_host_unreadable'],
      ['wiki.example.com\r\nX-Evil: 1', 'site_host_unreadable'],
    ];
    for (const [typed, problem] of cases) assert.deepEqual(siteHostOf(typed), { ok: false, problem }, typed);
  });

  test('whatever is typed, an accepted host is lower case, parses back to itself and carries no path or user', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.domain(), fc.webAuthority({ withPort: true, withUserInfo: true })),
        (typed) => {
          const checked = siteHostOf(typed);
          if (!checked.ok) return;
          const { host } = checked;
          assert.equal(host, host.toLowerCase());
          assert.doesNotMatch(host, /[/?#@\\*\s]/);
          assert.equal(new URL(`http://${host}`).host, host);
        },
      ),
    );
  });
});

describe('returnAddressOf', () => {
  test('an absolute http or https address is accepted, with the host it is on', () => {
    assert.deepEqual(returnAddressOf('https://wiki.example.com/page?x=1#top'), {
      host: 'wiki.example.com',
      href: 'https://wiki.example.com/page?x=1#top',
    });
    assert.deepEqual(returnAddressOf('HTTPS://Wiki.Example.com:443/'), {
      host: 'wiki.example.com',
      href: 'https://wiki.example.com/',
    });
    assert.deepEqual(returnAddressOf('http://127.0.0.1:8080/a b'), {
      host: '127.0.0.1:8080',
      href: 'http://127.0.0.1:8080/a%20b',
    });
  });

  test('relative, protocol-relative, other schemes, credentials, padding and overlong addresses are refused', () => {
    for (const text of [
      '',
      '/account',
      '//evil.example/',
      '\\\\evil.example',
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<script>',
      'ftp://wiki.example.com/',
      'https:evil.example',
      'https://user:pass@wiki.example.com/',
      'https://wiki.example.com@evil.example/',
      ' https://wiki.example.com/',
      'https://wiki.example.com/\n',
      'https://wiki.example.com/\r\nSet-Cookie: x=1',
      'https://wiki.example.com/\tx',
      'https://',
      `https://wiki.example.com/${'a'.repeat(SITE_ADDRESS_MAX_LENGTH)}`,
    ]) {
      assert.equal(returnAddressOf(text), null, text);
    }
  });
});

describe('requestedAddressOf and originalAddressOf', () => {
  test('the proxy’s scheme, host and path make the address; the default port is left out', () => {
    assert.deepEqual(requestedAddressOf('https', 'Wiki.Example.com:443', '/page?x=1'), {
      host: 'wiki.example.com',
      href: 'https://wiki.example.com/page?x=1',
    });
    assert.deepEqual(requestedAddressOf('http', '127.0.0.1:8080', '/'), {
      host: '127.0.0.1:8080',
      href: 'http://127.0.0.1:8080/',
    });
    assert.deepEqual(originalAddressOf('https://wiki.example.com:8443/x'), {
      host: 'wiki.example.com:8443',
      href: 'https://wiki.example.com:8443/x',
    });
  });

  test('a path that names another host, or is no path at all, stands for the front page of the same site', () => {
    for (const uri of ['@evil.example/', '//evil.example/x', 'evil.example', '/\r\nSet-Cookie: x', null]) {
      const address = requestedAddressOf('https', 'wiki.example.com', uri);
      assert.equal(address?.host, 'wiki.example.com', String(uri));
    }
    assert.equal(
      requestedAddressOf('https', 'wiki.example.com', '//evil.example/x')?.href,
      'https://wiki.example.com//evil.example/x',
    );
    assert.equal(
      requestedAddressOf('https', 'wiki.example.com', `/${'a'.repeat(3000)}`)?.href,
      'https://wiki.example.com/',
    );
  });

  test('another scheme, a host with a path or user, several hosts, or an unreadable URL is no address', () => {
    assert.equal(requestedAddressOf('ftp', 'wiki.example.com', '/'), null);
    assert.equal(requestedAddressOf('', 'wiki.example.com', '/'), null);
    assert.equal(requestedAddressOf('https, http', 'wiki.example.com', '/'), null);
    for (const host of [
      '',
      'wiki.example.com, evil.example',
      'evil.example/@wiki.example.com',
      'a@wiki.example.com',
      'wiki.example.com:x',
    ])
      assert.equal(requestedAddressOf('https', host, '/'), null, host);
    for (const url of [
      '/x',
      '//evil.example/',
      'javascript:alert(1)',
      'https://a b.example/',
      'https://u:p@wiki.example.com/',
    ])
      assert.equal(originalAddressOf(url), null, url);
  });
});

describe('cookieReaches', () => {
  const at = (href: string) => ({ host: new URL(href).host, href });
  test('without a domain only Twofold’s own host name (any port); with one, the domain and every host under it', () => {
    const own = { hostname: '127.0.0.1', domain: null, secure: false };
    assert.equal(cookieReaches(own, at('http://127.0.0.1:8080/')), true);
    assert.equal(cookieReaches(own, at('http://localhost:8080/')), false);
    const shared = { hostname: '2fa.example.com', domain: 'example.com', secure: true };
    assert.equal(cookieReaches(shared, at('https://wiki.example.com/')), true);
    assert.equal(cookieReaches(shared, at('https://example.com/')), true);
    assert.equal(cookieReaches(shared, at('https://wiki.example.com.evil.example/')), false);
    assert.equal(cookieReaches(shared, at('https://notexample.com/')), false);
    assert.equal(cookieReaches(shared, at('http://wiki.example.com/')), false, 'Secure cookies never go over http');
  });
});

test('a site is told the person’s id, email, name, and their role and organisation id as groups', () => {
  const user = { id: 'u-1', email: 'ada@example.com', name: 'Ada', role: 'admin' } as User;
  const organisation = { id: 'org-1', name: 'Acme, Inc.' } as Organisation;
  assert.deepEqual(remoteIdentityOf(user, organisation), {
    user: 'u-1',
    email: 'ada@example.com',
    name: 'Ada',
    groups: ['admin', 'org-1'],
  });
});
