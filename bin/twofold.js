#!/usr/bin/env node
// The `twofold` command: its main, called with this process's arguments, streams,
// environment and signals. Runs the compiled dist/ (`npm run build`) while it is up to date
// with src/, and otherwise the TypeScript sources themselves, through tsx.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);

function modifiedAt(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return null;
  }
}

function newestSourceAt() {
  const src = fileURLToPath(new URL('src/', root));
  let newest = 0;
  for (const file of readdirSync(src, { recursive: true })) {
    newest = Math.max(newest, statSync(`${src}/${file}`).mtimeMs);
  }
  return newest;
}

async function loadMain() {
  const builtAt = modifiedAt(new URL('dist/BUILT', root));
  if (builtAt !== null && builtAt >= newestSourceAt()) return import(new URL('dist/cli/main.js', root).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL('src/cli/main.ts', root).href);
}

const { main } = await loadMain();
process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
});
