import { sh, type ShellCommand } from '../shell/sh.ts';

/**
 * Shell checks against an agent's HTTP API, run ON THE HOST: curl (Debian,
 * Raspberry Pi OS), else busybox wget (Alpine), else bash's /dev/tcp (a
 * minimal Debian without curl). Each check is a subshell usable after `if`.
 */
const GET = sh`cairn_http_get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS --max-time 5 "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -T 5 -O - "$1"
  elif command -v bash >/dev/null 2>&1; then
    timeout 6 bash -c 'u=\${1#http://}; hp=\${u%%/*}; p=/\${u#*/}; [ "$u" = "$hp" ] && p=/; h=\${hp%:*}; port=\${hp##*:}; [ "$port" = "$hp" ] && port=80
      exec 3<>"/dev/tcp/$h/$port" || exit 7
      printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "$p" "$hp" >&3
      IFS= read -r st <&3; case "$st" in "HTTP/"*" 2"[0-9][0-9]*) ;; *) exit 22 ;; esac
      while IFS= read -r l <&3; do l=\${l%$(printf "\\r")}; [ -z "$l" ] && break; done
      cat <&3' cairn-http "$1"
  else echo 'cairn: neither curl, wget nor bash for an HTTP check' >&2; return 127; fi
}`;

/** GET `url` answers 2xx. */
export function httpOk(url: string): ShellCommand {
  return sh`( ${GET}
cairn_http_get ${url} >/dev/null )`;
}

/**
 * The cluster has a leader (`/v1/status/leader` is not `""`) and, when `peers`
 * is given, `/v1/status/peers` lists exactly that many servers.
 */
export function leaderCheck(baseUrl: string, peers?: number): ShellCommand {
  const peersPart =
    peers === undefined
      ? sh``
      : sh`
p=$(cairn_http_get ${`${baseUrl}/v1/status/peers`}) || exit 1
n=$(printf '%s' "$p" | tr ',' '\n' | grep -c ':')
[ "$n" -eq ${peers} ] || exit 1`;
  return sh`( ${GET}
l=$(cairn_http_get ${`${baseUrl}/v1/status/leader`}) || exit 1
case "$l" in ''|'""') exit 1 ;; esac${peersPart}
exit 0 )`;
}

/** The HTTP address to reach an agent bound to `bind` from the host itself. */
export function localHttpBase(bind: string | undefined, port: number): string {
  const host = !bind || bind === '0.0.0.0' || bind.includes('{{') ? '127.0.0.1' : bind;
  return `http://${host}:${port}`;
}

/**
 * `cairn_http_req METHOD URL [BODY]`: prints the whole HTTP response (status
 * line, headers, blank line, body) whatever its status, so a caller can read
 * the body of a 429 (autopilot: not healthy) or a 500. curl (-i), else bash's
 * /dev/tcp, else nc, else busybox wget (which keeps no body of an error: then
 * only a status line). Exits 7 with `cairn-http: unreachable` when nothing answers.
 */
const REQ = sh`cairn_http_req() {
  if command -v curl >/dev/null 2>&1; then
    if [ -n "\${3-}" ]; then curl -sS -i --max-time 5 -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$2"
    else curl -sS -i --max-time 5 -X "$1" "$2"; fi || { echo 'cairn-http: unreachable'; return 7; }
    return 0
  fi
  u=\${2#http://}; hp=\${u%%/*}; p=/\${u#*/}; [ "$u" = "$hp" ] && p=/; h=\${hp%:*}; port=\${hp##*:}; [ "$port" = "$hp" ] && port=80
  b=\${3-}
  req=$(printf '%s %s HTTP/1.0\\r\\nHost: %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%sX' "$1" "$p" "$hp" "\${#b}" "$b"); req=\${req%X}
  if command -v bash >/dev/null 2>&1; then
    timeout 6 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 7; printf "%s" "$3" >&3; cat <&3' cairn-http "$h" "$port" "$req" && return 0
    echo 'cairn-http: unreachable'; return 7
  elif command -v nc >/dev/null 2>&1; then
    out=$({ printf '%s' "$req"; sleep 1; } | timeout 6 nc "$h" "$port" 2>/dev/null)
    [ -n "$out" ] || { echo 'cairn-http: unreachable'; return 7; }
    printf '%s\\n' "$out"; return 0
  elif command -v wget >/dev/null 2>&1; then
    if [ "$1" = GET ]; then o=$(wget -q -T 5 -O - "$2" 2>/tmp/.cairn-wget.$$); rc=$?
    else o=$(wget -q -T 5 -O - --header 'Content-Type: application/json' --post-data "$b" "$2" 2>/tmp/.cairn-wget.$$); rc=$?; fi
    e=$(cat /tmp/.cairn-wget.$$ 2>/dev/null); rm -f /tmp/.cairn-wget.$$
    if [ $rc -eq 0 ]; then printf 'HTTP/1.0 200 OK\\r\\n\\r\\n%s\\n' "$o"; return 0; fi
    st=$(printf '%s' "$e" | grep -o 'HTTP/1.[01] [0-9][0-9][0-9]' | head -n 1 | cut -d ' ' -f 2)
    [ -n "$st" ] || { echo 'cairn-http: unreachable'; return 7; }
    printf 'HTTP/1.0 %s (busybox wget keeps no body)\\r\\n\\r\\n' "$st"; return 0
  else echo 'cairn: neither curl, bash, nc nor wget for an HTTP request' >&2; return 127; fi
}`;

/**
 * A shell snippet that defines `cairn_http_req` (see REQ) and runs `body`
 * (which may call it), in a subshell.
 */
export function withHttpRequest(body: ShellCommand): ShellCommand {
  return sh`( ${REQ}
${body} )`;
}

/** One request, its raw response on stdout (see cairn_http_req). */
export function httpRequest(method: 'GET' | 'POST' | 'PUT', url: string, body?: string): ShellCommand {
  return withHttpRequest(body === undefined ? sh`cairn_http_req ${method} ${url}` : sh`cairn_http_req ${method} ${url} ${body}`);
}

export type HttpResponse = { readonly status: number; readonly body: string } | { readonly unreachable: string };

/**
 * The response printed by cairn_http_req: status and body (interim 1xx
 * responses skipped, CRLF or LF), or why there is none.
 */
export function parseHttpResponse(raw: string): HttpResponse {
  let rest = raw;
  for (;;) {
    const m = /^HTTP\/\d(?:\.\d)? (\d{3})[^\n]*\n/.exec(rest);
    if (!m) {
      const line = raw.trim().split('\n')[0] ?? '';
      return { unreachable: line.startsWith('cairn-http: unreachable') ? 'no answer' : `unreadable answer: ${JSON.stringify(line.slice(0, 120))}` };
    }
    const status = Number(m[1]);
    const sep = /\r?\n\r?\n/.exec(rest);
    const body = sep ? rest.slice(sep.index + sep[0].length) : '';
    if (status >= 100 && status < 200) {
      rest = body;
      continue;
    }
    return { status, body: body.replace(/\n$/, '') };
  }
}
