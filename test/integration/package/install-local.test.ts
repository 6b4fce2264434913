// Acceptance, on this machine (`connection: local`, no test bed): the packed package
// installed into a project outside the repository, and globally; a role of the
// project, written as the README shows, imports the package by name and runs, with
// the project's cairn and with the global one (which then runs the project's copy
// of the API alongside its own). See install.test.ts for the same on a bed host.
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CAIRN_PACKAGE } from '../../../src/core/package-root.ts';
import { cairnVersion } from '../../../src/cli/version.ts';
import { hostsOf, installGlobal, installProject, localInventory, packedTarball, readmeImportLine, run, scratch, TOKEN, writeGreetingRole, writeTypoRole } from './project.ts';

let root: string;
let tarball: string;
let globalCairn: string;
let project: string;
let projectCairn: string;

test.before(async () => {
  tarball = await packedTarball();
  root = scratch();
  globalCairn = await installGlobal(tarball, root);
  // the project is started by the installed command, then gets its own copy
  project = join(root, 'fleet');
  const init = await run(globalCairn, ['init', project]);
  if (init.code !== 0) throw new Error(`cairn init failed: ${init.stderr}`);
  projectCairn = await installProject(tarball, project);
  writeGreetingRole(project);
  writeTypoRole(project);
});
test.after.always(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the tarball ships the build, the roles and the schema, not the tests', async (t) => {
  const list = await run('tar', ['tzf', tarball]);
  const files = list.stdout.split('\n');
  for (const f of ['package/src/cli/bin.js', 'package/dist/src/cli/main.js', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/roles/base/index.js', 'package/roles/consul/templates/consul.hcl.hbs', 'package/templates/packer/cairn.pkr.hcl', 'package/docs/inventory.schema.json', 'package/README.md']) {
    t.true(files.includes(f), f);
  }
  t.deepEqual(files.filter((f) => /^package\/(test|inventory|\.ci)\//.test(f) || f.startsWith('package/src/') && f !== 'package/src/cli/bin.js'), []);
  t.true(statSync(tarball).size < 1_000_000, `${statSync(tarball).size} bytes`);
});

test('the README example imports the package by its name', (t) => {
  t.regex(readmeImportLine(), new RegExp(`^import \\{ defineRole, .* \\} from '${CAIRN_PACKAGE}';$`));
});

test.serial('cairn --version, fast: no TypeScript, no engine at start-up', async (t) => {
  for (const bin of [globalCairn, projectCairn]) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run(bin, ['--version']);
      t.is(r.stdout, `${cairnVersion()}\n`);
      times.push(r.ms);
    }
    const best = Math.min(...times);
    t.log(`${bin}: --version ${times.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
    t.true(best < 1000, `best of 3 (on a loaded machine; alone it is ~0.1 s): ${Math.round(best)} ms`);
  }
});

test('cairn init wrote a valid project: the sample role and the built-in roles (compiled) load', async (t) => {
  t.regex(readFileSync(join(project, 'inventory.yml'), 'utf8'), new RegExp(`^# yaml-language-server: \\$schema=\\./node_modules/${CAIRN_PACKAGE}/docs/inventory\\.schema\\.json`));
  t.true(existsSync(join(project, 'node_modules', CAIRN_PACKAGE, 'docs', 'inventory.schema.json')), 'the schema line points at a file');
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  t.truthy(pkg.devDependencies[CAIRN_PACKAGE], 'npm i -D kept the dependency');
  const tags = await run(projectCairn, ['check', '-i', 'inventory.yml', '--list-tags', '--roles', 'base'], { cwd: project });
  t.is(tags.code, 0, tags.stderr);
  t.true(tags.stdout.split('\n').includes('hello/motd'), tags.stdout);
  t.true(tags.stdout.split('\n').includes('base'), tags.stdout);
  const again = await run(globalCairn, ['init', project]);
  t.is(again.code, 64);
  t.regex(again.stderr, /would overwrite .*package\.json/);
});

for (const which of ['project', 'global'] as const) {
  test.serial(`the project's role, written as the README shows, applies to a local host with the ${which} cairn; a second apply changes nothing`, async (t) => {
    const bin = which === 'project' ? projectCairn : globalCairn;
    const out = join(root, `out-${which}`);
    mkdirSync(out);
    const inv = localInventory(project, join(out, 'greeting'));
    const first = await run(bin, ['apply', '-i', inv, '--json'], { cwd: project });
    t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
    const me = hostsOf(first).me!;
    t.is(me.changed, 4, JSON.stringify(me.ops)); // dir, config, token, the handler
    t.is(me.failed, 0);
    t.is(readFileSync(join(out, 'greeting', 'greeting.conf'), 'utf8'), '# me\ntext = from the project\n');
    t.is(readFileSync(join(out, 'greeting', 'token'), 'utf8'), TOKEN, "the running cairn's Secret reached the host through the project copy's file()");
    t.is(statSync(join(out, 'greeting', 'token')).mode & 0o777, 0o600);
    t.true(existsSync(join(out, 'greeting', 'restarted')), 'the handler ran');
    t.false(first.stdout.includes(TOKEN) || first.stderr.includes(TOKEN), 'the secret is masked');
    const second = await run(bin, ['apply', '-i', inv, '--json'], { cwd: project });
    t.is(second.code, 0, second.stderr);
    t.is(hostsOf(second).me!.changed, 0);
    const check = await run(bin, ['check', '-i', inv], { cwd: project });
    t.is(check.code, 0, check.stdout + check.stderr);
  });

  test(`an unknown param in a project role is reported as such by the ${which} cairn (exit 65)`, async (t) => {
    const bin = which === 'project' ? projectCairn : globalCairn;
    const r = await run(bin, ['check', '-i', localInventory(project, join(root, 'unused'), ['typo'])], { cwd: project });
    t.is(r.code, 65, r.stdout + r.stderr);
    t.regex(r.stderr, /role 'typo': file 'x': unknown param `mod`; did you mean `mode`\?/);
    t.notRegex(r.stderr, /cannot build its steps/);
  });
}

test('a role outside any project, run by the global cairn: the error says to install the package', async (t) => {
  const loose = join(root, 'loose');
  mkdirSync(loose);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(loose, 'package.json'), '{"type": "module"}\n');
  writeGreetingRole(loose);
  const r = await run(globalCairn, ['check', '-i', localInventory(loose, join(root, 'unused'))], { cwd: loose });
  t.is(r.code, 65, r.stdout + r.stderr);
  t.regex(r.stderr, new RegExp(`roles/greeting/index\\.ts imports '${CAIRN_PACKAGE}', which cannot be found from ${join(loose, 'roles', 'greeting')}`));
  t.regex(r.stderr, new RegExp(`fix: run \`npm i -D ${CAIRN_PACKAGE}\` in the project holding the role \\(or start one with \`cairn init\`\\)`));
});
