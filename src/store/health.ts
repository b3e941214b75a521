// Whether the database answers, for the readiness check.
import { sql } from 'kysely';
import type { Db } from './db.js';

/**
 * True when a trivial query comes back within `timeoutMs`. A refused connection, a closed
 * pool and a database too slow to answer are all false; `onProblem` hears why.
 */
export async function databaseAnswers(
  db: Db,
  timeoutMs: number,
  onProblem: (problem: unknown) => void = () => {},
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const answered = sql`select 1`.execute(db).then(
    () => null,
    (error: unknown) => error,
  );
  try {
    const problem = await Promise.race([answered, timedOut]);
    if (problem === null) return true;
    onProblem(problem);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
