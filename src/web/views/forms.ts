// Form parts: every form carries the CSRF token, every field its label and its error.
import { html, type Html } from './html.js';

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}

export interface FieldOptions {
  label: string;
  name: string;
  value?: string;
  /** A textarea takes several lines, such as one address per line. */
  type?: 'text' | 'email' | 'password' | 'datetime-local' | 'search' | 'textarea';
  error?: string | undefined;
  hint?: string;
  autocomplete?: string;
  required?: boolean;
  inputmode?: 'numeric' | 'email' | 'text';
  maxlength?: number;
  autofocus?: boolean;
  pattern?: string;
  /** The id of a <datalist> of suggestions, offered as the person types. */
  list?: string;
}

export function field(o: FieldOptions): Html {
  const id = `field-${o.name}`;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const head = html`<label for="${id}">${o.label}</label>
    ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
    ${o.error ? html`<p class="error" id="${id}-error">${o.error}</p>` : ''}`;
  if (o.type === 'textarea') {
    return html`<div class="field${o.error ? ' has-error' : ''}">
      ${head}
      <textarea
        id="${id}"
        name="${o.name}"
        rows="3"
        spellcheck="false"
        ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : ''}
        ${described ? html`aria-describedby="${described}"` : ''}
        ${o.error ? html`aria-invalid="true"` : ''}
      >
${o.value ?? ''}</textarea
      >
    </div>`;
  }
  return html`<div class="field${o.error ? ' has-error' : ''}">
    ${head}
    <input
      id="${id}"
      name="${o.name}"
      type="${o.type ?? 'text'}"
      value="${o.value ?? ''}"
      ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : ''}
      ${o.required ? html`required` : ''}
      ${o.inputmode ? html`inputmode="${o.inputmode}"` : ''}
      ${o.maxlength ? html`maxlength="${o.maxlength}"` : ''}
      ${o.pattern ? html`pattern="${o.pattern}"` : ''}
      ${o.list ? html`list="${o.list}"` : ''}
      ${o.autofocus ? html`autofocus` : ''}
      ${described ? html`aria-describedby="${described}"` : ''}
      ${o.error ? html`aria-invalid="true"` : ''}
    />
  </div>`;
}

export function codeField(error: string | undefined, label = '6-digit code'): Html {
  return field({
    label,
    name: 'code',
    error,
    autocomplete: 'one-time-code',
    inputmode: 'numeric',
    maxlength: 7,
    required: true,
    autofocus: true,
    hint: 'The code your authenticator app shows now for this account.',
  });
}

/** What a person types a recovery code into, instead of an authenticator code. */
export function recoveryCodeField(error: string | undefined): Html {
  return field({
    label: 'Recovery code',
    name: 'code',
    error,
    autocomplete: 'off',
    maxlength: 40,
    required: true,
    autofocus: true,
    hint: 'One of the codes you saved when you set up two-factor authentication, like abcd-efgh-ijkl-mnop-qrst-uvwx. Each works once.',
  });
}

export function errorSummary(problems: Record<string, string | undefined>): Html | '' {
  const messages = Object.values(problems).filter((m): m is string => m !== undefined);
  if (messages.length === 0) return '';
  return html`<div class="error-summary" role="alert">
    <h2>There is a problem</h2>
    <ul>
      ${messages.map((m) => html`<li>${m}</li>`)}
    </ul>
  </div>`;
}

export function alert(message: string): Html {
  return html`<div class="error-summary" role="alert"><p>${message}</p></div>`;
}
