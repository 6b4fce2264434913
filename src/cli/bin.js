#!/usr/bin/env node
// cairn's command: TypeScript sources and user roles run through tsx, no build step.
// `cairn --version` alone is answered here, before loading tsx and the engine
// (main.ts answers it too, with the same package.json).
const only = process.argv.slice(2);
if (only.length === 1 && (only[0] === '--version' || only[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  process.env.CAIRN_CLI_MAIN = '1';
  await import('./main.ts');
}
