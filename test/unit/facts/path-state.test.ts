import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePathState, pathStateCommand, type PathState } from '../../../src/facts/path-state.ts';
import { PATH_STATE_CASES, fromStored, type StoredPathState } from '../../fixtures/facts/path-state/cases.ts';
import { SHELL_NAMES } from '../../fixtures/facts/path-state/shells.ts';

// Captured real output (test/fixtures/facts/path-state/capture.ts) paired with the checked parse.
const dir = fileURLToPath(new URL('../../fixtures/facts/path-state/', import.meta.url));
const stored = (name: string) => JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as { options: unknown; state: StoredPathState };

/** The fields of `actual` that `want` names. */
function pick(actual: PathState, want: PathState): Partial<PathState> {
  return Object.fromEntries(Object.keys(want).map((k) => [k, actual[k as keyof PathState]]));
}

test('command: the path is one quoted word, sections follow the options, always exit 0', (t) => {
  const full = pathStateCommand("/etc/it's here", { contentMax: 1024 }).text;
  t.true(full.startsWith(`p='/etc/it'\\''s here'\n`));
  for (const s of ['state', 'target', 'sha256', 'content']) t.true(full.includes(`@@cairn:${s}\n`), s);
  t.true(full.includes('-le 1024 ]'));
  t.true(full.endsWith('\nexit 0'));
  const plain = pathStateCommand('/x').text;
  t.true(plain.includes('@@cairn:sha256'));
  t.false(plain.includes('@@cairn:content'));
  const noHash = pathStateCommand('/x', { hash: false, contentMax: 8 }).text;
  t.false(noHash.includes('@@cairn:sha256'));
  t.true(noHash.includes('@@cairn:content'));
});

test('parse: output without a type is refused, naming what it got', (t) => {
  t.throws(() => parsePathState(''), { message: 'unreadable probe output (no type): ""' });
  t.throws(() => parsePathState('\n@@cairn:state\ntype=socket\n'), { message: /no type/ });
});

test('parse: a login banner before the sections and CRLF line ends are ignored', (t) => {
  const out = 'Welcome to pi!\r\n\r\n@@cairn:state\r\ntype=file\r\nstat=644 0 0 root root 6\r\n\r\n@@cairn:sha256\r\nabc\r\n';
  t.deepEqual(parsePathState(out), { type: 'file', mode: 0o644, uid: 0, gid: 0, user: 'root', group: 'root', size: 6, sha256: 'abc' });
});

test('there are fixtures for every case and shell', (t) => {
  for (const c of PATH_STATE_CASES) {
    t.true(existsSync(`${dir}${c.name}.json`), `${c.name}.json`);
    for (const shell of SHELL_NAMES) t.true(existsSync(`${dir}${c.name}.${shell}.txt`), `${c.name}.${shell}.txt`);
  }
});

for (const c of PATH_STATE_CASES) {
  for (const shell of SHELL_NAMES) {
    test(`fixture ${c.name} (${shell})`, (t) => {
      const { options, state } = stored(c.name);
      t.deepEqual(options, c.options, 'captured with the options of the case');
      const parsed = parsePathState(readFileSync(`${dir}${c.name}.${shell}.txt`, 'utf8'));
      t.deepEqual(parsed, fromStored(state));
      // spelled out in cases.ts, so a wrong regeneration of the json cannot hide it
      t.deepEqual(pick(parsed, c.expect), c.expect);
    });
  }
}
