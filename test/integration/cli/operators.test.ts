// The operator's flags, on the real command with local hosts: listing hosts and tags
// without connecting, --skip-tags, an unknown tag refused (exit 64, not a false
// "no drift"), --junit, --log, the -e forms, --version, --help, facts --only.
import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Two local hosts running one role: a text from var `msg`, a JSON file from var `conf`. */
function setup(): { dir: string; inv: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-ops-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'demo'), { recursive: true });
  writeFileSync(
    join(dir, 'roles', 'demo', 'index.ts'),
    `import { defineRole, file, isSecret, secretText } from ${JSON.stringify(srcIndex)};
const out = ${JSON.stringify(out)};
export default defineRole({
  name: 'demo',
  defaults: { msg: 'hi', conf: null },
  steps: (ctx) => [
    // a secret msg (-e msg=!secret_env PW) goes in whole: text built from it would be refused
    file({ id: 'greeting', path: out + '/greeting', content: isSecret(ctx.vars.msg) ? secretText\`\${ctx.vars.msg}\\n\` : String(ctx.vars.msg) + '\\n' }),
    file({ id: 'conf', path: out + '/conf.json', content: JSON.stringify(ctx.vars.conf) + '\\n' }),
  ],
});
`,
  );
  writeFileSync(join(dir, 'inventory.yml'), 'hosts:\n  me: { connection: local }\n  you: { connection: local }\ngroups:\n  g: { hosts: [me, you], roles: [demo] }\n');
  return { dir, inv: join(dir, 'inventory.yml'), out };
}

test('--list-hosts and --list-tags print names, one a line, and connect to nothing', async (t) => {
  const { inv } = setup();
  // an unreachable host would fail a run: listing never connects
  writeFileSync(inv, readFileSync(inv, 'utf8').replace('you: { connection: local }', 'you: { address: 192.0.2.1, user: root }'));
  const hosts = await cairn(['check', '-i', inv, '--list-hosts']);
  t.is(hosts.code, 0, hosts.stderr);
  t.is(hosts.stdout, 'me\nyou\n');
  t.is((await cairn(['apply', '-i', inv, '--list-hosts', '-l', '!me'])).stdout, 'you\n');

  const tags = await cairn(['check', '-i', inv, '--list-tags']);
  t.is(tags.code, 0, tags.stderr);
  t.is(tags.stdout, 'demo\ndemo/greeting\ndemo/conf\n');
  t.is((await cairn(['check', '-i', inv, '--list-tags', '--skip-tags', 'demo/greeting'])).stdout, 'demo\ndemo/conf\n');
});

test('an unknown tag is exit 64 with a suggestion, before any connection; --skip-tags skips', async (t) => {
  const { inv, out } = setup();
  const typo = await cairn(['check', '-i', inv, '--tags', 'demo/greting']);
  t.is(typo.code, 64, typo.stdout + typo.stderr);
  t.is(typo.stdout, '', 'no host was run');
  t.regex(typo.stderr, /--tags 'demo\/greting': role 'demo' has no step 'greting'; did you mean 'demo\/greeting'\?/);
  const skipTypo = await cairn(['check', '-i', inv, '--skip-tags', 'dmeo']);
  t.is(skipTypo.code, 64);
  t.regex(skipTypo.stderr, /--skip-tags 'dmeo': .*did you mean 'demo'\?/);

  const r = await cairn(['apply', '-i', inv, '-l', 'me', '--skip-tags', 'demo/conf', '--json']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(jsonOf(r).hosts.me!.ops.map((o) => o.id), ['greeting']);
  t.false(existsSync(join(out, 'conf.json')));
});

test('-e: key=value as given, a JSON map inline, a vars file; a bad vars file names its line', async (t) => {
  const { dir, inv, out } = setup();
  const vars = join(dir, 'vars.yml');
  writeFileSync(vars, 'conf:\n  n: 1\n  l: [a, b]\n');
  const msg = `&& echo "x" #c {{y}} `;
  const r = await cairn(['apply', '-i', inv, '-l', 'me', '-e', `msg=${msg}`, '-e', `@${vars}`, '-e', '{"conf": {"on": true}}']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(readFileSync(join(out, 'greeting'), 'utf8'), `${msg}\n`);
  t.deepEqual(JSON.parse(readFileSync(join(out, 'conf.json'), 'utf8')), { n: 1, l: ['a', 'b'], on: true });

  writeFileSync(vars, 'conf:\n  n: 1\n  n: 2\n');
  const bad = await cairn(['check', '-i', inv, '-e', `@${vars}`]);
  t.is(bad.code, 65, bad.stdout + bad.stderr);
  t.true(bad.stderr.includes(`${vars}:3:3: key 'n' appears twice`), bad.stderr);
});

test('--junit and --log after a check with drift; secrets masked in both', async (t) => {
  const { dir, inv } = setup();
  const junit = join(dir, 'report.xml');
  const log = join(dir, 'run.log');
  const r = await cairn(['check', '-i', inv, '-D', '--junit', junit, '--log', log, '-e', 'msg=!secret_env PW'], { PW: 'pw-6a5b4c3d' });
  t.is(r.code, 2, r.stdout + r.stderr);
  const xml = readFileSync(junit, 'utf8');
  t.regex(xml, /<testsuites name="cairn check" tests="4" failures="4" errors="0" skipped="0" time="[\d.]+">/);
  t.regex(xml, /<testcase classname="you" name="demo\/greeting" time="[\d.]+">\n {6}<failure type="drift" message="would change: create [^"]*greeting">/);
  const text = readFileSync(log, 'utf8');
  t.regex(text, /^# \d{4}-\d\d-\d\dT[\d:.]+Z cairn check -i /);
  t.regex(text, /\[me\] demo\/greeting: changed - create /);
  t.regex(text, /\nRECAP\nHOST .* time\n/);
  t.regex(text, /\n# exit 2\n$/);
  for (const f of [xml, text, r.stdout]) t.false(f.includes('pw-6a5b4c3d'));
  t.true(text.includes('(secret content not shown'), 'a secret file is never shown, not even masked');

  // ok steps are in the log even without --verbose; a missing directory is refused up front
  t.is((await cairn(['apply', '-i', inv, '-l', 'me'])).code, 0);
  t.is((await cairn(['check', '-i', inv, '-l', 'me', '--log', log])).code, 0);
  t.regex(readFileSync(log, 'utf8'), /# exit 2\n# [^\n]*\n(.*\n)*\[me\] demo\/greeting: ok - /);
  const missing = await cairn(['check', '-i', inv, '--junit', join(dir, 'no', 'r.xml')]);
  t.is(missing.code, 64);
  t.regex(missing.stderr, /--junit .*: directory .* does not exist/);
});

test('--version, --help, facts --only', async (t) => {
  const v = await cairn(['--version']);
  t.is(v.code, 0);
  t.is(v.stdout, `${pkg.version}\n`);
  const help = await cairn(['--help']);
  t.is(help.code, 0);
  for (const s of ['Exit codes:', '  64  bad usage', '  65  invalid inventory', 'CAIRN_CACHE_DIR', 'CI ', 'Examples:']) t.true(help.stdout.includes(s), s);

  const { inv } = setup();
  const f = await cairn(['facts', '-i', inv, '-l', 'me', '--only', 'os,arch']);
  t.is(f.code, 0, f.stderr);
  const doc = JSON.parse(f.stdout) as Record<string, { facts: Record<string, unknown> }>;
  t.deepEqual(Object.keys(doc.me!.facts), ['os', 'arch']);
  const bad = await cairn(['facts', '-i', inv, '--only', 'os,arhc']);
  t.is(bad.code, 64);
  t.regex(bad.stderr, /unknown fact key 'arhc' \(did you mean 'arch'\?\); the keys are 'hostname', 'os'/);
});
