import { comment, doubleQuoted, script } from '../shell/script.ts';
import { checkedServiceName, type ResolvedDescription } from './description.ts';
import { dependBlock } from './render-openrc.ts';
import { renderS6 } from './render-s6.ts';
import { HEADER, type ServiceFile } from './service-file.ts';
import type { Supervision } from './supervisor.ts';

/** OpenRC's own s6 support: an init script with supervisor=s6 pointing at the service directory. */
export function renderS6Openrc(d: ResolvedDescription, sup: Pick<Supervision, 'serviceDir' | 's6LockFd'> & { needNet?: boolean }): ServiceFile[] {
  const name = checkedServiceName(d.name);
  const initd = script`#!/sbin/openrc-run
# ${comment(HEADER)}
# Supervised by s6 (OpenRC's s6 support): the service directory is ${comment(sup.serviceDir)}

description=${doubleQuoted(d.description)}
supervisor=s6
s6_service_path=${doubleQuoted(sup.serviceDir)}
s6_service_timeout_stop=35000

${dependBlock(['s6-svscan', ...d.needs], d.after, sup.needNet ?? true)}`;
  return [...renderS6(d, sup), { key: 'initd', path: `/etc/init.d/${name}`, content: initd.text, mode: '0755', restart: true }];
}
