import * as net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that forwards to `target` and cuts connections:
 * after so many bytes, after so long, or on demand. For tests of a connection
 * lost mid-way (unit tests against a fake server, integration tests against
 * real bed hosts).
 */
export interface CutProxyOptions {
  target: { host: string; port: number };
  /** Cut a connection once this many bytes went through it (see `count`). */
  afterBytes?: number;
  /** Which bytes `afterBytes` counts: client to server ('up'), server to client ('down') or both (the default). */
  count?: 'up' | 'down' | 'both';
  /** Cut a connection this long after it was accepted. */
  afterMs?: number;
  /** 'fin': close both sides cleanly (end); 'rst' (the default): reset both sides (ECONNRESET). */
  how?: 'fin' | 'rst';
  /** Cut only the first n connections; later ones pass untouched (default: every one). */
  connections?: number;
  /** After the first cut, stop listening: new connections are refused. */
  refuseAfterCut?: boolean;
}

export interface CutProxy {
  host: '127.0.0.1';
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Resolves at the first cut. */
  readonly firstCut: Promise<void>;
  /** Cut every open connection now. */
  cutAll(how?: 'fin' | 'rst'): void;
  close(): Promise<void>;
}

export async function startCutProxy(o: CutProxyOptions): Promise<CutProxy> {
  const how = o.how ?? 'rst';
  const count = o.count ?? 'both';
  const open = new Set<(how: 'fin' | 'rst') => void>();
  let accepted = 0;
  let cuts = 0;
  let onFirstCut!: () => void;
  const firstCut = new Promise<void>((r) => (onFirstCut = r));
  const server = net.createServer((client) => {
    const index = accepted++;
    const armed = o.connections === undefined || index < o.connections;
    const upstream = net.connect(o.target.port, o.target.host);
    let passed = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const cut = (mode: 'fin' | 'rst'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      open.delete(cut);
      cuts++;
      // a reset sent right after the last write can reach the peer as a plain
      // close (seen on Linux loopback): a short pause makes it a reset
      if (mode === 'rst') setTimeout(() => [client, upstream].forEach((s) => s.resetAndDestroy()), 10);
      else for (const s of [client, upstream]) s.end(() => s.destroy());
      if (cuts === 1) {
        if (o.refuseAfterCut) server.close();
        onFirstCut();
      }
    };
    open.add(cut);
    // not a cut: a side that ends or fails on its own is passed on to the other
    const settle = (): void => {
      done = true;
      clearTimeout(timer);
      open.delete(cut);
    };
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    for (const [s, other] of [[client, upstream], [upstream, client]] as const) {
      s.on('error', () => undefined);
      s.on('close', () => {
        settle();
        other.destroy();
      });
    }
    const forward = (from: net.Socket, to: net.Socket, counted: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (done) return;
        let data = chunk;
        let last = false;
        if (armed && counted && o.afterBytes !== undefined) {
          const room = o.afterBytes - passed;
          if (data.length >= room) {
            data = data.subarray(0, Math.max(0, room));
            last = true;
          }
          passed += data.length;
        }
        if (last) {
          // the last bytes leave before the cut (a reset would drop them)
          to.write(data, () => cut(how));
          return;
        }
        if (!to.write(data)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    };
    forward(client, upstream, count !== 'down');
    forward(upstream, client, count !== 'up');
    if (armed && o.afterMs !== undefined) timer = setTimeout(() => cut(how), o.afterMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    get accepted() {
      return accepted;
    },
    get cuts() {
      return cuts;
    },
    firstCut,
    cutAll: (mode = how) => {
      for (const c of [...open]) c(mode);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of [...open]) c('rst');
        if (!server.listening) return r();
        server.close(() => r());
      }),
  };
}
