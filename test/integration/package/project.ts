// cairn as a user gets it: the packed tarball installed from npm's side into a
// project outside the repository (and into a "global" prefix), a role written
// there as the README's "Writing a role" shows, run by the installed `cairn`.
// Shared by install.test.ts (a bed host) and install-local.test.ts (this machine).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAIRN_PACKAGE } from '../../../src/core/package-root.ts';

export const repo = fileURLToPath(new URL('../../../', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a program (off a TTY, CI=1 for plain lines); never rejects. */
export function run(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      // the command is run as users run it (its #!/usr/bin/env node line), with this test's node first on PATH
      { cwd: opts.cwd, env: { ...process.env, CI: '1', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...opts.env }, timeout: opts.timeoutMs ?? 10 * 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
// npm's own variables from an outer `npm test` (prefix, global, ...) must not leak into these installs
const cleanEnv = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !/^npm_/i.test(k) && v !== undefined)) as Record<string, string>;

async function npm(args: string[], cwd: string): Promise<Run> {
  const r = await new Promise<Run>((resolve) => {
    const started = performance.now();
    execFile('npm', args, { cwd, env: cleanEnv(), timeout: 10 * 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr, ms: performance.now() - started }),
    );
  });
  if (r.code !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `npm pack` of the repository (prepack builds dist/), once per ava run: the test
 * files of one run share the tarball (a lock directory named after ava's process),
 * so two files never build dist/ at the same time.
 */
export async function packedTarball(): Promise<string> {
  const dir = join(tmpdir(), `cairn-pack-${process.ppid}`);
  const done = join(dir, 'done');
  const failed = join(dir, 'failed');
  let mine = false;
  try {
    mkdirSync(dir);
    mine = true;
  } catch {
    /* another test file of this run packs */
  }
  if (mine) {
    try {
      await npm(['pack', '--pack-destination', dir, '--loglevel=error'], repo);
      const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error(`npm pack wrote no tarball into ${dir}`);
      writeFileSync(done, join(dir, tgz));
    } catch (err) {
      writeFileSync(failed, String((err as Error).message));
      throw err;
    }
  }
  for (;;) {
    if (existsSync(done)) return readFileSync(done, 'utf8');
    if (existsSync(failed)) throw new Error(`npm pack failed (in another test file): ${readFileSync(failed, 'utf8')}`);
    await sleep(500);
  }
}

/** A fresh folder outside the repository for one test. */
export function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pkg-'));
  if (dir.startsWith(repo)) throw new Error(`${dir} is inside the repository`);
  return dir;
}

/** `npm install -g --prefix <root>/global <tarball>`: the path of its `cairn` command. */
export async function installGlobal(tarball: string, root: string): Promise<string> {
  const prefix = join(root, 'global');
  await npm(['install', '-g', '--prefix', prefix, ...npmFlags, tarball], root);
  return join(prefix, 'bin', 'cairn');
}

/** A project with the package installed from the tarball (`npm i -D`): the path of its `cairn`. */
export async function installProject(tarball: string, project: string): Promise<string> {
  if (!existsSync(join(project, 'package.json'))) {
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'fleet', private: true, type: 'module' }, null, 2)}\n`);
  }
  await npm(['install', '-D', ...npmFlags, tarball], project);
  return join(project, 'node_modules', '.bin', 'cairn');
}

/** The import line of the README's "Writing a role" example, as users copy it. */
export function readmeImportLine(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Writing a role'));
  const code = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const line = code?.split('\n').find((l) => l.startsWith('import '));
  if (!line) throw new Error('README.md has no "Writing a role" example with an import line');
  return line;
}

/**
 * The role `greeting` in <project>/roles/: written like the README's example (its
 * import line verbatim, a template, a handler), working in `greet_dir` on the host.
 * `greet_token` is a !secret of the inventory: a Secret of the running cairn's copy
 * handed to the project copy's `file` operation.
 */
export function writeGreetingRole(project: string): void {
  const dir = join(project, 'roles', 'greeting');
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(
    join(dir, 'index.ts'),
    `${readmeImportLine()}
import { command } from '${CAIRN_PACKAGE}';

export default defineRole({
  name: 'greeting',
  defaults: { greet_dir: '/tmp/cairn-greeting', greet_text: 'hello', greet_token: '' },
  steps: (ctx) => [
    command({ id: 'dir', run: sh\`mkdir -p \${ctx.vars.greet_dir}\`, creates: ctx.vars.greet_dir }),
    file({ id: 'config', path: \`\${ctx.vars.greet_dir}/greeting.conf\`, mode: '0644', content: ctx.template('greeting.conf.hbs'), notify: ['mark restart'] }),
    file({ id: 'token', path: \`\${ctx.vars.greet_dir}/token\`, mode: '0600', content: ctx.vars.greet_token }),
  ],
  handlers: (ctx) => ({
    'mark restart': [command({ id: 'mark', run: sh\`date > \${ctx.vars.greet_dir}/restarted\`, notIdempotent: true })],
  }),
});
`,
  );
  writeFileSync(join(dir, 'templates', 'greeting.conf.hbs'), '# {{host.name}}\ntext = {{greet_text}}\n');
}

/** A role with a misspelt param: the running cairn must tell an unknown param, whatever copy threw it. */
export function writeTypoRole(project: string): void {
  const dir = join(project, 'roles', 'typo');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'index.ts'),
    `import { defineRole, file } from '${CAIRN_PACKAGE}';
export default defineRole({ name: 'typo', steps: () => [file({ id: 'x', path: '/tmp/cairn-typo', content: 'x', mod: '0644' } as never)] });
`,
  );
}

export const TOKEN = 's3cr3t-pkg-7f1d2c';

/** The local-connection inventory of a project: one host, this machine. */
export function localInventory(project: string, greetDir: string, roles: string[] = ['greeting']): string {
  const file = join(project, `inventory-${roles.join('-')}.yml`);
  writeFileSync(
    file,
    `hosts:
  me: { connection: local }
vars:
  greet_dir: ${JSON.stringify(greetDir)}
  greet_text: from the project
  greet_token: !secret "${TOKEN}"
groups:
  g: { hosts: [me], roles: [${roles.join(', ')}] }
`,
  );
  return file;
}

export interface JsonHost {
  ok: number;
  changed: number;
  failed: number;
  ops: { role: string; id: string; status: string; error?: string }[];
}

export function hostsOf(r: Run): Record<string, JsonHost> {
  try {
    return (JSON.parse(r.stdout) as { hosts: Record<string, JsonHost> }).hosts;
  } catch {
    throw new Error(`cairn did not print JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
