import test from 'ava';
import { Writable } from 'node:stream';
import { endWith, pieces } from '../../../src/connectors/stdin.ts';

/** A slow reader with a small buffer: takes a chunk every tick. */
function slowSink(): { stream: Writable; got: Buffer[]; done: Promise<void> } {
  const got: Buffer[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const stream = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      setImmediate(cb);
    },
    final(cb) {
      resolve();
      cb();
    },
  });
  return { stream, got, done };
}

test('endWith: pieces in order, a big piece sent as 1 MiB subarrays (not copied), progress up to the total', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 10, 1);
  const input = [Buffer.from('head'), big, Buffer.from('tail')];
  const { stream, got, done } = slowSink();
  const seen: number[] = [];
  endWith(stream, input, (sent, total) => {
    t.is(total, 4 + big.length + 4);
    seen.push(sent);
  });
  await done;
  t.true(Buffer.concat(got).equals(Buffer.concat(input)));
  t.is(got.length, 1 + 4 + 1, 'head, four steps of the big piece, tail');
  t.is(got[1]!.buffer, big.buffer, 'a subarray of the caller\'s Buffer');
  t.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress only grows');
  t.is(seen[seen.length - 1], 4 + big.length + 4);
});

test('endWith: a stream that closes early stops the writing (no error, no more progress)', async (t) => {
  let calls = 0;
  const stream = new Writable({
    highWaterMark: 1024,
    write(_c, _e, cb) {
      calls++;
      if (calls === 2) this.destroy();
      else setImmediate(cb);
    },
  });
  stream.on('error', () => undefined);
  endWith(stream, [Buffer.alloc(4096), Buffer.alloc(4096), Buffer.alloc(4096), Buffer.alloc(4096)]);
  await new Promise((r) => setTimeout(r, 50));
  t.is(calls, 2);
});

test('pieces: text, bytes, lists', (t) => {
  t.deepEqual(pieces(undefined), []);
  t.is(Buffer.concat(pieces('ab')).toString(), 'ab');
  const b = Buffer.from('x');
  t.is(pieces(b)[0], b);
  t.is(pieces([b, b]).length, 2);
});
