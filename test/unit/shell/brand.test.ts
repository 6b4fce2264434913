import test from 'ava';
import { ShellCommand, isShellCommand, sh } from '../../../src/shell/sh.ts';
import { Secret, isSecret, mask } from '../../../src/core/secret.ts';
import { command } from '../../../src/operations/command.ts';

type ShModule = typeof import('../../../src/shell/sh.ts');
type SecretModule = typeof import('../../../src/core/secret.ts');
/** A second copy of a module, as when a global cairn and a project's own copy are both loaded. */
const copy = async <T>(path: string): Promise<T> => (await import(new URL(`${path}?copy=2`, import.meta.url).href)) as T;

test('the second copy really is another module (other classes)', async (t) => {
  const other = await copy<ShModule>('../../../src/shell/sh.ts');
  t.not(other.ShellCommand, ShellCommand);
  t.not(other.sh, sh);
});

test('a ShellCommand of another copy is recognised: isShellCommand, instanceof, embedding, operations', async (t) => {
  const other = await copy<ShModule>('../../../src/shell/sh.ts');
  const foreign = other.sh`echo ${'a b'}`;
  t.true(isShellCommand(foreign));
  t.true(foreign instanceof ShellCommand);
  t.true(other.isShellCommand(sh`true`));
  t.is(sh`time ${foreign}`.text, `time echo 'a b'`, 'embedded as built, not refused or re-quoted');
  t.notThrows(() => command({ id: 'x', run: foreign, unless: other.sh`true` }));
});

test('a Secret of another copy is recognised, revealed in commands and masked everywhere', async (t) => {
  const other = await copy<SecretModule>('../../../src/core/secret.ts');
  t.not(other.Secret, Secret);
  const s = new other.Secret('brand-test-s3cr3t');
  t.true(isSecret(s));
  t.true(s instanceof Secret);
  t.true(other.isSecret(new Secret('x')));
  const c = sh`login ${s}`;
  t.is(c.text, 'login brand-test-s3cr3t');
  t.false(c.display.includes('brand-test-s3cr3t'));
  t.is(mask('pw=brand-test-s3cr3t'), 'pw=********', "one registry: this copy's mask knows the other copy's secrets");
});

test('a branded object needs the right shape; look-alikes are refused', (t) => {
  const fake = { [Symbol.for('cairn.ShellCommand')]: true, text: 'x', display: 'x' };
  t.true(isShellCommand(fake), 'the brand is the contract between copies');
  t.false(isShellCommand({ text: 'rm -rf /', display: 'rm -rf /' }), 'no brand: a plain object is not a command');
  t.false(isShellCommand({ [Symbol.for('cairn.ShellCommand')]: true }), 'brand without text');
  t.false(isShellCommand('echo hi'));
  t.false(isShellCommand(null));
  t.throws(() => sh`echo ${{ text: 'rm -rf /', display: '' } as never}`, { instanceOf: TypeError });
  t.false(isSecret({ reveal: () => 'x' }));
  t.false(isSecret('x'));
  t.true(isSecret({ [Symbol.for('cairn.Secret')]: true, reveal: () => 'x' }));
});

test('ShellCommand cannot be constructed from outside, not even by casting the private constructor away', (t) => {
  const Ctor = ShellCommand as unknown as new (...a: unknown[]) => ShellCommand;
  t.throws(() => new Ctor('rm -rf /', 'rm -rf /'), { instanceOf: TypeError, message: /sh tag/ });
  t.throws(() => new Ctor(Symbol('ShellCommand constructor'), 'rm -rf /', 'x'), { instanceOf: TypeError });
});

type ErrorsModule = typeof import('../../../src/core/errors.ts');
type KitModule = typeof import('../../../src/operations/kit.ts');

test("errors thrown by another copy's operations are recognised: InvalidInputError, UnknownParamError", async (t) => {
  const { InvalidInputError, isInvalidInputError } = await import('../../../src/core/errors.ts');
  const { UnknownParamError } = await import('../../../src/operations/kit.ts');
  const other = await copy<ErrorsModule>('../../../src/core/errors.ts');
  t.not(other.InvalidInputError, InvalidInputError);
  const foreign = new other.InvalidInputError([{ location: { file: 'roles/x/index.ts' }, message: 'bad' }]);
  t.true(foreign instanceof InvalidInputError);
  t.true(isInvalidInputError(foreign));
  t.true(new InvalidInputError([]) instanceof other.InvalidInputError);
  t.false(new Error('x') instanceof InvalidInputError);
  t.false(new UnknownParamError('x') instanceof InvalidInputError);
  t.false({ problems: [] } instanceof InvalidInputError, 'a look-alike without the brand');

  const otherKit = await copy<KitModule>('../../../src/operations/kit.ts');
  t.not(otherKit.UnknownParamError, UnknownParamError);
  const err = t.throws(() => otherKit.rejectUnknownParams('file', 'x', { id: 'x', colour: 'red' }, ['id']));
  t.true(err instanceof UnknownParamError, 'the engine tells an unknown param of a role built with a project copy');
  t.false(err instanceof InvalidInputError);
  t.false(new Error('x') instanceof UnknownParamError);
});
