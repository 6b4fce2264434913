// Demo role: a small daemon under the host's own init system (OpenRC or systemd),
// a config file that restarts it through a handler, and a wait for its port.
import { defineRole, packages, directory, file, service, restartService, daemonReload, wait } from 'cairn-provision';

export default defineRole({
  name: 'hello',
  defaults: { hello_port: 8088, hello_greeting: 'hello from cairn' },
  steps(ctx) {
    const systemd = ctx.facts.init === 'systemd';
    return [
      // busybox's nc serves the port (Debian minbase has no busybox)
      ...(ctx.facts.os.family === 'debian' ? [packages({ id: 'busybox', names: ['busybox'], state: 'present' })] : []),
      directory({ id: 'etc', path: '/etc/hello', mode: '0755' }),
      file({ id: 'config', path: '/etc/hello/hello.conf', mode: '0644', content: ctx.template('hello.conf.hbs'), notify: ['restart hello'] }),
      file({ id: 'daemon', path: '/usr/local/bin/hello-d', mode: '0755', content: ctx.template('hello-d.sh.hbs'), notify: ['restart hello'] }),
      systemd
        ? file({ id: 'unit', path: '/etc/systemd/system/hello.service', mode: '0644', content: ctx.template('hello.service.hbs'), notify: ['reload systemd', 'restart hello'] })
        : file({ id: 'initd', path: '/etc/init.d/hello', mode: '0755', content: ctx.template('hello.initd.hbs'), notify: ['restart hello'] }),
      service({ id: 'service', name: 'hello', enabled: true, state: 'started' }),
      ...(ctx.bake ? [] : [wait({ id: 'listening', tcp: { host: '127.0.0.1', port: Number(ctx.vars.hello_port) }, timeoutMs: 20000 })]),
    ];
  },
  handlers: (ctx) => ({
    'reload systemd': ctx.facts.init === 'systemd' ? [daemonReload({ id: 'daemon-reload' })] : [],
    'restart hello': [restartService({ id: 'restart', name: 'hello' })],
  }),
});
