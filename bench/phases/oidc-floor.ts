// The floor of an OpenID Connect sign-in: the protocol's requests alone, against
// bench/oidc-floor-server.ts (oidc-provider with nothing of Twofold's), by concurrent virtual
// users, each a fresh browser and the application's back end in one, with the same client as
// the sign-ins: the authorization request (PKCE S256, state, nonce), the interaction (which
// signs in at once), the provider's redirect to the application with a code, and the token
// request (client_secret_basic). Every answer checked.
import type { Client } from '../http.js';
import { inParallel } from '../stats.js';
import {
  authorizationRequestOf,
  check,
  codeOf,
  idTokenClaimsOf,
  pathOf,
  tokenRequestOf,
  type BenchApplication,
} from './oidc.js';

export interface FloorRound {
  completed: number;
  /** Sign-ins completed at any time in the round, warm-up and drain included: for CPU per sign-in. */
  allCompleted: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
}

export interface FloorLoadOptions {
  concurrency: number;
  warmUpMs: number;
  seconds: number;
}

/** One sign-in to `application` on the floor server, as a fresh browser: authorize, interaction, resume, token. */
export async function floorSignIn(client: Client, application: BenchApplication): Promise<void> {
  const browser = client.browser();
  const request = authorizationRequestOf(application);
  const authorize = check('authorize', await browser.get(`/auth?${request.query}`), 303, /\/interaction\//);
  const interaction = check('interaction', await browser.get(pathOf(authorize.location)), 303, /\/auth\//);
  const redirected = check('resume', await browser.get(pathOf(interaction.location)), 303);
  const token = tokenRequestOf(application, codeOf(redirected, application, request.state), request.verifier);
  const tokens = check('token', await client.send('POST', '/token', token.headers, token.form), 200);
  const claims = idTokenClaimsOf(tokens);
  if (claims.nonce !== request.nonce || claims.aud !== application.clientId) {
    throw new Error(`token: an ID token for the wrong sign-in: ${JSON.stringify(claims)}`);
  }
}

/**
 * Signs in until the window ends; counts the sign-ins that complete inside it (after
 * `warmUpMs`, when every virtual user is mid-sign-in).
 */
export async function floorRound(
  client: Client,
  application: BenchApplication,
  options: FloorLoadOptions,
): Promise<FloorRound> {
  const windowStart = performance.now() + options.warmUpMs;
  const windowEnd = windowStart + options.seconds * 1000;
  let completed = 0;
  let allCompleted = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  await inParallel(
    options.concurrency,
    () => performance.now() >= windowEnd,
    async () => {
      try {
        await floorSignIn(client, application);
        const done = performance.now();
        allCompleted += 1;
        if (done >= windowStart && done < windowEnd) completed += 1;
      } catch (error) {
        failures += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
      return true;
    },
  );
  return { completed, allCompleted, seconds: options.seconds, failures, firstFailure };
}
