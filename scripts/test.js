// `npm test`: typecheck and compile the tests, build dist/, then the suites on SQLite (unit, integration, and end-to-end in
// Chromium when one is found; the forward-auth test behind nginx when /usr/sbin/nginx is there), then the integration
// and end-to-end suites again on PostgreSQL when TWOFOLD_TEST_POSTGRES_URL is set. Says plainly what it skips, prints
// each pass's outcome and the combined one, and fails if any pass failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/** The compiled test files of test/<dir>, found from their sources. */
function testFiles(dir) {
  const source = join('test', dir);
  if (!existsSync(source)) return [];
  return readdirSync(source, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(TEST_BUILD, 'test', dir, f.replace(/\.ts$/, '.js')));
}

/** Page rendering checks that give the same answer on every database. */
const isDatabaseBlind = (file) => /(^|[\\/])accessibility\.test\.js$/.test(file);

/** The PostgreSQL-only suites (test/integration/postgres-*.test.ts) run in the PostgreSQL pass. */
const isPostgresOnly = (file) => /(^|[\\/])postgres-[^\\/]*\.test\.js$/.test(file);

/** The URL without its password, for messages. */
function redacted(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs node's test runner, passing its output through, and reads the counts it ends with. */
function runTests(files, env) {
  const args = ['--test', '--test-concurrency=2'];
  if (process.stdout.isTTY) args.push('--test-reporter=spec');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args, ...files], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-8192);
    });
    child.on('close', (code, signal) => {
      const plain = tail.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
      const counts = {};
      for (const match of plain.matchAll(/^[#ℹ] (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
        counts[match[1]] = Number(match[2]);
      }
      resolve({ status: code ?? (signal ? 1 : 0), counts });
    });
  });
}

function describeCounts(counts) {
  if (counts.tests === undefined) return 'no test counts reported';
  const parts = [`${counts.tests} tests`, `${counts.pass ?? 0} passed`, `${counts.fail ?? 0} failed`];
  if (counts.cancelled) parts.push(`${counts.cancelled} cancelled`);
  if (counts.skipped) parts.push(`${counts.skipped} skipped`);
  if (counts.todo) parts.push(`${counts.todo} todo`);
  return parts.join(', ');
}

/** Fails fast, with the reason, when the configured server does not answer. */
async function checkPostgres(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops the schemas this run's tests made and did not drop (a crashed or cancelled test). */
async function dropLeftoverSchemas(url, runId) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const { rows } = await client.query(
      `select nspname from pg_namespace where nspname like 'twofold\\_test\\_' || $1 || '\\_%'`,
      [runId],
    );
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
    return rows.length;
  } catch (error) {
    console.log(`Could not drop this run's leftover test schemas: ${error instanceof Error ? error.message : error}`);
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}

const candidates = [
  process.env.TWOFOLD_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];
const chromium = candidates.find((path) => path && existsSync(path));
const postgresUrl = process.env.TWOFOLD_TEST_POSTGRES_URL || '';

const skipped = [];
if (!chromium) {
  skipped.push(
    'SKIPPED: the end-to-end browser tests (test/e2e): no Chromium found. Install it (apt-get install chromium) or set TWOFOLD_CHROMIUM.',
  );
}
if (!existsSync('/usr/sbin/nginx')) {
  skipped.push(
    'SKIPPED: forward auth behind a real nginx (test/integration/forward-auth-nginx.test.ts): /usr/sbin/nginx is not installed (apt-get install nginx).',
  );
}
if (!postgresUrl) {
  skipped.push(
    'SKIPPED: PostgreSQL runs: TWOFOLD_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test).',
  );
}
for (const line of skipped) console.log(line);

// The tests run compiled, with plain Node: through tsx's loader each test file spent about
// 1.5 s of CPU importing the sources, half of a short file's time. One tsc run typechecks
// everything (what `npm run typecheck` checks) and writes src/ and test/ into .test-build/,
// where links to what the code reads beside it (public/, bin/, SECURITY.md, the fixtures,
// test-results/) keep its relative paths working.
const TEST_BUILD = '.test-build';
console.log(`Typechecking and compiling the tests into ${TEST_BUILD}/...`);
rmSync(TEST_BUILD, { recursive: true, force: true });
if (
  spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json'], { stdio: 'inherit' })
    .status !== 0
) {
  console.log('FAILED: typecheck.');
  process.exit(1);
}
mkdirSync('test-results', { recursive: true });
for (const [link, target] of [
  ['public', '../public'],
  ['bin', '../bin'],
  ['SECURITY.md', '../SECURITY.md'],
  ['test-results', '../test-results'],
  ['test/fixtures', '../../test/fixtures'],
]) {
  symlinkSync(target, join(TEST_BUILD, link));
}
// The servers the tests start run what `npm start` runs: the compiled dist/.
console.log('Building dist/...');
if (spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' }).status !== 0) {
  console.log('FAILED: build.');
  process.exit(1);
}

const unit = testFiles('unit');
const integration = testFiles('integration');
const e2e = chromium ? testFiles('e2e') : [];
const baseEnv = { ...process.env, TWOFOLD_CHROMIUM: chromium ?? '' };

const passes = [
  {
    name: 'SQLite',
    // Without a PostgreSQL pass the PostgreSQL-only files run here, to say they are skipped.
    files: [...unit, ...integration.filter((f) => !postgresUrl || !isPostgresOnly(f)), ...e2e],
    env: { ...baseEnv, TWOFOLD_TEST_DATABASE: 'sqlite' },
  },
];
const runId = `r${process.pid}${Date.now().toString(36)}`;
if (postgresUrl) {
  passes.push({
    name: 'PostgreSQL',
    // The unit tests touch no database, nor does the accessibility and layout walk look at
    // anything the database changes: they ran in the SQLite pass.
    files: [...integration, ...e2e.filter((f) => !isDatabaseBlind(f))],
    env: { ...baseEnv, TWOFOLD_TEST_DATABASE: 'postgres', TWOFOLD_TEST_RUN_ID: runId },
  });
}

const outcomes = [];
for (const pass of passes) {
  const suites = pass.name === 'SQLite' ? 'unit, integration' : 'integration';
  console.log(
    `\n=== ${pass.name} pass: ${suites}${e2e.length > 0 ? ', end-to-end' : ''} (${pass.files.length} files) ===`,
  );
  const started = Date.now();
  if (pass.name === 'PostgreSQL') {
    const problem = await checkPostgres(postgresUrl);
    if (problem !== null) {
      const line = `PostgreSQL at ${redacted(postgresUrl)} does not answer: ${problem}`;
      console.log(line);
      outcomes.push({ name: pass.name, ok: false, detail: line, ms: Date.now() - started });
      continue;
    }
  }
  const { status, counts } = await runTests(pass.files, pass.env);
  let detail = describeCounts(counts);
  if (pass.name === 'PostgreSQL') {
    const leftovers = await dropLeftoverSchemas(postgresUrl, runId);
    if (leftovers > 0) detail += `; dropped ${leftovers} test schema(s) left behind`;
  }
  const ms = Date.now() - started;
  outcomes.push({ name: pass.name, ok: status === 0, detail, ms });
  console.log(`=== ${pass.name} pass ${status === 0 ? 'PASSED' : 'FAILED'}: ${detail}, in ${seconds(ms)} ===`);
}

console.log('\nSummary:');
for (const { name, ok, detail, ms } of outcomes) {
  console.log(`  ${ok ? 'PASSED' : 'FAILED'}  ${name.padEnd(10)} ${detail}, in ${seconds(ms)}`);
}
for (const line of skipped) console.log(`  ${line}`);
const failed = outcomes.filter((o) => !o.ok).map((o) => o.name);
console.log(failed.length === 0 ? 'All passes PASSED.' : `FAILED: ${failed.join(' and ')}.`);
process.exit(failed.length === 0 ? 0 : 1);
