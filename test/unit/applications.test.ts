import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  applicationNameProblem,
  applicationProblems,
  changedSettings,
  redirectUriProblem,
  redirectUrisProblem,
  REDIRECT_URIS_MAX,
} from '../../src/domain/applications.js';
import { newClientId } from '../../src/services/applications.js';

describe('redirectUriProblem', () => {
  test('https addresses, and http on the person’s own machine, are accepted as they are', () => {
    for (const uri of [
      'https://app.example.com/callback',
      'https://app.example.com:8443/oidc/cb?tenant=a',
      'http://localhost:8080/callback',
      'http://127.0.0.1/cb',
      'http://[::1]:3000/cb',
    ])
      assert.equal(redirectUriProblem(uri), null, uri);
  });

  test('plain http elsewhere, a fragment, credentials, a relative or padded address are refused', () => {
    const cases: [string, string][] = [
      ['http://app.example.com/callback', 'redirect_uri_insecure'],
      ['http://localhost.example.com/cb', 'redirect_uri_insecure'],
      ['javascript:alert(1)', 'redirect_uri_insecure'],
      ['ftp://app.example.com/cb', 'redirect_uri_insecure'],
      ['https://app.example.com/cb#token', 'redirect_uri_fragment'],
      ['https://app.example.com/cb#', 'redirect_uri_fragment'],
      ['https://user:pass@app.example.com/cb', 'redirect_uri_credentials'],
      ['https://user@app.example.com/cb', 'redirect_uri_credentials'],
      ['/callback', 'redirect_uri_unreadable'],
      [' https://app.example.com/cb', 'redirect_uri_unreadable'],
      ['https://app.example.com/a\tb', 'redirect_uri_control_character'],
      ['https://app.example.com/a\nb', 'redirect_uri_control_character'],
      ['https://app.example.com/a\u007fb', 'redirect_uri_control_character'],
      ['https://app.example.com/a\u0085b', 'redirect_uri_control_character'],
      ['', 'redirect_uri_unreadable'],
      [`https://app.example.com/${'a'.repeat(2000)}`, 'redirect_uri_too_long'],
    ];
    for (const [uri, problem] of cases) assert.equal(redirectUriProblem(uri), problem, uri);
  });

  test('no accepted address can carry a fragment or leave https except for a loopback host', () => {
    fc.assert(
      fc.property(fc.webUrl({ withFragments: true, withQueryParameters: true }), (uri) => {
        if (redirectUriProblem(uri) !== null) return;
        const url = new URL(uri);
        assert.ok(!uri.includes('#'));
        assert.ok(url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname), uri);
      }),
    );
  });
});

describe('redirectUrisProblem', () => {
  test('at least one sign-in address is required; post-logout ones are optional; each is checked', () => {
    assert.deepEqual(redirectUrisProblem([], true), { problem: 'redirect_uris_missing', uri: null });
    assert.equal(redirectUrisProblem([], false), null);
    assert.deepEqual(redirectUrisProblem(['https://a.example/cb', 'http://b.example/cb'], true), {
      problem: 'redirect_uri_insecure',
      uri: 'http://b.example/cb',
    });
    const many = Array.from({ length: REDIRECT_URIS_MAX + 1 }, (_, i) => `https://a.example/cb${i}`);
    assert.deepEqual(redirectUrisProblem(many, true), { problem: 'redirect_uris_too_many', uri: null });
  });
});

describe('applicationNameProblem', () => {
  test('a name is required and at most 100 characters', () => {
    assert.equal(applicationNameProblem('  '), 'application_name_missing');
    assert.equal(applicationNameProblem('Wiki'), null);
    assert.equal(applicationNameProblem('é'.repeat(100)), null);
    assert.equal(applicationNameProblem('é'.repeat(101)), 'application_name_too_long');
  });
});

describe('applicationProblems', () => {
  test('each setting given is checked; one left out has no problem, as a change leaves it', () => {
    assert.deepEqual(applicationProblems({}), {});
    assert.deepEqual(applicationProblems({ redirectUris: [], postLogoutRedirectUris: [] }), {
      redirectUris: { problem: 'redirect_uris_missing', uri: null },
    });
    assert.deepEqual(
      applicationProblems({
        name: ' ',
        redirectUris: ['https://wiki.example/cb'],
        postLogoutRedirectUris: ['https://wiki.example/#out'],
        idTokenSigningAlg: 'HS256',
      }),
      {
        name: 'application_name_missing',
        postLogoutRedirectUris: { problem: 'redirect_uri_fragment', uri: 'https://wiki.example/#out' },
        idTokenSigningAlg: 'id_token_signing_alg_unknown',
      },
    );
  });
});

describe('changedSettings', () => {
  const wiki = {
    name: 'Wiki',
    redirectUris: ['https://wiki.example/cb', 'http://localhost:8080/cb'],
    postLogoutRedirectUris: [],
    requireTwoFactor: false,
    requirePhishingResistant: false,
    idTokenSigningAlg: 'RS256',
  } as const;

  test('the same settings change nothing, even as other lists of the same addresses', () => {
    assert.deepEqual(changedSettings(wiki, { ...wiki, redirectUris: [...wiki.redirectUris] }), []);
  });

  test('each setting given differently is named once, in the order of the form', () => {
    assert.deepEqual(
      changedSettings(wiki, {
        ...wiki,
        idTokenSigningAlg: 'ES256',
        name: 'Team Wiki',
        postLogoutRedirectUris: ['https://wiki.example/'],
      }),
      ['name', 'postLogoutRedirectUris', 'idTokenSigningAlg'],
    );
    assert.deepEqual(changedSettings(wiki, { ...wiki, requireTwoFactor: true }), ['requireTwoFactor']);
    assert.deepEqual(changedSettings(wiki, { ...wiki, requirePhishingResistant: true }), ['requirePhishingResistant']);
    // Addresses in another order are another list: what is stored changes.
    assert.deepEqual(changedSettings(wiki, { ...wiki, redirectUris: [...wiki.redirectUris].reverse() }), [
      'redirectUris',
    ]);
    assert.deepEqual(changedSettings(wiki, { ...wiki, redirectUris: ['https://wiki.example/cb'] }), ['redirectUris']);
  });
});

describe('newClientId', () => {
  test('never starts with "-", which a command line would read as an option; draws again instead', () => {
    // 0xf8 is 111110..., base64url's "-"; then bytes that start with "A".
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x00)];
    let drawn = 0;
    const id = newClientId(() => draws[drawn++] ?? Buffer.alloc(16, 0x11));
    assert.equal(drawn, 2);
    assert.match(id, /^A[A-Za-z0-9_-]{21}$/);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        let first = true;
        const made = newClientId(() => (first ? ((first = false), Buffer.from(bytes)) : Buffer.alloc(16, 0x42)));
        assert.match(made, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      }),
    );
  });
});
