import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { InvalidInputError, type InputProblem } from '../../../src/core/errors.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { checkTemplate, renderTemplate } from '../../../src/render/template.ts';

/** Every bad inventory and template in test/fixtures/bad, with what it must report. */
interface Expectation {
  line: number;
  message: string;
  fix?: string;
  knownRoles?: string[];
  context?: Record<string, unknown>;
}

const dir = fileURLToPath(new URL('../../fixtures/bad/', import.meta.url));
const fixtures = readdirSync(dir).filter((f) => /\.(yml|hbs)$/.test(f)).sort();

function inventoryProblems(file: string, expect: Expectation): InputProblem[] {
  try {
    loadInventory(file, expect.knownRoles ? { knownRoles: new Set(expect.knownRoles) } : {});
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems;
    throw err;
  }
  return [];
}

test('the corpus has at least 12 bad inventories and templates', (t) => {
  t.true(fixtures.length >= 12);
  t.true(fixtures.some((f) => f.endsWith('.hbs')));
});

for (const name of fixtures) {
  test(`bad/${name}`, (t) => {
    const file = join(dir, name);
    const expect = JSON.parse(readFileSync(file.replace(/\.(yml|hbs)$/, '.expect.json'), 'utf8')) as Expectation;
    const problems = name.endsWith('.hbs') ? checkTemplate(file, expect.context ?? {}) : inventoryProblems(file, expect);
    t.is(problems.length, 1, `one concern per fixture, got:\n${problems.map((p) => `${p.location.line}: ${p.message}`).join('\n')}`);
    const [p] = problems;
    t.is(p!.location.file, file);
    t.is(p!.location.line, expect.line, p!.message);
    t.true(p!.message.includes(expect.message), `message: ${p!.message}`);
    if (expect.fix) t.true(p!.fix?.includes(expect.fix), `fix: ${p!.fix}`);
    t.truthy(p!.fix, 'every problem says what to do');
    if (name.endsWith('.hbs')) {
      // rendering reports the same first problem
      const err = t.throws(() => renderTemplate(file, expect.context ?? {}), { instanceOf: InvalidInputError });
      t.is(err!.problems[0]!.location.line, expect.line);
    }
  });
}
