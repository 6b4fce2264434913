import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

/** What the seed command writes: a stock sshd_config's lines a port edits. */
export const SEED = '#PermitRootLogin yes\n#PasswordAuthentication yes\nUsePAM yes\nSubsystem sftp /usr/lib/ssh/sftp-server\n';

/** The file after every step of the role, in order. */
export const COMBINED =
  'PermitRootLogin prohibit-password\n' +
  'PasswordAuthentication no\n' +
  'Subsystem sftp internal-sftp\n' +
  '# BEGIN cairn match\n' +
  'Match User deploy\n' +
  '  ForceCommand /bin/true\n' +
  '# END cairn match\n';

/** Steps of the role, as the report names them. */
export const STEPS = ['dir', 'seed', 'root-login', 'password-auth', 'sftp', 'match', 'no-pam', 'mode', 'stale'];

/**
 * A role written the way a user ports a playbook: a command seeds a file (what it
 * leaves cannot be predicted: the next steps probe it again), then five edits of that
 * file by line / replace / block / line, an attribute change by file, and a removal.
 * Returns the roles folder (roles/compose/index.ts).
 */
export function composeRole(dir: string): string {
  const roles = mkdtempSync(join(tmpdir(), 'cairn-compose-'));
  mkdirSync(join(roles, 'compose'));
  writeFileSync(join(roles, 'package.json'), '{"type":"module"}');
  const conf = `${dir}/sshd_config`;
  writeFileSync(
    join(roles, 'compose', 'index.ts'),
    `import { defineRole, directory, command, line, replace, block, file, sh } from ${JSON.stringify(srcIndex)};
const conf = ${JSON.stringify(conf)};
export default defineRole({
  name: 'compose',
  steps: () => [
    directory({ id: 'dir', path: ${JSON.stringify(dir)}, mode: '0755' }),
    command({ id: 'seed', run: sh\`printf %s \${${JSON.stringify(SEED)}} > \${conf}\`, creates: conf }),
    line({ id: 'root-login', path: conf, regexp: '^#?PermitRootLogin', line: 'PermitRootLogin prohibit-password' }),
    line({ id: 'password-auth', path: conf, regexp: '^#?PasswordAuthentication', line: 'PasswordAuthentication no' }),
    replace({ id: 'sftp', path: conf, regexp: '^(Subsystem\\\\s+sftp\\\\s+)\\\\S+$', replace: '\\\\1internal-sftp' }),
    block({ id: 'match', path: conf, marker: '# {mark} cairn match', block: 'Match User deploy\\n  ForceCommand /bin/true\\n' }),
    line({ id: 'no-pam', path: conf, regexp: '^UsePAM', line: 'UsePAM yes', state: 'absent' }),
    file({ id: 'mode', path: conf, mode: '0600' }),
    file({ id: 'stale', path: ${JSON.stringify(`${dir}/stale.conf`)}, state: 'absent' }),
  ],
});
`,
  );
  return roles;
}
