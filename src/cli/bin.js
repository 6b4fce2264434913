#!/usr/bin/env node
// cairn's command. The installed package runs the compiled JavaScript of dist/
// (`npm run build`, run by `npm pack` through prepack): no TypeScript at start-up,
// tsx is loaded only when a user role written in TypeScript is. A git checkout
// (src/cli/main.ts beside this file) runs the TypeScript sources through tsx, no
// build step; a dist/ left there by `npm pack` is not used (it would be stale as
// soon as a source changes) unless CAIRN_DIST=1.
// `cairn --version` alone is answered here, before loading anything else
// (main answers it too, with the same package.json).
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// V8's memory-saving heap sizing (smaller young generation, heap grown in small steps,
// collected sooner): a 100-host first apply peaks about 60 MB lower for about 5% more
// wall time (`npm run bench`). Set before anything is loaded; `node --no-optimize-for-size
// bin.js` keeps V8's default (node refuses the flag in NODE_OPTIONS).
if (!process.execArgv.some((f) => /^--(no-)?optimize[-_]for[-_]size$/.test(f))) setFlagsFromString('--optimize-for-size');

const only = process.argv.slice(2);
if (only.length === 1 && (only[0] === '--version' || only[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  process.env.CAIRN_CLI_MAIN = '1';
  const checkout = existsSync(new URL('./main.ts', import.meta.url)) && process.env.CAIRN_DIST !== '1';
  if (!checkout) {
    if (!existsSync(new URL('../../dist/src/cli/main.js', import.meta.url))) {
      process.stderr.write('cairn: dist/ is missing: run `npm run build` in the package\n');
      process.exit(70);
    }
    await import('../../dist/src/cli/main.js');
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    // Roles import the package by name ('cairn-provision'): in a checkout that name
    // resolves to the sources (the "cairn-source" condition of package.json "exports").
    const { register: registerHooks } = await import('node:module');
    const hook = 'export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "cairn-source"] }); }';
    registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
    await import('./main.ts');
  }
}
