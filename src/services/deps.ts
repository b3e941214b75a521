import type { RelyingParty } from '../domain/devices.js';
import type { SecretKeyring } from '../domain/secret-box.js';
import type { Db } from '../store/db.js';
import type { SecondFactorPath } from './second-factor.js';

export type Clock = () => Date;

/** What the services need from the outside world, passed down from the composition root. */
export interface Deps {
  db: Db;
  now: Clock;
  /** Seals with the current key; opens with it or a previous one, during a key rotation. */
  secretKey: SecretKeyring;
  sessionLimits: SessionLimits;
  /** Twofold's host name and origin, to which security keys and passkeys are bound. */
  relyingParty: RelyingParty;
  /** TWOFOLD_PUBLIC_URL: the links in emails are built from it. */
  publicUrl: string;
  /** Called once a commit has queued email, to wake the sender; without it the sender's poll finds it. */
  mailQueued?: () => void;
  /** Told what happened, for the metrics; without it nobody is told. */
  events?: ServiceEvents;
}

export interface SessionLimits {
  idleMinutes: number;
  absoluteHours: number;
  pendingMinutes: number;
}

/** How a step of signing in ended. */
export const LOGIN_OUTCOMES = [
  'signed_in',
  'refused_password',
  'refused_inactive',
  'refused_blocked',
  'throttled',
  'code_needed',
  'setup_needed',
  'completed_with_code',
  'completed_with_new_device',
] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/** What the services report as it happens; whoever listens (the metrics) decides what it means. */
export interface ServiceEvents {
  loginOutcome(outcome: LoginOutcome): void;
  /** A wrong (or expired) code, counted against the user. */
  codeFailure(path: SecondFactorPath): void;
  secondFactorLocked(): void;
}

const MINUTE_MS = 60_000;

export function addMinutes(date: Date, minutes: number): Date {
  return new Date(date.getTime() + minutes * MINUTE_MS);
}
