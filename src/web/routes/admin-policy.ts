// The "Manage 2FA" page: the organisation-wide requirement, what happens after a
// deadline, and the time zone deadlines are read in.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { policyPhase, type RequirementChange } from '../../domain/enforcement.js';
import { isAfterDeadline } from '../../domain/organisations.js';
import { canonicalTimeZone, parseLocalDateTime, toLocalInputValue } from '../../domain/time-zones.js';
import { parseReminderDays } from '../../domain/reminders.js';
import { isAllowedFactors, mustAddAllowedDevice } from '../../domain/factor-policy.js';
import {
  changeAllowedFactors,
  changeOrganisationRequirement,
  previewAllowedFactors,
  setAfterDeadline,
  setReminderSchedule,
  setTimeZone,
} from '../../services/policy.js';
import { authOrThrow, devicesByKindOf } from '../plugins/auth.js';
import { formSchema } from '../form-schema.js';
import { message } from '../messages.js';
import { contextOf, redirectWithFlash, renderPage, when } from '../respond.js';
import {
  ALLOWED_FACTORS_LABELS,
  allowedFactorsPreview,
  policyPage,
  type PolicyPageData,
} from '../views/admin-policy.js';

export async function adminPolicyRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;
  const config = { action: 'manage-policy' } as const;

  interface Shown {
    /** What was refused in the requirement or after-deadline forms. */
    problem?: string;
    /** The start as typed, to show it again. */
    startValue?: string;
    timeZoneRefused?: PolicyPageData['timeZoneRefused'];
    remindersRefused?: PolicyPageData['remindersRefused'];
    status?: number;
  }

  function show(request: FastifyRequest, reply: FastifyReply, shown: Shown = {}) {
    const { organisation } = authOrThrow(request);
    const { policy, timeZone } = organisation;
    return renderPage(
      request,
      reply,
      'Manage 2FA',
      (ctx) =>
        policyPage(
          ctx,
          {
            phase: policyPhase(policy, deps.now()),
            start: policy.requireAllFrom,
            afterDeadline: policy.afterDeadline,
            allowedFactors: organisation.allowedFactors,
            timeZone,
            startValue:
              shown.startValue ??
              (policy.requireAllFrom === null ? '' : toLocalInputValue(policy.requireAllFrom, timeZone)),
            problem: shown.problem ?? null,
            timeZoneRefused: shown.timeZoneRefused ?? null,
            reminders: organisation.reminderSchedule,
            remindersRefused: shown.remindersRefused ?? null,
          },
          (at) => when(request, at),
        ),
      shown.status ?? 200,
    );
  }

  app.get('/admin/2fa', { config }, (request, reply) => show(request, reply));

  app.post<{ Body: { start?: string; date?: string; understood?: string } }>(
    '/admin/2fa/requirement',
    { config, schema: formSchema({ start: 10, date: 40, understood: 10 }, ['start', 'date', 'understood']) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const { start, date = '', understood } = request.body;
      if (understood !== 'yes')
        return show(request, reply, {
          problem: message('policy_not_understood'),
          startValue: date,
          status: 400,
        });
      let change: RequirementChange;
      if (start === 'now') change = { kind: 'require_now' };
      else {
        const at = parseLocalDateTime(date, auth.organisation.timeZone);
        if (at === null)
          return show(request, reply, {
            problem: message('policy_start_unreadable'),
            startValue: date,
            status: 400,
          });
        change = { kind: 'require_from', start: at };
      }
      const result = await changeOrganisationRequirement(
        deps,
        auth.tenant,
        auth.organisation,
        contextOf(request),
        change,
      );
      if (!result.ok && result.reason === 'locked')
        return show(request, reply, { problem: message('policy_locked'), status: 409 });
      if (!result.ok)
        return show(request, reply, {
          problem: message('policy_start_past'),
          startValue: date,
          status: 400,
        });
      return redirectWithFlash(
        reply,
        '/admin/2fa',
        change.kind === 'require_now'
          ? message('policy_required_now')
          : message('policy_required_from', { start: when(request, change.start) }),
      );
    },
  );

  app.post('/admin/2fa/cancel', { config, schema: formSchema({}) }, async (request, reply) => {
    const auth = authOrThrow(request);
    const result = await changeOrganisationRequirement(deps, auth.tenant, auth.organisation, contextOf(request), {
      kind: 'cancel',
    });
    if (!result.ok) return show(request, reply, { problem: message('policy_locked'), status: 409 });
    return redirectWithFlash(reply, '/admin/2fa', message('policy_cancelled'));
  });

  app.post<{ Body: { afterDeadline: string } }>(
    '/admin/2fa/after-deadline',
    { config, schema: formSchema({ afterDeadline: 30 }) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      if (!isAfterDeadline(request.body.afterDeadline))
        return show(request, reply, { problem: message('after_deadline_missing'), status: 400 });
      await setAfterDeadline(deps, auth.tenant, contextOf(request), request.body.afterDeadline);
      return redirectWithFlash(reply, '/admin/2fa', message('after_deadline_saved'));
    },
  );

  // The first post shows whom the change affects; only the confirming one (`confirm=yes`) saves.
  app.post<{ Body: { allowedFactors: string; confirm?: string } }>(
    '/admin/2fa/factors',
    { config, schema: formSchema({ allowedFactors: 30, confirm: 10 }, ['confirm']) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const to = request.body.allowedFactors;
      if (!isAllowedFactors(to))
        return show(request, reply, { problem: message('allowed_factors_missing'), status: 400 });
      const from = auth.organisation.allowedFactors;
      if (to === from) return redirectWithFlash(reply, '/admin/2fa', message('allowed_factors_unchanged'));
      if (request.body.confirm !== 'yes') {
        const impact = await previewAllowedFactors(auth.tenant, to);
        const youToo = mustAddAllowedDevice(to, devicesByKindOf(auth), auth.session.secondFactorMethod);
        return renderPage(request, reply, 'Change the second factors people may use?', (ctx) =>
          allowedFactorsPreview(ctx, from, to, impact, youToo),
        );
      }
      await changeAllowedFactors(deps, auth.tenant, auth.organisation, contextOf(request), to);
      return redirectWithFlash(
        reply,
        '/admin/2fa',
        message('allowed_factors_saved', { allowed: ALLOWED_FACTORS_LABELS[to] }),
      );
    },
  );

  app.post<{ Body: { timeZone: string } }>(
    '/admin/2fa/time-zone',
    { config, schema: formSchema({ timeZone: 100 }) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const typed = request.body.timeZone.trim();
      const zone = canonicalTimeZone(typed);
      if (zone === null) {
        const problem = typed === '' ? message('time_zone_missing') : message('time_zone_unknown', { typed });
        return show(request, reply, { timeZoneRefused: { typed, problem }, status: 400 });
      }
      await setTimeZone(deps, auth.tenant, contextOf(request), zone);
      return redirectWithFlash(reply, '/admin/2fa', message('time_zone_saved', { zone }));
    },
  );

  app.post<{ Body: { whenScheduled?: string; days: string; onTheDay?: string } }>(
    '/admin/2fa/reminders',
    { config, schema: formSchema({ whenScheduled: 10, days: 200, onTheDay: 10 }, ['whenScheduled', 'onTheDay']) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const daysBefore = parseReminderDays(request.body.days);
      if (daysBefore === null) {
        const refused = { typed: request.body.days, problem: message('reminder_days_unreadable') };
        return show(request, reply, { remindersRefused: refused, status: 400 });
      }
      await setReminderSchedule(deps, auth.tenant, contextOf(request), {
        whenScheduled: request.body.whenScheduled === 'yes',
        daysBefore,
        onTheDay: request.body.onTheDay === 'yes',
      });
      return redirectWithFlash(reply, '/admin/2fa', message('reminder_schedule_saved'));
    },
  );
}
