import { script } from '../shell/script.ts';
import type { ResolvedDescription } from './description.ts';

/**
 * The OOM score of the daemon: set on this shell, kept across exec and setuid (the
 * kernel inherits it), so the daemon starts with it. Not fatal where it cannot be set
 * (a container without CAP_SYS_RESOURCE): said in the log (`logTo`: appended to that
 * file as well as printed; s6's run script prints into its log pipe).
 */
export function oomLine(d: ResolvedDescription, logTo?: string): ReturnType<typeof script> {
  if (d.oomScoreAdjust === undefined) return script``;
  const say = `${d.name}: cannot set oom_score_adj ${d.oomScoreAdjust} here; starting without it`;
  const tell = logTo ? script`{ echo ${say}; echo ${say} >> ${logTo}; }` : script`echo ${say}`;
  return script`{ echo ${d.oomScoreAdjust} > /proc/$$/oom_score_adj; } 2>/dev/null || ${tell}\n`;
}
