#!/usr/bin/env node
// The `twofold` command. The sources are TypeScript, run through tsx without a build step.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
