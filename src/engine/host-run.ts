import { readFileSync } from 'node:fs';
import type { Connector } from '../connectors/connector.ts';
import type { StdinGate } from '../connectors/stdin.ts';
import type { Facts } from '../facts/types.ts';
import type { HostSpec, Inventory, Vars } from '../inventory/types.ts';
import { change, type Operation, type Plan, type Command, type ChangePlan, type ApplyRuntime, type PathEffect } from '../operations/operation.ts';
import type { LoadedRole } from '../roles/loader.ts';
import type { TemplateRenderer } from '../roles/context.ts';
import { makeRoleContext } from '../roles/context.ts';
import type { RoleContext } from '../roles/role.ts';
import { type ShellCommand, isShellCommand, sh } from '../shell/sh.ts';
import { batch, strict } from './batch.ts';
import type { CommandResult } from '../core/result.ts';
import { mask } from '../core/secret.ts';
import type { EventSink, HostSummary, OpResult } from './events.ts';
import type { Semaphore } from '../core/semaphore.ts';
import { factsCommand } from '../facts/gather.ts';
import { parseFacts } from '../facts/parse.ts';
import { CommandFailedError, NOT_RUN_AFTER_FAILURE, UnreachableError, describeFailure } from '../core/errors.ts';
import { batchCost, chunkBySize } from './chunk.ts';
import { changeChunks } from './change-batch.ts';
import { PathLedger } from './path-ledger.ts';
import { combinedDiffs } from './combined-diff.ts';
import { clearNotes, parseNotes, readNotes, writeNotes, type PendingHandler } from './pending-handlers.ts';

export interface HostJob {
  host: HostSpec;
  roles: LoadedRole[];
  /** Merged vars of this host (or `other`) for a role (defaults < global < group < host < -e). */
  varsFor(role: LoadedRole, other?: HostSpec): Vars;
  hostsWithRole(role: string): HostSpec[];
  inventory: Inventory;
}

export interface HostRunOptions {
  mode: 'apply' | 'check';
  bake: boolean;
  /** Only roles or steps (`role` or `role/id`) named here. */
  tags?: string[];
  /** Not the roles or steps (`role` or `role/id`) named here (wins over `tags`). */
  skipTags?: string[];
  emit: EventSink;
  /** Per-role limits (role.serial): hosts apply such a role this many at a time. */
  roleLimits: Map<string, Semaphore>;
  render: TemplateRenderer;
  commandTimeoutMs: number;
  /** Admits the batches' tar streams above a few MiB, a few hosts at a time (bounds the bytes in flight). */
  uploadGate?: StdinGate;
  /** A new connector to the same host (for fresh-login checks). */
  reconnect?: () => Connector;
}

interface Step {
  role: LoadedRole;
  op: Operation;
  handler: boolean;
}

/**
 * A planned change waiting to be applied. `silent`: not a step of the report (the
 * removal of handler notes after the handlers), named by it if it fails; `done` runs
 * when it succeeded.
 */
interface Queued {
  step: Step;
  plan: ChangePlan;
  silent?: string;
  done?: () => void;
}

/** Does an operation have a controller-side preparation (artifacts: fetch + verify)? */
function hasPrepare(op: Operation): op is Operation & { prepare(): Promise<void> } {
  return typeof (op as { prepare?: unknown }).prepare === 'function';
}

/** A batch's tar stream at least this big shows its progress (on a TTY). */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

/** Reads the notes of handlers still pending, in the up-front probe's round trip. */
const NOTES_PROBE: Operation = { kind: 'pending-handlers', id: '(pending handlers)', probe: () => readNotes(), plan: () => ({ kind: 'noop', reason: '' }) };

/** The stable path of a step: `role/id`. */
function stepPath(step: Step): string {
  return `${step.role.def.name}/${step.op.id}`;
}

/** Is step `role/id` run under --tags / --skip-tags? */
export function selected(tags: readonly string[] | undefined, role: string, id: string, skipTags?: readonly string[]): boolean {
  const names = (t: string) => t === role || t === `${role}/${id}`;
  if (skipTags?.some(names)) return false;
  if (!tags || tags.length === 0) return true;
  return tags.some(names);
}

class HostRunner {
  readonly summary: HostSummary = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 0, ops: [] };
  facts!: Facts;
  #stopped = false;
  /** What the host is doing (for the error when the connection is lost): 'gathering facts', 'applying nomad/config'... */
  #doing = 'connecting';
  /** The host's connection was lost in an afterChange hook (which may catch errors). */
  #lost?: UnreachableError;
  /** Changes were applied since the up-front probe: later roles must probe again. */
  dirty = false;
  /** What planned changes leave at paths, and when each step was last probed. */
  readonly ledger = new PathLedger();
  /** Handlers notified on the host and not run yet (read up front), and those noted in this run. */
  pending: PendingHandler[] = [];
  readonly #noted: PendingHandler[] = [];
  constructor(
    readonly job: HostJob,
    readonly conn: Connector,
    readonly opts: HostRunOptions,
  ) {}

  get name(): string {
    return this.job.host.name;
  }

  async exec(cmd: ShellCommand, what: string): Promise<CommandResult> {
    this.summary.roundTrips++;
    const res = await this.conn.run(cmd, { timeoutMs: this.opts.commandTimeoutMs });
    if (res.exitCode !== 0) throw new CommandFailedError(this.name, res, what);
    return res;
  }

  /** When each step was started (planned), for its duration. */
  readonly #startedAt = new WeakMap<Step, number>();

  record(step: Step, result: Omit<OpResult, 'role' | 'id' | 'kind' | 'durationMs'>): void {
    const started = this.#startedAt.get(step);
    const r: OpResult = {
      role: step.role.def.name,
      id: step.op.id,
      kind: step.op.kind,
      ...result,
      durationMs: started === undefined ? 0 : Math.round(performance.now() - started),
      ...(result.diff !== undefined ? { diff: mask(result.diff) } : {}),
      ...(result.error !== undefined ? { error: mask(result.error) } : {}),
      reason: mask(result.reason),
      ...(step.handler ? { handler: true } : {}),
    };
    this.summary.ops.push(r);
    if (r.status === 'ok' || r.status === 'warning') this.summary.ok++;
    else if (r.status === 'changed') this.summary.changed++;
    else if (r.status === 'failed') this.summary.failed++;
    else this.summary.skipped++;
    this.opts.emit({ type: 'op:result', host: this.name, result: r });
  }

  async gatherFacts(): Promise<void> {
    this.#doing = 'gathering facts';
    const res = await this.exec(factsCommand(), 'gathering facts');
    this.facts = parseFacts(res.stdout, { chroot: this.conn.kind === 'chroot' });
    this.opts.emit({ type: 'host:facts', host: this.name, facts: this.facts });
  }

  /** The steps' probe commands (they count as probed now); `out` gets undefined for a step without one. */
  probeCommands(steps: readonly Step[], out: Map<Step, CommandResult | undefined>): { step: Step; cmd: ShellCommand }[] {
    const ctx = this.opCtx();
    const withProbe: { step: Step; cmd: ShellCommand }[] = [];
    for (const step of steps) {
      this.ledger.probed(step);
      const cmd = step.op.probe(ctx);
      if (cmd) withProbe.push({ step, cmd });
      else out.set(step, undefined);
    }
    return withProbe;
  }

  /** One round trip: the probe of every step that has one. */
  async probe(steps: readonly Step[]): Promise<Map<Step, CommandResult | undefined>> {
    const out = new Map<Step, CommandResult | undefined>();
    const withProbe = this.probeCommands(steps, out);
    if (withProbe.length === 0) return out;
    this.#doing = `probing ${[...new Set(withProbe.map((p) => stepPath(p.step)))].join(', ')}`;
    // one round trip, unless the probes are too long for one command (see chunk.ts)
    for (const chunk of chunkBySize(withProbe, (p) => batchCost(p.cmd))) {
      const b = batch(chunk.map((p) => p.cmd));
      const res = await this.exec(b.command, 'probing current state');
      const parts = b.parse(res.stdout);
      chunk.forEach(({ step, cmd }, i) => {
        const part = parts[i];
        if (!part) throw new Error(`probe output of ${stepPath(step)} is missing from the batch (output cut short?)`);
        // one round trip carried every probe of the chunk: each has its duration
        out.set(step, { command: cmd.display, durationMs: res.durationMs, ...part });
      });
    }
    return out;
  }

  opCtx() {
    return { host: this.name, facts: this.facts, bake: this.opts.bake, pendingChanges: this.opts.mode === 'check' && this.summary.changed > 0 };
  }

  /**
   * Run queued change plans: runs of plans without an afterChange hook in as few round
   * trips as the command size allows (their uploads on the batch's stdin, see
   * change-batch.ts), a plan with a hook on its own. With `then`, those steps are
   * probed after the last change, in the same round trip when it can be: their probes
   * (undefined for a step without one); nothing when the host stopped.
   */
  async flush(queue: Queued[], then: readonly Step[] = []): Promise<Map<Step, CommandResult | undefined>> {
    let i = 0;
    let probed: Map<Step, CommandResult | undefined> | undefined;
    while (i < queue.length && !this.#stopped) {
      const run: Queued[] = [];
      while (i < queue.length && !queue[i]!.step.op.afterChange) run.push(queue[i++]!);
      if (run.length > 0) {
        const last = i >= queue.length;
        const p = await this.flushBatched(run, last ? then : []);
        if (last) probed = p;
      }
      if (i < queue.length && !this.#stopped) await this.flushMixed(queue[i++]!);
    }
    // whatever was not run because the host stopped
    for (; i < queue.length; i++) this.skip(queue[i]!);
    if (this.#stopped) return new Map();
    return probed ?? (then.length > 0 ? await this.probe(then) : new Map());
  }

  /** A queued change not run because the host stopped. */
  skip(q: Queued, reason = NOT_RUN_AFTER_FAILURE): void {
    if (!q.silent) this.record(q.step, { status: 'skipped', reason });
  }

  /** Changes without hooks, uploads included, then the probes of `then`: usually one round trip. */
  async flushBatched(items: Queued[], then: readonly Step[]): Promise<Map<Step, CommandResult | undefined>> {
    const out = new Map<Step, CommandResult | undefined>();
    const probing = this.probeCommands(then, out);
    const chunks = changeChunks(
      items.map((it) => it.plan.commands),
      probing.map((p) => p.cmd),
    );
    for (const chunk of chunks) {
      if (this.#stopped) {
        for (const c of chunk.changes) this.skip(items[c]!);
        continue;
      }
      const names = chunk.changes.map((c) => items[c]!).filter((q) => !q.silent).map((q) => stepPath(q.step));
      const probes = chunk.probes.map((j) => stepPath(probing[j]!.step));
      this.#doing = [names.length ? `applying ${names.join(', ')}` : '', probes.length ? `probing ${probes.join(', ')}` : ''].filter(Boolean).join(', then ');
      if (chunk.stage) this.#doing += ` (with ${chunk.stage.files} files, ${chunk.stage.bytes} bytes, on stdin)`;
      this.summary.roundTrips++;
      const progress = chunk.stage && chunk.stage.bytes >= PROGRESS_MIN_BYTES ? this.progress(items[chunk.stage.before]!.step.role.def.name, chunk.stage.files) : undefined;
      const res = await this.conn.run(chunk.command, {
        timeoutMs: this.opts.commandTimeoutMs,
        ...(chunk.stdin ? { stdin: chunk.stdin } : {}),
        ...(progress ? { onStdinProgress: progress } : {}),
        ...(this.opts.uploadGate ? { stdinGate: this.opts.uploadGate } : {}),
      });
      const parsed = chunk.parse(res.stdout);
      let stageFailed: number | undefined;
      if (chunk.stage && parsed.stage && parsed.stage.exitCode !== 0) {
        stageFailed = chunk.stage.before;
        const first = items[chunk.stage.before]!;
        const msg = `sending ${chunk.stage.files} file(s) (${chunk.stage.bytes} bytes) as a tar stream failed (exit ${parsed.stage.exitCode}): ${parsed.stage.stderr.trim() || parsed.stage.stdout.trim()}`;
        this.failedItem(first, msg);
      }
      chunk.changes.forEach((c, idx) => {
        const it = items[c]!;
        if (c === stageFailed) return;
        const part = parsed.changes[idx];
        if (this.#stopped || !part) {
          if (part === undefined && !this.#stopped) {
            this.skip(it, `not run (batch exited ${res.exitCode}: ${res.stderr.trim()})`);
            this.#stopped = true;
          } else this.skip(it);
          return;
        }
        if (part.exitCode === 0) {
          if (it.silent) it.done?.();
          else this.changed(it.step, it.plan);
        } else if (it.silent) {
          this.failedItem(it, describeFailure({ what: it.silent, command: commandSummary(it.plan.commands), exitCode: part.exitCode, stdout: part.stdout, stderr: part.stderr }));
        } else this.failed(it.step, it.plan, part);
      });
      if (this.#stopped) continue;
      chunk.probes.forEach((j, idx) => {
        const { step, cmd } = probing[j]!;
        const part = parsed.probes[idx];
        if (!part) throw new Error(`probe output of ${stepPath(step)} is missing from the batch (output cut short?)`);
        out.set(step, { command: cmd.display, durationMs: res.durationMs, ...part });
      });
    }
    return out;
  }

  /** Progress events of a tar stream of `files` files: at every 5% and at the end. */
  progress(role: string, files: number): (sent: number, total: number) => void {
    let shown = -1;
    return (sent, total) => {
      const pct = total > 0 ? Math.floor((sent * 100) / total) : 100;
      if (pct < shown + 5 && sent < total) return;
      shown = pct;
      const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
      this.opts.emit({ type: 'host:progress', host: this.name, role, text: `sending ${files} file${files === 1 ? '' : 's'}: ${mib(sent)} of ${mib(total)} MiB (${pct}%)` });
    };
  }

  /** A queued item failed outside its commands (the stage) or a silent one failed: the host stops. */
  failedItem(it: Queued, message: string): void {
    if (it.silent) {
      this.summary.failed++;
      this.summary.error = mask(message);
      this.#stopped = true;
    } else this.failedWith(it.step, it.plan, message);
  }

  async flushMixed(it: Queued): Promise<void> {
    this.#doing = `applying ${stepPath(it.step)}`;
    for (const c of it.plan.commands as Command[]) {
      if (isShellCommand(c)) {
        this.summary.roundTrips++;
        const res = await this.conn.run(strict([c]), { timeoutMs: this.opts.commandTimeoutMs });
        if (res.exitCode !== 0) return this.failed(it.step, it.plan, res);
      } else {
        this.summary.roundTrips++;
        try {
          const bytes = Buffer.isBuffer(c.content) ? c.content : readFileSync(c.content.file).subarray(0, c.content.size);
          await this.conn.upload(c.path, bytes, c.mode !== undefined ? { mode: c.mode } : {});
        } catch (err) {
          // the connection lost: the host is unreachable (run() reports it), not this step failed
          if (err instanceof UnreachableError) throw err;
          return this.failedWith(it.step, it.plan, `upload of ${c.description} to ${c.path} failed: ${(err as Error).message}`);
        }
      }
    }
    if (it.step.op.afterChange) {
      try {
        await it.step.op.afterChange(this.runtime());
      } catch (err) {
        // this host's connection lost; a fresh login that fails is the step's failure
        if (this.#lost) throw this.#lost;
        return this.failedWith(it.step, it.plan, (err as Error).message);
      }
    }
    this.changed(it.step, it.plan);
  }

  runtime(): ApplyRuntime {
    return {
      host: this.name,
      run: (cmd, o) => {
        this.summary.roundTrips++;
        return this.conn.run(cmd, { timeoutMs: o?.timeoutMs ?? this.opts.commandTimeoutMs }).catch((err: unknown) => {
          if (err instanceof UnreachableError) this.#lost ??= err;
          throw err;
        });
      },
      freshLogin: async () => {
        const r = await this.freshRun(sh`true`, 30000);
        if (r.exitCode !== 0) throw new Error(`a fresh login to ${this.name} ran 'true' with exit code ${r.exitCode}: ${r.stderr.trim()}`);
      },
      freshRun: (cmd, o) => {
        this.summary.roundTrips++;
        return this.freshRun(cmd, o?.timeoutMs ?? this.opts.commandTimeoutMs);
      },
    };
  }

  /** A NEW connection (the inventory's settings), one command on it, closed again. */
  private async freshRun(cmd: ShellCommand, timeoutMs: number): Promise<CommandResult> {
    if (!this.opts.reconnect) throw new Error('a fresh login cannot be made here (no connector factory)');
    const c = this.opts.reconnect();
    try {
      await c.connect();
      return await c.run(cmd, { timeoutMs });
    } finally {
      await c.close().catch(() => undefined);
    }
  }

  changed(step: Step, plan: ChangePlan): void {
    if (this.opts.mode === 'apply') this.dirty = true;
    if (this.opts.mode === 'check') this.ledger.record(stepPath(step), plan.effects ?? []);
    this.record(step, {
      status: 'changed',
      reason: plan.reason,
      ...(plan.diff !== undefined ? { diff: plan.diff } : {}),
      ...(plan.warnings?.length ? { warnings: [...plan.warnings] } : {}),
    });
  }

  /** A change that failed without a command's exit code (an upload, a check on the controller). */
  failedWith(step: Step, plan: ChangePlan, message: string): void {
    this.record(step, { status: 'failed', reason: plan.reason, error: mask(`${plan.reason}: ${message}`) });
    this.#stopped = true;
  }

  failed(step: Step, plan: ChangePlan, part: { exitCode: number; stdout: string; stderr: string }): void {
    const error = describeFailure({ what: plan.reason, command: commandSummary(plan.commands), exitCode: part.exitCode, stdout: part.stdout, stderr: part.stderr });
    this.record(step, { status: 'failed', reason: plan.reason, error });
    this.#stopped = true;
  }

  /**
   * Plan and (in apply mode) run a list of steps, re-probing after changes. With
   * `pending` (changes planned before and not applied yet), those go first: in the
   * round trip of these steps' probe, or ahead of their changes when none has a probe.
   * With `keep`, the changes still queued at the end are returned, not applied (the
   * caller adds the handlers' and applies them in one round trip).
   */
  async runSteps(
    steps: Step[],
    initial?: Map<Step, CommandResult | undefined>,
    runHandlers?: (names: Set<string>) => Promise<void>,
    /** Handlers an earlier run notified and did not run: they run with this role's. */
    earlier: readonly string[] = [],
    o: { pending?: Queued[]; keep?: boolean } = {},
  ): Promise<{ notified: Set<string>; queue: Queued[] }> {
    const notified = new Set<string>(earlier);
    const queue: Queued[] = o.pending ?? [];
    const ctx = this.opCtx();
    let probes =
      initial ??
      (queue.length > 0 && steps.some((s) => s.op.probe(ctx) !== undefined) ? await this.flush(queue.splice(0), steps) : await this.probe(steps));
    let appliedSinceProbe = false;
    for (let i = 0; i < steps.length && !this.#stopped; i++) {
      const step = steps[i]!;
      // like Ansible's flush_handlers: what was notified so far runs before this step
      if (step.op.flushHandlers && this.opts.mode === 'apply' && runHandlers && notified.size > 0) {
        if (queue.length > 0) await this.flush(queue.splice(0));
        if (this.#stopped) break;
        await runHandlers(new Set(notified));
        notified.clear();
        if (this.#stopped) break;
        probes = await this.probe(steps.slice(i));
        appliedSinceProbe = false;
      }
      if (step.op.barrier && this.opts.mode === 'apply') {
        // what is queued, then this step's probe and the later ones', in one round trip
        if (queue.length > 0) {
          probes = await this.flush(queue.splice(0), steps.slice(i));
          appliedSinceProbe = false;
          if (this.#stopped) break;
        } else if (appliedSinceProbe) {
          probes = await this.probe(steps.slice(i));
          appliedSinceProbe = false;
        }
      }
      this.#startedAt.set(step, performance.now());
      this.opts.emit({ type: 'op:start', host: this.name, role: step.role.def.name, id: step.op.id });
      // an earlier step of this run changes a path this one reads: build on what it leaves
      let effects = this.ledger.since(step, step.op.paths ?? []);
      if (effects.length > 0 && (!step.op.planFrom || effects.some((e) => e.effect.kind === 'unknown'))) {
        if (this.opts.mode === 'check') {
          const by = [...new Set(effects.map((e) => `${e.by} (${e.effect.path})`))].join(', ');
          this.record(step, { status: 'skipped', reason: `not checkable before the changes above are applied: it reads what ${by} changes` });
          continue;
        }
        // apply what is queued, then probe again this step and the later ones in the same
        // case, in the same round trip
        const again = steps.slice(i).filter((s) => this.ledger.needsProbe(s, s.op.paths ?? [], !!s.op.planFrom));
        const fresh = queue.length > 0 ? await this.flush(queue.splice(0), again) : await this.probe(again);
        if (this.#stopped) break;
        probes = new Map([...probes, ...fresh]);
        effects = [];
      }
      let plan: Plan;
      try {
        plan =
          effects.length > 0 && step.op.planFrom
            ? step.op.planFrom(probes.get(step), effects.map((e) => e.effect), this.opCtx())
            : step.op.plan(probes.get(step), this.opCtx());
      } catch (err) {
        plan = { kind: 'fail', message: `planning failed: ${(err as Error).message}` };
      }
      if (plan.kind === 'noop') this.record(step, { status: 'ok', reason: plan.reason });
      else if (plan.kind === 'warn') this.record(step, { status: 'warning', reason: plan.message, warnings: [plan.message] });
      else if (plan.kind === 'fail' && this.opCtx().pendingChanges) {
        // check: an earlier step would change this host first (install the binary this one
        // asks for the version of, say), so this one cannot be judged yet: say so, go on
        this.record(step, { status: 'skipped', reason: `not checkable before the changes above are applied: ${plan.message}` });
      } else if (plan.kind === 'fail') {
        this.record(step, { status: 'failed', reason: plan.message, error: plan.message });
        this.#stopped = true;
      } else if (this.opts.mode === 'check') {
        this.changed(step, plan);
        for (const n of plan.satisfies ?? []) notified.delete(n);
        for (const n of step.op.notify ?? []) notified.add(n);
      } else {
        queue.push({ step, plan: this.withNotes(step, this.satisfying(step, plan, notified)) });
        this.ledger.record(stepPath(step), plan.effects ?? []);
        for (const n of step.op.notify ?? []) notified.add(n);
      }
    }
    if (this.#stopped) {
      for (const q of queue.splice(0)) this.skip(q);
    } else if (queue.length > 0 && !o.keep) await this.flush(queue.splice(0));
    return { notified, queue };
  }

  /**
   * A change that leaves handlers nothing to do (a service started from stopped):
   * they leave this run, and their notes (this run's and earlier runs') are removed
   * in the change's own command, after it.
   */
  satisfying(step: Step, plan: ChangePlan, notified: Set<string>): ChangePlan {
    const role = step.role.def.name;
    const names = (plan.satisfies ?? []).filter((n) => notified.has(n));
    if (names.length === 0) return plan;
    for (const n of names) notified.delete(n);
    const done = [...this.pending, ...this.#noted].filter((p) => p.role === role && names.includes(p.handler));
    this.pending = this.pending.filter((p) => !done.includes(p));
    for (const p of done) {
      const i = this.#noted.indexOf(p);
      if (i >= 0) this.#noted.splice(i, 1);
    }
    const reason = `${plan.reason} (${names.map((n) => `'${n}'`).join(', ')} not needed: it starts with what the steps before wrote)`;
    return { ...plan, reason, commands: done.length > 0 && !this.opts.bake ? [...plan.commands, clearNotes(done)] : plan.commands };
  }

  /** A notifying change also notes, on the host and in the same command, the handlers it notifies. */
  withNotes(step: Step, plan: ChangePlan): ChangePlan {
    if (this.opts.bake || !step.op.notify?.length || step.handler) return plan;
    const notes = step.op.notify.map((handler) => ({ role: step.role.def.name, handler, step: stepPath(step) }));
    this.#noted.push(...notes);
    return { ...plan, commands: [writeNotes(notes), ...plan.commands] };
  }

  readPending(probe: CommandResult | undefined): void {
    if (!probe || probe.exitCode !== 0) return;
    const { notes, unreadable } = parseNotes(probe.stdout);
    this.pending = notes;
    for (const u of unreadable) this.opts.emit({ type: 'host:warning', host: this.name, message: `a pending-handler note cannot be read and is ignored: ${u.slice(0, 200)}` });
  }

  /**
   * The role's handlers still pending from an earlier run. In check they are drift,
   * reported as changes of the handler; in apply they run with this run's (a note
   * naming a handler the role no longer has is dropped, with a warning).
   */
  pendingOf(role: LoadedRole, ctx: RoleContext): { run: string[]; dropped: PendingHandler[] } {
    const mine = this.pending.filter((p) => p.role === role.def.name);
    if (mine.length === 0) return { run: [], dropped: [] };
    const defined = role.def.handlers ? Object.keys(role.def.handlers(ctx)) : [];
    const out: string[] = [];
    const dropped: PendingHandler[] = [];
    for (const handler of [...new Set(mine.map((p) => p.handler))]) {
      const by = [...new Set(mine.filter((p) => p.handler === handler).map((p) => p.step))].join(', ');
      const op = { kind: 'handler', id: handler, probe: () => undefined, plan: () => ({ kind: 'noop', reason: '' }) as const };
      const step: Step = { role, op, handler: true };
      if (!defined.includes(handler)) {
        this.record(step, { status: 'warning', reason: `a note says handler '${handler}' is pending (notified by ${by}), but role '${role.def.name}' has no such handler now: dropped`, warnings: [] });
        dropped.push(...mine.filter((p) => p.handler === handler));
        continue;
      }
      if (this.opts.mode === 'check') {
        this.record(step, { status: 'changed', reason: `handler '${handler}' is pending: notified by ${by} in an earlier run that did not run it` });
      } else out.push(handler);
    }
    return { run: out, dropped };
  }

  /** The handlers ran: remove their notes (earlier runs' and this run's). */
  /** The handlers ran: the removal of their notes (earlier runs' and this run's), queued after them. */
  clearNotesItem(role: LoadedRole, handlers: ReadonlySet<string>): Queued | undefined {
    if (this.opts.bake || this.opts.mode !== 'apply') return undefined;
    const done = [...this.pending, ...this.#noted].filter((p) => p.role === role.def.name && handlers.has(p.handler));
    if (done.length === 0) return undefined;
    const op: Operation = { kind: 'pending-handlers', id: '(handler notes)', probe: () => undefined, plan: () => ({ kind: 'noop', reason: '' }) };
    return {
      step: { role, op, handler: true },
      plan: change('remove the notes of handlers that ran', [clearNotes(done)]),
      silent: `removing the notes of handlers that ran (${[...handlers].join(', ')})`,
      done: () => {
        this.pending = this.pending.filter((p) => !done.includes(p));
      },
    };
  }

  /** Build a role's steps for this host (needs facts). */
  buildRole(role: LoadedRole): { ctx: RoleContext; steps: Step[] } {
    const name = role.def.name;
    const ctx = makeRoleContext({
      role,
      host: this.job.host,
      vars: this.job.varsFor(role),
      facts: this.facts,
      inventory: this.job.inventory,
      hostsWithRole: this.job.hostsWithRole(name),
      varsOf: (other) => this.job.varsFor(role, other),
      bake: this.opts.bake,
      render: this.opts.render,
    });
    const ops = role.def.steps(ctx);
    const ids = new Set<string>();
    for (const op of ops) {
      if (ids.has(op.id)) throw new Error(`role '${name}' has two steps with id '${op.id}': step ids must be unique`);
      ids.add(op.id);
    }
    const steps = ops.filter((op) => selected(this.opts.tags, name, op.id, this.opts.skipTags)).map((op) => ({ role, op, handler: false }));
    return { ctx, steps };
  }

  async runRole(role: LoadedRole, ctx: RoleContext, steps: Step[], probes: Map<Step, CommandResult | undefined>): Promise<void> {
    const name = role.def.name;
    this.opts.emit({ type: 'role:start', host: this.name, role: name });
    // the up-front probe is stale once anything was applied on this host
    const fresh = this.dirty ? undefined : probes;
    // with `pending` (the role's changes not applied yet), the handlers' changes and the
    // removal of their notes follow them in the same round trip when they can
    const runHandlers = async (names: Set<string>, pending: Queued[] = []): Promise<void> => {
      if (!role.def.handlers) throw new Error(`role '${name}': steps notify ${[...names].join(', ')} but the role defines no handlers`);
      const handlers = role.def.handlers(ctx);
      for (const n of names) if (!(n in handlers)) throw new Error(`role '${name}': a step notifies handler '${n}', which the role does not define`);
      const hsteps: Step[] = [];
      for (const [hname, hops] of Object.entries(handlers)) {
        if (names.has(hname)) hsteps.push(...hops.map((op) => ({ role, op, handler: true })));
      }
      let queue = pending;
      if (hsteps.length > 0) queue = (await this.runSteps(hsteps, undefined, undefined, [], { pending: queue, keep: true })).queue;
      if (this.#stopped) return;
      const clear = this.clearNotesItem(role, names);
      if (clear) queue.push(clear);
      if (queue.length > 0) await this.flush(queue.splice(0));
    };
    const earlier = this.pendingOf(role, ctx);
    if (earlier.dropped.length > 0 && this.opts.mode === 'apply') await this.exec(clearNotes(earlier.dropped), 'removing notes of handlers the role no longer has');
    const { notified, queue } = await this.runSteps(steps, fresh, runHandlers, earlier.run, { keep: true });
    if (notified.size > 0 && !this.#stopped) await runHandlers(notified, queue);
    else if (queue.length > 0) await this.flush(queue.splice(0));
    this.opts.emit({ type: 'role:end', host: this.name, role: name });
  }

  async run(): Promise<HostSummary> {
    const started = performance.now();
    try {
      return await this.#run();
    } finally {
      this.summary.durationMs = Math.round(performance.now() - started);
    }
  }

  async #run(): Promise<HostSummary> {
    this.opts.emit({ type: 'host:start', host: this.name });
    try {
      await this.conn.connect();
    } catch (err) {
      this.summary.unreachable = true;
      this.summary.error = mask((err as Error).message);
      return this.summary;
    }
    this.opts.emit({ type: 'host:connected', host: this.name });
    try {
      await this.gatherFacts();
      const built = this.job.roles.map((role) => ({ role, ...this.buildRole(role) }));
      for (const b of built) for (const s of b.steps) if (hasPrepare(s.op)) await s.op.prepare();
      // every role's probes in one round trip, with the notes of handlers still pending;
      // a role probes again only after changes
      // (only roles with handlers can have notes)
      const withHandlers = built.find((b) => b.role.def.handlers);
      const notes = withHandlers && !this.opts.bake ? { role: withHandlers.role, op: NOTES_PROBE, handler: false } : undefined;
      const probes = await this.probe([...(notes ? [notes] : []), ...built.flatMap((b) => b.steps)]);
      if (notes) this.readPending(probes.get(notes));
      for (const b of built) {
        if (this.#stopped) break;
        const serialWhen = b.role.def.serialWhen;
        const limited = !serialWhen || serialWhen(this.job.host, b.ctx.vars);
        const limit = limited ? this.opts.roleLimits.get(b.role.def.name) : undefined;
        const go = () => this.runRole(b.role, b.ctx, b.steps, probes);
        if (limit) await limit.use(go);
        else await go();
      }
    } catch (err) {
      // a connection that dropped mid-run is unreachable, anything else a failure
      if (err instanceof UnreachableError) {
        this.summary.unreachable = true;
        this.summary.error = mask(`connection lost while ${this.#doing}: ${err.message}`);
      } else {
        this.summary.failed++;
        this.summary.error = mask((err as Error).message);
      }
    } finally {
      await this.conn.close().catch(() => undefined);
    }
    const files = combinedDiffs(this.ledger.all());
    if (files.length > 0) this.summary.files = files;
    return this.summary;
  }
}

/** The commands of a failed change as the failure shows them: a few lines each (file content can be long). */
function commandSummary(commands: readonly Command[]): string {
  const one = (c: Command) => {
    if (!isShellCommand(c)) return `upload ${c.description} to ${c.path}`;
    const lines = c.display.split('\n');
    const head = lines.slice(0, 3).map((l) => (l.length > 160 ? `${l.slice(0, 160)}...` : l));
    return lines.length > 3 ? [...head, `... (${lines.length - 3} more lines)`].join('\n') : head.join('\n');
  };
  return commands.map(one).join('\n');
}

/** Apply (or check) a host's roles through its connector. Never throws. */
export async function runHost(job: HostJob, conn: Connector, opts: HostRunOptions): Promise<HostSummary> {
  const summary = await new HostRunner(job, conn, opts).run();
  opts.emit({ type: 'host:end', host: job.host.name, summary });
  return summary;
}

/** Connect, gather facts, close. */
export async function gatherHostFacts(host: HostSpec, conn: Connector): Promise<Facts> {
  await conn.connect();
  try {
    const res = await conn.run(factsCommand());
    if (res.exitCode !== 0) throw new CommandFailedError(host.name, res, 'gathering facts');
    return parseFacts(res.stdout, { chroot: conn.kind === 'chroot' });
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export { sh };
