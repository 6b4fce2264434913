// Golden files: every supervisor's files for a few descriptions, byte for byte.
// A change to the renderers must keep these (or change them on purpose):
//   CAIRN_UPDATE_GOLDEN=1 npx ava test/unit/services/render-golden.test.ts
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderOpenrc, renderS6, renderS6Openrc, renderSystemd, resolveDescription, type ServiceDescription, type ServiceFile } from '../../../src/services/index.ts';

const DESCRIPTIONS: Record<string, ServiceDescription> = {
  // the nomad role's description
  nomad: {
    name: 'nomad',
    description: 'Nomad agent',
    command: '/usr/local/bin/nomad',
    args: ['agent', '-config=/etc/nomad.d'],
    logDir: '/var/log/nomad',
    killSignal: 'SIGINT',
    killMode: 'process',
    oomScoreAdjust: -1000,
    unlimitedProcesses: true,
    after: ['consul', 'docker'],
    restartDelay: 2,
    notify: true,
  },
  // the consul role's description
  consul: {
    name: 'consul',
    description: 'Consul agent',
    command: '/usr/local/bin/consul',
    args: ['agent', '-config-dir=/etc/consul.d'],
    user: 'consul',
    group: 'consul',
    logDir: '/var/log/consul',
    killSignal: 'SIGTERM',
    restartDelay: 2,
  },
  // a user's own daemon with awkward (but valid) values everywhere
  odd: {
    name: 'odd_svc.2',
    description: `It's "odd": $HOME \`x\` \\ done`,
    command: '/opt/odd+bin/run@1',
    args: ['--name', "it's a \"test\"", '$(date)', '`id`', '50%', 'a;b', 'back\\slash', '', 'tab\there', '${X}'],
    user: 'nobody',
    logDir: '/var/log/odd/',
    nofile: 4096,
    killSignal: 'SIGQUIT',
    needs: ['consul', 'dbus.socket'],
    after: ['net-x'],
    env: { GOMAXPROCS: '2', WEIRD: `it's "$x" \`y\` 50% \\n`, EMPTY: '' },
    restartDelay: 0,
    killMode: 'mixed',
    oomScoreAdjust: 7,
  },
  // defaults only
  bare: { name: 'bare', command: '/bin/bare' },
};

const s6 = (fd: boolean) => ({ serviceDir: '/etc/s6/sv/x', s6LockFd: fd });
const RENDERERS: Record<string, (d: ReturnType<typeof resolveDescription>) => ServiceFile[]> = {
  'openrc': (d) => renderOpenrc(d, { outputLog: true }),
  'openrc-old': (d) => renderOpenrc(d, { outputLog: false }),
  'openrc-no-net': (d) => renderOpenrc(d, { outputLog: true, needNet: false }),
  's6': (d) => renderS6(d, s6(false)),
  's6-lock-fd': (d) => renderS6(d, s6(true)),
  's6-openrc': (d) => renderS6Openrc(d, s6(false)),
  's6-openrc-no-net': (d) => renderS6Openrc(d, { ...s6(true), needNet: false }),
  'systemd': (d) => renderSystemd(d),
};

function dump(files: ServiceFile[]): string {
  return files.map((f) => `==> ${f.key} ${f.path} ${f.mode} restart=${f.restart} daemonReload=${f.daemonReload ?? '-'}\n${f.content}`).join('<==\n') + '<==\n';
}

const update = process.env.CAIRN_UPDATE_GOLDEN === '1';
for (const [name, desc] of Object.entries(DESCRIPTIONS)) {
  test(`golden: ${name}`, (t) => {
    const d = resolveDescription(desc);
    const text = Object.entries(RENDERERS)
      .map(([sup, render]) => `######## ${sup}\n${dump(render(d))}`)
      .join('');
    const path = fileURLToPath(new URL(`./golden/${name}.txt`, import.meta.url));
    if (update) writeFileSync(path, text);
    t.is(text, readFileSync(path, 'utf8'));
  });
}
