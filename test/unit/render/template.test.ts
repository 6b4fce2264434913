import test from 'ava';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, type InputProblem } from '../../../src/core/errors.ts';
import { mask, Secret } from '../../../src/core/secret.ts';
import {
  checkTemplate,
  checkTemplateSource,
  compileTemplate,
  renderTemplate,
  renderTemplateFile,
  renderTemplateSource,
} from '../../../src/render/template.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-render-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const f = join(dir, `t${n++}.hbs`);
  writeFileSync(f, text);
  return f;
}

function problems(fn: () => unknown): InputProblem[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems;
    throw err;
  }
  return [];
}

test('renders vars, nested vars and lists', (t) => {
  const f = file('dc = "{{consul.datacenter}}"\n{{#each servers}}server {{this}}\n{{/each}}');
  t.is(renderTemplateFile(f, { consul: { datacenter: 'dc1' }, servers: ['a', 'b'] }), 'dc = "dc1"\nserver a\nserver b\n');
});

test('a Secret renders its real value and is listed; masking still hides it in output', (t) => {
  const key = new Secret('gossip-XYZ-123==');
  const r = renderTemplateSource('encrypt = {{json consul.key}}\nother = {{x}}', 'c.hbs', { consul: { key }, x: 1, unused: new Secret('never-rendered-1') });
  t.is(r.text, 'encrypt = "gossip-XYZ-123=="\nother = 1');
  t.deepEqual(r.secrets, ['gossip-XYZ-123==']);
  t.is(mask(r.text), 'encrypt = "********"\nother = 1');
});

test('a Secret inside a list renders too', (t) => {
  t.is(renderTemplateSource('{{join keys ","}}', 'k.hbs', { keys: [new Secret('k1-aaaa'), 'k2'] }).text, 'k1-aaaa,k2');
});

test('a missing variable: file, line, column, full dotted name and fix', (t) => {
  const f = file('a = 1\nb = {{consul.datacenter}}\n');
  const [p, ...rest] = problems(() => renderTemplate(f, { consul: {} }));
  t.deepEqual(rest, []);
  t.deepEqual(p, {
    location: { file: f, line: 2, column: 7 },
    message: 'variable "consul.datacenter" is not defined',
    fix: 'define "consul.datacenter" in vars, group vars, host vars or the role defaults (or use {{default consul.datacenter "..."}} / {{#if consul.datacenter}})',
  });
});

test('a missing parent map is named', (t) => {
  const [p] = problems(() => renderTemplateSource('\n\n{{consul.datacenter}}', 'x.hbs', {}));
  t.is(p!.message, 'variable "consul.datacenter" is not defined ("consul" is missing)');
  t.is(p!.location.line, 3);
});

test('a null parent map is explained', (t) => {
  const [p] = problems(() => renderTemplateSource('{{consul.datacenter}}', 'x.hbs', { consul: null }));
  t.is(p!.message, 'variable "consul.datacenter" is not defined ("consul" is null)');
});

test('checkTemplate reports every missing variable at once', (t) => {
  const f = file('{{a}}\n{{b.c}}\n{{#each l}}{{name}}{{/each}}\n{{d}}\n{{a}}\n');
  const found = checkTemplate(f, { l: [{ name: 1 }, {}] });
  t.deepEqual(
    found.map((p) => [p.location.line, p.message]),
    [
      [1, 'variable "a" is not defined'],
      [2, 'variable "b.c" is not defined ("b" is missing)'],
      [3, 'variable "name" is not defined'],
    ],
  );
});

test('checkTemplate continues past undefined helper arguments', (t) => {
  const found = checkTemplateSource('{{json a}}\n{{hcl b.c}}\n{{d}}', 'x.hbs', {});
  t.deepEqual(
    found.map((p) => p.message),
    ['helper \'json\': variable "a" is not defined', 'variable "b.c" is not defined ("b" is missing)', 'variable "d" is not defined'],
  );
});

test('{{#if a.b}} needs the map a (but not b)', (t) => {
  t.is(renderTemplateSource('{{#if consul.tls}}tls{{/if}}', 'x.hbs', { consul: {} }).text, '');
  const [p] = problems(() => renderTemplateSource('x\n{{#if consul.tls}}tls{{/if}}', 'x.hbs', {}));
  t.like(p, { location: { file: 'x.hbs', line: 2, column: 7 }, message: 'variable "consul.tls" is not defined ("consul" is missing)' });
});

test('checkTemplate on a good template finds nothing', (t) => {
  t.deepEqual(checkTemplate(file('{{x}} {{json y}}'), { x: 1, y: [1] }), []);
});

test('checkTemplate keeps going after a helper misuse? no: it stops at the first non-variable problem', (t) => {
  const found = checkTemplateSource('{{a}}\n{{join b}}\n{{c}}', 'x.hbs', { b: 'text' });
  t.deepEqual(
    found.map((p) => p.location.line),
    [1, 2],
  );
});

test('syntax errors are problems with the line', (t) => {
  const [p] = checkTemplateSource('a\nb\n{{#each x}}\n', 'x.hbs', {});
  t.like(p, { location: { file: 'x.hbs', line: 3 }, message: 'template syntax error: {{#each}} is never closed' });
  const [q] = checkTemplateSource('a\n{{x}\n', 'y.hbs', {});
  t.like(q, { location: { file: 'y.hbs', line: 2 } });
  t.regex(q!.message, /^template syntax error: unexpected text inside \{\{ \}\}/);
});

test('static checks: unknown helper, partial, block without argument, all at once', (t) => {
  const found = checkTemplateSource('{{upcase x}}\n{{> part}}\n{{#if}}x{{/if}}\n{{#each a b}}{{/each}}', 'x.hbs', {});
  t.deepEqual(
    found.map((p) => [p.location.line, p.message]),
    [
      [1, "unknown helper 'upcase'"],
      [2, 'partials ({{> name}}) are not supported'],
      [3, '{{#if}} needs exactly one argument, got 0'],
      [4, '{{#each}} needs exactly one argument, got 2'],
    ],
  );
});

test('a value used as a helper is an unknown helper', (t) => {
  const [p] = checkTemplateSource('{{x 1}}', 'x.hbs', { x: 'v' });
  t.is(p!.message, "unknown helper 'x'");
});

test('walking into text is explained', (t) => {
  const [p] = problems(() => renderTemplateSource('{{a.b}}', 'x.hbs', { a: 'text' }));
  t.is(p!.message, 'cannot render the template: "b" is looked up in a text value');
});

test('a map written as text is a problem', (t) => {
  const [p] = problems(() => renderTemplateSource('a\n{{m}}', 'm.hbs', { m: { k: 1 } }));
  t.like(p, { location: { file: 'm.hbs' }, message: 'a map was written as text ("[object Object]" on line 2 of the output)' });
  t.regex(p!.fix!, /\{\{json x\}\}/);
});

test('compiled templates are cached by path and mtime', (t) => {
  const f = file('one {{x}}');
  const a = compileTemplate(f);
  t.is(compileTemplate(f), a);
  writeFileSync(f, 'two {{x}}!');
  const later = new Date(Date.now() + 5000);
  utimesSync(f, later, later);
  const b = compileTemplate(f);
  t.not(b, a);
  t.is(renderTemplateFile(f, { x: 1 }), 'two 1!');
});

test('a missing template file is a problem', (t) => {
  const [p] = problems(() => compileTemplate(join(dir, 'nope.hbs')));
  t.regex(p!.message, /cannot read the template/);
});

test('helpers are private to cairn: the global Handlebars is untouched', async (t) => {
  const Handlebars = (await import('handlebars')).default;
  t.is(Handlebars.helpers['hcl'], undefined);
});
