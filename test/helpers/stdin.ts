import { readFileSync } from 'node:fs';
import { pieces, type Stdin } from '../../src/connectors/stdin.ts';

/** A run's stdin as one Buffer (file pieces read), for fakes that hand it to a real shell. */
export function stdinBytes(input: Stdin): Buffer {
  return Buffer.concat(pieces(input).map((p) => (Buffer.isBuffer(p) ? p : readFileSync(p.file).subarray(0, p.size))));
}
