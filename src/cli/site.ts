// `twofold site ...`: the sites a reverse proxy protects with Twofold (forward auth). The
// options are checked here; the work, which needs the database, is loaded only then.
import { siteHostOf } from '../domain/sites.js';
import { message } from '../web/messages.js';
import { defineCommand, refused, type Command } from './command.js';

const org = { value: 'ORG', about: "The organisation's name or id.", required: true } as const;
const host = {
  value: 'HOST',
  about: 'The host name people open, such as wiki.example.com (with its port if not 80 or 443).',
  required: true,
} as const;

const add = defineCommand({
  path: 'site add',
  summary: 'Protect a site behind a reverse proxy with Twofold (forward auth).',
  options: {
    org,
    host,
    'require-2fa': { value: '', about: 'Everyone let in has given a second factor.', kind: 'flag' },
  },
  notes: [
    'A host name is registered once in the whole instance. The proxy in front of the site\n' +
      'asks Twofold at /auth/nginx (nginx) or /auth/forward (Traefik, Caddy); see the README.',
  ],
  async run(options, io) {
    const checked = siteHostOf(options.host);
    if (!checked.ok) return refused(`--host: ${message(checked.problem)}`);
    const { addSiteFor } = await import('./sites.js');
    return addSiteFor(io, options.org, { host: options.host, requireTwoFactor: options['require-2fa'] });
  },
});

const list = defineCommand({
  path: 'site list',
  summary: "List an organisation's protected sites.",
  options: { org },
  async run(options, io) {
    const { listSitesOf } = await import('./sites.js');
    return listSitesOf(io, options.org);
  },
});

const remove = defineCommand({
  path: 'site delete',
  summary: 'Stop protecting a site: the proxy in front of it then lets nobody in.',
  options: { org, host },
  async run(options, io) {
    const { deleteSiteOf } = await import('./sites.js');
    return deleteSiteOf(io, options.org, options.host);
  },
});

export const siteCommands: { summary: string; commands: Command[] } = {
  summary: 'Manage the sites a reverse proxy protects with Twofold (forward auth).',
  commands: [add, list, remove],
};
