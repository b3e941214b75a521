import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  ADMIN_ACTIONS,
  refusalCode,
  leastRoleFor,
  mayGiveRole,
  PRIVILEGES,
  profileChangeActions,
  refusalOf,
  roleMay,
  type AdminAction,
  type Refusal,
} from '../../src/domain/privileges.js';
import { message } from '../../src/web/messages.js';
import { ROLES, type Role } from '../../src/domain/users.js';

/** The model as SECURITY.md states it, written out again so that a change to the table shows here. */
const SUPER_ADMIN_ONLY: readonly AdminAction[] = [
  'unlock-2fa',
  'set-2fa-requirement',
  'reset-2fa',
  'remove-device',
  'manage-policy',
  'manage-applications',
  'manage-email',
];

const ON_A_PERSON = ADMIN_ACTIONS.filter((action) => PRIVILEGES[action].on === 'person');

const actor = (role: Role, id = `the-${role}`) => ({ id, role });

describe('what each role may do', () => {
  test('a user performs no admin action', () => {
    for (const action of ADMIN_ACTIONS) assert.equal(roleMay('user', action), false, action);
  });

  test('an admin performs every action but those on second factors and the policy, which are for super admins', () => {
    for (const action of ADMIN_ACTIONS) {
      assert.equal(roleMay('admin', action), !SUPER_ADMIN_ONLY.includes(action), action);
      assert.equal(roleMay('super_admin', action), true, action);
      assert.equal(leastRoleFor(action), SUPER_ADMIN_ONLY.includes(action) ? 'super_admin' : 'admin', action);
    }
  });

  test('every action has its reason, in whole sentences', () => {
    for (const action of ADMIN_ACTIONS) assert.match(PRIVILEGES[action].reason, /^[A-Z].*\.$/, action);
  });
});

describe('whom an action may be done to', () => {
  test('an admin acts on users and admins, never on a super admin; a super admin acts on anyone', () => {
    for (const action of ON_A_PERSON.filter((a) => roleMay('admin', a))) {
      for (const role of ['user', 'admin'] as const)
        assert.equal(refusalOf(actor('admin'), { action, person: actor(role, 'them') }), null, `${action} on ${role}`);
      assert.equal(refusalOf(actor('admin'), { action, person: actor('super_admin', 'them') }), 'person_above', action);
    }
    for (const action of ON_A_PERSON) {
      for (const role of ROLES)
        assert.equal(refusalOf(actor('super_admin'), { action, person: actor(role, 'them') }), null, action);
    }
  });

  test('a refused role is refused whoever the person is', () => {
    for (const action of SUPER_ADMIN_ONLY) {
      for (const role of ROLES)
        assert.equal(refusalOf(actor('admin'), { action, person: actor(role, 'them') }), 'role', action);
    }
  });

  test('nobody gives a role above their own', () => {
    const expected: Record<Role, Record<Role, boolean>> = {
      user: { user: true, admin: false, super_admin: false },
      admin: { user: true, admin: true, super_admin: false },
      super_admin: { user: true, admin: true, super_admin: true },
    };
    for (const giver of ROLES) {
      for (const given of ROLES) {
        assert.equal(mayGiveRole(giver, given), expected[giver][given], `${giver} gives ${given}`);
      }
    }
    assert.equal(refusalOf(actor('admin'), { action: 'create-user', gives: 'super_admin' }), 'role_above_own');
    assert.equal(
      refusalOf(actor('admin'), { action: 'set-role', person: actor('user', 'them'), gives: 'super_admin' }),
      'role_above_own',
    );
    assert.equal(refusalOf(actor('super_admin'), { action: 'create-user', gives: 'super_admin' }), null);
  });

  test('nobody changes their own role or deactivates themselves', () => {
    for (const role of ['admin', 'super_admin'] as const) {
      const self = actor(role);
      assert.equal(refusalOf(self, { action: 'set-role', person: self, gives: 'user' }), 'own_role');
      assert.equal(refusalOf(self, { action: 'deactivate', person: self }), 'own_status');
      assert.equal(refusalOf(self, { action: 'edit-profile', person: self }), null);
    }
  });

  test('each refusal reads as a whole sentence that says who may do it', () => {
    const read = (refusal: Refusal, action: AdminAction) => message(refusalCode(refusal, action));
    assert.equal(read('role', 'reset-2fa'), 'Only super admins can open this page.');
    assert.equal(read('role', 'list-users'), 'Only administrators can open this page.');
    assert.equal(read('person_above', 'view-user'), 'Only a super admin can manage a super admin.');
    assert.equal(read('role_above_own', 'create-user'), 'Only a super admin can make someone a super admin.');
    assert.equal(read('own_role', 'set-role'), 'You cannot change your own role.');
    assert.equal(read('own_status', 'deactivate'), 'You cannot deactivate yourself.');
  });
});

describe('what saving a profile amounts to', () => {
  test('a changed role is setting a role, and a changed status is deactivating or reactivating', () => {
    const person = { role: 'user', status: 'active' } as const;
    assert.deepEqual(profileChangeActions(person, { role: 'user', status: 'active' }), []);
    assert.deepEqual(profileChangeActions(person, { role: 'admin', status: 'inactive' }), ['set-role', 'deactivate']);
    assert.deepEqual(profileChangeActions({ role: 'admin', status: 'inactive' }, { role: 'admin', status: 'active' }), [
      'reactivate',
    ]);
  });
});

describe('SECURITY.md', () => {
  test('its privileges table says what the code’s table says, row for row', () => {
    const text = readFileSync(new URL('../../SECURITY.md', import.meta.url), 'utf8');
    const section = text.slice(
      text.indexOf('## Privileges'),
      text.indexOf('### Tested (`test/integration/privileges.test.ts`)'),
    );
    const rows = new Map<string, string[]>();
    for (const line of section.split('\n')) {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      const action = /\(`([a-z0-9-]+)`\)$/.exec(cells[0] ?? '')?.[1];
      if (action !== undefined) rows.set(action, cells);
    }
    assert.deepEqual([...rows.keys()].sort(), [...ADMIN_ACTIONS].sort());
    for (const action of ADMIN_ACTIONS) {
      const [, , user, admin, superAdmin, reason] = rows.get(action) ?? [];
      const says = (role: Role) => (roleMay(role, action) ? 'yes' : 'no');
      assert.deepEqual([user, admin, superAdmin], [says('user'), says('admin'), says('super_admin')], action);
      assert.equal(reason, PRIVILEGES[action].reason, action);
    }
  });
});
