// Hostile values given to the renderers directly (the description validation
// bypassed): each is either inert (the generated script, run by /bin/sh and
// busybox ash here, sees it as data) or refused with a clear error.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeProblems, renderOpenrc, renderS6, renderS6Openrc, renderSystemd, type ResolvedDescription, type ServiceFile } from '../../../src/services/index.ts';

/** Every shell we can run the scripts with: the target's /bin/sh may be busybox ash. */
const SHELLS: string[][] = [['/bin/sh'], ...(spawnSync('busybox', ['sh', '-c', 'true']).status === 0 ? [['busybox', 'sh']] : [])];

/** A temp dir; PWNED in it means some value was run as code. */
function sandbox(): { dir: string; pwned: () => boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  return { dir, pwned: () => existsSync(join(dir, 'PWNED')) };
}

const BOOM = '$(touch PWNED)';
const HOSTILE_ARGS = ['a b', "it's", '"dq"', BOOM, '`touch PWNED`', '; touch PWNED', '&& touch PWNED', '| touch PWNED', '%h %%', '${HOME}', 'back\\slash\\', '', '*', 'two\nlines', '-x'];
const HOSTILE_ENV = `${BOOM} \`touch PWNED\` "'; touch PWNED \\ %i $HOME`;

function hostile(dir: string, over: Partial<ResolvedDescription> = {}): ResolvedDescription {
  return {
    name: 'evil',
    description: `D ${BOOM} \`touch PWNED\` "; touch PWNED %n`,
    command: join(dir, 'argv'),
    args: HOSTILE_ARGS,
    user: `u${BOOM}`,
    group: 'g;touch PWNED',
    logDir: join(dir, `log ${BOOM}`),
    nofile: 1024,
    killSignal: 'SIGTERM',
    needs: ['consul'],
    after: [],
    env: { E: HOSTILE_ENV },
    restartDelay: 2,
    notify: false,
    killMode: undefined,
    oomScoreAdjust: undefined,
    unlimitedProcesses: false,
    configFiles: [],
    ...over,
  };
}

const file = (files: ServiceFile[], key: string) => {
  const f = files.find((x) => x.key === key);
  if (!f) throw new Error(`no ${key}`);
  return f.content;
};

/** Stubs in dir: `argv` prints its arguments (one per line, then E=...); the s6 tools print their options and exec the rest. */
function stubs(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const put = (path: string, text: string) => {
    writeFileSync(path, text);
    chmodSync(path, 0o755);
  };
  put(join(dir, 'argv'), `#!/bin/sh\nfor a; do printf '[%s]\\n' "$a"; done\nprintf 'E=[%s]\\n' "$E"\n`);
  put(join(bin, 's6-setlock'), `#!/bin/sh\nprintf 'lock=[%s]\\n' "$1"; shift; exec "$@"\n`);
  put(join(bin, 's6-setuidgid'), `#!/bin/sh\nprintf 'user=[%s]\\n' "$1"; shift; exec "$@"\n`);
  return bin;
}

const expectedArgv = (env = HOSTILE_ENV) => [...HOSTILE_ARGS.map((a) => `[${a}]`), `E=[${env}]`].join('\n') + '\n';

function run(shell: string[], args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(shell[0]!, [...shell.slice(1), ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/home/x', ...env } });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

for (const shell of SHELLS) {
  const sh = shell.join(' ');

  test(`${sh}: the s6 run script passes every hostile argument, env value and user name as data`, (t) => {
    const { dir, pwned } = sandbox();
    const bin = stubs(dir);
    for (const s6LockFd of [false, true]) {
      const files = renderS6(hostile(dir), { serviceDir: join(dir, 'sv'), s6LockFd });
      writeFileSync(join(dir, 'run'), file(files, 's6-run'));
      const r = run(shell, ['./run'], dir, { PATH: `${bin}:${process.env.PATH}` });
      t.is(r.status, 0, r.err);
      const lock = s6LockFd ? '' : `lock=[/run/cairn-s6-evil.lock]\n`;
      t.is(r.out, `${lock}user=[u${BOOM}]\n${expectedArgv()}`);
    }
    t.false(pwned());
  });

  test(`${sh}: the s6 finish and log/run scripts keep a hostile command and log dir inert`, (t) => {
    const { dir, pwned } = sandbox();
    const command = `/no/such/\`touch PWNED\`${BOOM}"\\`;
    const files = renderS6(hostile(dir, { command }), { serviceDir: '/x', s6LockFd: false });
    writeFileSync(join(dir, 'finish'), file(files, 's6-finish'));
    const r = run(shell, ['./finish', '127', '0'], dir);
    t.is(r.status, 125);
    t.true(r.out.includes(`evil: ${command} cannot be executed`), r.out);
    const logRun = file(files, 's6-log-run');
    t.true(logRun.endsWith(`exec s6-log -b n10 s1000000 T '${join(dir, `log ${BOOM}`)}'\n`));
    t.is(run(shell, ['-n', '-c', logRun], dir).status, 0);
    t.false(pwned());
  });

  test(`${sh}: OpenRC conf.d, sourced and evaluated as openrc-run does, keeps every value as data`, (t) => {
    const { dir, pwned } = sandbox();
    const bin = stubs(dir);
    void bin;
    const d = hostile(dir);
    const log = join(d.logDir, 'output.log');
    // what openrc-run does with conf.d: source it, then eval the command line; print what the daemon would get
    const probe = `. ./confd; printf 'user=[%s]\\nlog=[%s]\\nerr=[%s]\\n' "$command_user" "$output_log" "$error_log"; eval "set -- $command $command_args"; exec "$@"`;
    const withLog = renderOpenrc(d, { outputLog: true });
    writeFileSync(join(dir, 'confd'), file(withLog, 'confd'));
    const r = run(shell, ['-c', probe], dir);
    t.is(r.status, 0, r.err);
    t.is(r.out, `user=[${d.user}:${d.group}]\nlog=[${log}]\nerr=[${log}]\n${expectedArgv()}`);
    // OpenRC < 0.25: sh -c 'exec >>log ...; exec daemon' writes the daemon's output to the log itself
    mkdirSync(d.logDir);
    writeFileSync(join(dir, 'confd'), file(renderOpenrc(d, { outputLog: false }), 'confd'));
    const old = run(shell, ['-c', probe], dir);
    t.is(old.status, 0, old.err);
    t.is(old.out, `user=[${d.user}:${d.group}]\nlog=[]\nerr=[]\n`);
    t.is(readFileSync(log, 'utf8'), expectedArgv());
    t.false(pwned());
  });

  test(`${sh}: OpenRC init scripts (supervise-daemon and s6) call checkpath, need and after with the values as data`, (t) => {
    const { dir, pwned } = sandbox();
    const d = hostile(dir, { needs: ['a b', BOOM], after: ['`touch PWNED`'] });
    const serviceDir = join(dir, `sv ${BOOM}`);
    const stubFns = `for f in need use after checkpath; do eval "$f() { printf '%s' $f; for a; do printf ' [%s]' \\"\\$a\\"; done; echo; }"; done`;
    const probe = `${stubFns}; . ./initd; printf 'description=[%s]\\npath=[%s]\\n' "$description" "$s6_service_path"; depend; command -v start_pre >/dev/null && start_pre; true`;
    writeFileSync(join(dir, 'initd'), file(renderOpenrc(d, { outputLog: true }), 'initd'));
    const r = run(shell, ['-c', probe], dir);
    t.is(r.status, 0, r.err);
    t.is(r.out, `description=[${d.description}]\npath=[]\nneed [net] [a b] [${BOOM}]\nafter [firewall] [\`touch PWNED\`]\ncheckpath [-d] [-m] [0750] [-o] [${d.user}:${d.group}] [${d.logDir}]\n`);
    writeFileSync(join(dir, 'initd'), file(renderS6Openrc(d, { serviceDir, s6LockFd: false, needNet: false }), 'initd'));
    const s6 = run(shell, ['-c', probe], dir);
    t.is(s6.status, 0, s6.err);
    t.is(s6.out, `description=[${d.description}]\npath=[${serviceDir}]\nneed [s6-svscan] [a b] [${BOOM}]\nuse [net]\nafter [firewall] [\`touch PWNED\`]\n`);
    t.false(pwned());
  });
}

test('OpenRC and s6: what cannot be written safely is refused, naming the value', (t) => {
  const d = hostile('/tmp');
  const openrc = (over: Partial<ResolvedDescription>) => () => renderOpenrc({ ...d, ...over }, { outputLog: true });
  const s6 = (over: Partial<ResolvedDescription>, serviceDir = '/x') => () => renderS6Openrc({ ...d, ...over }, { serviceDir, s6LockFd: false });
  for (const name of ['../../etc/passwd', `x${BOOM}`, 'a b', '', '.hidden/x']) {
    t.throws(openrc({ name }), { message: /not a service name/ }, name);
    t.throws(s6({ name }), { message: /not a service name/ }, name);
    t.throws(() => renderSystemd({ ...d, name }), { message: /not a service name/ }, name);
  }
  t.throws(openrc({ description: 'x\n/bin/rm -rf /' }), { message: /comment cannot hold a line break/ });
  t.throws(s6({ description: 'x\rexec evil' }), { message: /comment cannot hold a line break/ });
  t.throws(s6({}, '/x\ntouch PWNED'), { message: /comment cannot hold a line break/ });
  t.throws(openrc({ env: { 'A=1; touch PWNED; B': 'x' } }), { message: /not a shell variable name/ });
  t.throws(s6({ env: { 'A B': 'x' } }), { message: /not a shell variable name/ });
  t.throws(openrc({ killSignal: 'SIGTERM"; touch PWNED; "' as 'SIGTERM' }), { message: /not a stop signal/ });
  t.throws(s6({ killSignal: 'SIGTERM\nSIGKILL' as 'SIGTERM' }), { message: /not a stop signal/ });
});

test('systemd: hostile arguments and env values are escaped per systemd rules: quotes, %% for %, $$ for $ (ExecStart only), \\\\ for \\', (t) => {
  const d = hostile('/d', { args: ['a b', "it's", '"dq"', BOOM, '`x`', ';', 'a;b', '%h', '${HOME}', 'back\\slash', '', 'tab\there'], user: 'nobody', group: 'nogroup', description: `50% of "D" ${BOOM} \`x\` ;` });
  const unit = file(renderSystemd(d), 'unit');
  const lines = unit.split('\n');
  t.is(lines.find((l) => l.startsWith('ExecStart=')), `ExecStart=/d/argv "a b" "it's" "\\"dq\\"" "$$(touch PWNED)" "\`x\`" ";" "a;b" "%%h" "$\${HOME}" "back\\\\slash" "" "tab\there"`);
  t.true(lines.includes(`Environment="E=$(touch PWNED) \`touch PWNED\` \\"'; touch PWNED \\\\ %%i $HOME"`), unit);
  t.true(lines.includes(`Description=50%% of "D" ${BOOM} \`x\` ;`), unit);
  t.true(lines.includes('ExecReload=/bin/kill -HUP $MAINPID'), 'systemd variables come only from the typed set');
  // nothing else: every line is a comment, a section, empty or a known Directive=
  t.true(lines.every((l) => /^(#.*|\[(Unit|Service|Install)\]|[A-Za-z]+=.*|)$/.test(l)), unit);
});

test('systemd: what cannot be written safely is refused, naming the value', (t) => {
  const d = hostile('/d', { args: ['ok'], user: 'nobody', group: 'nogroup', env: {} });
  const unit = (over: Partial<ResolvedDescription>) => () => renderSystemd({ ...d, ...over });
  t.throws(unit({ description: 'x\nExecStartPre=/bin/rm -rf /' }), { message: /line break/ });
  t.throws(unit({ description: 'ends in a continuation \\' }), { message: /trailing backslash/ });
  t.throws(unit({ args: ['x\nExecStartPre=/bin/evil'] }), { message: /line break/ });
  t.throws(unit({ args: ['x\rExecStartPre=/bin/evil'] }), { message: /line break/ });
  t.throws(unit({ env: { E: 'x\nExecStartPre=/bin/evil' } }), { message: /line break/ });
  t.throws(unit({ env: { 'A B': 'x' } }), { message: /not an environment variable name/ });
  t.throws(unit({ env: { 'A=1 B': 'x' } }), { message: /not an environment variable name/ });
  t.throws(unit({ user: `u${BOOM}` }), { message: /not a user or group name/ });
  t.throws(unit({ group: 'g;x' }), { message: /not a user or group name/ });
  t.throws(unit({ user: 'a b' }), { message: /not a user or group name/ });
  t.throws(unit({ command: '-/bin/sh' }), { message: /absolute path/ }, 'a prefix (- @ : + !) would change how systemd runs it');
  t.throws(unit({ command: 'sh' }), { message: /absolute path/ });
  t.throws(unit({ needs: ['a.service b.service'] }), { message: /not a unit name/ });
  t.throws(unit({ after: ['x\nExecStartPre=/bin/evil'] }), { message: /not a unit name/ });
  t.throws(unit({ after: ['%i'] }), { message: /not a unit name/ });
  t.throws(unit({ killSignal: 'SIGTERM\nExecStartPre=/bin/evil' as 'SIGTERM' }), { message: /unknown keyword/ });
  t.throws(unit({ killMode: 'none; x' as 'process' }), { message: /unknown keyword/ });
  t.throws(unit({ nofile: Number.NaN }), { message: /not a whole number/ });
  t.throws(unit({ restartDelay: '2\nExecStartPre=/bin/evil' as unknown as number }), { message: /not a whole number/ });
});

test('the description validation refuses what the renderers refuse, before any rendering', (t) => {
  const base = { name: 'x', command: '/bin/x' };
  t.deepEqual(describeProblems({ ...base, description: 'fine: 50% "quoted" $x' }), []);
  t.regex(describeProblems({ ...base, description: 'a\nb' }).join(), /description: must be one line/);
  t.regex(describeProblems({ ...base, description: 'a\\' }).join(), /not ending in a backslash/);
  t.regex(describeProblems({ ...base, args: ['a\rb'] }).join(), /args: must be a list of strings without newlines/);
  t.regex(describeProblems({ ...base, env: { A: 'a\rb' } }).join(), /env.A: must be a one-line string/);
});
