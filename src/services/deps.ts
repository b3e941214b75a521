import type { Db } from '../store/db.js';

export type Clock = () => Date;

/** What the services need from the outside world, passed down from the composition root. */
export interface Deps {
  db: Db;
  now: Clock;
  secretKey: Buffer;
  sessionLimits: SessionLimits;
}

export interface SessionLimits {
  idleMinutes: number;
  absoluteHours: number;
  pendingMinutes: number;
}

const MINUTE_MS = 60_000;

export function addMinutes(date: Date, minutes: number): Date {
  return new Date(date.getTime() + minutes * MINUTE_MS);
}
