// What a reverse proxy may show the person from Twofold's answer to its check (Traefik and
// Caddy pass a refusal's page on; nginx shows its own). The page is shown at the site's
// address, not Twofold's: it stands alone, with no stylesheet, form or relative link.
import { html } from './html.js';

export function refusalAtSite(title: string, sentence: string, twofoldUrl: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Twofold</title>
      </head>
      <body>
        <main>
          <h1>${title}</h1>
          <p>${sentence}</p>
          <p><a href="${twofoldUrl}/account">Go to your Twofold account</a></p>
        </main>
      </body>
    </html>`.text;
}
