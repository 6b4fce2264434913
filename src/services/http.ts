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
