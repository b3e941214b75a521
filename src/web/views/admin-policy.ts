// The "Manage 2FA" page: the organisation-wide requirement, what happens after a deadline,
// and the time zone dates are read in.
import type { AfterDeadline, PolicyPhase } from '../../domain/enforcement.js';
import type { ReminderSchedule } from '../../domain/reminders.js';
import { ALLOWED_FACTORS_CHOICES, type AllowedFactors, type FactorPolicyImpact } from '../../domain/factor-policy.js';
import type { When } from './admin-parts.js';
import { csrfField, errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

export interface PolicyPageData {
  phase: PolicyPhase;
  start: Date | null;
  afterDeadline: AfterDeadline;
  allowedFactors: AllowedFactors;
  timeZone: string;
  startValue: string;
  problem: string | null;
  /** A time zone that was refused, as typed, with the reason. */
  timeZoneRefused: { typed: string; problem: string } | null;
  reminders: ReminderSchedule;
  /** The reminder days as typed, when they were refused, with the reason. */
  remindersRefused: { typed: string; problem: string } | null;
}

/** The zones offered as one types: UTC, then every IANA zone this runtime knows. */
const TIME_ZONE_CHOICES: readonly string[] = ['UTC', ...Intl.supportedValuesOf('timeZone')];

function timeZoneSection(ctx: PageContext, d: PolicyPageData): Html {
  return html`<form method="post" action="/admin/2fa/time-zone" class="card">
    ${csrfField(ctx.csrfToken)}
    ${field({
      label: 'Time zone for dates and deadlines',
      name: 'timeZone',
      value: d.timeZoneRefused?.typed ?? d.timeZone,
      error: d.timeZoneRefused?.problem,
      hint: 'Type part of a city or region, such as Amsterdam or New_York, and choose from the list. Every date in Twofold is shown, and every date you type is read, in this zone.',
      required: true,
      autocomplete: 'off',
      list: 'time-zones',
    })}
    <datalist id="time-zones">
      ${TIME_ZONE_CHOICES.map((zone) => html`<option value="${zone}"></option>`)}
    </datalist>
    <button type="submit">Save time zone</button>
  </form>`;
}

function remindersSection(ctx: PageContext, d: PolicyPageData): Html {
  const r = d.reminders;
  return html`<form method="post" action="/admin/2fa/reminders" class="card">
    ${csrfField(ctx.csrfToken)}
    <p class="hint">
      People who must set up two-factor authentication and have not yet are emailed before their deadline, the
      organisation's start date or their own. Reminders stop once they have linked a device.
    </p>
    <label class="choice"
      ><input type="checkbox" name="whenScheduled" value="yes" ${r.whenScheduled ? html`checked` : ''} /> When the
      requirement is scheduled, or when someone first falls under it</label
    >
    ${field({
      label: 'Days before the deadline',
      name: 'days',
      value: d.remindersRefused?.typed ?? r.daysBefore.join(', '),
      error: d.remindersRefused?.problem,
      hint: 'Whole days, separated by commas, such as 14, 7, 1. Leave empty for none.',
      autocomplete: 'off',
    })}
    <label class="choice"
      ><input type="checkbox" name="onTheDay" value="yes" ${r.onTheDay ? html`checked` : ''} /> On the day the deadline
      passes, to those who still have no device</label
    >
    <p class="hint">Super admins also get a summary a week and a day before the organisation's start date.</p>
    <button type="submit">Save reminders</button>
  </form>`;
}

function requirementSection(ctx: PageContext, d: PolicyPageData, when: When): Html {
  const problem = d.problem === null ? '' : html`<div class="error-summary" role="alert"><p>${d.problem}</p></div>`;
  if (d.phase === 'active' && d.start !== null) {
    return html`${problem}
      <div class="locked" role="note">
        <p>
          <strong>Locked.</strong> Two-factor authentication is required for everyone in the organisation since
          ${when(d.start)}. It cannot be turned off.
        </p>
      </div>`;
  }
  const scheduled = d.phase === 'scheduled' && d.start !== null;
  return html`${scheduled && d.start !== null ? html`<p class="lead">Two-factor authentication will be required for everyone from <strong>${when(d.start)}</strong>. Until then you can change the date or cancel. From that moment it cannot be turned off.</p>` : html`<p class="lead">Two-factor authentication is not required for everyone. You can require it for chosen users on their pages.</p>`}
    ${problem}
    <form method="post" action="/admin/2fa/requirement" class="card">
      ${csrfField(ctx.csrfToken)}
      <fieldset>
        <legend>${scheduled ? 'Change when it starts' : 'Require two-factor authentication for everyone'}</legend>
        <label class="choice"
          ><input type="radio" name="start" value="date" checked /> From a date: people can link their devices until
          then</label
        >
        ${field({ label: `Start date and time in ${d.timeZone}`, name: 'date', type: 'datetime-local', value: d.startValue })}
        <label class="choice"><input type="radio" name="start" value="now" /> Starting now</label>
      </fieldset>
      <label class="choice"
        ><input type="checkbox" name="understood" value="yes" required /> I understand that once it starts, the
        requirement cannot be turned off.</label
      >
      <button type="submit">${scheduled ? 'Save start' : 'Require 2FA for everyone'}</button>
    </form>
    ${
      scheduled
        ? html`<form method="post" action="/admin/2fa/cancel">
            ${csrfField(ctx.csrfToken)}
            <button type="submit" class="secondary">Cancel the requirement</button>
          </form>`
        : ''
    }`;
}

export function policyPage(ctx: PageContext, d: PolicyPageData, when: When): Html {
  return html`${errorSummary({ days: d.remindersRefused?.problem, timeZone: d.timeZoneRefused?.problem })}
    <section aria-labelledby="requirement-heading">
      <h2 id="requirement-heading">Everyone in the organisation</h2>
      ${requirementSection(ctx, d, when)}
    </section>
    <section aria-labelledby="after-heading">
      <h2 id="after-heading">After a deadline has passed</h2>
      <form method="post" action="/admin/2fa/after-deadline" class="card">
        ${csrfField(ctx.csrfToken)}
        <fieldset>
          <legend>What happens to a user without a device once their deadline has passed</legend>
          <label class="choice"
            ><input
              type="radio"
              name="afterDeadline"
              value="set_up_at_login"
              ${d.afterDeadline === 'set_up_at_login' ? html`checked` : ''}
            />
            They must set one up at their next sign-in</label
          >
          <label class="choice"
            ><input
              type="radio"
              name="afterDeadline"
              value="block"
              ${d.afterDeadline === 'block' ? html`checked` : ''}
            />
            They cannot sign in until an administrator gives them a new deadline</label
          >
        </fieldset>
        <p class="hint">
          Either way, someone who never had a date (added after the start, required on their own without a deadline, or
          reset) sets up at their next sign-in.
        </p>
        <button type="submit">Save</button>
      </form>
    </section>
    <section aria-labelledby="reminders-heading">
      <h2 id="reminders-heading">Reminders by email</h2>
      ${remindersSection(ctx, d)}
    <section aria-labelledby="factors-heading">
      <h2 id="factors-heading">Second factors people may use</h2>
      ${allowedFactorsForm(ctx, d.allowedFactors)}
    </section>
    <section aria-labelledby="tz-heading">
      <h2 id="tz-heading">Time zone</h2>
      ${timeZoneSection(ctx, d)}
    </section>`;
}

export const ALLOWED_FACTORS_LABELS: Record<AllowedFactors, string> = {
  apps_and_keys: 'Authenticator apps, and security keys and passkeys',
  keys_only: 'Security keys and passkeys only (phishing-resistant)',
  apps_only: 'Authenticator apps only',
};

function allowedFactorsForm(ctx: PageContext, current: AllowedFactors): Html {
  return html`<form method="post" action="/admin/2fa/factors" class="card">
    ${csrfField(ctx.csrfToken)}
    <fieldset>
      <legend>Which devices people may link and sign in with</legend>
      ${ALLOWED_FACTORS_CHOICES.map(
        (choice) =>
          html`<label class="choice"
            ><input type="radio" name="allowedFactors" value="${choice}" ${choice === current ? html`checked` : ''} />
            ${ALLOWED_FACTORS_LABELS[choice]}</label
          >`,
      )}
    </fieldset>
    <p class="hint">
      A security key or passkey cannot be tricked by a fake sign-in page; a code from an app can. Before anything is
      saved you see how many people a change affects. Recovery codes stay usable either way.
    </p>
    <button type="submit">Review the change</button>
  </form>`;
}

/** "N active people have", or "1 active person has". */
const peopleHave = (n: number) =>
  n === 1 ? html`<strong>1 active person</strong> has` : html`<strong>${n} active people</strong> have`;

/** The confirmation a change of the allowed factors asks for: whom it affects and what happens to them. */
export function allowedFactorsPreview(
  ctx: PageContext,
  from: AllowedFactors,
  to: AllowedFactors,
  impact: FactorPolicyImpact,
  /** The admin changing it would be held too (their devices, or the way they signed in now). */
  youToo: boolean,
): Html {
  const allowedNow = to === 'keys_only' ? 'a security key or passkey' : 'an authenticator app';
  const notAllowed = to === 'keys_only' ? 'authenticator apps' : 'security keys and passkeys';
  const lines: Html[] = [];
  if (to !== 'apps_and_keys') {
    lines.push(
      html`<li>
        ${peopleHave(impact.mustAddDevice)} only ${notAllowed}. At their next sign-in they use one
        (or a recovery code) once more, and must then add ${allowedNow} before they can go anywhere else. Anyone of them
        signed in now is sent to that step at their next page.
      </li>`,
      html`<li>
        ${peopleHave(impact.loseAKind)} ${allowedNow} and ${notAllowed}: from now on they sign in
        with ${allowedNow} only.
      </li>`,
      html`<li>
        ${peopleHave(impact.withoutDevice)} no device yet: when they set up two-factor
        authentication, they can only add ${allowedNow}.
      </li>`,
    );
    if (to === 'keys_only')
      lines.push(
        html`<li>
          Anyone signed in now with an app's code or a recovery code is asked to add a security key or passkey at their
          next page; signing in again with their key also does.
        </li>`,
      );
  }
  return html`<p class="lead">
      From <strong>${ALLOWED_FACTORS_LABELS[from]}</strong> to <strong>${ALLOWED_FACTORS_LABELS[to]}</strong>.
    </p>
    ${
      youToo
        ? html`<div class="locked" role="note">
            <p>
              <strong>You too:</strong> once this is saved you must add ${allowedNow} before you can go on, as you
              did not sign in with one.
            </p>
          </div>`
        : ''
    }
    ${
      lines.length === 0
        ? html`<p>Nobody loses a way to sign in: everyone may use authenticator apps and security keys and passkeys.</p>`
        : html`<ul>
            ${lines}
          </ul>`
    }
    <form method="post" action="/admin/2fa/factors" class="card">
      ${csrfField(ctx.csrfToken)}
      <input type="hidden" name="allowedFactors" value="${to}" />
      <input type="hidden" name="confirm" value="yes" />
      <button type="submit">Save: ${ALLOWED_FACTORS_LABELS[to]}</button>
    </form>
    <p><a href="/admin/2fa">Cancel, keep ${ALLOWED_FACTORS_LABELS[from]}</a></p>`;
}
