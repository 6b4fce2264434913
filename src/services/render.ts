import type { ResolvedDescription } from './description.ts';
import type { Supervision } from './supervisor.ts';
import type { ServiceFile } from './service-file.ts';
import { renderOpenrc } from './render-openrc.ts';
import { renderS6 } from './render-s6.ts';
import { renderS6Openrc } from './render-s6-openrc.ts';
import { renderSystemd } from './render-systemd.ts';

export type { ServiceFile } from './service-file.ts';
export { renderOpenrc, rcValue, outputLogPath } from './render-openrc.ts';
export { renderS6, S6_LOCK_FD, S6_CRASH_BURST } from './render-s6.ts';
export { renderS6Openrc } from './render-s6-openrc.ts';
export { renderSystemd } from './render-systemd.ts';

/** Every file of the service for this supervision. */
export function renderService(d: ResolvedDescription, sup: Supervision): ServiceFile[] {
  switch (sup.kind) {
    case 'openrc':
      return renderOpenrc(d, sup);
    case 's6-openrc':
      return renderS6Openrc(d, sup);
    case 's6':
      return renderS6(d, sup);
    case 'systemd':
      return renderSystemd(d);
  }
}
