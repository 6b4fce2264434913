import { openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { UsageError } from '../core/errors.ts';

/** Where the question is asked: a terminal to read keys from (raw, no echo) and to write the question to. */
interface Terminal {
  input: ReadStream;
  write: (s: string) => void;
  close: () => void;
}

/** The controlling terminal (/dev/tty), else stdin when it is a terminal; undefined: none. */
function openTerminal(): Terminal | undefined {
  let fd: number | undefined;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    fd = undefined;
  }
  if (fd !== undefined) {
    const ttyFd = fd;
    const input = new ReadStream(ttyFd);
    return {
      input,
      write: (s) => void writeSync(ttyFd, s),
      // destroying the stream closes its fd
      close: () => input.destroy(),
    };
  }
  if (process.stdin.isTTY) {
    const input = process.stdin as ReadStream;
    return { input, write: (s) => void process.stderr.write(s), close: () => input.pause() };
  }
  return undefined;
}

/**
 * Ask for a secret on the terminal, once, without echo: the text typed up to
 * Enter (Backspace edits, Ctrl-C or Ctrl-D on an empty line cancels). Without a
 * terminal it fails with what to do instead (!secret_env).
 */
export function promptSecret(question: string): Promise<string> {
  const term = openTerminal();
  if (!term) {
    return Promise.reject(
      new UsageError(
        `cannot ask "${question.trim()}": there is no terminal (no /dev/tty, stdin is not a terminal). ` +
          'Put the password in an environment variable and name it in the inventory instead, e.g. password: !secret_env CAIRN_PASSWORD or become_password: !secret_env CAIRN_BECOME_PASSWORD',
      ),
    );
  }
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const finish = (err?: Error): void => {
      term.input.off('data', onData);
      term.input.setRawMode(false);
      term.write('\n');
      term.close();
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return finish(new UsageError(`cancelled at "${question.trim()}"`));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ' || ch === '\t') text += ch;
      }
    };
    // raw (no echo) before the question shows: nothing typed after it is echoed
    term.input.setRawMode(true);
    term.write(question);
    term.input.on('data', onData);
    term.input.resume();
  });
}

