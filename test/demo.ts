// npm run demo: boot the demo fleet, apply the example inventory twice, recap, tear down.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fleet = process.env.CAIRN_DEMO_FLEET ?? 'default';
const inventory = process.env.CAIRN_DEMO_INVENTORY ?? 'inventory/demo.yml';

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repo, stdio: 'inherit' });
    p.on('error', reject);
    p.on('close', (code) => resolve(code ?? 1));
  });
}

const cairn = (args: string[]) => run(process.execPath, ['src/cli/bin.js', ...args]);
const bed = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'test/bed/cli.ts', ...args, '--fleet', fleet]);

let status = 0;
console.log(`== booting the demo fleet '${fleet}' (2 Alpine 3.19 / OpenRC, 1 Debian 12 / systemd)`);
if ((await bed(['up', '--alpine', '2', '--debian', '1', '--alpine-arm', '0', '--debian-arm', '0'])) !== 0) {
  console.error('the demo fleet did not come up');
  process.exit(1);
}
try {
  console.log(`\n== cairn apply -i ${inventory}   (first run: converges the fleet)`);
  const first = await cairn(['apply', '-i', inventory]);
  console.log(`\n== cairn apply -i ${inventory}   (second run: expect changed=0 on every host)`);
  const second = await cairn(['apply', '-i', inventory]);
  console.log(`\n== cairn check -i ${inventory}   (no drift: exit 0)`);
  const check = await cairn(['check', '-i', inventory]);
  console.log(`\nexit codes: first apply ${first}, second apply ${second}, check ${check}`);
  status = first || second || check;
} finally {
  console.log(`\n== tearing the demo fleet down`);
  await bed(['down']);
}
process.exit(status);
