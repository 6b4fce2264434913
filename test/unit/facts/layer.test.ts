import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Facts are a lower layer than operations: they build commands (shell/) and parse, nothing more.
const dir = fileURLToPath(new URL('../../../src/facts/', import.meta.url));

test('src/facts imports only itself and src/shell', (t) => {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(`${dir}${f}`, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gms)) {
      const from = m[1] ?? '';
      t.true(from.startsWith('./') || from.startsWith('../shell/') || from.startsWith('node:'), `${f} imports ${from}: facts must not depend on operations or the engine`);
    }
  }
});
