// Test role: the stand-in nomad + consul agents (test/agent) installed as OpenRC
// services with their data_dirs, the way the real consul/nomad roles do, so a
// baked image boots agents that make their own node ids. Works on OpenRC 0.24
// (Alpine 3.7) and later: start-stop-daemon in the background, logs to log_file.
import { defineRole, directory, file, service } from '../../../../../src/index.ts';

const initd = (name: string, config: string) => `#!/sbin/openrc-run
description="cairn stand-in ${name} agent"
command=/usr/local/bin/${name}
command_args="agent -config=${config}"
command_background=true
pidfile=/run/${name}.pid
depend() { need net; }
`;

export default defineRole({
  name: 'standin-agents',
  steps(ctx) {
    const consulBin = String(ctx.vars.standin_consul_bin);
    const nomadBin = String(ctx.vars.standin_nomad_bin);
    return [
      file({ id: 'consul-bin', path: '/usr/local/bin/consul', src: consulBin, mode: '0755' }),
      file({ id: 'nomad-bin', path: '/usr/local/bin/nomad', src: nomadBin, mode: '0755' }),
      directory({ id: 'consul-etc', path: '/etc/consul.d', mode: '0755' }),
      directory({ id: 'nomad-etc', path: '/etc/nomad.d', mode: '0755' }),
      directory({ id: 'consul-log', path: '/var/log/consul', mode: '0755' }),
      directory({ id: 'nomad-log', path: '/var/log/nomad', mode: '0755' }),
      file({
        id: 'consul-config',
        path: '/etc/consul.d/consul.hcl',
        mode: '0644',
        content: 'data_dir = "/opt/consul"\nserver = true\nbootstrap_expect = 1\nbind_addr = "127.0.0.1"\nclient_addr = "127.0.0.1"\nlog_file = "/var/log/consul/"\n',
      }),
      file({
        id: 'nomad-config',
        path: '/etc/nomad.d/nomad.hcl',
        mode: '0644',
        content: 'data_dir = "/opt/nomad/data"\nbind_addr = "127.0.0.1"\nlog_file = "/var/log/nomad/"\nserver {\n  enabled = true\n  bootstrap_expect = 1\n}\nclient {\n  enabled = true\n}\n',
      }),
      file({ id: 'consul-initd', path: '/etc/init.d/consul', mode: '0755', content: initd('consul', '/etc/consul.d') }),
      file({ id: 'nomad-initd', path: '/etc/init.d/nomad', mode: '0755', content: initd('nomad', '/etc/nomad.d') }),
      service({ id: 'consul', name: 'consul', enabled: true, state: 'started' }),
      service({ id: 'nomad', name: 'nomad', enabled: true, state: 'started' }),
    ];
  },
});
