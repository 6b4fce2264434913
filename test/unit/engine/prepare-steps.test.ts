import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareRun } from '../../../src/engine/prepare.ts';
import { InvalidInputError } from '../../../src/core/errors.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

/** An inventory of two local hosts running role `r`, whose module body is `body`. */
function project(body: string): { inventory: string; roleFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-prepare-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'r'), { recursive: true });
  const roleFile = join(dir, 'roles', 'r', 'index.ts');
  writeFileSync(roleFile, `import { defineRole, file, line, restartService } from ${JSON.stringify(srcIndex)};\nexport default defineRole({ name: 'r', ${body} });\n`);
  writeFileSync(join(dir, 'inv.yml'), 'hosts:\n  a: { connection: local }\n  b: { connection: local }\ngroups:\n  g: { hosts: [a, b], roles: [r] }\n');
  return { inventory: join(dir, 'inv.yml'), roleFile };
}

async function problems(inventory: string): Promise<InvalidInputError> {
  try {
    await prepareRun({ inventory });
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('prepareRun did not throw');
}

test('two steps with one id: an input problem naming the role, the id and the role file, once', async (t) => {
  const { inventory, roleFile } = project(`steps: () => [
    file({ id: 'motd', path: '/etc/motd', content: 'a' }),
    line({ id: 'motd', path: '/etc/issue', line: 'b', create: true }),
    file({ id: 'other', path: '/etc/other', content: 'c' }),
  ]`);
  const err = await problems(inventory);
  t.deepEqual(err.problems, [
    {
      location: { file: roleFile },
      message: "role 'r' has two steps with id 'motd'",
      fix: 'give every step of the role its own id: it names the step in reports and --tags',
    },
  ]);
});

test('a misspelled param: an input problem with the suggestion, before any connection', async (t) => {
  const { inventory, roleFile } = project(`steps: () => [file({ id: 'motd', path: '/etc/motd', content: 'a', modee: '0600' })]`);
  const err = await problems(inventory);
  t.deepEqual(err.problems, [{ location: { file: roleFile }, message: "role 'r': file 'motd': unknown param `modee`; did you mean `mode`?" }]);
  t.is(err.message, `${roleFile}: role 'r': file 'motd': unknown param \`modee\`; did you mean \`mode\`?`);
});

test('a misspelled param in a step only some hosts build is found too', async (t) => {
  const { inventory } = project(`steps: (ctx) => ctx.facts.os.family === 'alpine' ? [file({ id: 'motd', path: '/etc/motd', content: 'a', ownr: 'root' })] : []`);
  const err = await problems(inventory);
  t.is(err.problems.length, 1);
  t.is(err.problems[0]?.message, "role 'r': file 'motd': unknown param `ownr`; did you mean `owner`?");
});

test('a misspelled param in a handler is found without a run notifying it', async (t) => {
  const { inventory } = project(`steps: () => [], handlers: () => ({ restart: [restartService({ id: 'restart', name: 'nomad', supervsior: 'openrc' })] })`);
  const err = await problems(inventory);
  t.is(err.problems[0]?.message, "role 'r': restartService 'restart': unknown param `supervsior`; did you mean `supervisor`?");
});

test('other step errors still count only when every stand-in host fails, at the role file', async (t) => {
  const some = project(`steps: (ctx) => { if (ctx.facts.os.family === 'alpine') throw new Error('not for alpine'); return []; }`);
  await t.notThrowsAsync(prepareRun({ inventory: some.inventory }));
  const all = project(`steps: () => [file({ id: 'motd', path: 'etc/motd', content: 'a' })]`);
  const err = await problems(all.inventory);
  t.is(err.problems[0]?.location.file, all.roleFile);
  t.regex(err.problems[0]?.message ?? '', /^role 'r' cannot build its steps for host 'a': file 'motd': param `path` /);
});

test('unique ids and known params prepare fine', async (t) => {
  const { inventory } = project(`steps: () => [file({ id: 'a', path: '/etc/a', content: 'a', mode: '0600' }), file({ id: 'b', path: '/etc/b', content: 'b' })]`);
  const prepared = await prepareRun({ inventory });
  t.is(prepared.jobs.length, 2);
});
