// The floor the code step is compared with: a bare Fastify route that parses the same
// form post, does one indexed SELECT and one UPDATE on the same SQLite file with the same
// settings as Twofold (WAL, synchronous NORMAL), and redirects. Started by bench/run.ts.
import formbody from '@fastify/formbody';
import SQLite from 'better-sqlite3';
import Fastify from 'fastify';

const path = process.env.BENCH_DATABASE;
if (path === undefined) throw new Error('BENCH_DATABASE must name the SQLite file');

const sqlite = new SQLite(path);
sqlite.pragma('journal_mode = WAL');
sqlite.pragma('synchronous = NORMAL');
sqlite.pragma('foreign_keys = ON');
sqlite.pragma('busy_timeout = 5000');
const select = sqlite.prepare<[string], { id: string; last_used_step: number | null }>(
  'select id, last_used_step from devices where id = ?',
);
const update = sqlite.prepare<[string, string]>('update devices set last_used_at = ? where id = ?');

const app = Fastify({ logger: false });
await app.register(formbody);
app.get('/healthz', async () => ({ status: 'ok' }));
app.post<{ Body: { device?: string } }>('/baseline', async (request, reply) => {
  const id = request.body.device ?? '';
  const row = select.get(id);
  if (row === undefined) return reply.code(404).send('no such device');
  update.run(new Date().toISOString(), id);
  return reply.redirect('/account', 303);
});

const close = () => {
  void app.close().then(() => sqlite.close());
};
process.once('SIGTERM', close);
process.once('SIGINT', close);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
