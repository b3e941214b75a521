// Password hashing with argon2id (OWASP's m=19456 KiB, t=2, p=1). @node-rs/argon2 runs the
// hash on libuv's thread pool, off the event loop.
import { availableParallelism } from 'node:os';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

// Algorithm is an ambient const enum, which verbatimModuleSyntax cannot read: 2 is Argon2id.
const PARAMETERS = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * Runs `work` once fewer than `limit` earlier calls are still running; calls wait their
 * turn in order.
 */
export function atMostAtOnce(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}

/**
 * No more hashes at once than cores. Each holds 19 MiB while it runs, and more of them
 * than cores run no faster: they only take memory, and the thread pool's other threads,
 * from everything else.
 */
const hashing = atMostAtOnce(availableParallelism());

export function hashPassword(password: string): Promise<string> {
  return hashing(() => hash(password, PARAMETERS));
}

// Verified against when the email is unknown, so that both answers take the same time.
let decoyHash: Promise<string> | null = null;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (storedHash === null) {
    decoyHash ??= hashPassword('twofold decoy password, never matches');
    const decoy = await decoyHash;
    await hashing(() => verify(decoy, password)).catch(() => false);
    return false;
  }
  return hashing(() => verify(storedHash, password)).catch(() => false);
}

export type PasswordProblem = 'password_too_short' | 'password_too_long' | 'password_mismatch';

export function passwordProblem(password: string, confirmation: string): PasswordProblem | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return 'password_too_short';
  if ([...password].length > PASSWORD_MAX_LENGTH) return 'password_too_long';
  if (password !== confirmation) return 'password_mismatch';
  return null;
}
