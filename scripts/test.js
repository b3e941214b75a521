// `npm test`: typecheck, then the unit and integration suites, then the end-to-end
// suite in Chromium when one is found. Says plainly what it skips.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  return result.status ?? 1;
}

const candidates = [
  process.env.TWOFOLD_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];
const chromium = candidates.find((path) => path && existsSync(path));

const files = [...testFiles('test/unit'), ...testFiles('test/integration')];
if (chromium) files.push(...testFiles('test/e2e'));
else
  console.log(
    'SKIPPED: the end-to-end browser tests (test/e2e): no Chromium found. Install it (apt-get install chromium) or set TWOFOLD_CHROMIUM.',
  );

console.log('Typechecking...');
if (run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']) !== 0) process.exit(1);

const status = run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  ...process.env,
  TWOFOLD_CHROMIUM: chromium ?? '',
});
if (!chromium) console.log('SKIPPED: the end-to-end browser tests: no Chromium found.');
process.exit(status);
