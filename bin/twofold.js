#!/usr/bin/env node
// The `twofold` command. Runs the compiled dist/ (`npm run build`) while it is up to date
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

const builtAt = modifiedAt(new URL('dist/BUILT', root));
if (builtAt !== null && builtAt >= newestSourceAt()) {
  await import(new URL('dist/cli/main.js', root).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/main.ts', root).href);
}
