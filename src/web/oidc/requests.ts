// What Twofold hands the OpenID Connect provider with each request, and where its routes
// live: apart from the provider itself, which is loaded on the first request that needs it
// (oidc-provider and what it brings hold about 30 MiB, for an instance that may never serve
// an application).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SignedInPerson } from '../../services/application-sign-in.js';

/** What the request being handed to the provider brings from Twofold. */
export interface ProviderRequest {
  /** Who is signed in to Twofold in the browser that sent the request, if anyone. */
  person: SignedInPerson | null;
  /** Set when the person asked an application's logout to sign them out of Twofold too. */
  signOutOfTwofold: boolean;
  /** Audit writes the provider's events asked for, awaited before the request ends. */
  pending: Promise<void>[];
  client: { ip: string; userAgent: string };
  /** The Set-Cookie header that ends the Twofold session in the browser. */
  clearTwofoldSession: string;
  /**
   * For a browser not signed in to Twofold at any stage: the Set-Cookie headers that send
   * it to the sign-in page saying it is for `applicationName`, and bring it back to the
   * interaction `uid` once signed in (or, from the code step, straight on to the
   * application at `redirectUri`, as validated by the provider). Null when someone is
   * signed in, or part way.
   */
  signInFirst: ((uid: string, applicationName: string, redirectUri: string) => string[]) | null;
}

export const providerRequests = new AsyncLocalStorage<ProviderRequest>();

/** Where the provider's routes live, under the public address. */
export const OIDC_PREFIX = '/oidc';
