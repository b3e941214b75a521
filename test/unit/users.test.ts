import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EMAIL_MAX_LENGTH,
  emailKey,
  emailProblem,
  isRole,
  isStatus,
  nameProblem,
  NAME_MAX_LENGTH,
} from '../../src/domain/users.js';

describe('emailKey', () => {
  test('the same address typed in another case or with spaces around it is the same account', () => {
    assert.equal(emailKey('  Ann.Smith@Example.COM '), 'ann.smith@example.com');
    assert.equal(emailKey('ANN@EXAMPLE.COM'), emailKey('ann@example.com'));
  });

  test('different addresses stay different', () => {
    assert.notEqual(emailKey('ann@example.com'), emailKey('anne@example.com'));
    assert.notEqual(emailKey('ann+work@example.com'), emailKey('ann@example.com'));
  });

  test('the key of a key is itself', () => {
    fc.assert(
      fc.property(fc.string(), (email) => {
        assert.equal(emailKey(emailKey(email)), emailKey(email));
      }),
    );
  });
});

describe('emailProblem', () => {
  test('ordinary addresses have no problem, spaces around them are ignored', () => {
    for (const email of ['ann@example.com', 'ann.smith+work@mail.example.co.uk', ' ann@example.com ']) {
      assert.equal(emailProblem(email), null, email);
    }
  });

  test('an empty address asks for one', () => {
    assert.equal(emailProblem(''), 'email_missing');
    assert.equal(emailProblem('   '), 'email_missing');
  });

  test('something that is not shaped like an address gets an example of one', () => {
    for (const email of ['ann', 'ann@', '@example.com', 'ann@example', 'ann smith@example.com', 'ann@@example.com']) {
      assert.equal(emailProblem(email), 'email_shape', email);
    }
  });

  test('an address of exactly the maximum length is fine, one character more is too long', () => {
    const domain = '@example.com';
    const longest = 'a'.repeat(EMAIL_MAX_LENGTH - domain.length) + domain;
    assert.equal(longest.length, EMAIL_MAX_LENGTH);
    assert.equal(emailProblem(longest), null);
    assert.equal(emailProblem(`a${longest}`), 'email_too_long');
  });
});

describe('nameProblem', () => {
  test('an empty name asks for one, using the word the form uses with its article', () => {
    assert.equal(nameProblem('  '), 'name_missing');
    assert.equal(nameProblem(''), 'name_missing');
  });

  test('a name of the maximum length is fine, one character more is too long', () => {
    assert.equal(nameProblem('é'.repeat(NAME_MAX_LENGTH)), null);
    assert.equal(nameProblem('é'.repeat(NAME_MAX_LENGTH + 1)), 'name_too_long');
  });
});

describe('roles', () => {
  test('role and status names from a form are recognised only when they are known', () => {
    assert.equal(isRole('super_admin'), true);
    assert.equal(isRole('root'), false);
    assert.equal(isRole('Admin'), false);
    assert.equal(isStatus('inactive'), true);
    assert.equal(isStatus('deleted'), false);
  });
});
