import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePathState, pathStateCommand, type PathState } from '../../../src/facts/path-state.ts';
import { PATH_STATE_CASES, fromStored, machineFields, type StoredPathState } from '../../fixtures/facts/path-state/cases.ts';
import { SHELL_NAMES, localShell } from '../../fixtures/facts/path-state/shells.ts';

// Re-runs the command on this machine, so the fixtures cannot silently drift from what it prints.
const dir = fileURLToPath(new URL('../../fixtures/facts/path-state/', import.meta.url));
const fixture = (name: string) => fromStored((JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as { state: StoredPathState }).state);

/** The state without what depends on the machine. */
function portable(s: PathState): Partial<PathState> {
  const drop = new Set<string>(machineFields(s));
  return Object.fromEntries(Object.entries(s).filter(([k]) => !drop.has(k)));
}

for (const name of SHELL_NAMES) {
  test(`${name}: every case parses like its fixture`, (t) => {
    const shell = localShell(name);
    try {
      for (const c of PATH_STATE_CASES) {
        const base = mkdtempSync(join(tmpdir(), `cairn-path-state-${c.name}-`));
        try {
          const r = shell.run(pathStateCommand(c.make(base), c.options).text);
          t.is(r.exitCode, 0, `${c.name}: ${r.stderr}`);
          t.is(r.stderr, '', c.name);
          const live = parsePathState(r.stdout);
          const want = fixture(c.name);
          t.deepEqual(Object.keys(live).sort(), Object.keys(want).sort(), `${c.name}: the same fields`);
          t.deepEqual(portable(live), portable(want), c.name);
        } finally {
          rmSync(base, { recursive: true, force: true });
        }
      }
    } finally {
      shell.dispose();
    }
  });
}
