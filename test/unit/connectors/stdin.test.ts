import test from 'ava';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Semaphore } from '../../../src/core/semaphore.ts';
import { endWith, fileStamp, pieces } from '../../../src/connectors/stdin.ts';
import { stdinBytes } from '../../helpers/stdin.ts';

/**
 * A slow reader with a small buffer: takes a chunk every tick (a copy: the writer may read
 * into a buffer again once it was called back, as ssh2 and pipes allow); records the
 * chunks as handed, and the most it was ever handed and not yet taken.
 */
function slowSink(): { stream: Writable; got: Buffer[]; handed: Buffer[]; done: Promise<void>; maxQueued: () => number } {
  const got: Buffer[] = [];
  const handed: Buffer[] = [];
  let resolve!: () => void;
  let max = 0;
  const done = new Promise<void>((r) => (resolve = r));
  const stream = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      got.push(Buffer.from(chunk));
      handed.push(chunk);
      max = Math.max(max, stream.writableLength);
      setImmediate(cb);
    },
    final(cb) {
      resolve();
      cb();
    },
  });
  return { stream, got, handed, done, maxQueued: () => max };
}

const dir = mkdtempSync(join(tmpdir(), 'cairn-stdin-'));

test('endWith: Buffers and controller files in order, 512 KiB at a time, at most 1 MiB waiting in the stream; progress up to the total', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 10, 1);
  const file = join(dir, 'src.bin');
  const fileBytes = Buffer.alloc(4 * 1024 * 1024 + 3, 2);
  writeFileSync(file, fileBytes);
  const input = [Buffer.from('head'), big, { file, size: fileBytes.length }, Buffer.from('tail')];
  const { stream, got, handed, done, maxQueued } = slowSink();
  const seen: number[] = [];
  const total = 4 + big.length + fileBytes.length + 4;
  endWith(stream, input, { onProgress: (sent, all) => (t.is(all, total), seen.push(sent)) });
  await done;
  t.true(Buffer.concat(got).equals(Buffer.concat([Buffer.from('head'), big, fileBytes, Buffer.from('tail')])));
  t.true(Buffer.concat(got).equals(stdinBytes(input)));
  t.is(got.length, 1 + 7 + 9 + 1, 'head, seven steps of the Buffer, nine reads of the file, tail');
  t.is(handed[1]!.buffer, big.buffer, "a subarray of the caller's Buffer, not a copy");
  const reads = new Set(handed.slice(8, 17).map((b) => b.buffer));
  t.true(reads.size <= 4, `the file was read into at most four buffers, used again (${reads.size})`);
  t.true(maxQueued() <= 1.5 * 1024 * 1024, `at most 1 MiB (and the step being written) wait in the stream (${maxQueued()})`);
  t.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress only grows');
  t.is(seen[seen.length - 1], total);
});

test('endWith: big inputs wait for a slot of the gate and give it back; small ones do not ask', async (t) => {
  const gate = new Semaphore(1);
  const hold = await gate.acquire();
  const { stream, done } = slowSink();
  endWith(stream, [Buffer.alloc(5 * 1024 * 1024)], { gate });
  const small = slowSink();
  endWith(small.stream, [Buffer.from('x')], { gate });
  await small.done;
  t.pass('a small input went without the gate');
  await new Promise((r) => setTimeout(r, 30));
  t.is(gate.active, 1);
  hold();
  await done;
  await new Promise((r) => setImmediate(r));
  t.is(gate.active, 0, 'the slot is given back');
});

test('endWith: a stream that closes early stops the writing and gives the slot back', async (t) => {
  let calls = 0;
  const gate = new Semaphore(1);
  const stream = new Writable({
    highWaterMark: 1024,
    write(_c, _e, cb) {
      calls++;
      if (calls === 2) this.destroy();
      else setImmediate(cb);
    },
  });
  stream.on('error', () => undefined);
  endWith(stream, [Buffer.alloc(8 * 1024 * 1024)], { gate });
  await new Promise((r) => setTimeout(r, 50));
  t.is(calls, 2);
  t.is(gate.active, 0);
});

test('endWith: a file shorter than planned cuts the stream (the command sees its input end early)', async (t) => {
  const file = join(dir, 'short.bin');
  writeFileSync(file, Buffer.alloc(1000));
  const stream = new Writable({ write: (_c, _e, cb) => cb() });
  const err = await new Promise<Error>((resolve) => {
    stream.on('error', resolve);
    endWith(stream, [{ file, size: 5 * 1024 * 1024 }]);
  });
  t.regex(err.message, /shorter than the 5242880 bytes/);
});

test('endWith: a read ahead that fails while the step before it waits in the stream cuts the stream (not an unhandled rejection)', async (t) => {
  const file = join(dir, 'short-later.bin');
  writeFileSync(file, Buffer.alloc(1024 * 1024 + 100));
  const stream = new Writable({ highWaterMark: 1024, write: (_c, _e, cb) => void setTimeout(cb, 20) });
  const unhandled: unknown[] = [];
  const record = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', record); // the cairn process would exit on one
  try {
    const err = await new Promise<Error>((resolve) => {
      stream.on('error', resolve);
      endWith(stream, [{ file, size: 3 * 1024 * 1024 }]);
    });
    t.regex(err.message, /shorter than the 3145728 bytes/);
    await new Promise((r) => setTimeout(r, 10));
    t.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', record);
  }
});

test('endWith: a file changed after it was planned (its stamp) is not sent whole: the stream is cut before its last 512 KiB', async (t) => {
  const file = join(dir, 'changing.bin');
  writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 1));
  const stamp = fileStamp(statSync(file));
  // the same size, other bytes, written while it is being sent
  const got: Buffer[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      got.push(c);
      if (got.length === 1) writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 2));
      setImmediate(cb);
    },
  });
  const err = await new Promise<Error>((resolve) => {
    stream.on('error', resolve);
    endWith(stream, [{ file, size: 3 * 1024 * 1024, stamp }]);
  });
  t.regex(err.message, /changed after it was planned/);
  t.true(Buffer.concat(got).length < 3 * 1024 * 1024, 'its end never went out');
});

test('pieces: text, bytes, lists', (t) => {
  t.deepEqual(pieces(undefined), []);
  t.is(stdinBytes('ab').toString(), 'ab');
  const b = Buffer.from('x');
  t.is(pieces(b)[0], b);
  t.is(pieces([b, b]).length, 2);
});
