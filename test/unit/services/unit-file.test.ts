import test from 'ava';
import { unitFile, type UnitSections } from '../../../src/services/unit-file.ts';
import { UnitValue, unitValue as v } from '../../../src/services/unit-value.ts';

test('unitFile: sections in order, Directive=value lines, a comment first', (t) => {
  const text = unitFile('hello', { Unit: [['Description', v.text('50% x')]], Service: [['ExecStart', v.exec('/bin/x', ['a b', { variable: 'MAINPID' }])]], Install: [['WantedBy', v.units(['multi-user.target'])]] });
  t.is(text, '# hello\n[Unit]\nDescription=50%% x\n\n[Service]\nExecStart=/bin/x "a b" $MAINPID\n\n[Install]\nWantedBy=multi-user.target\n');
});

test('unitFile: a directive in the wrong section, an unknown one or a comment with a line break is refused', (t) => {
  const wrong = { Unit: [['ExecStart', v.int(1)]], Service: [], Install: [] } as unknown as UnitSections;
  t.throws(() => unitFile('c', wrong), { message: /ExecStart= does not belong in \[Unit\]/ });
  const unknown = { Unit: [], Service: [['ExecStartPre', v.int(1)]], Install: [] } as unknown as UnitSections;
  t.throws(() => unitFile('c', unknown), { message: /ExecStartPre= does not belong/ });
  t.throws(() => unitFile('c\n[Service]', { Unit: [], Service: [], Install: [] }), { message: /line break/ });
});

test('unitValue: keywords and variables only from their fixed sets; UnitValue cannot be made otherwise', (t) => {
  t.is(v.keyword('SIGINT').text, 'SIGINT');
  t.throws(() => v.keyword('simple\nExecStartPre=/bin/evil' as 'simple'), { message: /unknown keyword/ });
  t.throws(() => v.exec('/bin/kill', [{ variable: 'PATH' as 'MAINPID' }]), { message: /unknown variable/ });
  t.is(v.exec('/bin/x', ['$MAINPID']).text, '/bin/x "$$MAINPID"', 'a string is data, never a variable');
  const Ctor = UnitValue as unknown as new (...a: unknown[]) => UnitValue;
  t.throws(() => new Ctor('x\nExecStartPre=/bin/evil'), { instanceOf: TypeError });
});
