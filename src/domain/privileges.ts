// Who may do what to whom in an organisation: every administrative action, the roles that
// may perform it and why, and the rules about the person it is done to. The admin routes
// declare their action and one guard checks it here; SECURITY.md shows the same table.
import type { Role } from './users.js';

export const ADMIN_ACTIONS = [
  'list-users',
  'view-user',
  'create-user',
  'edit-profile',
  'set-role',
  'deactivate',
  'reactivate',
  'issue-password-link',
  'unlock-2fa',
  'set-2fa-requirement',
  'reset-2fa',
  'remove-device',
  'view-audit',
  'manage-policy',
  'manage-applications',
  'manage-email',
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

export interface Privilege {
  /** The roles that may perform the action. */
  roles: readonly Role[];
  /** An action on a person (the `:id` of its route), or on the organisation as a whole. */
  on: 'person' | 'organisation';
  /** Why these roles and no others, as SECURITY.md gives it. */
  reason: string;
}

const ADMINS: readonly Role[] = ['admin', 'super_admin'];
const SUPER_ADMINS: readonly Role[] = ['super_admin'];

export const PRIVILEGES: Record<AdminAction, Privilege> = {
  'list-users': {
    roles: ADMINS,
    on: 'organisation',
    reason: 'Admins look after the people of their organisation; the list shows no password, code or secret.',
  },
  'view-user': {
    roles: ADMINS,
    on: 'person',
    reason: 'A person’s page shows their profile, devices and wrong codes, but no secret.',
  },
  'create-user': {
    roles: ADMINS,
    on: 'organisation',
    reason: 'A new person sets their own password through a one-time link and links their own device.',
  },
  'edit-profile': {
    roles: ADMINS,
    on: 'person',
    reason: 'A name and an email address open nothing: signing in still takes the password and the second factor.',
  },
  'set-role': {
    roles: ADMINS,
    on: 'person',
    reason: 'Roles are how privileges are given, so nobody gives a role above their own or changes their own role.',
  },
  deactivate: {
    roles: ADMINS,
    on: 'person',
    reason: 'It ends the person’s sessions and stops their sign-in; their devices and requirement stay as they are.',
  },
  reactivate: {
    roles: ADMINS,
    on: 'person',
    reason:
      'It only lets the person sign in again, with the devices, requirement and deadline they had, so deactivating and reactivating strips nothing.',
  },
  'issue-password-link': {
    roles: ADMINS,
    on: 'person',
    reason:
      'The link replaces the password and nothing else: whoever uses it must still give a code from the person’s own device when one is linked.',
  },
  'unlock-2fa': {
    roles: SUPER_ADMINS,
    on: 'person',
    reason:
      'Clearing the count of wrong codes gives a guesser new tries, so an admin who had set the password could guess codes without end.',
  },
  'set-2fa-requirement': {
    roles: SUPER_ADMINS,
    on: 'person',
    reason:
      'Lifting the requirement or moving a deadline lets a person without a device in with a password alone, which a set-password link gives to an admin.',
  },
  'reset-2fa': {
    roles: SUPER_ADMINS,
    on: 'person',
    reason: 'It removes every device of the person, so that whoever signs in next links a new one.',
  },
  'remove-device': {
    roles: SUPER_ADMINS,
    on: 'person',
    reason: 'It removes a device that gives the person’s codes.',
  },
  'view-audit': {
    roles: ADMINS,
    on: 'organisation',
    reason: 'Admins answer for what happens in their organisation; the log holds no password, code or secret.',
  },
  'manage-policy': {
    roles: SUPER_ADMINS,
    on: 'organisation',
    reason:
      'It decides who in the whole organisation must have a second factor, by when, and what happens after the deadline.',
  },
  'manage-applications': {
    roles: SUPER_ADMINS,
    on: 'organisation',
    reason:
      'An application or site registered here receives the identity of whoever signs in to it, and its secret, addresses and host decide where that goes.',
  },
  'manage-email': {
    roles: SUPER_ADMINS,
    on: 'organisation',
    reason:
      'The email not sent shows who was sent a set-password link and lets it be sent again; it never shows a message itself.',
  },
};

/** Higher ranks hold every privilege of lower ones. */
const RANK: Record<Role, number> = { user: 0, admin: 1, super_admin: 2 };

/**
 * Why an attempt is refused:
 * - role: the actor's role may not perform the action at all;
 * - person_above: the person acted on has a role above the actor's (an admin and a super admin);
 * - role_above_own: the role given is above the actor's own;
 * - own_role: the actor changes their own role;
 * - own_status: the actor deactivates themselves.
 */
export type Refusal = 'role' | 'person_above' | 'role_above_own' | 'own_role' | 'own_status';

export interface Party {
  id: string;
  role: Role;
}

export interface Attempt {
  action: AdminAction;
  /** The person acted on, for actions on a person. */
  person?: Party;
  /** The role given, when creating someone or setting a role. */
  gives?: Role;
}

export function roleMay(role: Role, action: AdminAction): boolean {
  return PRIVILEGES[action].roles.includes(role);
}

/** Whether an actor of this role may give someone that role. */
export function mayGiveRole(actor: Role, given: Role): boolean {
  return RANK[given] <= RANK[actor];
}

/** Null when `actor` may make the attempt; otherwise the first rule it breaks. */
export function refusalOf(actor: Party, attempt: Attempt): Refusal | null {
  if (!roleMay(actor.role, attempt.action)) return 'role';
  const person = attempt.person;
  if (person !== undefined && RANK[person.role] > RANK[actor.role]) return 'person_above';
  if (person?.id === actor.id && attempt.action === 'set-role') return 'own_role';
  if (person?.id === actor.id && attempt.action === 'deactivate') return 'own_status';
  if (attempt.gives !== undefined && !mayGiveRole(actor.role, attempt.gives)) return 'role_above_own';
  return null;
}

/** The least role that may perform the action: who a refusal says it is for. */
export function leastRoleFor(action: AdminAction): Role {
  const [least] = [...PRIVILEGES[action].roles].sort((a, b) => RANK[a] - RANK[b]);
  if (least === undefined) throw new Error(`no role may perform ${action}`);
  return least;
}

/** The actions a save of the profile form amounts to, beyond the name and email it always sets. */
export function profileChangeActions(
  person: { role: Role; status: 'active' | 'inactive' },
  change: { role: Role; status: 'active' | 'inactive' },
): AdminAction[] {
  const actions: AdminAction[] = [];
  if (change.role !== person.role) actions.push('set-role');
  if (change.status === 'inactive' && person.status === 'active') actions.push('deactivate');
  if (change.status === 'active' && person.status === 'inactive') actions.push('reactivate');
  return actions;
}

/** What a refusal is called where the person reads it: the table says who may do the action. */
export type RefusalCode =
  | 'refused_super_admins_only'
  | 'refused_admins_only'
  | 'refused_person_above'
  | 'refused_role_above_own'
  | 'refused_own_role'
  | 'refused_own_status';

export function refusalCode(refusal: Refusal, action: AdminAction): RefusalCode {
  switch (refusal) {
    case 'role':
      return leastRoleFor(action) === 'super_admin' ? 'refused_super_admins_only' : 'refused_admins_only';
    case 'person_above':
      return 'refused_person_above';
    case 'role_above_own':
      return 'refused_role_above_own';
    case 'own_role':
      return 'refused_own_role';
    case 'own_status':
      return 'refused_own_status';
  }
}
