import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, type InputProblem } from '../../../src/core/errors.ts';
import { loadInventory } from '../../../src/inventory/load.ts';

/** Every bad Ansible inventory in test/fixtures/inventory/ansible/bad, with all the problems it must report. */
interface Expectation {
  /** The file the problems are in, relative to the fixture folder (default: the inventory). */
  file?: string;
  knownRoles?: string[];
  problems: { line: number; message: string; fix?: string }[];
}

const dir = fileURLToPath(new URL('../../fixtures/inventory/ansible/bad/', import.meta.url));
const fixtures = readdirSync(dir).filter((f) => /\.(ini|yml)$/.test(f) && !f.endsWith('.cairn.yml')).sort();

function problemsOf(file: string, knownRoles?: string[]): InputProblem[] {
  try {
    loadInventory(file, knownRoles ? { knownRoles: new Set(knownRoles) } : {});
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems;
    throw err;
  }
  return [];
}

test('the Ansible corpus covers INI and YAML', (t) => {
  t.true(fixtures.some((f) => f.endsWith('.ini')));
  t.true(fixtures.some((f) => f.endsWith('.yml')));
});

for (const name of fixtures) {
  test(`ansible/bad/${name}`, (t) => {
    const file = join(dir, name);
    const expect = JSON.parse(readFileSync(file.replace(/\.(ini|yml)$/, '.expect.json'), 'utf8')) as Expectation;
    const problems = problemsOf(file, expect.knownRoles);
    const shown = problems.map((p) => `${p.location.line}: ${p.message}`).join('\n');
    t.is(problems.length, expect.problems.length, `all problems at once, got:\n${shown}`);
    expect.problems.forEach((want, i) => {
      const p = problems[i]!;
      t.is(p.location.file, expect.file ? join(dir, expect.file) : file);
      t.is(p.location.line, want.line, p.message);
      t.true(p.message.includes(want.message), `message: ${p.message}`);
      if (want.fix) t.true(p.fix?.includes(want.fix), `fix: ${p.fix}`);
      t.truthy(p.fix, 'every problem says what to do');
    });
  });
}
