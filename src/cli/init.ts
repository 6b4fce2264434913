import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { CAIRN_PACKAGE } from '../core/package-root.ts';
import { cairnVersion } from './version.ts';

/** The schema shipped in the package, as the inventory's editor hint points at it. */
export const SCHEMA_IN_PROJECT = `./node_modules/${CAIRN_PACKAGE}/docs/inventory.schema.json`;

/** An npm package name for the project, from its folder name. */
function projectName(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|[-]+$/g, '');
  return name || 'cairn-project';
}

/** The files of a new project, path (relative to the project) -> content. */
export function projectFiles(dir: string, version = cairnVersion()): Map<string, string> {
  const files = new Map<string, string>();
  files.set(
    'package.json',
    `${JSON.stringify(
      {
        name: projectName(dir),
        private: true,
        type: 'module',
        scripts: { check: 'cairn check -i inventory.yml', apply: 'cairn apply -i inventory.yml' },
        devDependencies: { [CAIRN_PACKAGE]: `^${version}` },
      },
      null,
      2,
    )}\n`,
  );
  files.set(
    'inventory.yml',
    `# yaml-language-server: $schema=${SCHEMA_IN_PROJECT}
# The hosts cairn works on and the roles each group runs. Reference: the README of
# ${CAIRN_PACKAGE} ("The inventory") and docs/inventory.md in its repository.
connection:
  known_hosts: ./known_hosts     # host keys are verified; record a new host's with --accept-new-host-keys
vars:
  hello_text: managed by cairn
hosts:
  # one line a host: its address, the user cairn logs in as (with your SSH key), and
  # become: sudo when that user is not root (Raspberry Pi OS); Alpine logs in as root
  pi1: { address: 192.0.2.10, user: pi, become: sudo }
groups:
  nodes:
    hosts: [pi1]
    roles: [hello]
`,
  );
  files.set(
    'roles/hello/index.ts',
    `// A sample role: one file, rendered from a template. \`npx cairn check -i inventory.yml\`
// shows what it would change, \`npx cairn apply -i inventory.yml\` writes it.
import { defineRole, file } from '${CAIRN_PACKAGE}';

export default defineRole({
  name: 'hello',
  defaults: { hello_text: 'hello from cairn' },
  steps: (ctx) => [file({ id: 'motd', path: '/etc/motd', mode: '0644', content: ctx.template('motd.hbs') })],
});
`,
  );
  files.set('roles/hello/templates/motd.hbs', '{{host.name}}: {{hello_text}}\n{{facts.os.prettyName}} on {{facts.machine}}\n');
  // for editors (and `npx tsc` after `npm i -D typescript @types/node`): roles are checked against the package's types
  files.set(
    'tsconfig.json',
    `${JSON.stringify(
      {
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true },
        include: ['roles'],
      },
      null,
      2,
    )}\n`,
  );
  files.set('.gitignore', 'node_modules/\n*.log\n');
  files.set('known_hosts', '');
  return files;
}

/**
 * `cairn init [DIR]`: a new project in DIR (default: the current directory). Writes
 * nothing when one of its files exists already, and says which. Returns the paths written.
 */
export function initProject(dirArg = '.'): string[] {
  const dir = resolve(dirArg);
  const files = projectFiles(dir);
  const existing = [...files.keys()].filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0) {
    throw new UsageError(`init would overwrite ${existing.map((f) => join(dirArg, f)).join(', ')}: nothing was written; choose an empty folder (cairn init DIR) or move these files away`);
  }
  const written: string[] = [];
  for (const [f, content] of files) {
    const path = join(dir, f);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content, { flag: 'wx' });
    written.push(path);
  }
  return written;
}

export function addInitCommand(program: Command, io: { out: (s: string) => void }): void {
  program
    .command('init')
    .argument('[dir]', 'the project folder (created when missing)', '.')
    .description(`start a project: package.json depending on ${CAIRN_PACKAGE}, an inventory, a sample role, tsconfig.json, .gitignore, an empty known_hosts`)
    .action((dir: string) => {
      const written = initProject(dir);
      const rel = relative(process.cwd(), resolve(dir)) || '.';
      io.out(written.map((p) => `wrote ${relative(process.cwd(), p) || p}`).join('\n'));
      io.out(
        [
          '',
          'next:',
          ...(rel === '.' ? [] : [`  cd ${rel}`]),
          `  npm install                          # installs ${CAIRN_PACKAGE}: roles import it, editors check inventory.yml`,
          '  edit inventory.yml                   # your hosts: address, user, become',
          '  npx cairn check -i inventory.yml --accept-new-host-keys   # what would change (exit 2: drift)',
          '  npx cairn apply -i inventory.yml',
        ].join('\n'),
      );
    });
}
