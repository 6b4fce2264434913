// Acceptance on a bed host: the packed package installed in a project outside the
// repository (npm i -D <tarball>) and globally (npm i -g --prefix); the project's
// role, written as the README's "Writing a role" shows (it imports the package by
// name), applied over SSH to a real Alpine host by the project's cairn and by the
// global one (which then runs the project's copy of the API with its own engine).
// install-local.test.ts does the same on this machine (connection: local).
import test from 'ava';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { sshRun } from '../../bed/fleet.ts';
import { hostsOf, installGlobal, installProject, packedTarball, run, scratch, TOKEN, writeGreetingRole } from './project.ts';

const DIR = '/root/cairn-pkg-greeting';

let claim: Claim;
let project: string;
let projectCairn: string;
let globalCairn: string;
let root: string;

test.before(async () => {
  claim = await claimHosts({ alpine: 1 });
  const tarball = await packedTarball();
  root = scratch();
  globalCairn = await installGlobal(tarball, root);
  project = join(root, 'fleet');
  projectCairn = await installProject(tarball, project);
  writeGreetingRole(project);
});
test.after.always(async () => {
  if (claim) await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR}`)));
  claim?.release();
  if (root) rmSync(root, { recursive: true, force: true });
});

for (const which of ['project', 'global'] as const) {
  test.serial(`the project's role applies to a bed host with the ${which} cairn, then changed=0`, async (t) => {
    t.timeout(5 * 60_000);
    const cairn = which === 'project' ? projectCairn : globalCairn;
    const [host] = claim.hosts;
    await sshRun(host!, `rm -rf ${DIR}`);
    const inv = fleetInventory({
      hosts: [host!.name],
      groups: { g: { hosts: [host!.name], roles: ['greeting'] } },
      vars: { greet_dir: DIR, greet_text: `from the ${which} cairn` },
      rolesDir: join(project, 'roles'),
    });
    // the token is a Secret of the running cairn (-e '…=!secret_env'), written by the project copy's file()
    const args = (mode: string, ...more: string[]) => [mode, '-i', inv.file, '-e', 'greet_token=!secret_env CAIRN_PKG_TOKEN', ...more];
    const env = { CAIRN_PKG_TOKEN: TOKEN };
    const first = await run(cairn, args('apply', '--json'), { cwd: project, env });
    t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
    const s = hostsOf(first)[host!.name]!;
    t.is(s.changed, 4, JSON.stringify(s.ops));
    const conf = await sshRun(host!, `cat ${DIR}/greeting.conf; cat ${DIR}/token; echo; stat -c %a ${DIR}/token; test -f ${DIR}/restarted && echo restarted`);
    t.is(conf.stdout, `# ${host!.name}\ntext = from the ${which} cairn\n${TOKEN}\n600\nrestarted\n`);
    t.false(first.stdout.includes(TOKEN) || first.stderr.includes(TOKEN), 'the secret is masked');
    const second = await run(cairn, args('apply', '--json'), { cwd: project, env });
    t.is(second.code, 0, second.stderr);
    t.is(hostsOf(second)[host!.name]!.changed, 0);
    const check = await run(cairn, args('check'), { cwd: project, env });
    t.is(check.code, 0, check.stdout + check.stderr);
  });
}
