// Reads ava's TAP output on stdin, passes it through, and ends with the line
// CI reads: "N passed, N failed" (", N skipped" when any were skipped).
import { createInterface } from 'node:readline';
let pass = 0, fail = 0, skip = 0, todo = 0;
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  process.stdout.write(`${line}\n`);
  if (/^ok \d+/.test(line)) {
    if (/# SKIP/.test(line)) skip++;
    else if (/# TODO/.test(line)) todo++;
    else pass++;
  } else if (/^not ok \d+/.test(line)) {
    if (/# TODO/.test(line)) todo++;
    else fail++;
  }
}
process.stdout.write(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}\n`);
