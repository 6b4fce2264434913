import { Listr, type ListrTask } from 'listr2';
import type { RunEvent } from '../engine/events.ts';
import { mask } from '../core/secret.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
const deferred = (): Deferred => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/**
 * On a TTY: listr2 progress per host -> role -> operation. The engine emits
 * events; this only draws them. Call `done()` after the run to let listr finish.
 */
export function listrReporter(plan: { host: string; roles: string[] }[], diff: boolean) {
  const hostDone = new Map(plan.map((p) => [p.host, deferred()]));
  const roleDone = new Map<string, Deferred>();
  const roleOut = new Map<string, (s: string) => void>();
  const hostFail = new Map<string, string>();
  const key = (h: string, r: string) => `${h}\u0000${r}`;
  for (const p of plan) for (const r of p.roles) roleDone.set(key(p.host, r), deferred());

  const tasks: ListrTask[] = plan.map((p) => ({
    title: p.host,
    task: (_ctx, task) =>
      task.newListr(
        [
          {
            title: 'connect + facts',
            task: async (_c, t) => {
              await Promise.race([hostDone.get(p.host)!.promise, firstRole(p)]);
              const err = hostFail.get(p.host);
              if (err && p.roles.every((r) => !started.has(key(p.host, r)))) throw new Error(err);
              t.title = 'connect + facts';
            },
          },
          ...p.roles.map<ListrTask>((r) => ({
            title: r,
            task: async (_c, t) => {
              roleOut.set(key(p.host, r), (s) => (t.output = s));
              await Promise.race([roleDone.get(key(p.host, r))!.promise, hostDone.get(p.host)!.promise]);
              const c = counts.get(key(p.host, r));
              if (!started.has(key(p.host, r))) t.skip(`${r}: not run`);
              else if (c && c.failed > 0) throw new Error(`${r}: ${c.lastError}`);
              else t.title = `${r}: ${c?.ok ?? 0} ok, ${c?.changed ?? 0} changed`;
            },
          })),
        ],
        { concurrent: false, exitOnError: true },
      ),
  }));
  const started = new Set<string>();
  const roleStarted = new Map<string, Deferred>(plan.map((p) => [p.host, deferred()]));
  const firstRole = (p: { host: string }) => roleStarted.get(p.host)!.promise;
  const counts = new Map<string, { ok: number; changed: number; failed: number; lastError: string }>();

  const listr = new Listr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } });
  const running = listr.run().catch(() => undefined);

  const onEvent = (e: RunEvent) => {
    if (e.type === 'role:start') {
      started.add(key(e.host, e.role));
      roleStarted.get(e.host)?.resolve();
    } else if (e.type === 'op:start') {
      roleOut.get(key(e.host, e.role))?.(e.id);
    } else if (e.type === 'op:result') {
      const k = key(e.host, e.result.role);
      const c = counts.get(k) ?? { ok: 0, changed: 0, failed: 0, lastError: '' };
      if (e.result.status === 'changed') c.changed++;
      else if (e.result.status === 'failed') {
        c.failed++;
        c.lastError = mask(e.result.error ?? e.result.reason);
      } else c.ok++;
      counts.set(k, c);
      const line = `${e.result.id}: ${e.result.status}${e.result.status === 'changed' ? ` - ${mask(e.result.reason)}` : ''}`;
      roleOut.get(k)?.(diff && e.result.diff ? `${line}\n${mask(e.result.diff)}` : line);
    } else if (e.type === 'host:progress') {
      roleOut.get(key(e.host, e.role))?.(e.text);
    } else if (e.type === 'role:end') {
      roleDone.get(key(e.host, e.role))?.resolve();
    } else if (e.type === 'host:end') {
      if (e.summary.unreachable || e.summary.error) hostFail.set(e.host, e.summary.error ?? 'unreachable');
      hostDone.get(e.host)?.resolve();
    }
  };
  return { onEvent, done: () => running };
}
