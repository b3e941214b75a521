// When a session has ended: the one rule, read by the access guard (for the session
// presented), by the sessions page (which of a person's sessions still go on) and by the
// housekeeping that deletes ended ones. The store writes the same rule in SQL from the
// cut-offs below (store/sessions.ts, hasEndedIn), and a test holds the two together.

export interface SessionTimes {
  /** Only a signed-in session ends for being idle; a sign-in half done ends at its expiry. */
  stage: string;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** The moments that decide it at `now`: expiry passed, or signed in and unused since the idle cut-off. */
export interface SessionCutOffs {
  now: Date;
  /** A signed-in session last seen at or before this has ended for being idle. */
  idleSince: Date;
}

export function sessionCutOffsAt(now: Date, idleMinutes: number): SessionCutOffs {
  return { now, idleSince: new Date(now.getTime() - idleMinutes * 60_000) };
}

export function hasSessionEnded(session: SessionTimes, { now, idleSince }: SessionCutOffs): boolean {
  return (
    session.expiresAt.getTime() <= now.getTime() ||
    (session.stage === 'signed_in' && session.lastSeenAt.getTime() <= idleSince.getTime())
  );
}
