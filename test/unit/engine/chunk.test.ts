/** chunkBySize: batches kept under the one-argument limit, order kept, big items alone. */
import test from 'ava';
import fc from 'fast-check';
import { BATCH_BUDGET_BYTES, batchCost, chunkBySize } from '../../../src/engine/chunk.ts';
import { sh } from '../../../src/shell/sh.ts';

test('small items share a chunk; the budget starts a new one; an oversize item goes alone', (t) => {
  t.deepEqual(chunkBySize([1, 2, 3], (n) => n, 10), [[1, 2, 3]]);
  t.deepEqual(chunkBySize([4, 4, 4], (n) => n, 10), [[4, 4], [4]]);
  t.deepEqual(chunkBySize([3, 20, 3], (n) => n, 10), [[3], [20], [3]]);
  t.deepEqual(chunkBySize([], (n: number) => n, 10), []);
});

test('property: order and items kept; every chunk within budget unless it is one item', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 200 })), fc.integer({ min: 1, max: 300 }), (sizes, budget) => {
      const chunks = chunkBySize(sizes, (n) => n, budget);
      t.deepEqual(chunks.flat(), sizes);
      for (const c of chunks) {
        if (c.length === 0) return false;
        if (c.length > 1 && c.reduce((a, b) => a + b, 0) > budget) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('cost counts bytes, not characters, and the markers', (t) => {
  t.is(batchCost(sh`echo ${'é'}`), Buffer.byteLength("echo 'é'") + 256);
  t.true(BATCH_BUDGET_BYTES * 2 <= 128 * 1024, 'room for the become wrapper under MAX_ARG_STRLEN');
});
