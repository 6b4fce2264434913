import test from 'ava';
import fc from 'fast-check';
import { InvalidInputError } from '../../../src/core/errors.ts';
import { hclLiteral, hclString } from '../../../src/render/hcl.ts';
import { renderTemplateSource } from '../../../src/render/template.ts';

const render = (src: string, ctx: Record<string, unknown> = {}) => renderTemplateSource(src, 't.hbs', ctx).text;

const renders = test.macro({
  exec(t, src: string, ctx: Record<string, unknown>, expected: string) {
    t.is(render(src, ctx), expected);
  },
  title: (given: string | undefined, src: string) => given ?? src,
});

test(renders, '{{json x}}', { x: { a: [1, 'two'] } }, '{"a":[1,"two"]}');
test(renders, '{{json x 2}}', { x: { a: 1 } }, '{\n  "a": 1\n}');
test(renders, '{{json s}}', { s: 'say "hi"\n' }, '"say \\"hi\\"\\n"');
test(renders, '{{hcl s}}', { s: 'a"b ${x} %{y}' }, '"a\\"b $${x} %%{y}"');
test(renders, '{{hcl l}}', { l: ['a', 1, true] }, '["a", 1, true]');
test(renders, '{{hcl m}}', { m: { k: 'v', n: null } }, '{ "k" = "v", "n" = null }');
test(renders, '{{join l ","}}', { l: ['a', 'b'] }, 'a,b');
test(renders, '{{join l}}', { l: ['a', 'b'] }, 'a, b');
test(renders, '{{#if (eq a "x")}}yes{{else}}no{{/if}}', { a: 'x' }, 'yes');
test('eq is strict', renders, '{{#if (eq a 1)}}yes{{else}}no{{/if}}', { a: '1' }, 'no');
test('default: missing', renders, '{{default port 8500}}', {}, '8500');
test('default: defined', renders, '{{default port 8500}}', { port: 8501 }, '8501');
test('default: empty text', renders, '{{default name "anon"}}', { name: '' }, 'anon');
test('default: null', renders, '{{default name "anon"}}', { name: null }, 'anon');
test('default: 0 is a value', renders, '{{default n 5}}', { n: 0 }, '0');
test(renders, 'x:\n{{indent 2 text}}', { text: 'a\n\nb' }, 'x:\n  a\n\n  b');
test(renders, '{{#indent 4}}a\nb{{/indent}}', {}, '    a\n    b');
test(renders, '{{indent 2 (json m 2)}}', { m: { a: 1 } }, '  {\n    "a": 1\n  }');
test(renders, '{{upper s}} {{lower s}}', { s: 'MiXed' }, 'MIXED mixed');
test('no HTML escaping', renders, '{{s}}', { s: '<a href="x">&</a>' }, '<a href="x">&</a>');
test('each with @index and ../', renders, '{{#each l}}{{@index}}={{this}}{{../sep}}{{/each}}', { l: ['a', 'b'], sep: ';' }, '0=a;1=b;');
test('if on a missing variable is false (not strict)', renders, '{{#if nope}}x{{else}}y{{/if}}', {}, 'y');

const misuse = test.macro({
  exec(t, src: string, ctx: Record<string, unknown>, message: RegExp) {
    const err = t.throws(() => render(src, ctx), { instanceOf: InvalidInputError });
    t.regex(err!.problems[0]!.message, message);
    t.is(err!.problems[0]!.location.line, 2);
    t.truthy(err!.problems[0]!.fix);
  },
  title: (given: string | undefined, src: string) => `misuse: ${given ?? src}`,
});

test(misuse, '\n{{join l}}', { l: 'a,b' }, /helper 'join': expected a list/);
test('join of a missing variable', misuse, '\n{{join l}}', {}, /^helper 'join': variable "l" is not defined$/);
test('join of maps', misuse, '\n{{join l}}', { l: [{ a: 1 }] }, /holds maps or lists/);
test(misuse, '\n{{json nope}}', {}, /^helper 'json': variable "nope" is not defined$/);
test(misuse, '\n{{hcl a.b}}', {}, /^variable "a.b" is not defined \("a" is missing\)$/);
test(misuse, '\n{{indent 2 nope}}', {}, /^helper 'indent': variable "nope" is not defined$/);
test(misuse, '\n{{json (lookup m "x")}}', { m: {} }, /^helper 'json': its argument is not defined$/);
test(misuse, '\n{{indent "x" t}}', { t: 'a' }, /number of spaces/);
test(misuse, '\n{{upper nope}}', {}, /helper 'upper'/);

test('hclString property: a quoted string parses back as JSON after unescaping $${ and %%{', (t) => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const q = hclString(s);
      return JSON.parse(q.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{')) === s && !/(^|[^$])\$\{/.test(q.replace(/\$\$\{/g, ''));
    }),
  );
  t.pass();
});

test('hclLiteral rejects what HCL cannot hold', (t) => {
  t.throws(() => hclLiteral(Number.NaN));
  t.throws(() => hclLiteral(() => 1));
  t.is(hclLiteral({}), '{}');
});
