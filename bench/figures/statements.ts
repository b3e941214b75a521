// 3 and 9: SQL statements per complete login and per forward-auth check of a signed-in
// person; with, for the record, those of one OpenID Connect sign-in.
import { countStatements, type StatementCount } from '../phases/statements.js';
import { judged } from '../report.js';
import { say, type Run } from '../settings.js';
import { round } from '../stats.js';

const isControl = (sql: string) => /^\s*(begin|commit|rollback)\b/i.test(sql);

/** "step n, step n; of them c BEGIN/COMMIT, d reading or writing data" */
function describe(count: StatementCount): string {
  const steps = Object.entries(count.perStep)
    .map(([step, n]) => `${step} ${n}`)
    .join(', ');
  const control = count.statements.filter(({ sql }) => isControl(sql)).length;
  return `${steps}; of them ${control} BEGIN/COMMIT, ${count.total - control} reading or writing data`;
}

export async function measureStatements(run: Run): Promise<void> {
  say(
    '\n[3, 9] SQL statements per complete login, per forward-auth check and per OpenID Connect sign-in (in-process, counted by Kysely)',
  );
  const counts = await countStatements(run.dir);
  run.raw.statements = counts;
  const login = describe(counts.login);
  run.rows.push(judged('SQL statements per complete login', counts.login.total, '', { atMost: 8 }, login));
  say(`    login: ${counts.login.total}: ${login}`);

  const later = counts.forwardAuthLater;
  const perCheck = round(later.total / later.checks, 2);
  const reads = [...new Set(later.statements.map(({ sql }) => sql.replace(/\s+/g, ' ').slice(0, 60)))];
  const forwardAuth = `${later.total} in ${later.checks} checks (${reads.join(' | ')}); the first check ${counts.forwardAuthFirst.total}, the site's read included`;
  run.rows.push(
    judged('SQL statements per forward-auth check of a signed-in person', perCheck, '', { atMost: 1 }, forwardAuth),
  );
  say(`    forward-auth check: ${perCheck}: ${forwardAuth}`);
  say(`    OpenID Connect sign-in: ${counts.oidcSignIn.total}: ${describe(counts.oidcSignIn)}`);
  say(`    login with a security key: ${counts.keyLogin.total}: ${describe(counts.keyLogin)}`);
  say(`    login with a recovery code: ${counts.recoveryCodeLogin.total}: ${describe(counts.recoveryCodeLogin)}`);
}
