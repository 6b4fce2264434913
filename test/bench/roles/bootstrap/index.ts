// The benchmark's board-bootstrap workload (a user's role, not one of cairn's): the
// kinds of tasks a new board gets. A 30 MiB binary and a tarball from the
// controller, a rendered config, several edits of one file (lines, a block) and a
// replace in an unpacked one, two users, and a handler the binary and the config notify.
import { archive, block, command, defineRole, directory, file, line, replace, sh, user } from 'cairn-provision';

export default defineRole({
  name: 'bootstrap',
  defaults: { bench_payload: '', bench_workers: 4 },
  steps(ctx) {
    const payload = ctx.vars.bench_payload as string;
    if (!payload) throw new Error('bootstrap: bench_payload (the payload directory) is not set');
    return [
      user({ id: 'user-agent', name: 'benchagent', system: true, home: '/var/lib/bench', createHome: false, shell: '/sbin/nologin' }),
      user({ id: 'user-ops', name: 'benchops', home: '/home/benchops', shell: '/bin/sh' }),
      directory({ id: 'dir-opt', path: '/opt/bench/bin', mode: '0755' }),
      directory({ id: 'dir-etc', path: '/etc/bench', mode: '0755' }),
      directory({ id: 'dir-state', path: '/var/lib/bench', mode: '0750', owner: 'benchagent' }),
      file({ id: 'agent-binary', path: '/opt/bench/bin/agent', src: `${payload}/agent`, mode: '0755', notify: ['restart agent'] }),
      archive({ id: 'bundle', src: `${payload}/bundle.tar.gz`, dest: '/opt/bench/share', creates: '/opt/bench/share/bundle/README' }),
      file({ id: 'agent-config', path: '/etc/bench/agent.conf', content: ctx.template('agent.conf.hbs'), mode: '0640', notify: ['restart agent'] }),
      // several edits of one file in one run (a file that only these steps write: they converge)
      line({ id: 'limits-header', path: '/etc/bench/limits.conf', line: '# bench limits', create: true, mode: '0644' }),
      line({ id: 'limits-workers', path: '/etc/bench/limits.conf', regexp: '^workers\\s*=', line: `workers = ${ctx.vars.bench_workers as number}` }),
      line({ id: 'limits-node', path: '/etc/bench/limits.conf', line: `node = ${ctx.host.name}` }),
      block({ id: 'limits-peers', path: '/etc/bench/limits.conf', block: 'peer = a\npeer = b\n' }),
      // an edit of a file the tarball brought
      replace({ id: 'bundle-edit', path: '/opt/bench/share/bundle/data-0.txt', regexp: '^line of bundled data$', replace: 'line of edited data' }),
    ];
  },
  handlers: () => ({
    'restart agent': [command({ id: 'restart-agent', run: sh`date +%s > /var/lib/bench/restarted`, notIdempotent: true })],
  }),
});
