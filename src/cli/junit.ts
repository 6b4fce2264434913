import type { HostSummary, OpResult } from '../engine/events.ts';
import { mask } from '../core/secret.ts';

/** Text for XML: secrets masked first, then escaped; characters XML 1.0 forbids become U+FFFD. */
export function xmlText(s: string): string {
  return mask(s)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number | undefined): string => ((ms ?? 0) / 1000).toFixed(3);
const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlText(String(v))}"`)
    .join('');

interface Case {
  name: string;
  ms: number | undefined;
  /** failure type and message, and the details shown as its body */
  failure?: { type: string; message: string; body?: string };
  skipped?: string;
  out?: string;
}

function caseOf(mode: 'apply' | 'check', op: OpResult): Case {
  const name = `${op.role}/${op.id}${op.handler ? ' (handler)' : ''}`;
  const c: Case = { name, ms: op.durationMs };
  const warnings = (op.warnings ?? []).map((w) => `warning: ${w}`);
  switch (op.status) {
    case 'failed':
      c.failure = { type: 'failed', message: op.reason, ...(op.error ? { body: op.error } : {}) };
      break;
    case 'changed':
      if (mode === 'check') c.failure = { type: 'drift', message: `would change: ${op.reason}`, ...(op.diff ? { body: op.diff } : {}) };
      else c.out = `changed: ${op.reason}`;
      break;
    case 'skipped':
      c.skipped = op.reason;
      break;
    default:
      c.out = `${op.status}: ${op.reason}`;
  }
  if (warnings.length > 0) c.out = [c.out, ...warnings].filter(Boolean).join('\n');
  return c;
}

function casesOf(mode: 'apply' | 'check', s: HostSummary): Case[] {
  const cases = s.ops.map((op) => caseOf(mode, op));
  // a host that failed outside any step (unreachable, facts, building roles): one failed case
  if (s.unreachable) cases.push({ name: 'unreachable', ms: s.durationMs, failure: { type: 'unreachable', message: s.error ?? 'the host could not be reached' } });
  else if (s.error) cases.push({ name: 'host', ms: undefined, failure: { type: 'failed', message: s.error } });
  return cases;
}

function renderCase(host: string, c: Case): string {
  const open = `    <testcase${attrs({ classname: host, name: c.name, time: seconds(c.ms) })}`;
  const inner: string[] = [];
  if (c.failure) inner.push(`      <failure${attrs({ type: c.failure.type, message: c.failure.message })}>${xmlText(c.failure.body ?? c.failure.message)}</failure>`);
  if (c.skipped !== undefined) inner.push(`      <skipped${attrs({ message: c.skipped })}/>`);
  if (c.out) inner.push(`      <system-out>${xmlText(c.out)}</system-out>`);
  return inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`;
}

/**
 * `--junit FILE`: one testsuite per host, one testcase per step (classname = host,
 * name = role/id). Failed steps are failures; in check mode a step that would change
 * is a failure too (drift); skipped steps are <skipped/>; an unreachable host is one
 * failed testcase. Every text is masked and escaped.
 */
export function junitReport(mode: 'apply' | 'check', hosts: Record<string, HostSummary>): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  let ms = 0;
  for (const [host, s] of Object.entries(hosts)) {
    const cases = casesOf(mode, s);
    const f = cases.filter((c) => c.failure).length;
    const sk = cases.filter((c) => c.skipped !== undefined).length;
    tests += cases.length;
    failures += f;
    skipped += sk;
    ms += s.durationMs ?? 0;
    suites.push(
      [
        `  <testsuite${attrs({ name: host, tests: cases.length, failures: f, errors: 0, skipped: sk, time: seconds(s.durationMs) })}>`,
        ...cases.map((c) => renderCase(host, c)),
        '  </testsuite>',
      ].join('\n'),
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: `cairn ${mode}`, tests, failures, errors: 0, skipped, time: seconds(ms) })}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
