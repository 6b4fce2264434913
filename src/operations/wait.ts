import type { CommandResult } from '../core/result.ts';
import { sh, isShellCommand, type ShellCommand } from '../shell/sh.ts';
import { checkId, paramError, paramNames, rejectCoercedSecret, rejectUnknownParams } from './kit.ts';
import { change, fail, noop, type Operation, type OpContext, type Plan } from './operation.ts';

export interface WaitParams {
  readonly id: string;
  /** Ready when a TCP connection to host:port succeeds. */
  readonly tcp?: { readonly host: string; readonly port: number };
  /** Ready when this command exits 0. */
  readonly command?: ShellCommand;
  /** Ready when GET url answers 200 (curl) / 2xx (wget; its -T read timeout when it has one). */
  readonly http?: { readonly url: string };
  /** Give up after this long (default 60000). */
  readonly timeoutMs?: number;
  /** Time between checks (default 1000, at least 100). */
  readonly intervalMs?: number;
  readonly notify?: readonly string[];
}

const KIND = 'wait';
const PARAMS = paramNames<WaitParams>({ id: true, tcp: true, command: true, http: true, timeoutMs: true, intervalMs: true, notify: true });

/**
 * Wait on the host until something is ready: a TCP port, an HTTP URL or a
 * command. The probe checks once (noop when already ready); the change polls in a
 * POSIX sh loop ON THE HOST until ready or the timeout, then exits non-zero with
 * a message. In bake mode (no live services) it does nothing.
 */
export function wait(params: WaitParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (params.tcp !== undefined) rejectUnknownParams(KIND, id, params.tcp, ['host', 'port'], 'tcp.');
  if (params.http !== undefined) rejectUnknownParams(KIND, id, params.http, ['url'], 'http.');
  const given = (['tcp', 'command', 'http'] as const).filter((k) => params[k] !== undefined);
  if (given.length !== 1) {
    throw paramError(KIND, id, 'tcp/http/command', `needs exactly one of them, got ${given.length ? given.join(', ') : 'none'}`, 'give one of tcp: {host, port}, http: {url} or command: sh`...`');
  }
  const timeoutMs = params.timeoutMs ?? 60_000;
  const intervalMs = params.intervalMs ?? 1000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw paramError(KIND, id, 'timeoutMs', `must be a positive integer, got ${JSON.stringify(params.timeoutMs)}`, 'give milliseconds, e.g. 60000');
  }
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > timeoutMs) {
    throw paramError(KIND, id, 'intervalMs', `must be an integer from 100 to timeoutMs, got ${JSON.stringify(params.intervalMs)}`, 'give milliseconds, e.g. 1000');
  }
  const { check, what } = checkCommand(id, params);
  const seconds = Math.ceil(timeoutMs / 1000);
  const interval = (intervalMs / 1000).toFixed(3).replace(/\.?0+$/, '');

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    probe: (ctx: OpContext) => (ctx.bake ? undefined : sh`if ${check}; then echo ready; else echo waiting; fi`),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop(`bake mode: not waiting for ${what}`);
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      const out = probe.stdout.trim().split('\n').pop();
      if (out === 'ready') return noop(`${what} is ready`);
      if (out !== 'waiting') return fail(`${KIND} '${id}': unreadable probe output (exit ${probe.exitCode}): ${probe.stderr.trim()}`);
      const message = `wait '${id}': ${what} not ready after ${seconds}s`;
      const loop = sh`(
end=$(( $(date +%s) + ${seconds} ))
while :; do
  if ${check}; then exit 0; fi
  if [ "$(date +%s)" -ge "$end" ]; then echo ${message} >&2; exit 1; fi
  sleep ${interval}
done
)`;
      return change(`wait for ${what} (up to ${seconds}s)`, [loop]);
    },
  };
}

/** One check (a compound command usable after `if`) and a description. */
function checkCommand(id: string, params: WaitParams): { check: ShellCommand; what: string } {
  if (params.command !== undefined) {
    if (!isShellCommand(params.command)) {
      throw paramError(KIND, id, 'command', 'must be a command built with the sh tag', 'write command: sh`...`');
    }
    rejectCoercedSecret(KIND, id, 'command', params.command.text);
    return { check: sh`{ ( ${params.command}
) >/dev/null 2>&1 </dev/null; }`, what: `command ${params.command.display}` };
  }
  if (params.tcp !== undefined) {
    const { host, port } = params.tcp;
    if (typeof host !== 'string' || !/^[A-Za-z0-9._:-]+$/.test(host)) {
      throw paramError(KIND, id, 'tcp.host', `must be a host name or IP address, got ${JSON.stringify(host)}`, 'e.g. 127.0.0.1');
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw paramError(KIND, id, 'tcp.port', `must be a port number 1-65535, got ${JSON.stringify(port)}`, 'e.g. 8500');
    }
    // nc -z (Alpine's busybox, netcat-openbsd/traditional); else bash's /dev/tcp (Debian
    // always has bash); else a small busybox nc without -z: connect, run `true`, exit
    return {
      check: sh`{ if command -v nc >/dev/null 2>&1 && nc -z -w 2 ${host} ${port} </dev/null >/dev/null 2>&1; then :; elif command -v bash >/dev/null 2>&1; then timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' cairn-wait ${host} ${port} >/dev/null 2>&1; elif command -v nc >/dev/null 2>&1; then nc -w 2 ${host} ${port} -e true </dev/null >/dev/null 2>&1; else echo 'wait: neither nc nor bash to test a TCP port' >&2; false; fi; }`,
      what: `tcp ${host}:${port}`,
    };
  }
  const url = params.http?.url;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) {
    throw paramError(KIND, id, 'http.url', `must be an http(s) URL, got ${JSON.stringify(url)}`, 'e.g. http://127.0.0.1:4646/v1/agent/health');
  }
  return {
    check: sh`{ if command -v curl >/dev/null 2>&1; then [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${url})" = 200 ]; elif command -v wget >/dev/null 2>&1; then if wget --help 2>&1 | grep -q -- -T; then wget -q -T 5 -O /dev/null ${url} >/dev/null 2>&1; else wget -q -O /dev/null ${url} >/dev/null 2>&1; fi; else echo 'wait: neither curl nor wget for an http check' >&2; false; fi; }`,
    what: `http ${url}`,
  };
}
