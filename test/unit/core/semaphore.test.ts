import test from 'ava';
import { Semaphore } from '../../../src/core/semaphore.ts';

test('never more than its size run at once', async (t) => {
  const s = new Semaphore(2);
  let now = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 7 }, () =>
      s.use(async () => {
        now++;
        peak = Math.max(peak, now);
        await new Promise((r) => setTimeout(r, 5));
        now--;
      }),
    ),
  );
  t.is(peak, 2);
});

test('a size below 1 is refused', (t) => {
  t.throws(() => new Semaphore(0), { message: /positive integer/ });
});
