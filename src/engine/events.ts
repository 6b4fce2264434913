import type { Facts } from '../facts/types.ts';

export type OpStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'warning';

export interface OpResult {
  role: string;
  id: string;
  kind: string;
  status: OpStatus;
  /** noop reason, change description, or why it was skipped. */
  reason: string;
  diff?: string;
  error?: string;
  warnings?: string[];
  /** Handler run, not a step. */
  handler?: boolean;
  /**
   * From the step's planning to its result, in ms: a change waits in its batch, so
   * steps applied in one round trip share that round trip's time.
   */
  durationMs: number;
}

export interface HostSummary {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  /** Round trips to the host after connecting (facts, probes, changes). */
  roundTrips: number;
  /** From the start of the host's run (connecting) to its end, in ms. */
  durationMs?: number;
  ops: OpResult[];
  /** Files that several steps of the run changed: one diff from what the host had to the end result. */
  files?: FileChange[];
  error?: string;
}

export interface FileChange {
  path: string;
  /** `role/id` of each step that changed it, in run order. */
  steps: string[];
  diff: string;
}

/** What the engine reports; renderers (report/) only draw these. */
export type RunEvent =
  | { type: 'run:start'; mode: 'apply' | 'check' | 'facts'; hosts: string[] }
  | { type: 'host:start'; host: string }
  | { type: 'host:connected'; host: string }
  | { type: 'host:facts'; host: string; facts: Facts }
  | { type: 'host:warning'; host: string; message: string }
  | { type: 'role:start'; host: string; role: string }
  | { type: 'op:start'; host: string; role: string; id: string }
  | { type: 'op:result'; host: string; result: OpResult }
  /** Files on their way to the host (a batch's tar stream above a few MB): shown on a TTY. */
  | { type: 'host:progress'; host: string; role: string; text: string }
  | { type: 'role:end'; host: string; role: string }
  | { type: 'host:end'; host: string; summary: HostSummary }
  | { type: 'run:end'; hosts: Record<string, HostSummary> };

export type EventSink = (event: RunEvent) => void;
