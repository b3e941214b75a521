// The Applications page: the applications that sign the organisation's people in through
// Twofold, registering one, changing one, and the page that hands over its secret once; and
// the sites a reverse proxy protects with Twofold.
import type { Application, IdTokenSigningAlg } from '../../domain/applications.js';
import type { Site } from '../../domain/sites.js';
import { csrfField, errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';
import type { When } from './admin-parts.js';

/** An application's form as typed: addresses one per line, the signature as sent. */
export interface ApplicationValues {
  name: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  requireTwoFactor: boolean;
  requirePhishingResistant: boolean;
  idTokenSigningAlg: string;
}

export type ApplicationSentences = Partial<
  Record<'name' | 'redirectUris' | 'postLogoutRedirectUris' | 'idTokenSigningAlg', string>
>;

export const NO_APPLICATION_VALUES: ApplicationValues = {
  name: '',
  redirectUris: '',
  postLogoutRedirectUris: '',
  requireTwoFactor: false,
  requirePhishingResistant: false,
  idTokenSigningAlg: 'RS256',
};

/** The form of a registered application, filled in with what it has now. */
export function valuesOf(application: Application): ApplicationValues {
  return {
    name: application.name,
    redirectUris: application.redirectUris.join('\n'),
    postLogoutRedirectUris: application.postLogoutRedirectUris.join('\n'),
    requireTwoFactor: application.requireTwoFactor,
    requirePhishingResistant: application.requirePhishingResistant,
    idTokenSigningAlg: application.idTokenSigningAlg,
  };
}

export interface SiteValues {
  host: string;
  requireTwoFactor: boolean;
}

export type SiteSentences = Partial<Record<'host', string>>;

export const NO_SITE_VALUES: SiteValues = { host: '', requireTwoFactor: false };

/** What each form of the page shows: as typed and its problems after a refusal, empty otherwise. */
export interface ApplicationsForms {
  application: { values: ApplicationValues; problems: ApplicationSentences };
  site: { values: SiteValues; problems: SiteSentences };
}

export const EMPTY_FORMS: ApplicationsForms = {
  application: { values: NO_APPLICATION_VALUES, problems: {} },
  site: { values: NO_SITE_VALUES, problems: {} },
};

function addresses(uris: readonly string[]): Html | string {
  if (uris.length === 0) return 'None';
  return html`<ul class="plain">
    ${uris.map((uri) => html`<li><code>${uri}</code></li>`)}
  </ul>`;
}

function applicationRow(application: Application, when: When): Html {
  return html`<tr>
    <td data-label="Application">
      <strong>${application.name}</strong><br /><code>${application.id}</code><br />ID tokens:
      ${application.idTokenSigningAlg}
    </td>
    <td data-label="Redirect addresses">${addresses(application.redirectUris)}</td>
    <td data-label="After signing out">${addresses(application.postLogoutRedirectUris)}</td>
    <td data-label="Second factor">
      ${
        application.requirePhishingResistant
          ? 'A security key or passkey'
          : application.requireTwoFactor
            ? 'Required'
            : 'As the organisation requires'
      }
    </td>
    <td data-label="Secret">Set ${when(application.secretSetAt)}</td>
    <td data-label="Actions">
      <a href="/admin/applications/${application.id}/edit">Change</a><br />
      <a href="/admin/applications/${application.id}/rotate-secret">Replace secret</a><br />
      <a href="/admin/applications/${application.id}/delete">Delete</a>
    </td>
  </tr>`;
}

function siteRow(site: Site, when: When): Html {
  return html`<tr>
    <td data-label="Host name"><strong>${site.host}</strong></td>
    <td data-label="Second factor">${site.requireTwoFactor ? 'Required' : 'As the organisation requires'}</td>
    <td data-label="Added">${when(site.createdAt)}</td>
    <td data-label="Actions"><a href="/admin/applications/sites/${site.id}/delete">Delete</a></td>
  </tr>`;
}

function sitesSection(ctx: PageContext, sites: readonly Site[], form: ApplicationsForms['site'], when: When): Html {
  const { values, problems } = form;
  return html`<h2 id="sites">Protected sites</h2>
    <p>
      A site that cannot sign people in with OpenID Connect can be put behind a reverse proxy (nginx, Traefik or Caddy)
      that asks Twofold, at every request, whether the person may in. People sign in here first, with their second factor
      when the site or the organisation requires it, and only people of your organisation get in. The README shows how
      to set up the proxy.
    </p>
    ${
      sites.length === 0
        ? html`<p>No sites are protected yet.</p>`
        : html`<div class="table-scroll">
            <table class="sites">
              <caption>
                Protected sites
              </caption>
              <thead>
                <tr>
                  <th scope="col">Host name</th>
                  <th scope="col">Second factor</th>
                  <th scope="col">Added</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                ${sites.map((site) => siteRow(site, when))}
              </tbody>
            </table>
          </div>`
    }
    <h3 id="protect">Protect a site</h3>
    ${errorSummary(problems)}
    <form method="post" action="/admin/applications/sites" class="card">
      ${csrfField(ctx.csrfToken)}
      ${field({ label: 'Host name', name: 'host', value: values.host, error: problems.host, required: true, autocomplete: 'off', hint: 'As people type it in the address bar, such as wiki.example.com; add the port only if it is not 80 or 443, such as wiki.example.com:8443.' })}
      <label class="choice"
        ><input type="checkbox" name="requireTwoFactor" value="yes" ${values.requireTwoFactor ? html`checked` : ''} />
        Require two-factor authentication for this site</label
      >
      <p class="hint">
        People without a device link one before they are let in, even where the organisation does not require it yet.
      </p>
      <button type="submit">Protect this site</button>
    </form>`;
}

const SIGNATURES: readonly { alg: IdTokenSigningAlg; label: string }[] = [
  { alg: 'RS256', label: 'RS256, what every OpenID Connect client supports' },
  { alg: 'ES256', label: 'ES256, a shorter signature with an elliptic-curve key' },
];

function signatureChoice(selected: string, error: string | undefined): Html {
  const described = `field-idTokenSigningAlg-hint${error ? ' field-idTokenSigningAlg-error' : ''}`;
  return html`<fieldset class="field${error ? ' has-error' : ''}">
    <legend>ID token signature</legend>
    ${error ? html`<p class="error" id="field-idTokenSigningAlg-error">${error}</p>` : ''}
    <p class="hint" id="field-idTokenSigningAlg-hint">
      How Twofold signs the ID tokens it gives the application. Keep RS256 unless the application asks for ES256.
    </p>
    ${SIGNATURES.map(
      ({ alg, label }) =>
        html`<label class="choice"
          ><input
            type="radio"
            name="idTokenSigningAlg"
            value="${alg}"
            aria-describedby="${described}"
            ${selected === alg ? html`checked` : ''}
          />
          ${label}</label
        >`,
    )}
  </fieldset>`;
}

/** What an application's form asks, the same when it is registered and when it is changed. */
function applicationFields(values: ApplicationValues, problems: ApplicationSentences): Html {
  return html`${field({ label: 'Name', name: 'name', value: values.name, error: problems.name, required: true, autocomplete: 'off', hint: 'What people know it by, such as "Wiki".' })}
    ${field({ label: 'Redirect addresses', name: 'redirectUris', type: 'textarea', value: values.redirectUris, error: problems.redirectUris, autocomplete: 'off', hint: 'One per line, exactly as the application sends them, such as https://wiki.example.com/oidc/callback.' })}
    ${field({ label: 'Addresses after signing out (optional)', name: 'postLogoutRedirectUris', type: 'textarea', value: values.postLogoutRedirectUris, error: problems.postLogoutRedirectUris, autocomplete: 'off', hint: 'One per line: where the application may send people once they have signed out.' })}
    ${signatureChoice(values.idTokenSigningAlg, problems.idTokenSigningAlg)}
    <label class="choice"
      ><input type="checkbox" name="requireTwoFactor" value="yes" ${values.requireTwoFactor ? html`checked` : ''} />
      Require two-factor authentication for this application</label
    >
    <p class="hint">
      People without a device link one before they are sent back, even where the organisation does not require it yet.
    </p>
    <label class="choice"
      ><input
        type="checkbox"
        name="requirePhishingResistant"
        value="yes"
        ${values.requirePhishingResistant ? html`checked` : ''}
      />
      Require phishing-resistant sign-in for this application</label
    >
    <p class="hint">
      People sign in to it with a security key or passkey, whatever it asks for (its tokens say acr phr). Someone who
      signed in with a code confirms with their key; someone without a key cannot sign in to it until they add one.
    </p>`;
}

export function applicationsPage(
  ctx: PageContext,
  applications: readonly Application[],
  sites: readonly Site[],
  forms: ApplicationsForms,
  when: When,
): Html {
  const { values, problems } = forms.application;
  return html`<p>
      Applications of your organisation can sign people in through Twofold with OpenID Connect: people give their
      password and, when the organisation or the application requires it, their second factor here, and are sent back
      to the application.
    </p>
    ${
      applications.length === 0
        ? html`<p>No applications are registered yet.</p>`
        : html`<div class="table-scroll">
            <table class="applications">
              <caption>
                Registered applications
              </caption>
              <thead>
                <tr>
                  <th scope="col">Application</th>
                  <th scope="col">Redirect addresses</th>
                  <th scope="col">After signing out</th>
                  <th scope="col">Second factor</th>
                  <th scope="col">Secret</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                ${applications.map((application) => applicationRow(application, when))}
              </tbody>
            </table>
          </div>`
    }
    <h2 id="register">Register an application</h2>
    ${errorSummary(problems)}
    <form method="post" action="/admin/applications" class="card">
      ${csrfField(ctx.csrfToken)}
      ${applicationFields(values, problems)}
      <button type="submit">Register</button>
    </form>
    ${sitesSection(ctx, sites, forms.site, when)}`;
}

/** The form that changes a registered application, filled in with what it has, or as typed after a refusal. */
export function changeApplicationPage(
  ctx: PageContext,
  application: Application,
  form: ApplicationsForms['application'],
): Html {
  const { values, problems } = form;
  return html`<p>
      Its client_id, <code>${application.id}</code>, and its secret stay as they are: the application's configuration
      needs no change unless its addresses or its ID token signature do. The changes apply from the next sign-in to it.
    </p>
    ${errorSummary(problems)}
    <form method="post" action="/admin/applications/${application.id}/edit" class="card">
      ${csrfField(ctx.csrfToken)} ${applicationFields(values, problems)}
      <div class="actions">
        <button type="submit">Save changes</button>
        <a href="/admin/applications">Cancel</a>
      </div>
    </form>`;
}

/** The client_id and the secret, shown once after registering or replacing the secret. */
export function credentialsIssued(application: Application, clientSecret: string, replaced: boolean): Html {
  return html`<p>
      ${
        replaced
          ? html`<strong>${application.name}</strong> has a new secret. The old one no longer works: put this one in the
            application's configuration now.`
          : html`<strong>${application.name}</strong> is registered. Put these in the application's configuration.`
      }
    </p>
    <dl class="facts">
      <dt>client_id</dt>
      <dd class="secret link"><code>${application.id}</code></dd>
      <dt>client_secret</dt>
      <dd class="secret link"><code>${clientSecret}</code></dd>
    </dl>
    <p>
      The secret will not be shown again: Twofold keeps only a fingerprint of it. If it is lost, replace it from the
      Applications page.
    </p>
    <p><a href="/admin/applications">Back to Applications</a></p>`;
}

export function rotateConfirmation(ctx: PageContext, application: Application): Html {
  return html`<p>
      Replace the secret of <strong>${application.name}</strong>? The current secret stops working at once: the
      application cannot sign anyone in until it has the new one.
    </p>
    <form method="post" action="/admin/applications/${application.id}/rotate-secret" class="actions">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Replace the secret</button>
      <a href="/admin/applications">Cancel</a>
    </form>`;
}

export function deleteConfirmation(ctx: PageContext, application: Application): Html {
  return html`<p>
      Delete <strong>${application.name}</strong>? Nobody can sign in to it through Twofold any more. Registering it again
      gives it a new client_id and secret.
    </p>
    <form method="post" action="/admin/applications/${application.id}/delete" class="actions">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Delete ${application.name}</button>
      <a href="/admin/applications">Cancel</a>
    </form>`;
}

export function deleteSiteConfirmation(ctx: PageContext, site: Site): Html {
  return html`<p>
      Delete <strong>${site.host}</strong>? The proxy in front of it then lets nobody in, since Twofold no longer knows the
      site, until it is registered again.
    </p>
    <form method="post" action="/admin/applications/sites/${site.id}/delete" class="actions">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Delete ${site.host}</button>
      <a href="/admin/applications">Cancel</a>
    </form>`;
}
