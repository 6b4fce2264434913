import { isIP } from 'node:net';
import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, type ApplyRuntime, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';
import { checkAbsPath } from './path-params.ts';

/**
 * A DNS check run ON the host against one server: one query, the answer parsed
 * on the controller. No DNS tool is needed on Debian: bash sends the query
 * through /dev/udp and `od` prints the reply as hex (bash and coreutils are
 * always there); without bash (Alpine), busybox `nslookup` asks instead.
 */

export type DnsType = 'A' | 'AAAA' | 'SOA' | 'NS' | 'TXT';
const TYPES: Record<DnsType, number> = { A: 1, NS: 2, SOA: 6, TXT: 16, AAAA: 28 };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
/** A host name or a domain (trailing dot optional). */
export const DNS_NAME = /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$/;

export interface DnsAnswer {
  readonly name: string;
  readonly type: number;
  readonly ttl: number;
  /** A/AAAA: the address; other types: hex of the rdata. */
  readonly data: string;
}

export interface DnsResponse {
  readonly id: number;
  readonly rcode: string;
  /** Authoritative answer bit. */
  readonly aa: boolean;
  readonly answers: readonly DnsAnswer[];
}

/** A standard query (RD set) in wire format. */
export function encodeQuery(name: string, type: DnsType, id: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, 0, TYPES[type], 0, 1]));
  return Buffer.concat(parts);
}

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let off = start;
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = buf[off];
    if (len === undefined) throw new Error('truncated name');
    if ((len & 0xc0) === 0xc0) {
      const ptr = ((len & 0x3f) << 8) | (buf[off + 1] ?? 0);
      if (next < 0) next = off + 2;
      off = ptr;
      continue;
    }
    if (len === 0) return { name: `${labels.join('.')}.`, next: next < 0 ? off + 1 : next };
    labels.push(buf.subarray(off + 1, off + 1 + len).toString('ascii'));
    off += 1 + len;
  }
  throw new Error('name compression loop');
}

/** Parse a DNS reply (throws on a malformed one). */
export function parseResponse(buf: Buffer): DnsResponse {
  if (buf.length < 12) throw new Error(`reply too short (${buf.length} bytes)`);
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & 0x8000) === 0) throw new Error('not a reply (QR bit clear)');
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(buf, off).next + 4;
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < an; i++) {
    const n = readName(buf, off);
    off = n.next;
    if (off + 10 > buf.length) throw new Error('truncated answer');
    const type = buf.readUInt16BE(off);
    const ttl = buf.readUInt32BE(off + 4);
    const len = buf.readUInt16BE(off + 8);
    const rdata = buf.subarray(off + 10, off + 10 + len);
    if (rdata.length !== len) throw new Error('truncated rdata');
    off += 10 + len;
    let data = rdata.toString('hex');
    if (type === 1 && len === 4) data = [...rdata].join('.');
    if (type === 28 && len === 16) data = (rdata.toString('hex').match(/.{4}/g) ?? []).map((g) => g.replace(/^0+(?=.)/, '')).join(':');
    answers.push({ name: n.name, type, ttl, data });
  }
  const rcode = RCODES[flags & 0x0f] ?? `RCODE${flags & 0x0f}`;
  return { id, rcode, aa: (flags & 0x0400) !== 0, answers };
}

/** `od -An -tx1` output back to bytes. */
export function hexToBuffer(text: string): Buffer {
  return Buffer.from(text.replace(/[^0-9a-fA-F]/g, ''), 'hex');
}

/**
 * What busybox `nslookup NAME SERVER` printed, as a response: `Address: x` lines
 * after the `Name:` line are answers; `** server can't find NAME: NXDOMAIN` sets
 * the rcode; no line at all means no reply.
 */
export function parseNslookup(text: string): DnsResponse | undefined {
  const cant = /can't find [^:]*: (\w+)/.exec(text);
  if (cant) return { id: 0, rcode: cant[1] === 'NXDOMAIN' ? 'NXDOMAIN' : cant[1] === 'SERVFAIL' ? 'SERVFAIL' : cant[1]!.toUpperCase(), aa: false, answers: [] };
  if (/timed out|no servers could be reached|connection refused/i.test(text)) return undefined;
  const at = text.search(/^Name:/m);
  if (at < 0) return /^Server:/m.test(text) ? { id: 0, rcode: 'NOERROR', aa: false, answers: [] } : undefined;
  const answers: DnsAnswer[] = [];
  for (const m of text.slice(at).matchAll(/^Address(?: \d+)?:\s*(\S+)/gm)) {
    const a = m[1]!.replace(/#\d+$/, '');
    answers.push({ name: '', type: a.includes(':') ? 28 : 1, ttl: 0, data: a });
  }
  return { id: 0, rcode: 'NOERROR', aa: false, answers };
}

/**
 * Shell that queries `server:port` for `name` and prints sections: `raw` (hex of
 * the reply, bash) or `nslookup` (busybox's text), or `noreply`. Read-only; one
 * attempt of at most `timeoutSeconds`.
 */
export function dnsQueryCommand(server: string, port: number, name: string, type: DnsType, timeoutSeconds: number, id = 0x4341): ShellCommand {
  const query = [...encodeQuery(name, type, id)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  // bash: a connected UDP socket on fd 3; `timeout` bounds the read (a closed port
  // answers with ICMP, and the read fails at once with "connection refused")
  const viaBash = sh`bash -c 'exec 3<>"/dev/udp/$1/$2" || exit 3; printf "$3" >&3 || exit 3; timeout "$4" dd bs=4096 count=1 <&3 2>/dev/null | od -An -v -tx1' cairn-dns ${server} ${String(port)} ${query} ${String(timeoutSeconds)}`;
  // `|| :`: the command always exits 0 (it runs under `set -e` inside changes); the output says it all
  const viaNslookup = sh`nslookup -type=${type.toLowerCase()} -port=${String(port)} -timeout=${String(timeoutSeconds)} -retry=1 ${name} ${server} 2>&1 || :`;
  return sh`if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 && command -v od >/dev/null 2>&1; then
  r=$(${viaBash}) || r=''
  if [ -n "$r" ]; then ${section('raw', sh`printf '%s\n' "$r"`)}
  else ${section('noreply', sh`echo "no reply"`)}
  fi
elif command -v nslookup >/dev/null 2>&1; then
  ${section('nslookup', viaNslookup)}
else
  ${section('notool', sh`echo "neither bash nor nslookup"`)}
fi`;
}

export type QueryOutcome =
  | { readonly kind: 'reply'; readonly response: DnsResponse }
  | { readonly kind: 'noreply' | 'notool' | 'garbled'; readonly detail: string };

/** Read the sections dnsQueryCommand printed. */
export function readQueryOutput(s: Map<string, string>): QueryOutcome {
  if (s.has('raw')) {
    try {
      return { kind: 'reply', response: parseResponse(hexToBuffer(s.get('raw') ?? '')) };
    } catch (err) {
      return { kind: 'garbled', detail: (err as Error).message };
    }
  }
  if (s.has('nslookup')) {
    const r = parseNslookup(s.get('nslookup') ?? '');
    return r ? { kind: 'reply', response: r } : { kind: 'noreply', detail: (s.get('nslookup') ?? '').trim().split('\n').slice(-2).join(' ') };
  }
  if (s.has('notool')) return { kind: 'notool', detail: 'neither bash (with timeout and od) nor busybox nslookup on the host to send a DNS query' };
  return { kind: 'noreply', detail: 'no reply' };
}

export interface DnsCheckParams {
  readonly id: string;
  /** The server asked (an IP address). */
  readonly server: string;
  /** The server's port. */
  readonly port?: number;
  /** The name asked for. */
  readonly name: string;
  /** The record type asked for. */
  readonly type?: DnsType;
  /**
   * What counts as a pass. 'answer' (default): NOERROR with at least one record of
   * the type (and `expect` among them when given). 'reply': any DNS reply at all,
   * even NXDOMAIN — the server is alive.
   */
  readonly want?: 'answer' | 'reply';
  /** The address (A/AAAA) the answer must hold. */
  readonly expect?: string;
  /** When there is no answer yet (a resolver just restarted): keep asking for up to this long (a change, like the wait op), default 15 s. */
  readonly waitSeconds?: number;
  /**
   * When this path is absent the check is not meaningful yet (the server is not
   * installed: `cairn check` on a fresh host): noop "not checked" instead of a failure.
   */
  readonly onlyIf?: string;
  /** Prefix for messages, e.g. "unbound". */
  readonly label?: string;
}

const KIND = 'dnsCheck';
const PARAMS = paramNames<DnsCheckParams>({ id: true, server: true, port: true, name: true, type: true, want: true, expect: true, waitSeconds: true, onlyIf: true, label: true });

/**
 * Check that a DNS server answers, on the host: one question in the probe. A
 * right answer: noop. A wrong one (NXDOMAIN, another address): fail, which stops
 * the host's run before later steps such as switching resolv.conf. No answer
 * yet: like the wait op, a change that asks again on the host for up to
 * `waitSeconds`, then the answer is judged again on the controller (afterChange).
 * barrier: it must see services (re)started by earlier steps of the run.
 */
export function dnsCheck(params: DnsCheckParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (typeof params.server !== 'string' || isIP(params.server) === 0) {
    throw paramError(KIND, id, 'server', `must be an IP address, got ${JSON.stringify(params.server)}`, 'e.g. server: 127.0.0.1');
  }
  const port = params.port ?? 53;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw paramError(KIND, id, 'port', `must be a port number, got ${JSON.stringify(params.port)}`, 'e.g. port: 53');
  if (typeof params.name !== 'string' || !DNS_NAME.test(params.name)) {
    throw paramError(KIND, id, 'name', `must be a DNS name, got ${JSON.stringify(params.name)}`, 'e.g. name: cairn-check.internal');
  }
  const type = params.type ?? 'A';
  if (!(type in TYPES)) throw paramError(KIND, id, 'type', `must be one of ${Object.keys(TYPES).join(', ')}, got ${JSON.stringify(type)}`, 'e.g. type: A');
  const want = params.want ?? 'answer';
  if (want !== 'answer' && want !== 'reply') throw paramError(KIND, id, 'want', `must be 'answer' or 'reply', got ${JSON.stringify(want)}`, "want: 'reply' only checks the server is alive");
  if (params.expect !== undefined && isIP(params.expect) === 0) {
    throw paramError(KIND, id, 'expect', `must be an IP address, got ${JSON.stringify(params.expect)}`, 'e.g. expect: 127.0.0.254');
  }
  const wait = params.waitSeconds ?? 15;
  if (!Number.isInteger(wait) || wait < 1 || wait > 600) throw paramError(KIND, id, 'waitSeconds', `must be 1..600, got ${JSON.stringify(params.waitSeconds)}`, 'e.g. waitSeconds: 15');
  const onlyIf = params.onlyIf === undefined ? undefined : checkAbsPath(KIND, id, 'onlyIf', params.onlyIf);
  const where = `${params.server.includes(':') ? `[${params.server}]` : params.server}:${port}`;
  const label = params.label ? `${params.label} at ${where}` : `DNS server ${where}`;
  const what = `${params.name} ${type}`;

  const query = dnsQueryCommand(params.server, port, params.name, type, 2);
  // a pass: any reply ('reply'), or NOERROR with an answer record (rcode: low nibble
  // of byte 4, ancount: bytes 7-8 of the hex; nslookup: a Name: line)
  const pass =
    want === 'reply'
      ? sh`grep -q -e '^@@cairn:raw$' -e '^@@cairn:nslookup$' "$f"`
      : sh`{ h=$(awk 'p { print; exit } /^@@cairn:raw$/ { p = 1 }' "$f"); set -- $h; case "$4" in ?0) [ "$7$8" != 0000 ] ;; *) grep -q '^Name:' "$f" ;; esac; }`;

  /** The final answer, judged on the controller (the probe's, or a new one after waiting). */
  function judge(s: Map<string, string>, afterWait: boolean): { ok: string } | { fail: string } | { wait: string } {
    const out = readQueryOutput(s);
    if (out.kind === 'notool') return { fail: `${label}: cannot ask for ${what}: ${out.detail}` };
    if (out.kind !== 'reply') {
      return afterWait ? { fail: `${label} does not answer (${what}, asked for ${wait}s): ${out.detail}` } : { wait: out.detail };
    }
    const r = out.response;
    const records = r.answers.filter((a) => a.type === TYPES[type]).map((a) => a.data);
    if (want === 'reply') return { ok: `${label} answers (${what}: ${r.rcode}${records.length ? ` ${records.join(', ')}` : ''})` };
    // SERVFAIL: still starting or priming; worth waiting for, once
    if (r.rcode === 'SERVFAIL' && !afterWait) return { wait: 'SERVFAIL' };
    if (r.rcode !== 'NOERROR') return { fail: `${label} answered ${what} with ${r.rcode}, not with a record` };
    if (records.length === 0) return { fail: `${label} answered ${what} with no ${type} record` };
    if (params.expect !== undefined && !records.includes(params.expect)) return { fail: `${label} answered ${what} with ${records.join(', ')}, expected ${params.expect}` };
    return { ok: `${label} answers ${what} -> ${records.join(', ')}` };
  }

  return {
    kind: KIND,
    id,
    barrier: true,
    // one quick question (a probe must not wait: every later step's probe runs early too)
    probe(ctx: OpContext): ShellCommand | undefined {
      if (ctx.bake) return undefined;
      return probeOf(...(onlyIf ? [sh`if [ ! -e ${onlyIf} ]; then`, section('absent', sh`echo yes`), sh`exit 0; fi`] : []), query);
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop(`bake mode: ${label} not asked (no live services)`);
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      const s = parseSections(probe.stdout);
      if (s.has('absent')) return noop(`not checked yet: ${onlyIf} does not exist (an earlier step installs it)`);
      const j = judge(s, false);
      if ('ok' in j) return noop(j.ok);
      if ('fail' in j) return fail(j.fail);
      // no answer yet (a resolver just restarted): wait on the host, then judge again (afterChange)
      return change(`wait for ${label} to answer ${what} (up to ${wait}s; it gave: ${j.wait})`, [
        sh`f=$(mktemp) || exit 1
end=$(( $(date +%s) + ${wait} ))
while :; do
  ( ${query}
  ) > "$f" 2>&1
  if ${pass}; then rm -f "$f"; exit 0; fi
  if [ "$(date +%s)" -ge "$end" ]; then cat "$f" >&2; rm -f "$f"; echo ${`${label} does not answer ${what} after ${wait}s`} >&2; exit 1; fi
  sleep 1
done`,
      ]);
    },
    async afterChange(rt: ApplyRuntime): Promise<void> {
      const r = await rt.run(query, { timeoutMs: 30_000 });
      const j = judge(parseSections(r.stdout), true);
      if ('fail' in j) throw new Error(j.fail);
    },
  };
}
