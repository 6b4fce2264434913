// Demo role: a file rendered from a template.
import { defineRole, file } from 'cairn-provision';

export default defineRole({
  name: 'motd',
  description: 'message of the day from a template',
  defaults: { motd_owner: 'the platform team' },
  steps: (ctx) => [file({ id: 'motd', path: '/etc/motd', mode: '0644', content: ctx.template('motd.hbs') })],
});
