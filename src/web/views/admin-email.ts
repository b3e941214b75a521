// Super admins' page of email not sent: who it was for, what it was, how it went; never
// what it says (it may carry a set-password link).
import { MAIL_KIND_LABELS } from '../../domain/mail.js';
import type { QueuedMail } from '../../store/mail-outbox.js';
import { csrfField } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

const STATE_LABELS: Record<QueuedMail['state'], string> = {
  failed: 'Failed',
  pending: 'Waiting to be sent',
  sending: 'Being sent',
  sent: 'Sent',
};

function row(ctx: PageContext, mail: QueuedMail, when: (at: Date) => string): Html {
  return html`<tr>
    <td>${mail.recipient}</td>
    <td>${mail.subject}</td>
    <td>${MAIL_KIND_LABELS[mail.kind]}</td>
    <td>${STATE_LABELS[mail.state]}${mail.state === 'pending' && mail.attempts > 0 ? html`, next try ${when(mail.nextAttemptAt)}` : ''}</td>
    <td>${mail.attempts}</td>
    <td>${mail.lastError ?? ''}</td>
    <td>${when(mail.createdAt)}</td>
    <td>
      ${
        mail.state === 'failed'
          ? html`<form method="post" action="/admin/email/${mail.id}/send-again" class="actions">
            ${csrfField(ctx.csrfToken)}
            <button type="submit">Send again</button>
          </form>`
          : ''
      }
    </td>
  </tr>`;
}

export function unsentMailPage(ctx: PageContext, mails: QueuedMail[], when: (at: Date) => string): Html {
  return html`<p>
      Email that has failed, or is still being tried: an SMTP server that refuses a message for good fails it at once;
      one that cannot be reached is tried again for a day. Sent messages are not listed.
    </p>
    ${
      mails.length === 0
        ? html`<p class="muted">Every message has been sent.</p>`
        : html`<div class="table-scroll" role="region" aria-label="Email not sent" tabindex="0">
          <table class="email">
            <thead>
              <tr>
                <th scope="col">To</th>
                <th scope="col">Subject</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Queued</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              ${mails.map((mail) => row(ctx, mail, when))}
            </tbody>
          </table>
        </div>`
    }`;
}
