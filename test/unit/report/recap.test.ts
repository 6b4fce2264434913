import test from 'ava';
import type { HostSummary, OpResult } from '../../../src/engine/events.ts';
import { formatDuration, recapTable, slowestSteps } from '../../../src/report/recap.ts';
import { jsonReport } from '../../../src/report/json.ts';

const op = (id: string, durationMs: number, status: OpResult['status'] = 'ok'): OpResult => ({ role: 'r', id, kind: 'file', status, reason: 'x', durationMs });
const host = (ops: OpResult[], durationMs?: number, more: Partial<HostSummary> = {}): HostSummary => ({
  ok: ops.length, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 2, ops, ...(durationMs !== undefined ? { durationMs } : {}), ...more,
});

test('formatDuration', (t) => {
  t.is(formatDuration(45), '45ms');
  t.is(formatDuration(1234), '1.2s');
  t.is(formatDuration(59_940), '59.9s');
  t.is(formatDuration(59_990), '1m00s');
  t.is(formatDuration(125_000), '2m05s');
});

test('the recap has a time column and names the slowest steps of 1s or more', (t) => {
  const text = recapTable({ alp1: host([op('a', 4000), op('b', 200), op('c', 1500), op('d', 9000, 'skipped'), op('e', 2500)], 12_300), pi1: host([], undefined, { unreachable: true }) });
  t.deepEqual(text.split('\n'), [
    'RECAP',
    'HOST            ok     changed      failed     skipped unreachable        time',
    'alp1             5           0           0           0          no       12.3s',
    'pi1              0           0           0           0         yes           -',
    'slowest: [alp1] r/a 4.0s, [alp1] r/e 2.5s, [alp1] r/c 1.5s',
  ]);
});

test('one host: the slowest line does not repeat its name; fast steps are not listed', (t) => {
  t.regex(recapTable({ h: host([op('a', 1000)], 1000) }), /\nslowest: r\/a 1\.0s$/);
  t.notRegex(recapTable({ h: host([op('a', 999)], 1000) }), /slowest/);
});

test('slowestSteps leaves skipped steps out', (t) => {
  t.deepEqual(slowestSteps({ h: host([op('a', 5), op('b', 50, 'skipped'), op('c', 7)]) }, 5), [
    { host: 'h', step: 'r/c', ms: 7 },
    { host: 'h', step: 'r/a', ms: 5 },
  ]);
});

test('--json starts with its format version and carries durations', (t) => {
  const doc = JSON.parse(jsonReport('check', { h: host([op('a', 12)], 34) }));
  t.is(Object.keys(doc)[0], 'format');
  t.is(doc.format, 1);
  t.is(doc.hosts.h.durationMs, 34);
  t.is(doc.hosts.h.ops[0].durationMs, 12);
});
