import test from 'ava';
import { ReadBuffers } from '../../../src/connectors/read-buffers.ts';

test('ReadBuffers: at most count buffers; the next take waits for one given back and gets that one', async (t) => {
  const pool = new ReadBuffers(16, 2);
  const a = await pool.take();
  const b = await pool.take();
  t.is(a?.length, 16);
  t.not(a, b);
  let third: Buffer | undefined;
  const waiting = pool.take().then((x) => (third = x));
  await new Promise((r) => setImmediate(r));
  t.is(third, undefined, 'a third take waits');
  pool.give(b!);
  await waiting;
  t.is(third, b, 'it gets the buffer given back, no new one');
  pool.give(a!);
  t.is(await pool.take(), a, 'a free buffer is taken again');
});

test('ReadBuffers: close ends a waiting take and every later one with undefined', async (t) => {
  const pool = new ReadBuffers(8, 1);
  const first = await pool.take();
  t.truthy(first);
  const waiting = pool.take();
  pool.close();
  t.is(await waiting, undefined);
  pool.give(first!);
  t.is(await pool.take(), undefined, 'closed: nothing more to read into');
});
