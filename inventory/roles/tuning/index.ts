// Demo role: a sysctl, persisted and live.
import { defineRole, sysctl } from 'cairn-provision';

export default defineRole({
  name: 'tuning',
  defaults: { tcp_keepalive_time: 600 },
  steps: (ctx) => [sysctl({ id: 'keepalive', name: 'net.ipv4.tcp_keepalive_time', value: String(ctx.vars.tcp_keepalive_time) })],
});
