import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initProject, SCHEMA_IN_PROJECT } from '../../../src/cli/init.ts';
import { main } from '../../../src/cli/main.ts';
import { CAIRN_PACKAGE } from '../../../src/core/package-root.ts';
import { cairnVersion } from '../../../src/cli/version.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), isTTY: false }, out, err };
}

test('cairn init DIR writes a project: package.json, inventory with the schema line, a role, .gitignore, known_hosts', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'cairn-init-')), 'fleet');
  const c = capture();
  t.is(await main(['init', dir], c.io), 0);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  t.is(pkg.type, 'module');
  t.is(pkg.name, 'fleet');
  t.is(pkg.devDependencies[CAIRN_PACKAGE], `^${cairnVersion()}`);
  const inventory = readFileSync(join(dir, 'inventory.yml'), 'utf8');
  t.is(inventory.split('\n')[0], `# yaml-language-server: $schema=${SCHEMA_IN_PROJECT}`);
  t.is(SCHEMA_IN_PROJECT, `./node_modules/${CAIRN_PACKAGE}/docs/inventory.schema.json`);
  t.true(existsSync(join(repo, 'docs/inventory.schema.json')), 'the schema the line points at is in the package');
  t.regex(readFileSync(join(dir, 'roles/hello/index.ts'), 'utf8'), new RegExp(`from '${CAIRN_PACKAGE}'`));
  t.is(readFileSync(join(dir, 'known_hosts'), 'utf8'), '');
  t.regex(readFileSync(join(dir, '.gitignore'), 'utf8'), /^node_modules\/$/m);
  t.regex(c.out.join('\n'), /npm install/);

  // the project is valid as written: with the package installed, its role loads and its steps build
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repo, join(dir, 'node_modules', CAIRN_PACKAGE));
  const list = capture();
  t.is(await main(['check', '-i', join(dir, 'inventory.yml'), '--list-tags'], list.io), 0, list.err.join('\n'));
  t.deepEqual(list.out.join('\n').split('\n'), ['hello', 'hello/motd']);
});

test('cairn init refuses to overwrite, names the files, and writes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-init-'));
  writeFileSync(join(dir, 'package.json'), '{"name": "mine"}\n');
  mkdirSync(join(dir, 'roles', 'hello'), { recursive: true });
  writeFileSync(join(dir, 'roles', 'hello', 'index.ts'), '// mine\n');
  t.throws(() => initProject(dir), { message: /would overwrite .*package\.json, .*roles\/hello\/index\.ts: nothing was written/ });
  const c = capture();
  t.is(await main(['init', dir], c.io), 64);
  t.regex(c.err.join('\n'), /package\.json/);
  t.false(existsSync(join(dir, 'inventory.yml')));
  t.is(readFileSync(join(dir, 'package.json'), 'utf8'), '{"name": "mine"}\n');
});
