// Every sentence a person reads about the outcome of what they did (problems with what they
// sent, refusals, confirmations, notices, error pages), keyed by the outcome codes the domain
// and the services return. Whole sentences only, each with its variables named, so that a
// second language is one more table of the same shape, never sentences put together from
// fragments. The copy of the pages themselves (headings, labels, explanations) is in the views.
import {
  APPLICATION_NAME_MAX_LENGTH,
  REDIRECT_URI_MAX_LENGTH,
  REDIRECT_URIS_MAX,
  type ApplicationNameProblem,
  type IdTokenSigningAlgProblem,
  type RedirectUrisProblem,
} from '../domain/applications.js';
import { SITE_HOST_MAX_LENGTH } from '../domain/sites.js';
import { EMAIL_MAX_LENGTH, NAME_MAX_LENGTH } from '../domain/users.js';
import { DEVICE_NAME_MAX_LENGTH } from '../domain/devices.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../domain/passwords.js';
import type { MustSetUpReason } from '../domain/enforcement.js';
import type { FieldProblem } from '../services/administration.js';
import type { SecondFactorProblem } from '../services/second-factor.js';
import type { AddSiteProblem } from '../services/sites.js';
import type { PasswordLinkRequest } from '../services/forgotten-password.js';

const ENGLISH = {
  // What was sent to a form, field by field.
  email_missing: 'Enter an email address.',
  email_too_long: `The email address must have at most ${EMAIL_MAX_LENGTH} characters.`,
  email_shape: 'Enter an email address like name@example.com.',
  email_taken: 'Another account already uses this email address.',
  name_missing: 'Enter a name.',
  name_too_long: `The name must have at most ${NAME_MAX_LENGTH} characters.`,
  role_missing: 'Choose a role.',
  status_missing: 'Choose a status.',
  deadline_unreadable: 'Enter the deadline as a date and time.',
  deadline_past: 'Choose a deadline in the future.',
  device_name_missing: 'Give the device a name you will recognise, such as "Pixel 8".',
  device_name_too_long: `The name must have at most ${DEVICE_NAME_MAX_LENGTH} characters.`,
  password_too_short: `The password must have at least ${PASSWORD_MIN_LENGTH} characters.`,
  password_too_long: `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`,
  password_mismatch: 'The two passwords do not match.',
  current_password_wrong: 'Your current password is not right.',
  password_wrong: 'That password is not right.',
  passwords_throttled: 'Too many wrong passwords. Wait a while and try again.',
  passwords_throttled_until: (v: { until: string }) => `Too many wrong passwords. Try again after ${v.until}.`,

  // Applications that sign people in through Twofold.
  application_name_missing: 'Enter the name people know the application by.',
  application_name_too_long: `The name must have at most ${APPLICATION_NAME_MAX_LENGTH} characters.`,
  redirect_uris_missing: 'Enter at least one redirect address, the exact address the application receives sign-ins at.',
  redirect_uris_too_many: `An application may have at most ${REDIRECT_URIS_MAX} addresses of each kind.`,
  redirect_uri_unreadable: 'Enter a whole address, such as https://app.example.com/callback, with nothing around it.',
  redirect_uri_control_character: 'The address must not contain tabs, line breaks or other control characters.',
  redirect_uri_too_long: `An address must have at most ${REDIRECT_URI_MAX_LENGTH} characters.`,
  redirect_uri_insecure:
    'The address must start with https://; only an application on the same computer may use http://localhost or http://127.0.0.1.',
  redirect_uri_fragment: 'The address must not contain a # part.',
  redirect_uri_credentials: 'The address must not contain a user name or password.',
  address_not_accepted: (v: { uri: string }) => `This is the address that was not accepted: ${v.uri}`,
  id_token_signing_alg_unknown: 'Choose how its ID tokens are signed: RS256 or ES256.',
  application_changed: (v: { name: string }) =>
    `The changes to ${v.name} are saved. They apply from the next sign-in to it.`,
  application_unchanged: (v: { name: string }) => `Nothing changed: ${v.name} already had these settings.`,
  application_deleted: (v: { name: string }) => `${v.name} is deleted. Nobody signs in to it through Twofold any more.`,
  application_not_found_title: 'Application not found',
  application_not_found: 'There is no such application in your organisation.',

  // Recovery codes.
  recovery_codes_replaced: 'Here is your new set. The codes you had before no longer work.',
  recovery_codes_need_device_title: 'Link a device first',
  recovery_codes_need_device:
    'Recovery codes are for when your devices are gone: link an authenticator app on the 2FA page first, and you get them then.',
  recovery_code_used: (v: { left: number }) =>
    v.left === 0
      ? 'You signed in with your last recovery code. Check that your devices still work, and make new recovery codes on the 2FA page now.'
      : v.left === 1
        ? 'You signed in with a recovery code; 1 is left. Check that your devices still work, and make new recovery codes on the 2FA page.'
        : `You signed in with a recovery code; ${v.left} are left. Check that your devices still work.`,

  // Signing in to an application through Twofold.
  app_sign_in_to_continue: (v: { application: string }) => `Sign in to continue to ${v.application}.`,
  app_needs_device: (v: { application: string }) =>
    `${v.application} asks for two-factor authentication. Link an authenticator app here; then you are sent on to ${v.application}.`,
  app_needs_code: (v: { application: string }) =>
    `${v.application} asks for two-factor authentication. Confirm it is you with your password and a code; then you are sent on to it.`,
  app_no_access_title: 'No access to this application',
  app_no_access:
    'Your account has no access to this application. If you think it should, ask the people who run the application.',
  app_request_title: 'The application’s request could not be completed',
  app_error_redirect:
    'The application asked Twofold to send you back to an address it has not registered, so Twofold sent you nowhere. Tell the people who run the application.',
  app_error_client:
    'Twofold does not know the application that sent you here, or the application sent a request it is not allowed to make. Tell the people who run it.',
  app_error_expired:
    'This sign-in took too long, or was already completed. Go back to the application and start again.',
  app_error_other: (v: { code: string }) =>
    `The application’s request could not be completed (${v.code}). Go back to the application and try again; if it happens again, tell the people who run it.`,

  // Sites a proxy protects with Twofold (forward auth).
  site_host_missing: 'Enter the host name of the site, such as wiki.example.com.',
  site_host_too_long: `The host name must have at most ${SITE_HOST_MAX_LENGTH} characters.`,
  site_host_scheme: 'Enter the host name alone, without https:// or http://, such as wiki.example.com.',
  site_host_credentials: 'The host name must not contain a user name or password.',
  site_host_path: 'Enter the host name alone, without a path, such as wiki.example.com.',
  site_host_wildcard: 'Register each host name on its own: a wildcard such as *.example.com is not accepted.',
  site_host_default_port:
    'Leave out port 80 and 443, which browsers do not send. Give a port only when the site has another one, such as wiki.example.com:8443.',
  site_host_unreadable:
    'Enter a host name such as wiki.example.com, or a host name and port such as wiki.example.com:8443.',
  site_host_taken: 'This host name is already protected by Twofold. A host name can be registered only once.',
  site_added: (v: { host: string }) => `${v.host} is protected by Twofold.`,
  site_deleted: (v: { host: string }) =>
    `${v.host} is deleted. The proxy in front of it now lets nobody in until it is registered again.`,
  site_not_found_title: 'Site not found',
  site_not_found: 'There is no such protected site in your organisation.',

  // Signing in for a protected site.
  site_sign_in_to_continue: (v: { host: string }) => `Sign in to continue to ${v.host}.`,
  site_needs_device: (v: { host: string }) =>
    `${v.host} asks for two-factor authentication. Link an authenticator app here; then you are sent on to ${v.host}.`,
  site_no_access_title: 'No access to this site',
  site_no_access: 'Your account has no access to this site. If you think it should, ask the people who run the site.',
  site_address_title: 'This address cannot be opened',
  site_address_refused:
    'Twofold sends people on only to the sites it protects, and this address is not one of them. Go back and try again; if it happens again, tell the people who run the site.',
  site_cookies_do_not_reach:
    'Twofold cannot sign you in to this site: your browser does not send Twofold’s cookies to it. Tell the people who run Twofold; its README says which cookie settings a site on another host needs.',
  site_sign_in_needed_title: 'Sign in first',
  site_sign_in_needed: 'Sign in to Twofold to open this site.',
  site_unknown_title: 'Not a protected site',
  site_unknown:
    'Twofold does not protect this site, or the proxy in front of it did not say which site was asked for. Tell the people who run the site.',

  // Refusals of the privileges table.
  refused_super_admins_only: 'Only super admins can open this page.',
  refused_admins_only: 'Only administrators can open this page.',
  refused_person_above: 'Only a super admin can manage a super admin.',
  refused_role_above_own: 'Only a super admin can make someone a super admin.',
  refused_own_role: 'You cannot change your own role.',
  refused_own_status: 'You cannot deactivate yourself.',

  // A second factor that was not accepted.
  code_malformed: 'Enter the 6-digit code from your authenticator app (digits only).',
  code_wrong:
    'That code is not right. Check you are reading the entry for this account and try the code your app shows now.',
  code_expired: 'That code has expired. Enter the new code your app shows now.',
  code_replayed: 'That code has already been used. Wait for your app to show the next code and enter it.',
  key_not_made:
    'No security key or passkey was made. Press the button and follow your browser’s prompt; if your browser cannot make one, link an authenticator app instead.',
  key_refused: 'That key could not be linked: its answer was not for this page. Press the button again.',
  key_already_linked: 'That key is already linked to an account here. Use another key.',
  key_no_answer:
    'No security key or passkey answered. Press the button and follow your browser’s prompt, or use another way below.',
  key_wrong:
    'That key or passkey is not one linked to your account, or its answer was not for this page. Try again with a linked key.',
  key_replayed: 'That answer from your key was already used. Press the button again.',
  code_possible_clone:
    'Your security key was refused: its counter went backwards, as a copy of the key would do. Use another of your devices, and tell your administrator.',
  codes_slow_down: (v: { until: string }) =>
    `Too many wrong codes in a row. Wait until ${v.until} before trying again.`,
  second_factor_locked: (v: { until: string }) =>
    `Too many wrong codes in a row: your second factor is locked until ${v.until}. An administrator can unlock it sooner.`,

  // Signing in and out.
  sign_in_wrong_credentials: 'The email address or password is not right.',
  sign_in_throttled: (v: { seconds: number }) =>
    v.seconds === 1
      ? 'Too many failed sign-ins. Wait 1 second and try again.'
      : `Too many failed sign-ins. Wait ${v.seconds} seconds and try again.`,
  sign_in_blocked:
    'Your deadline for setting up two-factor authentication has passed, so you cannot sign in. Contact your administrator: they can give you a new deadline.',
  sign_in_start_over: 'Too many wrong codes. Sign in again with your password to get new tries.',
  account_inactive: 'This account has been deactivated. Contact your administrator.',
  signed_out: 'You have signed out.',

  // Set-password links and one's own password.
  link_unknown:
    'This set-password link is not valid. Check you copied the whole link, or ask for a new one with “Forgot your password?” or from your administrator.',
  link_used:
    'This set-password link has already been used. If you need to set your password again, ask for a new link with “Forgot your password?” or from your administrator.',
  link_expired:
    'This set-password link has expired. Ask for a new one with “Forgot your password?” or from your administrator.',
  password_set: 'Your password is set. Sign in with it now.',
  password_changed: 'Your password is changed. You are signed out everywhere else.',
  forgotten_password_sent:
    'If this address belongs to an account, we have emailed it a link to set a new password. The link works once, for 30 minutes. Your two-factor authentication stays as it is.',
  throttled: 'Too many links were asked for. Try again in an hour, or ask your administrator.',

  // Email the super admins look after.
  email_sent_again: (v: { recipient: string }) => `The message to ${v.recipient} is queued to be sent again.`,
  email_not_failed: 'This message has not failed (it may be sent already, or queued): nothing changed.',

  // Where one's two-factor authentication stands.
  status_enrolled_required:
    'Two-factor authentication is on, as your organisation requires. You give a code from one of your devices at every sign-in.',
  status_enrolled_optional:
    'Two-factor authentication is on. You give a code from one of your devices at every sign-in. Removing all your devices turns it off.',
  status_not_required:
    'Two-factor authentication is off. Your organisation does not require it, but you can turn it on by adding a device.',
  status_grace: (v: { deadline: string }) =>
    `Your organisation requires two-factor authentication. Add a device before ${v.deadline}.`,
  status_blocked: 'Your deadline for setting up two-factor authentication has passed.',
  setup_reset:
    'Your administrator has reset your two-factor authentication. Link an authenticator app again to continue.',
  setup_due_now:
    'Your organisation requires two-factor authentication for your account. Link an authenticator app to continue.',
  setup_deadline_passed:
    'Your deadline for setting up two-factor authentication has passed. Link an authenticator app to continue.',
  setup_joined_after_start:
    'Your organisation requires two-factor authentication. Link an authenticator app to continue.',

  // One's own devices.
  factor_not_allowed_title: 'Not allowed in your organisation',
  app_not_allowed:
    'Your organisation allows only security keys and passkeys, so an authenticator app cannot be linked. Add a security key or passkey instead.',
  key_not_allowed:
    'Your organisation allows only authenticator apps, so a security key or passkey cannot be linked. Link an authenticator app instead.',
  sign_in_then_add_key:
    'Your organisation now accepts only security keys and passkeys. Sign in with your device this once: you will then be asked to add a security key or passkey.',
  sign_in_then_add_app:
    'Your organisation now accepts only authenticator apps. Sign in with your key this once: you will then be asked to link an authenticator app.',
  setup_add_allowed_key:
    'Your organisation now accepts only security keys and passkeys, which a fake sign-in page cannot trick. Add one to continue: until you do, you cannot go anywhere else in Twofold or its applications.',
  setup_add_allowed_app:
    'Your organisation now accepts only authenticator apps. Link one to continue: until you do, you cannot go anywhere else in Twofold or its applications.',
  setup_gone: 'That set-up is finished or no longer exists. Start again by naming the device.',
  device_linked_signed_in: (v: { device: string }) =>
    `${v.device} is linked and you are signed in. From now on you give a code from your authenticator app at every sign-in.`,
  device_linked: (v: { device: string }) => `${v.device} is linked. You can sign in with a code from it.`,
  device_removed: (v: { device: string }) => `${v.device} is removed.`,
  device_removed_turned_off: (v: { device: string }) =>
    `${v.device} is removed. Two-factor authentication is now off for your account.`,
  last_device_stays:
    'Your organisation requires two-factor authentication, so your last device cannot be removed. Add another device first.',

  // Sessions.
  session_already_ended: 'That session has already ended.',
  session_ended: 'That session is signed out.',
  signed_out_elsewhere: 'You are signed out everywhere else.',

  // What an admin did to a person.
  profile_saved: 'The profile is saved.',
  requirement_saved: 'The two-factor settings are saved.',
  two_factor_reset_done: (v: { name: string }) =>
    `Two-factor authentication is reset for ${v.name}. They link a device again at their next sign-in.`,
  second_factor_unlocked: (v: { name: string }) =>
    `${v.name} can sign in with a code again; their count of wrong codes is cleared.`,
  user_device_removed: (v: { device: string; name: string }) =>
    `${v.device} is removed and ${v.name}'s sessions are ended.`,
  user_last_device_stays: (v: { device: string; name: string }) =>
    `${v.device} is ${v.name}'s last device and 2FA is required of them, so it cannot be removed on its own. Use Reset 2FA to make them link a new one.`,

  // The organisation's requirement.
  policy_not_understood: 'Tick the box to confirm you understand the requirement cannot be turned off once it starts.',
  policy_start_unreadable: 'Enter the start as a date and time, or choose "Starting now".',
  policy_start_past: 'The start must be in the future. To require it at once, choose "Starting now".',
  policy_locked: 'Two-factor authentication is already required for everyone, and that cannot be turned off.',
  policy_required_now: 'Two-factor authentication is now required for everyone.',
  policy_required_from: (v: { start: string }) =>
    `Two-factor authentication will be required for everyone from ${v.start}.`,
  policy_cancelled: 'The requirement for everyone is cancelled.',
  after_deadline_missing: 'Choose what happens after a deadline.',
  after_deadline_saved: 'Saved what happens after a deadline.',
  reminder_days_unreadable: `Type whole numbers of days from 1 to 90, at most 10 of them, separated by commas (for example: 14, 7, 1).`,
  reminder_schedule_saved: 'Saved when reminders are sent.',
  allowed_factors_missing: 'Choose which second factors people may use.',
  allowed_factors_unchanged: 'Nothing changed: that is already what people may use.',
  allowed_factors_saved: (v: { allowed: string }) => `Saved. People may now use: ${v.allowed}.`,
  time_zone_missing: 'Choose a time zone from the list, such as Europe/Amsterdam or UTC.',
  time_zone_unknown: (v: { typed: string }) =>
    `"${v.typed}" is not a time zone name. Choose one from the list, such as Europe/Amsterdam or UTC.`,
  time_zone_saved: (v: { zone: string }) => `Dates are now shown in ${v.zone}.`,

  // The audit log's filter.
  audit_action_unknown: 'Choose what happened from the list.',
  audit_from_unreadable: 'Enter the “from” date as a day, like 2026-11-22.',
  audit_until_unreadable: 'Enter the “until” date as a day, like 2026-11-22.',
  audit_until_before_from: 'The “until” date is before the “from” date.',

  // Security notices at the next sign-in.
  notice_device_added: (v: { at: string }) => `A device was added to your two-factor authentication on ${v.at}.`,
  notice_named_device_added: (v: { device: string; at: string }) =>
    `“${v.device}” was added to your two-factor authentication on ${v.at}.`,
  notice_device_removed: (v: { at: string }) => `A device was removed from your two-factor authentication on ${v.at}.`,
  notice_named_device_removed: (v: { device: string; at: string }) =>
    `“${v.device}” was removed from your two-factor authentication on ${v.at}.`,
  notice_device_removed_by_admin: (v: { at: string }) =>
    `A device was removed from your account by an administrator on ${v.at}.`,
  notice_named_device_removed_by_admin: (v: { device: string; at: string }) =>
    `“${v.device}” was removed from your account by an administrator on ${v.at}.`,
  notice_two_factor_reset: (v: { at: string }) => `An administrator reset your two-factor authentication on ${v.at}.`,
  notice_second_factor_locked: (v: { at: string }) =>
    `Your second factor was locked on ${v.at} after too many wrong codes.`,
  notice_other: (v: { at: string }) => `The protection of your account changed on ${v.at}.`,

  // Error pages: a title and what to do.
  not_found_title: 'Page not found',
  not_found: 'There is no page at this address.',
  user_not_found_title: 'User not found',
  user_not_found: 'There is no such user in your organisation.',
  device_not_found_title: 'Device not found',
  own_device_not_found: 'This device is not linked to your account.',
  user_device_not_found: 'This device is not linked to this user.',
  not_allowed_title: 'Not allowed',
  form_expired_title: 'This form has expired',
  form_expired: 'Go back, reload the page and try again.',
  bad_request_title: 'Bad request',
  form_malformed: 'The form was not sent as expected. Go back, reload the page and try again.',
  request_malformed: 'The request could not be understood.',
  too_large_title: 'Too large',
  too_large: 'What was sent is larger than any form here accepts.',
  failure_title: 'Something went wrong',
  failure: 'Something went wrong on our side. Try again in a moment.',
  wrong_secret_key:
    'Twofold cannot read authenticator secrets because its secret key is wrong. Tell your administrator.',
  database_unreachable_title: 'Temporarily unavailable',
  database_unreachable:
    'Twofold cannot reach its database at the moment, so it could not do this. Try again in a moment.',
  cannot_save_title: 'Cannot save changes',
  database_disk_full:
    'Twofold cannot save anything because the disk of its database is full. Tell your administrator. You can try again once they have made room.',
  database_read_only:
    'Twofold cannot save anything because its database only allows reading. Tell your administrator. You can try again once they have fixed it.',
} satisfies Record<string, string | ((vars: never) => string)>;

type Table = typeof ENGLISH;
export type MessageCode = keyof Table;
/** The codes whose message names no values. */
export type SentenceCode = { [C in MessageCode]: Table[C] extends string ? C : never }[MessageCode];
/** The values a message names, when it names any. */
type VarsOf<C extends MessageCode> = Table[C] extends (vars: infer V) => string ? [vars: V] : [];

// Every outcome code the domain and the services return has its sentence: a new code
// without one does not compile.
type Covered<T extends SentenceCode> = T;
export type CoveredCodes = Covered<
  | FieldProblem
  | SetupCode
  | SecondFactorCode
  | ApplicationNameProblem
  | RedirectUrisProblem
  | IdTokenSigningAlgProblem
  | AddSiteProblem
  | Exclude<PasswordLinkRequest, { ok: true }>['problem']
>;

export function message<C extends MessageCode>(code: C, ...vars: VarsOf<C>): string {
  const entry = ENGLISH[code] as string | ((vars: unknown) => string);
  return typeof entry === 'string' ? entry : entry(vars[0]);
}

/** A form's problems, field by field, as the sentences shown beside the fields. */
export function sentencesOf<F extends string>(problems: Partial<Record<F, SentenceCode>>): Partial<Record<F, string>> {
  const sentences: Partial<Record<F, string>> = {};
  for (const [field, code] of Object.entries(problems) as [F, SentenceCode | undefined][]) {
    if (code !== undefined) sentences[field] = ENGLISH[code];
  }
  return sentences;
}

type SetupCode = `setup_${MustSetUpReason}`;

export function setupReasonMessage(reason: MustSetUpReason): string {
  return message(`setup_${reason}` satisfies SetupCode);
}

type SecondFactorCode = 'code_malformed' | 'code_wrong' | 'code_expired' | 'code_replayed' | 'code_possible_clone';

/** What to show for a second factor that was not accepted; `when` writes a moment in the reader's zone. */
/** The sentence for a second factor refused; `byKey` when the person answered with a security key or passkey. */
export function secondFactorProblemMessage(
  problem: SecondFactorProblem,
  when: (at: Date) => string,
  byKey = false,
): string {
  if (byKey && (problem.reason === 'malformed' || problem.reason === 'wrong' || problem.reason === 'replayed')) {
    return message(
      problem.reason === 'malformed' ? 'key_no_answer' : problem.reason === 'wrong' ? 'key_wrong' : 'key_replayed',
    );
  }
  switch (problem.reason) {
    case 'slow_down':
      return message('codes_slow_down', { until: when(problem.until) });
    case 'locked':
      return message('second_factor_locked', { until: when(problem.until) });
    default:
      return message(`code_${problem.reason}` satisfies SecondFactorCode);
  }
}
