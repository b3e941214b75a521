// 3: SQL statements per complete login.
import { statementsPerLogin } from '../phases/statements.js';
import { judged } from '../report.js';
import { say, type Run } from '../settings.js';

export async function measureStatements(run: Run): Promise<void> {
  say('\n[3] SQL statements per complete login (in-process, counted by Kysely)');
  const statements = await statementsPerLogin(run.dir);
  run.raw.statements = statements;
  const steps = Object.entries(statements.perStep)
    .map(([step, n]) => `${step} ${n}`)
    .join(', ');
  const control = statements.statements.filter(({ sql }) => /^\s*(begin|commit|rollback)\b/i.test(sql)).length;
  const detail = `${steps}; of them ${control} BEGIN/COMMIT, ${statements.total - control} reading or writing data`;
  run.rows.push(judged('SQL statements per complete login', statements.total, '', { atMost: 8 }, detail));
  say(`    ${statements.total}: ${detail}`);
}
