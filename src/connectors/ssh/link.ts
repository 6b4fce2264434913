import type { Duplex } from 'node:stream';
import { EndSignal } from './end-signal.ts';

/** A byte stream to the next SSH server (a TCP socket, or a tunnel through a jump host) and its end. */
export interface Link {
  sock: Duplex;
  /** Ends at the stream's first error, end or close. */
  ended: EndSignal;
}

/**
 * Watch a stream for its whole life: an 'error' event with no listener would
 * crash the process (it may come at any time, e.g. ECONNRESET while keys are
 * read, before ssh2 listens), so one is always there and records the end.
 */
export function watchLink(sock: Duplex): Link {
  const ended = new EndSignal();
  sock.on('error', (err: Error) => ended.end(err));
  sock.on('end', () => ended.end(new Error('the other side closed the connection')));
  sock.on('close', () => ended.end(new Error('the connection was closed')));
  return { sock, ended };
}
