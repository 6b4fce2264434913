import type { RunEvent } from '../engine/events.ts';
import { mask } from '../core/secret.ts';

export interface PlainOptions {
  diff: boolean;
  write: (line: string) => void;
  /** Show ok (no-op) steps too. */
  verbose?: boolean;
}

/** Off a TTY: one line per event worth reading. */
export function plainReporter(opts: PlainOptions): (e: RunEvent) => void {
  const out = (s: string) => opts.write(mask(s));
  return (e) => {
    switch (e.type) {
      case 'host:connected':
        out(`[${e.host}] connected`);
        break;
      case 'host:warning':
        out(`[${e.host}] warning: ${e.message}`);
        break;
      case 'host:facts':
        out(`[${e.host}] ${e.facts.os.prettyName} ${e.facts.machine} ${e.facts.libc} ${e.facts.init}`);
        break;
      case 'op:result': {
        const r = e.result;
        if (r.status === 'ok' && !opts.verbose) break;
        out(`[${e.host}] ${r.handler ? 'handler ' : ''}${r.role}/${r.id}: ${r.status} - ${r.reason}`);
        for (const w of r.warnings ?? []) if (w !== r.reason) out(`[${e.host}]   warning: ${w}`);
        if (r.error && r.error !== r.reason) out(r.error.split('\n').map((l) => `[${e.host}]   ${l}`).join('\n'));
        if (opts.diff && r.diff) out(r.diff.split('\n').map((l) => `[${e.host}]   ${l}`).join('\n'));
        break;
      }
      case 'host:end':
        if (e.summary.unreachable) out(`[${e.host}] UNREACHABLE: ${e.summary.error ?? ''}`);
        else if (e.summary.error) out(`[${e.host}] FAILED: ${e.summary.error}`);
        break;
      default:
        break;
    }
  };
}
