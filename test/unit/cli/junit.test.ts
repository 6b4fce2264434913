import test from 'ava';
import { Secret } from '../../../src/core/secret.ts';
import type { HostSummary, OpResult } from '../../../src/engine/events.ts';
import { junitReport, xmlText } from '../../../src/cli/junit.ts';

const op = (id: string, status: OpResult['status'], more: Partial<OpResult> = {}): OpResult => ({ role: 'r', id, kind: 'file', status, reason: `${id} reason`, durationMs: 1500, ...more });
const host = (ops: OpResult[], more: Partial<HostSummary> = {}): HostSummary => ({ ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 2, durationMs: 2000, ops, ...more });

test('xmlText escapes markup and replaces characters XML forbids', (t) => {
  t.is(xmlText(`a<b>&"c"'d'`), 'a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
  t.is(xmlText('esc\u001b[0m bell\u0007 tab\tnl\n'), 'esc\uFFFD[0m bell\uFFFD tab\tnl\n');
  t.is(xmlText('lone \uD800 pair \uD83D\uDE00'), 'lone \uFFFD pair \uD83D\uDE00');
});

test('one testcase per host x step: failures, drift in check, skipped, an unreachable host', (t) => {
  const hosts = {
    web1: host([op('ok', 'ok'), op('chg', 'changed', { diff: '+x <y>' }), op('bad', 'failed', { error: 'exit 3 & more' }), op('skp', 'skipped'), op('h', 'ok', { handler: true })]),
    web2: host([], { unreachable: true, error: 'web2 is unreachable: timeout', durationMs: 30_000 }),
  };
  const xml = junitReport('check', hosts);
  const lines = xml.split('\n');
  t.is(lines[0], '<?xml version="1.0" encoding="UTF-8"?>');
  t.is(lines[1], '<testsuites name="cairn check" tests="6" failures="3" errors="0" skipped="1" time="32.000">');
  t.true(xml.includes('<testsuite name="web1" tests="5" failures="2" errors="0" skipped="1" time="2.000">'));
  t.true(xml.includes('<testcase classname="web1" name="r/ok" time="1.500">\n      <system-out>ok: ok reason</system-out>'));
  t.true(xml.includes('<failure type="drift" message="would change: chg reason">+x &lt;y&gt;</failure>'));
  t.true(xml.includes('<failure type="failed" message="bad reason">exit 3 &amp; more</failure>'));
  t.true(xml.includes('<testcase classname="web1" name="r/skp" time="1.500">\n      <skipped message="skp reason"/>'));
  t.true(xml.includes('name="r/h (handler)"'));
  t.true(xml.includes('<testcase classname="web2" name="unreachable" time="30.000">\n      <failure type="unreachable" message="web2 is unreachable: timeout">'));
  // every testcase that opens closes
  t.is((xml.match(/<testcase /g) ?? []).length, 6);
  t.is((xml.match(/<testcase [^>]*[^/]>/g) ?? []).length, (xml.match(/<\/testcase>/g) ?? []).length);
});

test('in apply a changed step passes; a host that failed outside a step is one failed case', (t) => {
  const xml = junitReport('apply', { h: host([op('chg', 'changed')], { failed: 1, error: 'gathering facts: command failed' }) });
  t.true(xml.includes('<testcase classname="h" name="r/chg" time="1.500">\n      <system-out>changed: chg reason</system-out>'));
  t.true(xml.includes('<testcase classname="h" name="host" time="0.000">\n      <failure type="failed" message="gathering facts: command failed">'));
  t.true(xml.includes('failures="1"'));
});

test('secrets are masked in every text', (t) => {
  const s = new Secret('hunter2-<&>');
  const xml = junitReport('check', { h: host([op('chg', 'changed', { reason: `set ${s.reveal()}`, diff: `+pw=${s.reveal()}` })]) });
  t.false(xml.includes('hunter2'));
  t.true(xml.includes('message="would change: set ********">+pw=********</failure>'));
});
